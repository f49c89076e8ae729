"""The technique records and their executable claims (``auditkit claims``).

Each ``_m_*`` function measures one claim with this package's implementation; expected values and tolerances come
from the posts and papers named in ``source`` (see ``docs/techniques.md`` and the reference notes). Heavy work is
done only when a claim is run.
"""

from __future__ import annotations

import math

import numpy as np

from auditkit import Claim, Technique

SU_CAN = "Su, kexue.fm/archives/8728 (2021); Jia et al., Findings of EMNLP 2021 (arXiv 2109.13449); KMnP/can"
SU_WHITEN = "Su et al., arXiv 2103.15316; Su, kexue.fm/archives/8069; bojone/BERT-whitening"


# -- CAN -----------------------------------------------------------------------------------------------------------
TOY2 = np.array([[.90, .05, .05], [.85, .10, .05], [.10, .85, .05], [.40, .25, .35], [.34, .33, .33]])


def _m_can_toy1():
    from .can import can

    return can(np.array([[0.05, 0.95], [0.5, 0.5]]), "uniform", k=2, threshold=0.9).probs[1]


def _m_can_toy2():
    from .can import can

    return can(TOY2, "uniform", k=3, threshold=0.9).probs[3:]


def _m_can_toy2_iters50():
    from .can import can

    return can(TOY2, "uniform", k=3, threshold=0.9, iters=50).probs[3:]


def _m_can_matches_loop():
    from .can import can, can_reference

    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(12, 0.3), size=2000)
    prior = rng.dirichlet(np.ones(12))
    errs = []
    for alpha, iters in [(1.0, 1), (2.0, 1), (1.0, 3), (0.5, 4)]:
        fast = can(p, prior, threshold=0.6, alpha=alpha, iters=iters).probs
        ref = can_reference(p, prior, threshold=0.6, alpha=alpha, iters=iters)
        errs.append(float(np.max(np.abs(fast - ref))))
    return {"value": max(errs), "settings": "(alpha, iters) in (1,1), (2,1), (1,3), (0.5,4); 2000 x 12"}


def _m_can_only_doubtful():
    from .can import can

    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.full(20, 0.2), size=5000)
    r = can(p, rng.dirichlet(np.ones(20)), threshold=0.7, iters=2)
    modified = ~np.all(np.isclose(r.probs, p, rtol=0, atol=1e-9), axis=1)
    holds = bool(np.array_equal(r.probs[~r.doubtful], p[~r.doubtful]) and np.all(r.doubtful[r.changed(p)])
                 and np.all(r.doubtful[modified]) and np.allclose(r.probs.sum(axis=1), 1))
    # not a no-op: most doubtful rows are modified and some predictions change
    return {"value": [float(holds), float(modified[r.doubtful].mean()), float(r.changed(p).sum())],
            "n_doubtful": r.n_doubtful}


def _m_can_identity_prior():
    from .can import can, uncertainty

    u = uncertainty(TOY2, 3)
    a0 = TOY2[u < 0.9]
    b = TOY2[3]
    prior = np.vstack([a0, b]).mean(axis=0)
    out = can(np.vstack([a0, b]), prior, threshold=0.9).probs[-1]
    control = can(np.vstack([a0, b]), "uniform", threshold=0.9).probs[-1]   # toy 2 row 3: [0.164948, ...]
    return [float(np.max(np.abs(out - b))), float(np.max(np.abs(control - b)))]


def _m_can_digits_delta():
    from .realdata import digits_can_experiment

    r = digits_can_experiment()
    changed = float(np.mean([s["n_changed"] for s in r["splits"]]))
    return {"value": [1.0 - abs(r["delta_pp"]), changed], "delta_pp": r["delta_pp"],
            "acc_before": r["acc_before"], "acc_after": r["acc_after"], "dataset": r["dataset"], "model": r["model"],
            "splits": r["splits"]}


def _m_can_digits_only_doubtful():
    from .realdata import digits_can_experiment

    r = digits_can_experiment()
    return {"value": [float(r["only_doubtful_changed"]), float(min(s["n_changed"] for s in r["splits"]))]}


