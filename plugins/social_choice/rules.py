"""Positional and pairwise voting rules over a systems x tasks matrix, written once against the array API.

Every task is a voter whose ballot is the order of the systems by their score on that task; a task's voice is its
weight (the recipe's task weights, summing to 1). One tie semantics everywhere: **inside a rule, two systems that
tie on a task count one half to each** (Borda and Dowdall average the points of the tied positions, a pairwise
comparison gives 1/2 to each side, win rate counts a tie as half a win). The final ranks use the core tie rule,
competition ranking "1224" (:mod:`auditkit.ranking`).

All functions have the aggregator signature ``func(values, *, xp, weights) -> (n_systems,)``; higher is better.
"""

from __future__ import annotations

import numpy as np


def _greater_equal_counts(values, xp):
    """For every system i and task t: g[i, t] = #{j: v[j, t] > v[i, t]}, e[i, t] = #{j: v[j, t] == v[i, t]}
    (self included). One (n, n) comparison per task keeps memory at O(n^2)."""
    n, k = values.shape
    gs, es = [], []
    for t in range(k):
        col = values[:, t]
        gs.append(xp.sum(xp.astype(col[None, :] > col[:, None], xp.float64), axis=1))
        es.append(xp.sum(xp.astype(col[None, :] == col[:, None], xp.float64), axis=1))
    return xp.stack(gs, axis=1), xp.stack(es, axis=1)


def borda_points(values, xp):
    """Per task, the number of systems below plus one half per other system tied with it: (n, k).
    Equals (average ascending rank - 1); a tied group shares the mean of the points of the positions it holds."""
    n = values.shape[0]
    g, e = _greater_equal_counts(values, xp)
    return n - g - (e + 1) / 2


def dowdall_points(values, xp):
    """Per task, 1/position (1, 1/2, 1/3, ...); a tied group holding positions g+1..g+e shares their mean
    (H(g+e) - H(g)) / e with H the harmonic numbers."""
    n = values.shape[0]
    g, e = _greater_equal_counts(values, xp)
    harmonic_numbers = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, n + 1))])
    h = xp.asarray(harmonic_numbers, dtype=xp.float64, device=_device(values))
    gi = xp.astype(g, xp.int64)
    ei = xp.astype(g + e, xp.int64)
    hi = xp.reshape(xp.take(h, xp.reshape(ei, (-1,)), axis=0), g.shape)
    lo = xp.reshape(xp.take(h, xp.reshape(gi, (-1,)), axis=0), g.shape)
    return (hi - lo) / e


def _device(x):
    from array_api_compat import device

    return device(x)


def pairwise_preferences(values, *, xp, weights):
    """P[i, j] = weighted share of tasks on which i scores above j, a tie counting one half; P + P.T = 1 off the
    diagonal, 0 on it. Shape (n, n)."""
    n, k = values.shape
    P = xp.zeros((n, n), dtype=xp.float64, device=_device(values))
    for t in range(k):
        col = values[:, t]
        win = xp.astype(col[:, None] > col[None, :], xp.float64) + 0.5 * xp.astype(col[:, None] == col[None, :],
                                                                                   xp.float64)
        P = P + weights[t] * win
    eye = xp.eye(n, dtype=xp.float64, device=_device(values))
    return P * (1 - eye)


def borda(values, *, xp, weights):
    """Weighted mean over tasks of the Borda points (systems below + 1/2 per tie)."""
    return xp.sum(borda_points(values, xp) * weights, axis=1)


def dowdall(values, *, xp, weights):
    """Weighted mean over tasks of 1/position (Nauru's Dowdall rule); ties share the mean of their positions' points."""
    return xp.sum(dowdall_points(values, xp) * weights, axis=1)


def win_rate(values, *, xp, weights):
    """HELM-style mean win rate: per task, the share of the other systems beaten (a tie counts one half),
    averaged over tasks with the task weights. A single system gets 0.5 (it beats half of nobody)."""
    n = values.shape[0]
    if n < 2:
        return xp.full((n,), 0.5, dtype=xp.float64, device=_device(values))
    return xp.sum(borda_points(values, xp) * weights, axis=1) / (n - 1)


def copeland(values, *, xp, weights):
    """Copeland: one point per pairwise majority win, one half per pairwise tie (P[i, j] == P[j, i])."""
    P = pairwise_preferences(values, xp=xp, weights=weights)
    Pt = xp.permute_dims(P, (1, 0))
    diff = _clean(P - Pt, xp)
    n = values.shape[0]
    eye = xp.eye(n, dtype=xp.float64, device=_device(values))
    points = xp.astype(diff > 0, xp.float64) + 0.5 * xp.astype(diff == 0, xp.float64) * (1 - eye)
    return xp.sum(points, axis=1)


def minimax(values, *, xp, weights):
    """Simpson-Kramer minimax with margins: the score is minus the largest pairwise defeat margin
    max_j (P[j, i] - P[i, j]) (0 for a system that loses to nobody is not special: a Condorcet winner has the
    highest score)."""
    P = pairwise_preferences(values, xp=xp, weights=weights)
    n = values.shape[0]
    if n < 2:
        return xp.zeros((n,), dtype=xp.float64, device=_device(values))
    margin = _clean(xp.permute_dims(P, (1, 0)) - P, xp)   # margin[i, j] = P[j, i] - P[i, j]: j's margin over i
    eye = xp.eye(n, dtype=xp.float64, device=_device(values))
    margin = margin - 10.0 * eye                            # exclude self
    return -xp.max(margin, axis=1)


def _clean(x, xp):
    """Round pairwise sums to 12 decimals so float noise in weighted sums cannot break a tie."""
    return xp.round(x * 1e12) / 1e12
