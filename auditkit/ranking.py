"""One tie rule everywhere, and rank agreement.

Tie rule: **competition ranking** ("1224"): systems whose scores are equal after rounding to 12 significant digits
share the best rank of their group, and the next rank skips. Higher scores rank first. NaN scores get no rank.
"""

from __future__ import annotations

import numpy as np

TIE_RULE = "competition ranking (1224): equal scores (to 12 significant digits) share the best rank"


def _tie_key(scores: np.ndarray) -> np.ndarray:
    """Scores rounded to 40 mantissa bits (about 12 significant digits): sums taken in another order still tie."""
    mantissa, exponent = np.frexp(scores)
    return np.ldexp(np.round(mantissa * 2.0 ** 40) / 2.0 ** 40, exponent)


def competition_rank(scores, higher_is_better: bool = True) -> np.ndarray:
    """Ranks 1.. with ties sharing the best rank; NaN where the score is NaN."""
    s = np.asarray(scores, float)
    key = _tie_key(s)
    if not higher_is_better:
        key = -key
    ranks = np.full(s.shape, np.nan)
    ok = ~np.isnan(key)
    k = key[ok]
    # rank = 1 + number of strictly better scores
    order = np.sort(k)[::-1]
    better = np.searchsorted(-order, -k, side="left")
    ranks[ok] = better + 1
    return ranks


def kendall_tau(a, b) -> float:
    """Kendall's tau-b between two score (or rank) vectors over the entries finite in both."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = a.size
    if n < 2:
        return float("nan")
    if n > 3000:
        from scipy.stats import kendalltau

        return float(kendalltau(a, b).statistic)
    da = np.sign(a[:, None] - a[None, :])
    db = np.sign(b[:, None] - b[None, :])
    iu = np.triu_indices(n, 1)
    da, db = da[iu], db[iu]
    concordant_minus_discordant = float((da * db).sum())
    denom = np.sqrt(float((da != 0).sum()) * float((db != 0).sum()))
    return concordant_minus_discordant / denom if denom else float("nan")


def spearman_rho(a, b) -> float:
    """Spearman's rho (Pearson correlation of average ranks) over the entries finite in both."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 2:
        return float("nan")
    ra, rb = _average_rank(a[ok]), _average_rank(b[ok])
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = np.sqrt((ra ** 2).sum() * (rb ** 2).sum())
    return float((ra * rb).sum() / denom) if denom else float("nan")


def _average_rank(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(x.size)
    ranks[order] = np.arange(1, x.size + 1)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]
