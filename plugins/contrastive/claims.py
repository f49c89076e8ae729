"""The contrastive plugin's own claims (``auditkit claims --run`` lists them under ``flatnce`` and
``float-precision``): FlatNCE's gradient, InfoNCE's rounding in float32, and the rounding thresholds of the formats.

Every ``_m_*`` function measures one claim with this plugin's code (:mod:`.losses`, :mod:`.diagnose`); torch is
imported only when a claim runs. Expected values come from the paper, the formats' constants or a closed form
derived from them; each claim names its source.
"""

from __future__ import annotations

import math

from auditkit import Claim, Technique

FLATNCE_SRC = "Chen et al. 2021, arXiv 2107.01152 (FlatNCE); Su, kexue.fm/archives/8586; Junya-Chen/FlatCLR"
FORMATS_SRC = ("IEEE 754-2008 binary16/binary32 (11 and 24 significand bits); bfloat16: 1 sign, 8 exponent, "
               "7 fraction bits (8 significand bits), Google TPU / Intel BF16 format specifications")
TOY_GAP = 20.0         # reference notes §2.4: s_t = 10, negatives at -10 (tau = 0.1, cosines +-1)


def _torch():
    from auditkit.errors import require

    return require("torch", "the contrastive claims", "torch")


def _grads(scores, positives, loss):
    torch = _torch()
    from .losses import flatnce_loss, infonce_loss

    x = scores.clone().requires_grad_(True)
    if loss == "infonce":
        out = infonce_loss(x, positives, reduction="none")
    else:
        out = flatnce_loss(x, positives, reduction="none", value="logsumexp")
    out.sum().backward()
    return out.detach(), x.grad.detach()


def _m_gradient_scaled():
    """In float64 the FlatNCE gradient times xi / (1 + xi) is the InfoNCE gradient, row by row."""
    torch = _torch()
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(64, 33, generator=gen, dtype=torch.float64) * 3
    t = torch.randint(0, 33, (64,), generator=gen)
    _, g_info = _grads(s, t, "infonce")
    v, g_flat = _grads(s, t, "flatnce")
    masked = (s - s.gather(1, t[:, None])).scatter(1, t[:, None], float("-inf"))
    xi = torch.exp(torch.logsumexp(masked, dim=1))         # independent of the loss code
    scaled = g_flat * (xi / (1 + xi))[:, None]
    rel = (scaled - g_info).norm(dim=1) / g_info.norm(dim=1)
    v_err = float((v - torch.log(xi)).abs().max())
    return {"value": max(float(rel.max()), v_err), "max_row_rel_error": float(rel.max()), "max_v_error": v_err}


def _toy(dtype, n_neg=15):
    torch = _torch()
    return torch.tensor([[TOY_GAP / 2] + [-TOY_GAP / 2] * n_neg], dtype=dtype)


def _m_toy_flatnce():
    """FlatNCE on the toy in float32: v = ln 15 - 20, dv/ds_t = -1, dv/ds_i = 1/15."""
    torch = _torch()
    v, g = _grads(_toy(torch.float32), 0, "flatnce")
    return [float(v[0]), float(g[0, 0]), float(g[0, 1:].min()), float(g[0, 1:].max())]


def _m_toy_infonce_fp32():
    """InfoNCE on the toy in float32 reads loss 0 and positive gradient 0 (exact: 3.09e-8 and -3.09e-8), and the
    diagnostic reports it: underflow fraction 1 and an error in float32, no underflow and info in float64."""
    torch = _torch()
    from .diagnose import run_diagnostic

    loss, g = _grads(_toy(torch.float32), 0, "infonce")
    rep = run_diagnostic(_toy(torch.float64).numpy(), 0, dtypes=["float32", "float64"])
    p = rep.summary["precisions"]
    sev = {f.column: f.severity for f in rep.findings}
    return {"value": [float(loss[0]), float(g[0, 0]), p["float32"]["infonce"]["loss_underflow_fraction"],
                      p["float64"]["infonce"]["loss_underflow_fraction"], float(sev["float32"] == "error"),
                      float(sev["float64"] == "info")],
            "exact_loss": math.log1p(15 * math.exp(-TOY_GAP))}


def _smallest_power_rounding_away(torch, dt, rounds=None) -> float:
    """The largest x = 2^-k for which ``rounds(x)`` says 1 + x == 1 in ``dt``, scanning k = 1, 2, ...; NaN unless
    the threshold is sharp (1.5 * 2^-k, representable in every format here, must not round to 1)."""
    rounds = rounds or (lambda x: bool(torch.ones((), dtype=dt) + x == 1))
    for k in range(1, 80):
        if rounds(torch.tensor([2.0 ** -k], dtype=dt)):
            return float("nan") if rounds(torch.tensor([1.5 * 2.0 ** -k], dtype=dt)) else 2.0 ** -k
    return float("nan")


