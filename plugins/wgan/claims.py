"""The WGAN plugin's own claims (``auditkit claims --run`` lists them under ``gradient-normalization``,
``exact-w1`` and ``wgan-critic-evaluation``).

Each ``_m_*`` function measures one claim with this plugin's code (:mod:`.critics`, :mod:`.w1`, :mod:`.evaluate`,
:mod:`.study`) against a closed form computed here independently; torch is imported only when a claim runs.
"""

from __future__ import annotations

import math

import numpy as np

from auditkit import Claim, Technique

GN_SRC = "Wu et al., ICCV 2021 (arXiv 2109.02235), basiclab/GNGAN-PyTorch normalize_gradient; Su, kexue.fm/archives/8757"
FASTER_GN_SRC = "basiclab/Faster-GNGAN-PyTorch training/gn.py (GradUpdateHook)"
GRAN_SRC = ("Bhaskara et al., WACV 2022 (arXiv 2111.03162): 'piecewise K-Lipschitz'; formula as transcribed by Su, "
            "kexue.fm/archives/8757")
W1_1D_SRC = ("Villani, Topics in Optimal Transportation (2003) Thm 2.18; Peyré & Cuturi, Computational Optimal "
             "Transport (2019) Remark 2.30: W1 = integral over u in [0, 1] of |F^-1(u) - G^-1(u)|")
GAUSS_SRC = ("Givens & Shortt 1984 / Dowson & Landau 1982: W2(N(m1, S), N(m2, S)) = |m1 - m2|; W1 <= W2 and "
             "W1 >= |E X - E Y| (Jensen), so W1 = |m1 - m2| too")
KR_SRC = "Kantorovich-Rubinstein duality: |E_P f - E_Q f| <= L W1(P, Q) for any L-Lipschitz f (Villani 2009, Rmk 6.5)"
GP_SRC = "Gulrajani et al., NeurIPS 2017 (arXiv 1704.00028), eq. 3: lambda E[(|grad D(x_hat)| - 1)^2], lambda = 10"


def _torch():
    from auditkit.errors import require

    return require("torch", "the WGAN claims", "torch")


def _mlp(seed=0, d=2, h=16, scale=1.0, shift=0.0):
    """A random LeakyReLU MLP (piecewise linear) in float64, output ``scale * f + shift``."""
    torch = _torch()
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.LeakyReLU(0.2), torch.nn.Linear(h, h),
                              torch.nn.LeakyReLU(0.2), torch.nn.Linear(h, 1)).double()

    def f(x):
        return net(x)[:, 0] * scale + shift

    f.net = net
    return f


def _linear(w):
    torch = _torch()
    w = torch.as_tensor(w, dtype=torch.float64)

    def f(x):
        return x @ w

    return f


def _points(n=256, d=2, seed=1, scale=3.0):
    torch = _torch()
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale


# -- GN ----------------------------------------------------------------------------------------------------------
def _m_gn_bounded():
    from .critics import normalized_critic

    f = _mlp(0, scale=1e3, shift=5e4)      # |f| >> |grad f| and of both signs after the shift below
    vals = []
    for shift in (0.0, -1e5):
        fh, _, _ = normalized_critic(lambda x, s=shift: f(x) + s, _points(), "gn", create_graph=False)
        vals.append(fh.detach())
    m = float(max(v.abs().max() for v in vals))
    return {"value": m < 1.0, "max_abs_f_hat": m}


def _m_gn_grad_bound():
    """autograd |grad f_hat| equals the closed form g^2/(g + |f|)^2 (piecewise-linear f), and is <= 1."""
    torch = _torch()
    from .critics import flat_norm, normalized_critic

    f = _mlp(2)
    x = _points(256, seed=3).requires_grad_(True)
    fh, fr, g = normalized_critic(f, x, "gn", create_graph=True)
    (gx,) = torch.autograd.grad(fh.sum(), x)
    got = flat_norm(gx).detach()
    closed = (g ** 2 / (g + fr.abs()) ** 2).detach()
    return {"value": [float((got - closed).abs().max()), float(got.max())], "min_norm": float(got.min())}


def _m_gn_linear_table():
    """reference notes §1.6: w = (3, 4): f_hat = 7/12, 0, -2/7 and |grad f_hat| = 25/144, 1, 25/49."""
    torch = _torch()
    from .critics import values_and_grad_norms

    x = torch.tensor([[1.0, 1.0], [0.0, 0.0], [-2.0, 1.0]], dtype=torch.float64)
    v = values_and_grad_norms(_linear([3.0, 4.0]), x, "gn")
    return [*map(float, v["f_hat"]), *map(float, v["grad_f_hat"])]


