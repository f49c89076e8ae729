"""Johnson-Lindenstrauss projection and the dimension rules (Su, kexue.fm/archives/8679, 8711, 7695).

* JL: with ``n > 24 log N / eps**2`` and ``A ~ N(0, 1/n)^{n x m}``, all pairwise squared distances of N points
  are preserved within ``1 +- eps`` with probability at least 1 - 1/N.
* Su's minimum-entropy rule for word vectors / attention heads: ``n > 8.33 log N`` (natural log), where
  ``8.33 = 2 / 0.24`` and ``0.24 ~ log((sqrt(5) + 1) / 2) / 2 = 0.2406``.
"""

from __future__ import annotations

import math

import numpy as np

from auditkit.errors import UsageError

__all__ = ["jl_min_dim", "entropy_min_dim", "ENTROPY_CONSTANT", "jl_project", "max_distortion"]

ENTROPY_CONSTANT = 0.5 * math.log((math.sqrt(5) + 1) / 2)


def jl_min_dim(n_points, eps: float):
    """``24 log N / eps**2`` (Su 8679)."""
    if not 0 < eps < 1:
        raise UsageError(f"eps must be in (0, 1), got {eps}")
    return 24 * np.log(np.asarray(n_points, dtype=np.float64)) / eps ** 2


def entropy_min_dim(n_points, constant: float = 8.33):
    """``8.33 log N`` (Su 8711); pass ``constant=2 / ENTROPY_CONSTANT`` for the analytic value."""
    return constant * np.log(np.asarray(n_points, dtype=np.float64))


def jl_project(x, n_dims: int, seed: int | None = 0):
    """Project rows of ``x`` (N, m) with a Gaussian matrix of variance 1/n: returns (N, n)."""
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1.0 / math.sqrt(n_dims), size=(n_dims, x.shape[1]))
    return x @ a.T


def _sq_dists(x):
    g = x @ x.T
    d = np.diag(g)
    return d[:, None] + d[None, :] - 2 * g


def max_distortion(x, y) -> float:
    """Largest ``|d_y(i, j) / d_x(i, j) - 1|`` over pairs, with d the squared Euclidean distance."""
    dx, dy = _sq_dists(np.asarray(x, dtype=np.float64)), _sq_dists(np.asarray(y, dtype=np.float64))
    iu = np.triu_indices(dx.shape[0], 1)
    return float(np.max(np.abs(dy[iu] / dx[iu] - 1)))
