"""Every claim can fail: for each registered claim, plant the bug the claim is about (an identity implementation, a
wrong axis, a wrong sign, a missing normalization, a changed constant) and assert that the claim then fails.

``PLANTS`` maps every claim id to the bug it must catch. ``test_every_claim_has_a_planted_bug`` keeps the map
complete: a new claim without a planted bug fails the suite. Plants replace one function (or constant) of the
technique with ``monkeypatch``; the real-data experiments' caches are cleared around each test so a planted bug is
seen by them.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

import auditkit
from auditkit_plugins.techniques.claims import collect_claims, evaluate_claim

T = "auditkit_plugins.techniques."
C = "auditkit_plugins.contrastive."
W = "auditkit_plugins.wgan."


def _mod(name):
    return importlib.import_module(name)


def _set(mp, module, attr, value):
    mp.setattr(_mod(module), attr, value)


def _wrap(mp, module, attr, make):
    """Replace ``module.attr`` by ``make(original)``."""
    orig = getattr(_mod(module), attr)
    mp.setattr(_mod(module), attr, make(orig))


# -- CAN -----------------------------------------------------------------------------------------------------------
def _can_identity(mp):
    _set(mp, T + "can", "_correct", lambda a0, b, prior, alpha, iters, chunk: b.copy())


def _can_no_column_step(mp):
    # the normalization over samples (columns) is missing: only prior and row normalization remain
    def bad(a0, b, prior, alpha, iters, chunk):
        y = b ** alpha * prior
        return y / y.sum(axis=1, keepdims=True)
    _set(mp, T + "can", "_correct", bad)


def _can_iters_ignored(mp):
    _wrap(mp, T + "can", "_correct_iter", lambda orig: lambda a0, b, prior, alpha, iters: orig(a0, b, prior, alpha, 1))


def _can_alpha_ignored(mp):
    _set(mp, T + "can", "_pow", lambda x, alpha: x)


def _can_prior_ignored(mp):
    _wrap(mp, T + "can", "_correct",
          lambda orig: lambda a0, b, prior, *rest: orig(a0, b, np.full_like(prior, 1 / prior.size), *rest))


def _can_uncertainty_reversed(mp):
    _wrap(mp, T + "can", "uncertainty", lambda orig: lambda *a, **k: 1.0 - orig(*a, **k))


# -- whitening -----------------------------------------------------------------------------------------------------
def _whiten_no_rescale(mp):
    # W = U instead of U Lambda^{-1/2}: rotated but not whitened
    def make(orig):
        def fin(self):
            orig(self)
            if getattr(self, "components_", None) is not None:
                k = self.components_.shape[1]
                self.components_ = self.components_ * np.sqrt(self.singular_values_[:k])
        return fin
    _wrap(mp, T + "whitening", "Whitening", lambda cls: type("W", (cls,), {"_finalize": make(cls._finalize)}))


def _whiten_wrong_columns(mp):
    # truncation keeps the k smallest-variance directions (still whitened, wrong axes)
    def make(orig):
        def fin(self):
            orig(self)
            if getattr(self, "components_", None) is not None and self.n_components:
                u, s, _ = np.linalg.svd(self.covariance_)
                k = self.components_.shape[1]
                self.components_ = u[:, -k:] / np.sqrt(s[-k:])
        return fin
    _wrap(mp, T + "whitening", "Whitening", lambda cls: type("W", (cls,), {"_finalize": make(cls._finalize)}))


def _whiten_no_centering(mp):
    _wrap(mp, T + "whitening", "Whitening",
          lambda cls: type("W", (cls,), {"transform": lambda self, x: cls.transform(self, np.asarray(x) + self.mean_)}))


def _whiten_stream_no_correction(mp):
    # Chan's pairwise update without the between-chunk term delta delta^T n_a n_b / (n_a + n_b)
    def partial_fit(self, x, y=None):
        x = np.asarray(x, dtype=np.float64)
        n_b, mean_b = x.shape[0], x.mean(axis=0)
        scatter_b = (x - mean_b).T @ (x - mean_b)
        if self._sum is None:
            self._sum, self._scatter, self.n_samples_seen_ = mean_b * n_b, scatter_b, n_b
        else:
            self._scatter = self._scatter + scatter_b
            self._sum = self._sum + mean_b * n_b
            self.n_samples_seen_ += n_b
        self._finalize()
        return self
    _wrap(mp, T + "whitening", "Whitening", lambda cls: type("W", (cls,), {"partial_fit": partial_fit}))


def _whiten_identity(mp):
    _wrap(mp, T + "whitening", "Whitening", lambda cls: type("W", (cls,), {"transform": lambda self, x: np.asarray(
        x, dtype=np.float64)}))


# -- brief items -----------------------------------------------------------------------------------------------------
def _mitchell_exact(mp):
    _set(mp, T + "mitchell", "mitchell_multiply", lambda p, q, frac_bits=None: np.asarray(p, float) * np.asarray(q, float))


def _mitchell_overestimates(mp):
    # a "bias-corrected" variant scaled by 1 + 1/18 overshoots where the error is small
    _wrap(mp, T + "mitchell", "mitchell_multiply", lambda orig: lambda p, q, frac_bits=None: orig(p, q, frac_bits) * (1 + 1 / 18))


def _mitchell_no_truncation(mp):
    _wrap(mp, T + "mitchell", "mitchell_multiply", lambda orig: lambda p, q, frac_bits=None: orig(p, q, None))


def _taylor_plain_softmax(mp):
    _set(mp, T + "taylor_softmax", "taylor_exp", lambda x, k=2: np.exp(np.asarray(x, dtype=np.float64)))


def _taylor_order_off_by_one(mp):
    _wrap(mp, T + "taylor_softmax", "taylor_exp", lambda orig: lambda x, k=2: orig(x, k - 1))


def _taylor_global_normalization(mp):
    def bad(x, k=2, axis=-1):
        f = _mod(T + "taylor_softmax").taylor_exp(x, k)
        return f / f.sum()                                   # over every element, not along the axis
    _set(mp, T + "taylor_softmax", "taylor_softmax", bad)


def _taylor_no_factorial(mp):
    def bad(x, k=2):
        x = np.asarray(x, dtype=np.float64)
        out = 1.0 + 0.0 * x
        for _ in range(int(k), 0, -1):
            out = 1.0 + out * x
        return out
    _set(mp, T + "taylor_softmax", "taylor_exp", bad)


def _taylor_sign(mp):
    _wrap(mp, T + "taylor_softmax", "taylor_exp", lambda orig: lambda x, k=2: orig(-np.asarray(x, dtype=np.float64), k))


def _entropy_natural_log(mp):
    _set(mp, T + "attention_scale", "entropy_invariant_scale",
         lambda n, d, base=512.0: np.log(np.asarray(n, dtype=np.float64)) / math.sqrt(d))


def _entropy_constant_scale(mp):
    _set(mp, T + "attention_scale", "entropy_invariant_scale",
         lambda n, d, base=512.0: np.full(np.shape(n), 1 / math.sqrt(d)) if np.ndim(n) else 1 / math.sqrt(d))


def _favor_no_norm_term(mp):
    _set(mp, T + "performer", "favor_features",
         lambda x, w: np.exp(np.asarray(x, dtype=np.float64) @ w.T) / math.sqrt(w.shape[0]))


def _favor_wrong_variance(mp):
    _wrap(mp, T + "performer", "gaussian_features", lambda orig: lambda m, d, rng=None: 1.1 * orig(m, d, rng))


def _favor_unit_norms(mp):
    # orthogonal rows without rescaled norms (QR gives unit rows)
    def bad(m, d, rng=None):
        w = _orig_orthogonal(m, d, rng)
        return w / np.linalg.norm(w, axis=1, keepdims=True)
    _orig_orthogonal = _mod(T + "performer").orthogonal_features
    _set(mp, T + "performer", "orthogonal_features", bad)


def _jl_log10(mp):
    _set(mp, T + "jl", "jl_min_dim", lambda n, eps: 24 * np.log10(np.asarray(n, float)) / eps ** 2)
    _set(mp, T + "jl", "entropy_min_dim", lambda n, constant=8.33: constant * np.log10(np.asarray(n, float)))


def _jl_wrong_constant(mp):
    _set(mp, T + "jl", "ENTROPY_CONSTANT", 0.5 * math.log(math.sqrt(5)))      # log sqrt 5 instead of the golden ratio


def _jl_unscaled(mp):
    _set(mp, T + "jl", "jl_project",
         lambda x, n_dims, seed=0: np.asarray(x) @ np.random.default_rng(seed).normal(size=(n_dims, np.shape(x)[1])).T)


def _repeated_one_step_short(mp):
    _wrap(mp, T + "repeated_softmax", "repeated_softmax", lambda orig: lambda x, steps: orig(x, steps - 1))


def _repeated_wrong_axis(mp):
    _wrap(mp, T + "repeated_softmax", "softmax", lambda orig: lambda x, axis=-1: orig(x, axis=0))


def _flood_ascent_sign(mp):
    def bad(a, theta, eps):
        a, theta = np.asarray(a, float), np.asarray(theta, float)
        t1 = theta - eps * (a @ theta)
        return t1 - eps * (a @ t1) - theta                 # two descent steps
    _set(mp, T + "flooding", "descent_ascent_displacement", bad)


def _flood_missing_b(mp):
    _set(mp, T + "flooding", "flood", lambda loss, b: abs(loss - b))


def _flood_never_ascends(mp):
    _set(mp, T + "flooding", "flood_grad_factor", lambda loss, b: np.ones_like(np.asarray(loss, dtype=float)))


def _eg_ignores_w(mp):
    _wrap(mp, T + "exp_gradient", "eg_step", lambda orig: lambda w, g, eta: orig(np.full(len(w), 1 / len(w)), g, eta))


def _eg_sign(mp):
    _wrap(mp, T + "exp_gradient", "eg_step", lambda orig: lambda w, g, eta: orig(w, -np.asarray(g, float), eta))


# -- contrastive ------------------------------------------------------------------------------------------------------
def _flatnce_is_infonce(mp):
    losses = _mod(C + "losses")
    _set(mp, C + "losses", "flatnce_loss", lambda s, t, reduction="mean", value="infonce":
         losses.infonce_loss(s, t, reduction=reduction))


def _underflow_in_float64(mp):
    _set(mp, C + "diagnose", "rounds_to_one", lambda xi: (1 + xi.double()) == 1)


def _fp32_half_ulp_wrong(mp):
    _wrap(mp, C + "diagnose", "half_ulp_of_one", lambda orig: lambda dt: 2.0 ** -23 if dt == "float32" else orig(dt))


def _bf16_half_ulp_wrong(mp):
    # the constant this issue found: 2^-9 for bfloat16
    _wrap(mp, C + "diagnose", "half_ulp_of_one", lambda orig: lambda dt: 2.0 ** -9 if dt == "bfloat16" else orig(dt))


def _rounds_with_strict_threshold(mp):
    # a hand-written threshold test xi < eps (epsilon instead of half an ulp)
    import torch
    _set(mp, C + "diagnose", "rounds_to_one", lambda xi: xi < torch.finfo(xi.dtype).eps)


# -- WGAN -------------------------------------------------------------------------------------------------------------
def _gn_values(mp, fn):
    _wrap(mp, W + "critics", "normalize_values",
          lambda orig: lambda f, g, normalization, eps=None, k=1.0: fn(f, g) if normalization == "gn"
          else orig(f, g, normalization, eps, k))


def _gn_no_abs_f(mp):
    _gn_values(mp, lambda f, g: f / g)


def _gn_f_not_abs(mp):
    _gn_values(mp, lambda f, g: f / (g + f))


def _gn_identity(mp):
    _gn_values(mp, lambda f, g: f)


def _gn_surrogate_rescaled(mp):
    # the surrogate scaled from outside the hook: the hook then reads a wrong |grad f| (the batch-mean factor pitfall)
    _wrap(mp, W + "critics", "hooked_generator_loss",
          lambda orig: lambda *a, **k: (lambda out: (out[0] * 0.5, out[1]))(orig(*a, **k)))


def _gran_k_ignored(mp):
    _wrap(mp, W + "critics", "normalize_values",
          lambda orig: lambda f, g, normalization, eps=None, k=1.0: orig(f, g, normalization, eps, 1.0))


def _gran_not_squared(mp):
    _wrap(mp, W + "critics", "normalize_values",
          lambda orig: lambda f, g, normalization, eps=None, k=1.0: (k * f * g / (g + (eps or 0.0)))
          if normalization == "gran" else orig(f, g, normalization, eps, k))


def _w1_no_sort(mp):
    import numpy as real_np

    class NoSort:
        def __getattr__(self, name):
            return (lambda a, *args, **kw: real_np.asarray(a)) if name == "sort" else getattr(real_np, name)
    _set(mp, W + "w1", "np", NoSort())


def _w1_squared_cost(mp):
    _wrap(mp, W + "w1", "euclidean_cost", lambda orig: lambda x, y: orig(x, y) ** 2)


def _kr_ignores_sign(mp):
    # `abs(critic_w1) > bound` written as `critic_w1 > bound`: a module-level `abs` shadows the builtin
    mp.setattr(_mod(W + "evaluate"), "abs", lambda v: v, raising=False)


def _gn_saturation_threshold(mp):
    _set(mp, W + "evaluate", "GN_SATURATION_W1", 3.0)


def _gp_squared_norm(mp):
    import torch

    from auditkit_plugins.wgan import critics

    def bad(critic, real, fake, t, lam=10.0):
        xi = (t * real + (1 - t) * fake).detach().requires_grad_(True)
        (gx,) = torch.autograd.grad(critics.critic_output(critic, xi).sum(), xi, create_graph=True)
        return lam * (critics.flat_norm(gx) ** 2).mean()
    _set(mp, W + "study", "gradient_penalty", bad)


PLANTS = {
    "can.toy1": _can_identity,
    "can.toy2": _can_no_column_step,
    "can.toy2-iters50": _can_iters_ignored,
    "can.vectorized-equals-loop": _can_alpha_ignored,
    "can.only-doubtful": _can_identity,
    "can.identity-prior": _can_prior_ignored,
    "can.real.digits-accuracy": _can_identity,
    "can.real.digits-only-doubtful": _can_identity,
    "can.real.digits-confidence-gap": _can_uncertainty_reversed,
    "whitening.identity-covariance": _whiten_no_rescale,
    "whitening.truncated": _whiten_wrong_columns,
    "whitening.matches-official": _whiten_no_centering,
    "whitening.streaming": _whiten_stream_no_correction,
    "whitening.real.identity-covariance": _whiten_no_rescale,
    "whitening.real.anisotropy-removed": _whiten_identity,
    "whitening.real.isotropic": _whiten_identity,
    "whitening.real.neighbours": _whiten_identity,
    "mitchell.max-relative-error": _mitchell_exact,
    "mitchell.mean-relative-error": _mitchell_exact,
    "mitchell.never-overestimates": _mitchell_overestimates,
    "mitchell.examples": _mitchell_no_truncation,
    "taylor.order2": _taylor_plain_softmax,
    "taylor.order4": _taylor_order_off_by_one,
    "taylor.batched": _taylor_global_normalization,
    "taylor.even-positive": _taylor_no_factorial,
    "taylor.odd-negative": _taylor_sign,
    "entropy-scale.values": _entropy_natural_log,
    "entropy-scale.invariance": _entropy_constant_scale,
    "favor.unbiased": _favor_no_norm_term,
    "favor.variance": _favor_wrong_variance,
    "favor.orthogonal": _favor_unit_norms,
    "jl.dimension-rules": _jl_log10,
    "jl.entropy-constant": _jl_wrong_constant,
    "jl.projection": _jl_unscaled,
    "repeated-softmax.examples": _repeated_one_step_short,
    "repeated-softmax.uniform": _repeated_wrong_axis,
    "flooding.implicit-penalty": _flood_ascent_sign,
    "flooding.formula": _flood_missing_b,
    "flooding.hovers": _flood_never_ascends,
    "eg.step": _eg_ignores_w,
    "eg.mirror-descent": _eg_sign,
    "flatnce.gradient-is-infonce-direction": _flatnce_is_infonce,
    "flatnce.toy-gradient": _flatnce_is_infonce,
    "infonce.fp32-vanishes": _underflow_in_float64,
    "infonce.fp32-batch-threshold": _fp32_half_ulp_wrong,
    "precision.half-ulp-of-one": _rounds_with_strict_threshold,
    "precision.diagnostic-constants": _bf16_half_ulp_wrong,
    "gn.bounded": _gn_no_abs_f,
    "gn.gradient-norm-bound": _gn_f_not_abs,
    "gn.linear-critic": _gn_identity,
    "gn.scale-not-shift-invariant": _gn_identity,
    "gn.fast-path-exact": _gn_surrogate_rescaled,
    "gran.piecewise-k-lipschitz": _gran_k_ignored,
    "gran.linear-critic": _gran_not_squared,
    "w1.1d-quantile-formula": _w1_no_sort,
    "w1.gaussian-translation": _w1_squared_cost,
    "wgan.kr-breach": _kr_ignores_sign,
    "wgan.gn-saturation": _gn_saturation_threshold,
    "wgan-gp.penalty": _gp_squared_norm,
}


def _all_claims():
    return {c.id: (t, c) for t, c in collect_claims(registry=auditkit.get_registry())}


def _clear_caches():
    rd = _mod(T + "realdata")
    for name in ("digits_can_experiment", "sentence_embeddings", "whitening_experiment"):
        getattr(rd, name).cache_clear()


@pytest.fixture
def fresh_caches():
    _clear_caches()
    yield
    _clear_caches()


def test_every_claim_has_a_planted_bug():
    claims = _all_claims()
    missing = sorted(set(claims) - set(PLANTS))
    assert not missing, f"claims without a planted-bug test: {missing}"
    assert not sorted(set(PLANTS) - set(claims)), "planted bugs for claims that no longer exist"
    # the diagnostics register claims too (issue 17)
    techs = {t for t, _ in claims.values()}
    assert {"flatnce", "float-precision", "gradient-normalization", "exact-w1", "wgan-critic-evaluation"} <= techs


@pytest.mark.parametrize("claim_id", sorted(PLANTS))
def test_claim_fails_with_its_planted_bug(claim_id, monkeypatch, fresh_caches):
    technique, claim = _all_claims()[claim_id]
    assert evaluate_claim(claim, technique).holds, f"{claim_id} must hold before the bug is planted"
    _clear_caches()
    PLANTS[claim_id](monkeypatch)
    r = evaluate_claim(claim, technique)
    assert not r.holds, f"{claim_id} still holds with the bug planted ({PLANTS[claim_id].__name__}): {r.measured}"