def _m_gn_scale_shift():
    from .critics import normalized_critic

    f = _mlp(4)
    x = _points(128, seed=5)
    base = normalized_critic(f, x, "gn", create_graph=False)[0].detach()
    scaled = normalized_critic(lambda z: 1000 * f(z), x, "gn", create_graph=False)[0].detach()
    shifted = normalized_critic(lambda z: f(z) + 5, x, "gn", create_graph=False)[0].detach()
    scale_diff, shift_diff = float((scaled - base).abs().max()), float((shifted - base).abs().max())
    return {"value": scale_diff <= 1e-12 and shift_diff >= 0.1, "scale_difference": scale_diff,
            "shift_difference": shift_diff}


def _m_gn_fast_path():
    """The gradient-hook fast path equals double backprop for a piecewise-linear critic (batch 1, 7, 64)."""
    from .critics import fast_path_discrepancy

    f = _mlp(6, scale=3.0)
    out = []
    for n in (1, 7, 64):
        for norm in ("gn", "gran"):
            out.append(fast_path_discrepancy(f, _points(n, seed=10 + n), norm, eps=1e-4,
                                             loss_fn=lambda fh: (fh ** 2).mean() - fh.sum()))
    return max(out)


# -- GraN --------------------------------------------------------------------------------------------------------
K_GRAN = 2.0


def _activation_pattern(net, x):
    torch = _torch()
    pats = []
    h = x
    with torch.no_grad():
        for layer in net:
            h = layer(h) if not isinstance(layer, torch.nn.LeakyReLU) else h
            if isinstance(layer, torch.nn.Linear) and layer is not net[-1]:
                pats.append(h > 0)
            if isinstance(layer, torch.nn.LeakyReLU):
                h = layer(h)
    return torch.cat(pats, dim=1)


def _m_gran_piecewise():
    """Within one linear region f = w_r.x + b_r, so f_hat = K f/|w_r| (eps -> 0): |f_hat(x) - f_hat(y)| equals
    K |w_r.(x - y)|/|w_r| <= K |x - y|. Measured: the largest deviation from that identity over same-region pairs,
    and the largest same-region ratio divided by K; across regions the ratio can exceed K (Su 8757)."""
    torch = _torch()
    from .critics import normalized_critic

    f = _mlp(7)
    x = _points(4000, seed=8)
    y = x + torch.randn(x.shape, generator=torch.Generator().manual_seed(9), dtype=torch.float64) * 0.05
    same = (_activation_pattern(f.net, x) == _activation_pattern(f.net, y)).all(dim=1)
    xs = x.clone().requires_grad_(True)
    fx, _, _ = normalized_critic(f, xs, "gran", eps=0.0, k=K_GRAN, create_graph=False)
    (w,) = torch.autograd.grad(f(xs).sum(), xs)
    fy = normalized_critic(f, y, "gran", eps=0.0, k=K_GRAN, create_graph=False)[0]
    d = (fx - fy).detach().abs()
    dist = (x - y).norm(dim=1)
    expect = K_GRAN * ((w * (x - y)).sum(dim=1)).abs() / w.norm(dim=1)
    dev = float((d - expect)[same].abs().max())
    ratio = float((d / dist)[same].max()) / K_GRAN
    cross = float((d / dist)[~same].max()) / K_GRAN if bool((~same).any()) else None
    return {"value": [dev, ratio], "same_region_pairs": int(same.sum()), "cross_region_max_ratio_over_k": cross}


def _m_gran_linear():
    """Linear critic w = (3, 4), eps -> 0, k = 1: f_hat = f/5 = 1.4, 0, -0.4 (reference notes §1.6)."""
    torch = _torch()
    from .critics import normalized_critic

    x = torch.tensor([[1.0, 1.0], [0.0, 0.0], [-2.0, 1.0]], dtype=torch.float64)
    return [float(v) for v in normalized_critic(_linear([3.0, 4.0]), x, "gran", eps=0.0, k=1.0,
                                                create_graph=False)[0].detach()]


# -- exact W1 ----------------------------------------------------------------------------------------------------
def _quantile_w1(x, y, a, b):
    """W1 = integral_0^1 |F^-1(u) - G^-1(u)| du for weighted 1-D samples, integrated exactly between the jumps."""
    ix, iy = np.argsort(x), np.argsort(y)
    xs, ys = x[ix], y[iy]
    cx, cy = np.cumsum(a[ix]) / a.sum(), np.cumsum(b[iy]) / b.sum()
    us = np.unique(np.concatenate([[0.0], cx, cy]))
    us = us[us <= 1.0]
    total = 0.0
    for lo, hi in zip(us[:-1], us[1:]):
        mid = (lo + hi) / 2
        qx = xs[min(np.searchsorted(cx, mid), len(xs) - 1)]
        qy = ys[min(np.searchsorted(cy, mid), len(ys) - 1)]
        total += (hi - lo) * abs(qx - qy)
    return total