def _m_can_digits_confidence_gap():
    from .realdata import digits_can_experiment

    r = digits_can_experiment()
    conf = float(np.mean([s["acc_confident"] for s in r["splits"]]))
    doubt = float(np.mean([s["acc_doubtful_before"] for s in r["splits"]]))
    return {"value": conf - doubt, "acc_confident": conf, "acc_doubtful": doubt}


CAN = Technique(
    "can", "Classification with alternating normalization: corrects doubtful predictions against the confident "
    "set and a class prior.", SU_CAN, claims=(
        Claim("can.toy1", "Su's toy: [0.5, 0.5] corrected against the confident [0.05, 0.95] (uniform prior, k=2) "
              "becomes [0.725, 0.275]", SU_CAN, _m_can_toy1, [0.725, 0.275], 1e-9),
        Claim("can.toy2", "3-class toy (k=3, threshold 0.9): the two doubtful rows become [0.164948, 0.185567, "
              "0.649485] and [0.142318, 0.227451, 0.630230]", "auditkit reference notes §3.3 [C], Su's algorithm",
              _m_can_toy2, [[0.164948, 0.185567, 0.649485], [0.142318, 0.227451, 0.630230]], 1e-6),
        Claim("can.toy2-iters50", "with iters=50 the doubtful rows become [0.106544, 0.195762, 0.697694] and "
              "[0.091340, 0.235974, 0.672687]", "auditkit reference notes §3.3 [C]", _m_can_toy2_iters50,
              [[0.106544, 0.195762, 0.697694], [0.091340, 0.235974, 0.672687]], 1e-6),
        Claim("can.vectorized-equals-loop", "the vectorized correction equals Su's per-sample loop (alpha and "
              "iters varied)", SU_CAN, _m_can_matches_loop, 0.0, 1e-10, "le"),
        Claim("can.only-doubtful", "CAN modifies doubtful rows only (confident rows are copied, every row sums to "
              "1) and is not a no-op: [only doubtful (1 = yes), share of doubtful rows modified >= 0.99, "
              "predictions changed >= 1] (5000 x 20, iters = 2)", SU_CAN, _m_can_only_doubtful, [1.0, 0.99, 1.0],
              0.0, "ge"),
        Claim("can.identity-prior", "if the prior equals the column mean of [A0; b] (alpha=1) the doubtful row is "
              "unchanged, while the uniform prior moves it by 0.299485 (toy 2 row 3: 0.35 -> 0.649485): [change "
              "with the column-mean prior, change with the uniform prior]", "auditkit reference notes §3.3 [C]",
              _m_can_identity_prior, [0.0, 0.299485], 1e-6),
        Claim("can.real.digits-accuracy", "on a real 10-class classifier (LogisticRegression on sklearn digits, "
              "held-out, 5 splits) CAN with Su's settings changes >= 10 predictions per split yet moves accuracy "
              "by at most ±1 pp: few classes give ±0 (Su: -0.06 to +0.46 pp on CLUE). Value: [1 - |delta pp|, "
              "mean predictions changed]", SU_CAN, _m_can_digits_delta, [0.0, 10.0], 0.0, "ge", True),
        Claim("can.real.digits-only-doubtful", "on the real classifier only doubtful predictions change, and in "
              "every split some do: [only doubtful (1 = yes), fewest changed in a split >= 1]",
              SU_CAN, _m_can_digits_only_doubtful, [1.0, 1.0], 0.0, "ge", True),
        Claim("can.real.digits-confidence-gap", "confident predictions are far more accurate than doubtful ones "
              "(Su: 0.63 vs 0.22 on IFLYTEK, 0.58 vs 0.23 on TNEWS): gap >= 10 pp on digits", SU_CAN,
              _m_can_digits_confidence_gap, 10.0, 0.0, "ge", True),
    ))


# -- BERT-whitening ------------------------------------------------------------------------------------------------
def _aniso(seed=0, n=5000):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(8, 8)) * np.array([5, 3, 2, 1, .5, .2, .1, .05])[:, None]
    return rng.normal(size=(n, 8)) @ a + 3


def _m_whiten_identity():
    from .whitening import Whitening

    y = Whitening().fit_transform(_aniso())
    return max(float(np.max(np.abs(np.cov(y.T) - np.eye(8)))), float(np.max(np.abs(y.mean(axis=0)))))