def _m_half_ulp_arithmetic():
    """The diagnostic's underflow test (``rounds_to_one``, what ``loss_underflow_fraction`` counts) flags exactly
    xi <= 2^-p: as log2, -24 (fp32), -11 (fp16), -8 (bf16)."""
    torch = _torch()
    from .diagnose import rounds_to_one

    return [math.log2(_smallest_power_rounding_away(torch, getattr(torch, dt), lambda x: bool(rounds_to_one(x)[0])))
            for dt in ("float32", "float16", "bfloat16")]


def _m_half_ulp_diagnostic():
    """The diagnostic's constants (``half_ulp_of_one``, ``machine_epsilon``) equal torch's arithmetic and finfo."""
    torch = _torch()
    from .diagnose import half_ulp_of_one, machine_epsilon

    out = []
    for dt in ("float16", "bfloat16", "float32", "float64"):
        tdt = getattr(torch, dt)
        out.append(half_ulp_of_one(dt) / _smallest_power_rounding_away(torch, tdt))
        out.append(machine_epsilon(dt) / torch.finfo(tdt).eps)
    return out


def _m_fp32_batch_threshold():
    """FlatCLR's setting (tau = 0.1, so the largest score gap is 2/tau = 20), SimCLR's 2B - 2 negatives: 1 + xi
    rounds to 1 in float32 exactly when (2B - 2) e^-20 <= 2^-24, i.e. for batch sizes B <= 15. The closed form and
    the diagnostic (float32 arithmetic) agree at B = 15 and 16."""
    from .diagnose import half_ulp_of_one, run_diagnostic

    b_max = math.floor((half_ulp_of_one("float32") * math.exp(TOY_GAP)) / 2 + 1)
    fracs = []
    for b in (b_max, b_max + 1):
        rep = run_diagnostic(_toy(_torch().float64, 2 * b - 2).numpy(), 0, dtypes=["float32"])
        fracs.append(rep.summary["precisions"]["float32"]["infonce"]["loss_underflow_fraction"])
    return {"value": [b_max, *fracs], "negatives_at_threshold": 2 * b_max - 2}


FLATNCE = Technique(
    "flatnce", "FlatNCE: the gradient of log xi = logsumexp over the negatives minus s_t, InfoNCE's gradient "
    "without its vanishing (1 + xi)^-1 xi factor.", FLATNCE_SRC, claims=(
        Claim("flatnce.gradient-is-infonce-direction", "the FlatNCE gradient times xi/(1 + xi) equals the InfoNCE "
              "gradient row by row (float64, 64 random rows, K = 33), and its objective is log xi: max relative "
              "error <= 1e-12", FLATNCE_SRC, _m_gradient_scaled, 0.0, 1e-12, "le"),
        Claim("flatnce.toy-gradient", "s_t = 10 and 15 negatives at -10 in float32: v = ln 15 - 20 = -17.29202, "
              "dv/ds_t = -1, dv/ds_i = 1/15 (O(1), no rounding)", "auditkit reference notes §2.4 [C]; "
              + FLATNCE_SRC, _m_toy_flatnce, [math.log(15) - TOY_GAP, -1.0, 1 / 15, 1 / 15], 1e-5),
        Claim("infonce.fp32-vanishes", "the same toy in float32: InfoNCE's loss and the positive's gradient read "
              "exactly 0 (exact 3.09e-8); the diagnostic reports underflow in 100% of rows and an error in float32, "
              "none and info in float64", FLATNCE_SRC, _m_toy_infonce_fp32, [0.0, 0.0, 1.0, 0.0, 1.0, 1.0], 0.0),
        Claim("infonce.fp32-batch-threshold", "at FlatCLR's tau = 0.1 with the largest gap 2/tau, InfoNCE's 1 + xi "
              "rounds to 1 in float32 for batch sizes B <= 15 ((2B - 2) e^-20 <= 2^-24) and not at B = 16; the "
              "diagnostic agrees", FLATNCE_SRC + "; " + FORMATS_SRC, _m_fp32_batch_threshold, [15, 1.0, 0.0], 0.0),
    ))

PRECISION = Technique(
    "float-precision", "Rounding of 1 + xi in the training precisions, which the contrastive diagnostic uses.",
    FORMATS_SRC, claims=(
        Claim("precision.half-ulp-of-one", "1 + xi rounds to 1 for xi <= 2^-p (p significand bits): 2^-24 in "
              "float32, 2^-11 in float16, 2^-8 in bfloat16 (not 2^-9); the diagnostic's underflow test, in torch "
              "arithmetic, flags exactly these (log2)",
              FORMATS_SRC, _m_half_ulp_arithmetic, [-24.0, -11.0, -8.0], 0.0),
        Claim("precision.diagnostic-constants", "the diagnostic's half-ulp and epsilon constants equal torch's "
              "arithmetic and torch.finfo(dtype).eps for float16, bfloat16, float32 and float64 (ratios 1)",
              FORMATS_SRC, _m_half_ulp_diagnostic, [1.0] * 8, 0.0),
    ))

TECHNIQUES = [FLATNCE, PRECISION]
