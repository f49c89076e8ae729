"""Entropy-invariant attention scale (Su, kexue.fm/archives/8823).

``softmax(kappa * log(n) / d * Q K^T) V``; pinning ``n = 512`` to the usual ``1/sqrt(d)`` gives
``softmax(log_512(n) / sqrt(d) * Q K^T) V``. The scale grows with the sequence length n so the attention entropy
does not drift towards ``log n`` on sequences longer than those seen in training.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["entropy_invariant_scale", "attention_entropy"]


def entropy_invariant_scale(n, d: int, base: float = 512.0):
    """``log_base(n) / sqrt(d)``; equals ``1/sqrt(d)`` at ``n == base``."""
    return np.log(np.asarray(n, dtype=np.float64)) / math.log(base) / math.sqrt(d)


def attention_entropy(q, k, scale):
    """Mean entropy (nats) of the rows of ``softmax(scale * q @ k.T)``."""
    s = scale * (np.asarray(q, dtype=np.float64) @ np.asarray(k, dtype=np.float64).T)
    s -= s.max(axis=1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-np.where(p > 0, p * np.log(p), 0.0).sum(axis=1).mean())