def _m_whiten_truncated():
    from .whitening import Whitening

    x = _aniso()
    w = Whitening(n_components=3).fit(x)
    y = w.transform(x)
    ok_order = bool(np.all(np.diff(w.singular_values_) <= 0))
    # the kept directions are the top-3 principal axes (numpy's eigh of np.cov, computed here)
    vals, vecs = np.linalg.eigh(np.cov(x.T))
    top = vecs[:, np.argsort(vals)[::-1][:3]]
    outside = w.components_ - top @ (top.T @ w.components_)
    err = max(float(np.max(np.abs(np.cov(y.T) - np.eye(3)))),
              float(np.max(np.abs(outside))) / float(np.max(np.abs(w.components_))))
    return {"value": err if ok_order else float("inf"), "descending": ok_order}


def _m_whiten_official():
    from .whitening import Whitening, compute_kernel_bias, transform_and_normalize

    x = _aniso(1, 2000)
    kernel, bias = compute_kernel_bias(x, 4)
    ref = transform_and_normalize(x, kernel, bias)
    ours = Whitening(n_components=4, normalize=True).fit_transform(x)
    # W is unique up to column signs: compare cosine similarity matrices
    return float(np.max(np.abs(ref @ ref.T - ours @ ours.T)))


def _m_whiten_stream():
    from .whitening import Whitening, streaming_moments

    x = _aniso(2, 3000)
    full = Whitening(ddof=0).fit(x)
    stream = Whitening(ddof=0).fit_stream(np.array_split(x, 7))
    mu, sigma, _ = streaming_moments([x[:500]])
    su = Whitening(ddof=0).fit(x[:500])
    return max(float(np.max(np.abs(full.covariance_ - stream.covariance_))),
               float(np.max(np.abs(full.mean_ - stream.mean_))), float(np.max(np.abs(sigma - su.covariance_))),
               float(np.max(np.abs(mu - su.mean_))))


def _m_whiten_real_identity():
    from .realdata import whitening_experiment

    r = whitening_experiment()
    return {"value": r["max_abs_cov_minus_identity"], **{k: r[k] for k in ("embeddings", "n", "dim")}}


def _m_whiten_real_cos_before():
    from .realdata import whitening_experiment

    r = whitening_experiment()
    return {"value": [r["mean_cosine_before"], r["mean_cosine_after"]], "embeddings": r["embeddings"]}


def _m_whiten_real_cos_after():
    from .realdata import whitening_experiment

    r = whitening_experiment()
    return {"value": r["mean_cosine_after"], "embeddings": r["embeddings"]}


def _m_whiten_real_neighbours():
    from .realdata import whitening_experiment

    r = whitening_experiment()
    return {"value": r["same_topic_at_1_after"] - r["same_topic_at_1_before"],
            "before": r["same_topic_at_1_before"], "after": r["same_topic_at_1_after"],
            "embeddings": r["embeddings"]}


WHITENING = Technique(
    "bert-whitening", "Whitening of sentence embeddings: x -> (x - mu) U Lambda^{-1/2}, optionally truncated to k "
    "dims, then cosine similarity.", SU_WHITEN, claims=(
        Claim("whitening.identity-covariance", "whitened data has mean 0 and identity covariance (anisotropic "
              "Gaussian, N=5000, d=8)", SU_WHITEN, _m_whiten_identity, 0.0, 1e-10, "le"),
        Claim("whitening.truncated", "keeping the first k=3 columns gives covariance I_3 on the top-3 principal "
              "axes (eigenvalues in descending order)", SU_WHITEN, _m_whiten_truncated, 0.0, 1e-10, "le"),
        Claim("whitening.matches-official", "cosine similarities equal those of the official compute_kernel_bias"
              " + transform_and_normalize (k=4)", "bojone/BERT-whitening eng/utils.py", _m_whiten_official,
              0.0, 1e-10, "le"),
        Claim("whitening.streaming", "streaming fit (chunks; Su's row recursion) gives the batch mean and "
              "covariance", SU_WHITEN, _m_whiten_stream, 0.0, 1e-10, "le"),
        Claim("whitening.real.identity-covariance", "on real sentence embeddings the whitened covariance is the "
              "identity", SU_WHITEN, _m_whiten_real_identity, 0.0, 1e-8, "le", True),
        Claim("whitening.real.anisotropy-removed", "average-pooled sentence vectors are anisotropic and whitening "
              "removes it: mean pairwise cosine 0.78 before and 0.0 after (±0.05; measured on the whitened "
              "output, not only the input)", SU_WHITEN, _m_whiten_real_cos_before, [0.78, 0.0], 0.05, "close",
              True),
        Claim("whitening.real.isotropic", "after whitening they are isotropic: |mean pairwise cosine| <= 0.05",
              SU_WHITEN, _m_whiten_real_cos_after, 0.0, 0.05, "close", True),
        Claim("whitening.real.neighbours", "whitening improves cosine similarity: the share of sentences whose "
              "nearest neighbour is from the same documentation topic rises by >= 3 points (Su: STS-B "
              "59.04 -> 71.20)", SU_WHITEN, _m_whiten_real_neighbours, 0.03, 0.0, "ge", True),
    ))