def _m_w1_1d():
    from .w1 import exact_w1, w1_1d

    rng = np.random.default_rng(0)
    errs = []
    a = np.array([3.0, 0.0, 2.0, 1.0])                        # unsorted on purpose
    errs.append(abs(w1_1d(a, a[::-1] + 0.5) - 0.5))            # reference notes §1.6: {0..3} vs +0.5 -> 0.5
    for n, m, weighted in ((7, 5, False), (9, 9, False), (6, 11, True), (40, 40, False)):
        x, y = rng.normal(size=n) * 3, rng.normal(size=m) + 1
        wa = rng.uniform(0.1, 1, n) if weighted else np.ones(n)
        wb = rng.uniform(0.1, 1, m) if weighted else np.ones(m)
        ref = _quantile_w1(x, y, wa, wb)
        errs.append(abs(w1_1d(x, y, wa if weighted else None, wb if weighted else None) - ref))
        if not weighted:
            errs.append(abs(exact_w1(x[:, None], y[:, None]) - ref))
    return max(errs)


def _m_w1_gaussian():
    """Y = X + mu with X ~ N(0, S) (S anisotropic, 3-D): the exact empirical W1 is |mu| = 5 for both solvers, and
    the optimal critic x -> mu.x/|mu| attains it."""
    from .w1 import exact_w1, w1_emd

    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 3)) @ np.array([[2.0, 0.3, 0.0], [0.0, 0.5, 0.2], [0.0, 0.0, 1.5]])
    mu = np.array([3.0, 0.0, 4.0])
    y = x + mu
    vals = [exact_w1(x, y, method="assignment"), float(np.mean((y - x) @ (mu / np.linalg.norm(mu))))]
    try:
        vals.append(w1_emd(x, y))
    except Exception:                                          # POT is optional: assignment alone
        vals.append(vals[0])
    return vals


# -- evaluation ----------------------------------------------------------------------------------------------------
def _eval(critic, real, fake, **kw):
    from .evaluate import evaluate_critic

    kw.setdefault("adv_steps", 0)
    kw.setdefault("n_pairs", 256)
    return evaluate_critic(critic, real, fake, **kw)


