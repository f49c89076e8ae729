"""Bootstrap of Bradley-Terry by multinomial resampling of the (pair, outcome) counts, vectorized over resamples.

Each resample redraws the N battles from the observed (pair, outcome) frequencies (``numpy.random.Generator.
multinomial``, so the draw costs O(unique pairs), not O(battles)), and is refitted by Newton iterations warm-started
at the full-data estimate, a block of resamples at a time as one batched computation (no process pool). With up to
``exact_models`` (64) models each resample gets its own Hessian (batched exact Newton, quadratic convergence); above,
the full-data Hessian is factorized once and reused (the chord method: one triangular solve per iteration for the
whole block, linear convergence at a rate set by how far a resample's Hessian is from the full-data one). Both stop
when the largest step of every resample in the block is below ``tol``; the largest final gradient is reported.

The resampled counts are drawn with numpy on every backend, so numpy and torch see the same resamples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import auditkit

from .bt import Design, design, laplacian_index, require_identified
from .data import PairCounts
from .ops import get_ops


@dataclass
class BootstrapResult:
    """``samples`` (B, n) ratings on the display scale and gauge; ``lower``/``upper`` percentile intervals."""

    models: tuple[str, ...]
    samples: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    seed: int
    max_gradient: float
    iterations: int
    method: str
    unconverged: int

    @property
    def n_resamples(self) -> int:
        return int(self.samples.shape[0])


def resample_counts(d: Design, rng, size: int) -> np.ndarray:
    """(size, P, 3) multinomial redraws of the (pair, outcome) counts, same total as the data."""
    flat = d.c.ravel()
    total = int(round(flat.sum()))
    return rng.multinomial(total, flat / flat.sum(), size=size).reshape(size, *d.c.shape)


def _block_size(n_models: int, n_rows: int, exact: bool, budget: float = 256e6) -> int:
    per = 8.0 * max(n_rows * 4, n_models * n_models if exact else n_models)
    return int(max(1, min(256, budget // per)))


def bootstrap(pc: PairCounts, theta0, *, n_resamples: int = 1000, seed: int = 0, ties: str = "half",
              factor: float = 400 / math.log(10), offset: float = 1000.0, anchor: int | None = None,
              level: float = 0.95, backend: str = "numpy", device: str = "cpu", tol: float = 1e-7,
              max_iter: int = 60, exact_models: int = 64, block: int | None = None) -> BootstrapResult:
    """Percentile bootstrap of the BT ratings (display scale); ``theta0`` is the full-data fit (natural units)."""
    if n_resamples < 1:
        raise auditkit.UsageError(f"--bootstrap must be a positive number of resamples, got {n_resamples}")
    d = design(pc, ties)
    require_identified(d, pc.models)
    ops = get_ops(backend, device)
    m, rows = d.n_models, d.i.size
    exact = m <= exact_models
    size = block or _block_size(m, rows, exact)
    rng = np.random.default_rng(seed)
    i, j = ops.asarray(d.i, int), ops.asarray(d.j, int)
    idx = ops.asarray(laplacian_index(d), int)
    theta0 = ops.asarray(theta0)
    chord = None
    if not exact:
        p = ops.sigmoid(theta0[i] - theta0[j])
        w = ops.asarray(d.n) * p * (1 - p)
        lap = ops.scatter(idx, _cat(ops, [w, w, -w, -w]), m * m).reshape(m, m)
        c = float(lap.diagonal().sum()) / (m * m)
        chord = ops.inv(lap + c)  # symmetric: a block of steps is one matrix product
    if ops.name == "numpy" and not exact:
        return _chord_numpy(pc.models, d, rng, theta0, chord, n_resamples, size, tol, max_iter, factor, offset,
                            anchor, level, seed)

    def gradient(r):
        return ops.scatter(i, r, m) - ops.scatter(j, r, m)

    out = np.empty((n_resamples, m))
    worst_grad, worst_it, unconverged = 0.0, 0, 0
    for start in range(0, n_resamples, size):
        bsz = min(size, n_resamples - start)
        counts = resample_counts(d, rng, bsz)
        y = ops.asarray(counts[:, :, 0] + 0.5 * counts[:, :, 2])
        n = ops.asarray(counts.sum(axis=2, dtype=float))
        del counts
        totals = n.sum(axis=1) if ops.name == "numpy" else n.sum(dim=1)
        theta = theta0[None, :] + ops.zeros((bsz, m))
        it = 0
        converged = False
        for it in range(1, max_iter + 1):
            p = ops.sigmoid(theta[:, i] - theta[:, j])
            r = y - n * p
            g = gradient(r)
            if exact:
                w = n * p * (1 - p)
                lap = ops.scatter(idx, _cat(ops, [w, w, -w, -w], axis=1), m * m).reshape(bsz, m, m)
                c = lap.diagonal(0, 1, 2).sum(-1) / (m * m) if ops.name == "numpy" else \
                    lap.diagonal(dim1=1, dim2=2).sum(-1) / (m * m)
                step = ops.solve(lap + c[:, None, None], g[:, :, None])[:, :, 0]
            else:
                step = g @ chord
            theta = theta + step
            if float(abs(step).max()) < tol:
                converged = True
                break
        p = ops.sigmoid(theta[:, i] - theta[:, j])
        r = y - n * p
        g = gradient(r)
        gn = ops.to_numpy(abs(g).max(axis=1) if ops.name == "numpy" else abs(g).amax(dim=1))
        gn = gn / ops.to_numpy(totals)
        worst_grad = max(worst_grad, float(gn.max()))
        worst_it = max(worst_it, it)
        unconverged += 0 if converged else int((gn > 1e-6).sum())
        th = ops.to_numpy(theta)
        th = th - (th[:, [anchor]] if anchor is not None else th.mean(axis=1, keepdims=True))
        out[start:start + bsz] = offset + factor * th
    alpha = (1 - level) / 2
    lower, upper = np.quantile(out, [alpha, 1 - alpha], axis=0)
    return BootstrapResult(pc.models, out, lower, upper, level, seed, worst_grad, worst_it,
                           "batched exact Newton" if exact else "chord Newton (full-data Hessian)", unconverged)


def _cat(ops, parts, axis=0):
    if ops.name == "numpy":
        return np.concatenate(parts, axis=axis)
    return ops.torch.cat(parts, dim=axis)


def _chord_numpy(models, d, rng, theta0, chord, n_resamples, size, tol, max_iter, factor, offset, anchor, level,
                 seed) -> BootstrapResult:
    """The chord method on numpy, resamples in columns: differences and gradients are sparse products with the
    signed incidence matrix D (pairs x models), steps one dense product with the inverted full-data Hessian."""
    from scipy.sparse import csr_matrix

    m, rows = d.n_models, d.i.size
    arange = np.arange(rows)
    incidence = csr_matrix((np.concatenate([np.ones(rows), -np.ones(rows)]),
                            (np.concatenate([arange, arange]), np.concatenate([d.i, d.j]))), shape=(rows, m))
    transposed = incidence.T.tocsr()
    out = np.empty((n_resamples, m))
    worst_grad, worst_it, unconverged = 0.0, 0, 0
    for start in range(0, n_resamples, size):
        bsz = min(size, n_resamples - start)
        counts = resample_counts(d, rng, bsz)
        y = np.ascontiguousarray((counts[:, :, 0] + 0.5 * counts[:, :, 2]).T)
        n = np.ascontiguousarray(counts.sum(axis=2, dtype=float).T)
        del counts
        theta = np.repeat(np.asarray(theta0, float)[:, None], bsz, axis=1)
        converged, it = False, 0
        for it in range(1, max_iter + 1):
            dlt = incidence @ theta
            r = y - n * (0.5 + 0.5 * np.tanh(0.5 * dlt))  # sigmoid; absolute accuracy is what the residual needs
            step = chord @ (transposed @ r)
            theta += step
            if float(np.abs(step).max()) < tol:
                converged = True
                break
        r = y - n * (0.5 + 0.5 * np.tanh(0.5 * (incidence @ theta)))
        gn = np.abs(transposed @ r).max(axis=0) / n.sum(axis=0)
        worst_grad = max(worst_grad, float(gn.max()))
        worst_it = max(worst_it, it)
        unconverged += 0 if converged else int((gn > 1e-6).sum())
        th = theta.T
        th = th - (th[:, [anchor]] if anchor is not None else th.mean(axis=1, keepdims=True))
        out[start:start + bsz] = offset + factor * th
    alpha = (1 - level) / 2
    lower, upper = np.quantile(out, [alpha, 1 - alpha], axis=0)
    return BootstrapResult(models, out, lower, upper, level, seed, worst_grad, worst_it,
                           "chord Newton (full-data Hessian)", unconverged)