# -- brief items ---------------------------------------------------------------------------------------------------
SU_MITCHELL = "Mitchell 1962, IRE Trans. Electronic Computers; Su, kexue.fm/archives/7991"


def _mitchell_grid():
    x = np.linspace(1.0, 2.0, 1025)[:-1]
    return np.meshgrid(x, x)


def _m_mitchell_max():
    from .mitchell import relative_error

    p, q = _mitchell_grid()
    e = relative_error(p, q)
    i = np.unravel_index(np.argmax(e), e.shape)
    return {"value": float(e[i]), "at": [float(p[i]), float(q[i])]}


def _m_mitchell_never_over():
    from .mitchell import mitchell_multiply

    p, q = _mitchell_grid()
    rng = np.random.default_rng(0)
    a, b = rng.uniform(1e-3, 1e3, 100000), rng.uniform(1e-3, 1e3, 100000)
    return max(float(np.max(mitchell_multiply(p, q) - p * q)), float(np.max(mitchell_multiply(a, b) / (a * b) - 1)))


def _m_mitchell_su_example():
    from .mitchell import mitchell_multiply

    return [float(mitchell_multiply(12.3, 4.56, frac_bits=7)), float(mitchell_multiply(12.3, 4.56)),
            float(mitchell_multiply(1.5, 1.5)), float(mitchell_multiply(3, 3))]


def _m_mitchell_mean():
    """Mean relative error over uniformly distributed mantissas: the implementation on a 1024^2 midpoint grid
    against the double integral of the closed-form error, computed here with scipy."""
    from scipy import integrate

    from .mitchell import relative_error

    x = 1.0 + (np.arange(1024) + 0.5) / 1024
    p, q = np.meshgrid(x, x)
    grid = float(relative_error(p, q).mean())
    below = integrate.dblquad(lambda b, a: a * b / ((1 + a) * (1 + b)), 0, 1, 0, lambda a: 1 - a)[0]
    above = integrate.dblquad(lambda b, a: (1 - a) * (1 - b) / ((1 + a) * (1 + b)), 0, 1, lambda a: 1 - a, 1)[0]
    return {"value": [grid, below + above], "closed_form_integral": below + above}


MITCHELL = Technique(
    "mitchell", "Mitchell's logarithmic multiplication: log2(1+x) ~ x turns a product into additions.",
    SU_MITCHELL, claims=(
        Claim("mitchell.max-relative-error", "the largest relative error is 1/9, at x1 = x2 = 0.5", SU_MITCHELL,
              _m_mitchell_max, 1 / 9, 1e-6),
        Claim("mitchell.mean-relative-error", "the mean relative error over uniform mantissas is 3.849% "
              "(x1 + x2 < 1: x1 x2/((1+x1)(1+x2)); else (1-x1)(1-x2)/((1+x1)(1+x2))): [implementation on a "
              "1024^2 grid, the double integral]", SU_MITCHELL + "; the mean is the closed-form integral",
              _m_mitchell_mean, [0.038488, 0.038488], 2e-6),
        Claim("mitchell.never-overestimates", "the approximation never exceeds the exact product", SU_MITCHELL,
              _m_mitchell_never_over, 0.0, 1e-12, "le"),
        Claim("mitchell.examples", "12.3 x 4.56 gives 53.625 with 7 fractional bits and 53.68 with exact "
              "mantissas; 1.5 x 1.5 gives 2; 3 x 3 gives 8", SU_MITCHELL, _m_mitchell_su_example,
              [53.625, 53.68, 2.0, 8.0], 1e-9),
    ))

