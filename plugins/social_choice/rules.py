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


BLOCK_ELEMENTS = 1 << 20   # pairwise rules hold (block rows x n) arrays: memory O(n * max(k, block)), never n x n


def _greater_equal_counts(values, xp):
    """For every system i and task t: g[i, t] = #{j: v[j, t] > v[i, t]}, e[i, t] = #{j: v[j, t] == v[i, t]}
    (self included). Counting by sorting: one sort and two binary searches per task, O(n k log n) time and
    O(n k) memory (the counts are exact integers, so every rule built on them is unchanged)."""
    n, k = values.shape
    # tasks as contiguous rows (a flat reshape copies): searchsorted on torch wants contiguous inputs
    by_task = xp.reshape(xp.reshape(xp.permute_dims(values, (1, 0)), (-1,)), (k, n))
    gs, es = [], []
    for t in range(k):
        col = by_task[t]
        srt = xp.sort(col)
        lt = xp.searchsorted(srt, col, side="left")          # systems strictly below
        le = xp.searchsorted(srt, col, side="right")         # systems below or equal (self included)
        gs.append(xp.astype(n - le, xp.float64))
        es.append(xp.astype(le - lt, xp.float64))
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
    diagonal, 0 on it. Shape (n, n) (Kemeny and the pairwise-graph rules need it; Copeland and minimax do not)."""
    n = values.shape[0]
    return _preference_rows(values, 0, n, xp=xp, weights=weights)


def _preference_rows(values, start, stop, *, xp, weights, transpose=False):
    """Rows start..stop of P (or of P.T with ``transpose``), summed over tasks in task order so that every entry
    is the same float as in the full matrix. Shape (stop - start, n)."""
    n, k = values.shape
    P = xp.zeros((stop - start, n), dtype=xp.float64, device=_device(values))
    for t in range(k):
        col = values[:, t]
        row = col[start:stop]
        if transpose:     # P.T[i, j] = P[j, i]: j above i
            win = xp.astype(col[None, :] > row[:, None], xp.float64)
        else:
            win = xp.astype(row[:, None] > col[None, :], xp.float64)
        win = win + 0.5 * xp.astype(row[:, None] == col[None, :], xp.float64)
        P = P + weights[t] * win
    idx = xp.arange(start, stop, device=_device(values))
    self_ = xp.astype(idx[:, None] == xp.arange(n, device=_device(values))[None, :], xp.float64)
    return P * (1 - self_)


def _margin_blocks(values, xp, weights):
    """Yield (start, stop, margin, self) with margin[i, j] = P[i, j] - P[j, i] for rows start..stop (rounded to
    12 decimals, as the full-matrix computation did) and ``self`` marking the diagonal. Blocks of rows keep memory
    at O(block * n); time stays O(n^2 k): a pairwise majority over k tasks has no sorting shortcut in general."""
    n = values.shape[0]
    step = max(1, min(n, BLOCK_ELEMENTS // max(n, 1)))
    if step >= n:        # one block: the transpose of P is P[j, i] itself (the same floats), no second pass
        P = _preference_rows(values, 0, n, xp=xp, weights=weights)
        eye = xp.eye(n, dtype=xp.float64, device=_device(values))
        yield 0, n, _clean(P - xp.permute_dims(P, (1, 0)), xp), eye
        return
    for start in range(0, n, step):
        stop = min(n, start + step)
        Pb = _preference_rows(values, start, stop, xp=xp, weights=weights)
        Ptb = _preference_rows(values, start, stop, xp=xp, weights=weights, transpose=True)
        idx = xp.arange(start, stop, device=_device(values))
        self_ = xp.astype(idx[:, None] == xp.arange(n, device=_device(values))[None, :], xp.float64)
        yield start, stop, _clean(Pb - Ptb, xp), self_


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
    """Copeland: one point per pairwise majority win, one half per pairwise tie (P[i, j] == P[j, i]).
    Rows in blocks (memory O(n * block)); time O(n^2 k)."""
    n = values.shape[0]
    parts = []
    for _, _, diff, self_ in _margin_blocks(values, xp, weights):
        points = xp.astype(diff > 0, xp.float64) + 0.5 * xp.astype(diff == 0, xp.float64) * (1 - self_)
        parts.append(xp.sum(points, axis=1))
    if not parts:
        return xp.zeros((0,), dtype=xp.float64, device=_device(values))
    return xp.concat(parts, axis=0) if len(parts) > 1 else parts[0]


def minimax(values, *, xp, weights):
    """Simpson-Kramer minimax with margins: the score is minus the largest pairwise defeat margin
    max_j (P[j, i] - P[i, j]) (a Condorcet winner has the highest score). A score of zero is +0, never -0."""
    n = values.shape[0]
    if n < 2:
        return xp.zeros((n,), dtype=xp.float64, device=_device(values))
    parts = []
    for _, _, diff, self_ in _margin_blocks(values, xp, weights):
        margin = -diff - 10.0 * self_              # margin[i, j] = P[j, i] - P[i, j]: j's margin over i
        parts.append(0.0 - xp.max(margin, axis=1))  # 0 - x (not -x): a zero margin gives +0
    return xp.concat(parts, axis=0) if len(parts) > 1 else parts[0]


def _clean(x, xp):
    """Round pairwise sums to 12 decimals so float noise in weighted sums cannot break a tie."""
    return xp.round(x * 1e12) / 1e12
