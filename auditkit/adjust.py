"""Multiple-comparison adjustment of p-values, written once for every plugin that tests many pairs (significance,
the bootstrap's rank sets, instance-level paired tests)."""

from __future__ import annotations

import numpy as np

METHODS = ("holm", "bonferroni", "bh")


def adjust_pvalues(pvalues, method: str = "holm") -> np.ndarray:
    """Adjusted p-values, capped at 1, in the input's order: ``holm`` (step-down, family-wise error),
    ``bonferroni``, or ``bh`` (Benjamini-Hochberg step-up, false discovery rate)."""
    p = np.asarray(pvalues, float)
    m = p.size
    if method not in METHODS:
        from .errors import unknown_name

        raise unknown_name("correction", method, METHODS)
    if m == 0:
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * m, 1.0)
    order = np.argsort(p, kind="stable")
    ps = p[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ps)
    else:
        adj = np.minimum.accumulate((ps * m / np.arange(1, m + 1))[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out