SU_TAYLOR = "Su, kexue.fm/archives/7919 and 10145"


def _m_taylor_k2():
    from .taylor_softmax import taylor_softmax

    return taylor_softmax(np.array([1.0, 2.0, -3.0]), 2)


def _m_taylor_k4():
    from .taylor_softmax import taylor_softmax

    return taylor_softmax(np.array([1.0, 2.0, -3.0]), 4)


def _m_taylor_2d():
    """A 2-D batch along the last axis and along axis 0 (the transpose): each slice is normalized on its own."""
    from .taylor_softmax import taylor_softmax

    x = np.array([[1.0, 2.0, -3.0], [-3.0, 1.0, 2.0]])
    rows = taylor_softmax(x, 2)                 # f_2 = [2.5, 5, 2.5] and [2.5, 2.5, 5]
    cols = taylor_softmax(x.T, 2, axis=0).T
    return np.concatenate([rows.ravel(), cols.ravel()])


def _m_taylor_minima():
    from .taylor_softmax import taylor_exp, taylor_exp_minimum

    xs = np.linspace(-30, 30, 600001)
    grid = [float(taylor_exp(xs, k).min()) for k in (2, 4, 6, 8)]
    exact = [taylor_exp_minimum(k)[0] for k in (2, 4, 6, 8)]
    return {"value": exact, "grid_minimum": grid}


def _m_taylor_odd_negative():
    from .taylor_softmax import taylor_exp

    return [float(taylor_exp(-10.0, 1)), float(taylor_exp(-10.0, 3))]


TAYLOR = Technique(
    "taylor-softmax", "Softmax with exp replaced by its even-order Taylor polynomial (always positive).", SU_TAYLOR,
    claims=(
        Claim("taylor.order2", "taylor-softmax([1, 2, -3], k=2) = [0.25, 0.5, 0.25]", SU_TAYLOR, _m_taylor_k2,
              [0.25, 0.5, 0.25], 1e-12),
        Claim("taylor.order4", "taylor-softmax([1, 2, -3], k=4) = [0.244361, 0.631579, 0.124060]",
              "auditkit reference notes §5.4 [C]", _m_taylor_k4, [0.244361, 0.631579, 0.124060], 1e-6),
        Claim("taylor.batched", "on a 2-D batch each row is normalized on its own, along the last axis or axis=0 "
              "of the transpose: [[1, 2, -3], [-3, 1, 2]] -> [[0.25, 0.5, 0.25], [0.25, 0.25, 0.5]] both ways",
              SU_TAYLOR, _m_taylor_2d, [0.25, 0.5, 0.25, 0.25, 0.25, 0.5] * 2, 1e-12),
        Claim("taylor.even-positive", "even-order expansions of exp are positive: minima of f_2, f_4, f_6, f_8 "
              "are 0.5, 0.27039, 0.14932, 0.08327", SU_TAYLOR, _m_taylor_minima, [0.5, 0.27039, 0.14932, 0.08327],
              1e-5),
        Claim("taylor.odd-negative", "odd orders go negative: f_1(-10) = -9, f_3(-10) = -125.67", SU_TAYLOR,
              _m_taylor_odd_negative, [-9.0, -125.666667], 1e-5),
    ))

SU_ENTROPY = "Su, kexue.fm/archives/8823"


def _m_entropy_scale_values():
    from .attention_scale import entropy_invariant_scale

    return entropy_invariant_scale([64, 512, 4096], 64)


def _m_entropy_invariance():
    """Attention entropy over n = 64 .. 4096 keys with peaked logits (q, k entries N(0, 2^2), d = 64): its spread
    under log_512(n)/sqrt(d) divided by its spread under 1/sqrt(d)."""
    from .attention_scale import attention_entropy, entropy_invariant_scale

    rng = np.random.default_rng(0)
    d = 64
    std, inv = [], []
    for n in (64, 256, 1024, 4096):
        q, k = rng.normal(size=(64, d)) * 2, rng.normal(size=(n, d)) * 2
        std.append(attention_entropy(q, k, 1 / math.sqrt(d)))
        inv.append(attention_entropy(q, k, float(entropy_invariant_scale(n, d))))
    return {"value": float(np.ptp(inv) / np.ptp(std)), "entropy_standard": std, "entropy_invariant": inv}


