"""Multiple comparisons across systems and the power of a comparison.

* :func:`adjust`: Bonferroni, Holm (step-down FWER), Benjamini-Hochberg (step-up FDR) adjusted p-values of a flat
  vector; ``reject = adjusted <= alpha``.
* :func:`friedman` and :func:`nemenyi`: the Friedman test over a systems x tasks table (tasks are blocks; average
  ranks within each task, ties averaged; scipy's chi-square statistic with the tie correction) and the Nemenyi
  critical difference CD = q_alpha sqrt(n (n + 1) / (6 k)) (Demsar 2006) with q from the studentized range
  distribution (scipy.stats.studentized_range, infinite degrees of freedom), plus which pairs of average ranks differ
  by more than CD.
* :func:`minimum_detectable_difference` and :func:`power`: the paired two-sided z-test of a score difference with
  standard error ``se``: MDD = (z_{1-alpha/2} + z_{power}) se; power(delta) = Phi(|delta|/se - z) + Phi(-|delta|/se - z).
  With ``n_tests`` comparisons alpha is Bonferroni-divided (the conservative family-wise plan).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("bonferroni", "holm", "bh")


def adjust(pvalues, method: str = "holm") -> np.ndarray:
    """Adjusted p-values (capped at 1, same order as the input): :func:`auditkit.adjust_pvalues`."""
    from auditkit import adjust_pvalues

    return adjust_pvalues(pvalues, method)


@dataclass(frozen=True)
class FriedmanResult:
    statistic: float
    pvalue: float
    average_ranks: np.ndarray          # rank 1 = best (highest score) per task, ties averaged
    n_systems: int
    n_tasks: int


def friedman(values) -> FriedmanResult:
    """Friedman test that all systems have the same rank distribution over tasks (needs >= 3 systems)."""
    from scipy.stats import friedmanchisquare, rankdata

    v = np.asarray(values, float)
    n, k = v.shape
    if n < 3:
        raise ValueError(f"the Friedman test needs at least 3 systems (got {n})")
    stat, p = friedmanchisquare(*v)
    ranks = rankdata(-v, axis=0).mean(axis=1)
    return FriedmanResult(float(stat), float(p), ranks, n, k)


@dataclass(frozen=True)
class NemenyiResult:
    critical_difference: float
    average_ranks: np.ndarray
    different: np.ndarray              # (n, n) bool: |R_i - R_j| > CD
    alpha: float


def nemenyi(values, alpha: float = 0.05) -> NemenyiResult:
    from scipy.stats import studentized_range

    v = np.asarray(values, float)
    n, k = v.shape
    fr = friedman(v)
    q = studentized_range.ppf(1 - alpha, n, np.inf) / np.sqrt(2)
    cd = float(q * np.sqrt(n * (n + 1) / (6.0 * k)))
    R = fr.average_ranks
    diff = np.abs(R[:, None] - R[None, :]) > cd
    return NemenyiResult(cd, R, diff, alpha)


def minimum_detectable_difference(se, alpha: float = 0.05, power: float = 0.8, n_tests: int = 1):
    """Smallest true difference detected with probability ``power`` by a two-sided z-test at ``alpha``
    (Bonferroni over ``n_tests``)."""
    from scipy.stats import norm

    a = alpha / max(int(n_tests), 1)
    return (norm.ppf(1 - a / 2) + norm.ppf(power)) * np.asarray(se, float)


def power(delta, se, alpha: float = 0.05, n_tests: int = 1):
    """Probability that the two-sided z-test at ``alpha`` (Bonferroni over ``n_tests``) rejects when the true
    difference is ``delta``."""
    from scipy.stats import norm

    a = alpha / max(int(n_tests), 1)
    z = norm.ppf(1 - a / 2)
    r = np.abs(np.asarray(delta, float)) / np.asarray(se, float)
    return norm.cdf(r - z) + norm.cdf(-r - z)


def power_report(point_scores, cov, alpha: float = 0.05, target_power: float = 0.8) -> list[dict]:
    """For every pair (i above j by point score): observed difference, its standard error, the minimum detectable
    difference with all n(n-1)/2 comparisons (Bonferroni) and the power at the observed difference."""
    s = np.asarray(point_scores, float)
    C = np.asarray(cov, float)
    n = s.size
    m = n * (n - 1) // 2
    var = np.diag(C)
    rows = []
    for i in range(n):
        for j in range(i + 1, n):
            a, b = (i, j) if s[i] >= s[j] else (j, i)
            se = float(np.sqrt(max(var[a] + var[b] - 2 * C[a, b], 0.0)))
            d = float(s[a] - s[b])
            rows.append({"better": a, "worse": b, "difference": d, "se": se,
                         "mdd": float(minimum_detectable_difference(se, alpha, target_power, m)) if se else 0.0,
                         "power": float(power(d, se, alpha, m)) if se else float(d != 0)})
    return rows
