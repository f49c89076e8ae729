"""Taylor softmax (Su, kexue.fm/archives/7919, recapped in 10145).

``f_k(x) = sum_{m=0..k} x**m / m!`` is positive for every x when k is even, so
``taylor_softmax(x, k)_i = f_k(x_i) / sum_j f_k(x_j)`` is a valid, more long-tailed replacement of softmax.
Works on numpy or, through ``auditkit.backend``, on torch tensors.
"""

from __future__ import annotations

import math

import numpy as np

from auditkit.errors import UsageError

__all__ = ["taylor_exp", "taylor_softmax", "taylor_exp_minimum"]


def _xp_of(x):
    if hasattr(x, "detach"):
        import array_api_compat

        return array_api_compat.array_namespace(x)
    return np


def taylor_exp(x, k: int = 2):
    """The order-k Taylor polynomial of exp (Horner scheme); numpy array or torch tensor in, same out."""
    if int(k) != k or k < 0:
        raise UsageError(f"Taylor order k must be a non-negative integer (got {k})")
    x = x if hasattr(x, "detach") else np.asarray(x, dtype=np.float64)
    out = 1.0 + 0.0 * x
    for m in range(int(k), 0, -1):
        out = 1.0 + out * x / m
    return out


def taylor_softmax(x, k: int = 2, axis: int = -1):
    """Normalize ``f_k(x)`` along ``axis``. ``k`` must be even (odd orders go negative: f_3(-10) = -125.67)."""
    if int(k) != k or k < 2 or k % 2:
        raise UsageError(f"Taylor softmax needs an even order k >= 2 (got {k}); odd orders give negative weights")
    xp = _xp_of(x)
    f = taylor_exp(x, k)
    return f / xp.sum(f, axis=axis, keepdims=True)


def taylor_exp_minimum(k: int):
    """The global minimum of f_k for even k and where it is: f_k'(x) = f_{k-1}(x), so the minimum is at the real
    root of f_{k-1} and equals ``x**k / k!`` there."""
    if k % 2:
        raise UsageError("f_k has a finite minimum only for even k")
    coeffs = [1 / math.factorial(m) for m in range(k - 1, -1, -1)]  # f_{k-1}, highest power first
    roots = np.roots(coeffs)
    x = float(roots[np.argmin(np.abs(roots.imag))].real)
    return float(taylor_exp(x, k)), x