def _translated(norm_mu, n=128, seed=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    return x + np.array([0.6, 0.8]) * norm_mu, x


def _m_kr_breach():
    """|KR| <= L W1: a critic -3 (unit linear) on a translation by 5 has KR = -15 with W1 = 5, a proven breach
    (error), whatever the sign; the unit linear critic (KR = W1) is not flagged."""
    real, fake = _translated(5.0)
    out = []
    for w in ([-1.8, -2.4], [0.6, 0.8], [1.8, 2.4]):
        rep = _eval(_linear(w), real, fake)
        out.append(float(any(f.severity == "error" for f in rep.findings)))
    return {"value": out, "critics": "-3 * unit, unit, 3 * unit"}


def _m_gn_saturation():
    """A GN critic has |f_hat| < 1, so its KR estimate is < 2: the evaluation reports 'saturated' exactly when
    W1 >= 2 (translations by 1.9 and 2.1), and the estimate stays below 2 at W1 = 5."""
    out = []
    for d in (1.9, 2.1):
        real, fake = _translated(d)
        out.append(float(_eval(_linear([0.6, 0.8]), real, fake, normalization="gn").summary["saturated"]))
    real, fake = _translated(5.0)
    est = _eval(_linear([0.6, 0.8]), real, fake, normalization="gn").summary["critic_w1"]
    out.append(float(est < 2.0))
    return {"value": out, "estimate_at_w1_5": est}


def _m_gp_form():
    """The study's penalty for linear critics with |w| = 3 and |w| = 1 is lambda (|w| - 1)^2 = 40 and 0."""
    torch = _torch()
    from .study import gradient_penalty

    real, fake = (torch.as_tensor(a) for a in _translated(5.0, n=32))
    t = torch.rand(32, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    return [float(gradient_penalty(_linear(w), real, fake, t, 10.0)) for w in ([1.8, 2.4], [0.6, 0.8])]


GN = Technique(
    "gradient-normalization", "GN f_hat = f/(|grad f| + |f|) and GraN f_hat = k f |grad f|/(|grad f|^2 + eps) "
    "critics, with the Faster-GN gradient-hook fast path.", GN_SRC, claims=(
        Claim("gn.bounded", "|f_hat| < 1 for a GN critic, also where |f| >> |grad f| (raw outputs ~ +-5e4)",
              GN_SRC, _m_gn_bounded, True, 0.0, "true"),
        Claim("gn.gradient-norm-bound", "for a piecewise-linear critic |grad f_hat| = g^2/(g + |f|)^2 <= 1 "
              "(autograd vs closed form <= 1e-12; max norm <= 1)", GN_SRC, _m_gn_grad_bound, [1e-12, 1.0], 0.0,
              "le"),
        Claim("gn.linear-critic", "w = (3, 4): f_hat = 7/12, 0, -2/7 and |grad f_hat| = 25/144, 1, 25/49 at (1, 1), "
              "(0, 0), (-2, 1)", "auditkit reference notes §1.6 [C]; " + GN_SRC, _m_gn_linear_table,
              [7 / 12, 0.0, -2 / 7, 25 / 144, 1.0, 25 / 49], 1e-12),
        Claim("gn.scale-not-shift-invariant", "f_hat[1000 f] = f_hat[f] (difference <= 1e-12) while f_hat[f + 5] "
              "differs (by >= 0.1; 1.99 on this critic)", "auditkit reference notes §1.1 [C]; " + GN_SRC,
              _m_gn_scale_shift, True, 0.0, "true"),
        Claim("gn.fast-path-exact", "the gradient-hook fast path (batch-mean factor B) equals double backprop for a "
              "piecewise-linear critic, GN and GraN, batch 1, 7, 64 (relative <= 1e-12)", FASTER_GN_SRC,
              _m_gn_fast_path, 0.0, 1e-12, "le"),
        Claim("gran.piecewise-k-lipschitz", "GraN (k = 2, eps = 0) is K-Lipschitz inside each linear region: "
              "|f_hat(x) - f_hat(y)| = K |w_r.(x - y)|/|w_r| (deviation <= 1e-9) and ratio/K <= 1 over "
              "same-region pairs", GRAN_SRC, _m_gran_piecewise, [1e-9, 1.0], 1e-9, "le"),
        Claim("gran.linear-critic", "w = (3, 4), eps = 0: f_hat = f/|w| = 1.4, 0, -0.4", "auditkit reference notes "
              "§1.1/§1.6 [C]; " + GRAN_SRC, _m_gran_linear, [1.4, 0.0, -0.4], 1e-9),
    ))

EXACT_W1 = Technique(
    "exact-w1", "Exact Wasserstein-1 between samples: 1-D closed form, linear_sum_assignment, POT ot.emd2 on the "
    "Euclidean cost.", W1_1D_SRC, claims=(
        Claim("w1.1d-quantile-formula", "the 1-D solver equals the quantile-function integral on unsorted samples "
              "of equal and unequal sizes, with and without weights; {0..3} vs {0..3} + 0.5 gives 0.5",
              W1_1D_SRC, _m_w1_1d, 0.0, 1e-12, "le"),
        Claim("w1.gaussian-translation", "equal-covariance Gaussians: W1 = |mu1 - mu2|; for Y = X + mu (|mu| = 5, "
              "3-D, anisotropic) both exact solvers and the linear critic mu.x/|mu| give 5", GAUSS_SRC,
              _m_w1_gaussian, [5.0, 5.0, 5.0], 1e-9),
    ))

EVALUATION = Technique(
    "wgan-critic-evaluation", "What `auditkit wgan evaluate` and the study assert: the KR bound, GN saturation and "
    "the WGAN-GP penalty.", KR_SRC, claims=(
        Claim("wgan.kr-breach", "|KR| > L W1 proves a breach whatever the sign: critics -3u, u, 3u (u the unit "
              "optimal critic) on a translation by 5 are flagged [yes, no, yes]", KR_SRC, _m_kr_breach,
              [1.0, 0.0, 1.0], 0.0),
        Claim("wgan.gn-saturation", "GN's estimate is < 2, so 'saturated' is reported exactly when W1 >= 2 (W1 = "
              "1.9: no, 2.1: yes) and the estimate stays < 2 at W1 = 5", GN_SRC, _m_gn_saturation,
              [0.0, 1.0, 1.0], 0.0),
        Claim("wgan-gp.penalty", "the study's WGAN-GP penalty is lambda (|grad D| - 1)^2: 40 for |w| = 3 and 0 for "
              "|w| = 1 (lambda = 10)", GP_SRC, _m_gp_form, [40.0, 0.0], 1e-9),
    ))

TECHNIQUES = [GN, EXACT_W1, EVALUATION]