ENTROPY_SCALE = Technique(
    "entropy-invariant-attention", "Attention scale log_512(n)/sqrt(d) that keeps the attention entropy stable "
    "across sequence lengths.", SU_ENTROPY, claims=(
        Claim("entropy-scale.values", "for d = 64 the scale is 0.08333 at n = 64, 0.125 (= 1/sqrt(64)) at n = 512 "
              "and 0.16667 at n = 4096", SU_ENTROPY, _m_entropy_scale_values, [1 / 12, 0.125, 1 / 6], 1e-12),
        Claim("entropy-scale.invariance", "the scale keeps the attention entropy stable across lengths: with peaked "
              "logits its spread over n = 64 .. 4096 is at most half that of 1/sqrt(d) (measured 0.28; the "
              "standard scale's entropy grows like log n)", SU_ENTROPY, _m_entropy_invariance, 0.5, 0.0, "le"),
    ))

PERFORMER_SRC = "Choromanski et al., ICLR 2021 (arXiv 2009.14794); Su, kexue.fm/archives/7921"


def _favor_trials(m, orthogonal, trials=3000, seed=0):
    from .performer import favor_kernel, gaussian_features, orthogonal_features

    fixed = np.random.default_rng(0)  # the same q and k for every run; only the random features change
    d = 16
    q = fixed.standard_normal(d)
    q *= 0.5 / np.linalg.norm(q)
    k = fixed.standard_normal(d)
    k *= 0.5 / np.linalg.norm(k)
    rng = np.random.default_rng(seed)
    make = orthogonal_features if orthogonal else gaussian_features
    est = np.array([favor_kernel(q[None], k[None], make(m, d, rng))[0, 0] for _ in range(trials)])
    return q, k, est


def _m_favor_unbiased():
    from .performer import favor_variance

    zs = []
    for m in (4, 16, 64):
        q, k, est = _favor_trials(m, False, seed=m)
        zs.append(float((est.mean() - math.exp(q @ k)) / math.sqrt(favor_variance(q, k, m) / est.size)))
    return {"value": max(abs(z) for z in zs), "z_scores": zs}


def _m_favor_variance():
    from .performer import favor_variance

    ratios = []
    for m in (4, 16, 64):
        q, k, est = _favor_trials(m, False, seed=100 + m)
        ratios.append(float(est.std() / math.sqrt(favor_variance(q, k, m))))
    return ratios


def _m_favor_orthogonal():
    out, zs = [], []
    for m in (16, 64):
        _, _, iid = _favor_trials(m, False, seed=200 + m)
        q, k, ort = _favor_trials(m, True, seed=300 + m)
        out.append(float(ort.std() / iid.std()))
        zs.append(float((ort.mean() - math.exp(q @ k)) / (ort.std() / math.sqrt(ort.size))))
    return {"value": [max(abs(z) for z in zs), max(out)], "z_scores": zs, "ratios_m16_m64": out}


PERFORMER = Technique(
    "performer-favor", "FAVOR+ positive random features: phi(x) = exp(Wx - |x|^2/2)/sqrt(m) estimates the softmax "
    "kernel exp(q.k).", PERFORMER_SRC, claims=(
        Claim("favor.unbiased", "phi(q).phi(k) is unbiased for exp(q.k): |z-score| of the mean over 3000 draws "
              "< 4 for m = 4, 16, 64 (|q| = |k| = 0.5, d = 16)", PERFORMER_SRC, _m_favor_unbiased, 4.0, 0.0, "le"),
        Claim("favor.variance", "the i.i.d. estimator's standard deviation is sqrt(exp(2 q.k)(exp(|q+k|^2) - 1)/m)"
              " (measured / theory within 10% for m = 4, 16, 64)", PERFORMER_SRC, _m_favor_variance,
              [1.0, 1.0, 1.0], 0.1),
        Claim("favor.orthogonal", "orthogonal random features stay unbiased and lower the variance: [max |z-score| "
              "of the orthogonal mean over 3000 draws < 4, std ratio orthogonal/i.i.d. < 1] for m = 16, 64",
              PERFORMER_SRC, _m_favor_orthogonal, [4.0, 1.0], 0.0, "le"),
    ))

