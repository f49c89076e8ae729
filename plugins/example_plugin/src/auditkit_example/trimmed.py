"""The weighted trimmed mean.

Sort a row's task scores and lay their weights (which sum to 1) end to end on [0, 1]; keep the part of that
interval inside [trim, 1 - trim] and average the scores over it. Each task contributes the overlap of its weight
interval with the kept window, so trimming is fractional: with uniform weights and ``trim * n_tasks`` an integer it
equals ``scipy.stats.trim_mean(row, trim)`` (whole tasks cut from each end); ``trim = 0`` gives the weighted
arithmetic mean. Ties cannot change the result (equal scores are interchangeable in the sort).
"""

from __future__ import annotations

import auditkit


def trimmed_mean(values, *, xp, weights, trim=0.1):
    """Weighted trimmed mean of each row of ``values`` (n_systems, n_tasks) -> (n_systems,)."""
    trim = float(trim)
    if not 0.0 <= trim < 0.5:
        raise auditkit.UsageError(f"trimmed-mean: trim must be in [0, 0.5), got {trim:g}; e.g. trim=0.1 cuts 10% "
                                  "of the task weight from each end")
    weights = weights / xp.sum(weights)
    order = xp.argsort(values, axis=1, stable=True)
    ordered = xp.take_along_axis(values, order, axis=1)
    w = xp.reshape(xp.take(weights, xp.reshape(order, (-1,)), axis=0), order.shape)
    # snap the running sums to 12 decimals so that whole tasks are cut exactly (0.1 + 0.2 is 0.30000000000000004;
    # without the snap a trimmed task would leak a 1e-16 share of its score into the mean)
    upper = xp.round(xp.cumulative_sum(w, axis=1) * 1e12) / 1e12
    lower = xp.concat([xp.zeros_like(upper[:, :1]), upper[:, :-1]], axis=1)
    kept = xp.minimum(upper, xp.full_like(upper, 1.0 - trim)) - xp.maximum(lower, xp.full_like(lower, trim))
    kept = xp.maximum(kept, xp.zeros_like(kept))
    # divide by the kept mass actually summed (1 - 2 trim up to rounding) so a constant row gives that constant
    return xp.sum(ordered * kept, axis=1) / xp.sum(kept, axis=1)
