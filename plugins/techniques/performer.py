"""Performer FAVOR+ positive random features (Choromanski et al. 2020; Su, kexue.fm/archives/7921).

``exp(q.k) = E_{w ~ N(0, I)}[exp(w.q - |q|^2/2) exp(w.k - |k|^2/2)]``, so with ``phi(x) = exp(W x - |x|^2/2)/sqrt(m)``
(rows of W i.i.d. N(0, I)) ``phi(q).phi(k)`` is an unbiased estimate of ``exp(q.k)`` with per-feature variance
``exp(2 q.k) (exp(|q + k|^2) - 1)``. Orthogonal features (rows orthogonalized within blocks of d, norms drawn from
the chi distribution of a Gaussian vector) lower the variance. Works on numpy or torch arrays.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["gaussian_features", "orthogonal_features", "favor_features", "favor_kernel", "favor_variance",
           "softmax_kernel"]


def gaussian_features(m: int, d: int, rng=None):
    rng = np.random.default_rng(rng)
    return rng.standard_normal((m, d))


def orthogonal_features(m: int, d: int, rng=None):
    """``m`` rows in blocks of ``d`` mutually orthogonal directions, each row scaled to the norm of an independent
    N(0, I_d) vector (the official ``create_products_of_givens_rotations``-free "regular" variant)."""
    rng = np.random.default_rng(rng)
    blocks = []
    for start in range(0, m, d):
        qmat, r = np.linalg.qr(rng.standard_normal((d, d)))
        qmat = qmat * np.sign(np.diag(r))[None, :]      # Haar-distributed rotation
        blocks.append(qmat.T[: min(d, m - start)])
    w = np.concatenate(blocks, axis=0)
    norms = np.linalg.norm(rng.standard_normal((m, d)), axis=1)
    return w * norms[:, None]


def favor_features(x, w):
    """``phi(x) = exp(x W^T - |x|^2 / 2) / sqrt(m)`` for rows of x; numpy or torch (same namespace out)."""
    if hasattr(x, "detach"):
        import torch

        wt = torch.as_tensor(w, dtype=x.dtype, device=x.device)
        return torch.exp(x @ wt.T - (x * x).sum(-1, keepdim=True) / 2) / math.sqrt(wt.shape[0])
    x = np.asarray(x, dtype=np.float64)
    return np.exp(x @ w.T - (x * x).sum(-1, keepdims=True) / 2) / math.sqrt(w.shape[0])


def favor_kernel(q, k, w):
    """FAVOR+ estimate of ``exp(q_i . k_j)`` for all pairs."""
    return favor_features(q, w) @ favor_features(k, w).T


def softmax_kernel(q, k):
    return np.exp(np.asarray(q, dtype=np.float64) @ np.asarray(k, dtype=np.float64).T)


def favor_variance(q, k, m: int = 1):
    """Variance of the m-feature i.i.d. estimate: ``exp(2 q.k) (exp(|q + k|^2) - 1) / m``."""
    q = np.asarray(q, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    return math.exp(2 * float(q @ k)) * (math.exp(float((q + k) @ (q + k))) - 1) / m