SU_JL = "Su, kexue.fm/archives/8679, 8711, 7695"


def _m_jl_dims():
    from .jl import entropy_min_dim, jl_min_dim

    return [float(jl_min_dim(1e4, 0.1)), float(entropy_min_dim(1e5)), float(entropy_min_dim(5e6)),
            float(entropy_min_dim(512))]


def _m_jl_constant():
    from .jl import ENTROPY_CONSTANT

    return ENTROPY_CONSTANT


def _m_jl_projection():
    from .jl import jl_min_dim, jl_project, max_distortion

    rng = np.random.default_rng(0)
    n_points, eps = 200, 0.5
    x = rng.normal(size=(n_points, 5000))
    n = int(math.ceil(jl_min_dim(n_points, eps)))
    worst = max(max_distortion(x, jl_project(x, n, seed=1000 + s)) for s in range(5))
    return {"value": worst, "n_dims": n}


JL = Technique(
    "johnson-lindenstrauss", "Random Gaussian projection preserves pairwise distances; dimension rules "
    "n > 24 log N / eps^2 (JL) and n > 8.33 log N (minimum entropy).", SU_JL, claims=(
        Claim("jl.dimension-rules", "24 log N/eps^2 = 22,105 for N = 1e4, eps = 0.1 (computed); Su's published "
              "roundings of 8.33 log N: ~96 for a 100k vocabulary, ~128 for N = 5e6 and ~52 for N = 512 (head size "
              "64), each within 0.5", SU_JL, _m_jl_dims, [22105.0, 96.0, 128.0, 52.0], 0.5),
        Claim("jl.entropy-constant", "the constant 0.24 is (1/2) log((sqrt 5 + 1)/2) = 0.2406", SU_JL,
              _m_jl_constant, 0.2406, 1e-4),
        Claim("jl.projection", "with n = ceil(24 log N/eps^2) all pairwise squared distances of N = 200 points "
              "are kept within 1 ± eps (eps = 0.5, 5 draws)", SU_JL, _m_jl_projection, 0.5, 0.0, "le"),
    ))

SU_SOFTMAX = "Su, Zhihu answer on the role of softmax (proof reposted on several blogs)"


def _m_repeated_softmax():
    from .repeated_softmax import max_deviation_from_uniform

    return [max_deviation_from_uniform([1.0, 100.0], 10), max_deviation_from_uniform([1.0, 2.0, 3.0, 4.0], 5),
            max_deviation_from_uniform([1.0, 2.0, 3.0, 4.0], 8)]


def _m_repeated_softmax_random():
    from .repeated_softmax import repeated_softmax

    rng = np.random.default_rng(0)
    x = rng.normal(scale=20, size=(1000, 50))
    y = repeated_softmax(x, 30)
    return float(np.max(np.abs(y - 1 / 50)))


REPEATED = Technique(
    "repeated-softmax", "Applying softmax repeatedly converges to the uniform distribution.", SU_SOFTMAX, claims=(
        Claim("repeated-softmax.examples", "max deviation from uniform: [1, 100] after 10 steps 8.8e-4; "
              "[1, 2, 3, 4] after 5 steps 1.8e-3 and after 8 steps 2.8e-5", "auditkit reference notes §5.6 [C]",
              _m_repeated_softmax, [8.8e-4, 1.8e-3, 2.8e-5], 5e-5),
        Claim("repeated-softmax.uniform", "1000 random vectors (50 entries, scale 20) are uniform to 1e-12 after "
              "30 steps", SU_SOFTMAX, _m_repeated_softmax_random, 0.0, 1e-12, "le"),
    ))

FLOOD_SRC = "Ishida et al., ICML 2020; Su, kexue.fm/archives/7643; Liu et al., ACL 2022 (qinliu9/Flooding-X)"


def _m_flood_displacement():
    from .flooding import descent_ascent_displacement

    return descent_ascent_displacement(np.diag([1.0, 3.0]), np.array([1.0, -2.0]), 0.01)


def _m_flood_values():
    from .flooding import FLOODING_X_DEFAULT_B, flood, flood_grad_factor

    losses = np.array([0.5, 0.025, 0.01])
    return [*flood(losses, FLOODING_X_DEFAULT_B), *flood_grad_factor(np.array([0.5, 0.01]), FLOODING_X_DEFAULT_B)]


def _m_flood_training():
    """Gradient descent on the flooded loss of a least-squares problem: the training loss settles around b."""
    from .flooding import flood_grad_factor

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 20))
    y = x @ rng.normal(size=20) + 0.05 * rng.normal(size=200)
    w = np.zeros(20)
    b, lr = 0.5, 0.05
    losses = []
    for _ in range(400):
        r = x @ w - y
        loss = float(np.mean(r ** 2))
        w -= lr * float(flood_grad_factor(loss, b)) * (2 * x.T @ r / len(y))
        losses.append(loss)
    return {"value": float(np.mean(losses[-100:])), "unflooded_minimum": float(np.mean(
        (x @ np.linalg.lstsq(x, y, rcond=None)[0] - y) ** 2))}


FLOODING = Technique(
    "flooding", "Flooding |L - b| + b (and Flooding-X): descent above the flood level b, ascent below; an implicit "
    "gradient-norm penalty.", FLOOD_SRC, claims=(
        Claim("flooding.implicit-penalty", "one descent then one ascent step of size eps on a quadratic moves theta "
              "by -eps^2 A^2 theta: (-1e-4, 1.8e-3) for A = diag(1, 3), theta = (1, -2), eps = 0.01", FLOOD_SRC,
              _m_flood_displacement, [-1e-4, 1.8e-3], 1e-15),
        Claim("flooding.formula", "flood(L) = |L - b| + b with Flooding-X's default b = 0.025: flood(0.5, 0.025, "
              "0.01) = (0.5, 0.025, 0.04); the step is descent above b and ascent below", FLOOD_SRC,
              _m_flood_values, [0.5, 0.025, 0.04, 1.0, -1.0], 1e-12),
        Claim("flooding.hovers", "training with flood level b = 0.5 keeps the training loss near b instead of "
              "driving it to the least-squares minimum", FLOOD_SRC, _m_flood_training, 0.5, 0.05),
    ))

EG_SRC = "Kivinen & Warmuth 1997, Information and Computation 132(1)"


def _m_eg_step():
    from .exp_gradient import eg_step

    return eg_step(np.array([0.5, 0.3, 0.2]), np.array([1.0, 0.0, -1.0]), 0.5)


def _m_eg_mirror():
    """Mirror descent with the negative entropy: argmin over the simplex of eta <g, v> + KL(v || w), solved
    numerically (scipy SLSQP, no closed form used) and compared with one EG step."""
    from scipy.optimize import minimize

    from .exp_gradient import eg_step

    rng = np.random.default_rng(0)
    w = rng.dirichlet(np.ones(6))
    g = rng.normal(size=6)
    eta = 0.3

    def objective(v):
        v = np.clip(v, 1e-300, None)
        return eta * g @ v + np.sum(v * np.log(v / w))

    res = minimize(objective, np.full(6, 1 / 6), method="SLSQP", bounds=[(1e-12, 1)] * 6, options={"ftol": 1e-15,
                   "maxiter": 500}, constraints=[{"type": "eq", "fun": lambda v: v.sum() - 1}])
    return {"value": float(np.max(np.abs(eg_step(w, g, eta) - res.x))), "solver_success": bool(res.success)}


EG = Technique(
    "exponentiated-gradient", "Exponentiated gradient: multiplicative updates on the simplex (mirror descent with "
    "negative entropy).", EG_SRC, claims=(
        Claim("eg.step", "one step from (0.5, 0.3, 0.2) with g = (1, 0, -1), eta = 0.5 gives w exp(-eta g)/Z = "
              "[0.325040, 0.321540, 0.353420]", EG_SRC, _m_eg_step, [0.325040, 0.321540, 0.353420], 1e-6),
        Claim("eg.mirror-descent", "an EG step is the mirror-descent step argmin_v eta <g, v> + KL(v || w) over the "
              "simplex (solved numerically, 6 classes)", EG_SRC, _m_eg_mirror, 0.0, 1e-6, "le"),
    ))

TECHNIQUES = [CAN, WHITENING, MITCHELL, TAYLOR, ENTROPY_SCALE, PERFORMER, JL, REPEATED, FLOODING, EG]
