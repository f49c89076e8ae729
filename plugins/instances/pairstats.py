"""Paired statistics for every pair of systems on a task, from sufficient statistics.

For systems A and B on the n instances both have, with d_i = v_Ai - v_Bi (v: per-instance score, the mean over
samples when there are several):

* difference  mean(d) over the shared instances;
* paired SE   sqrt(var(d) / n), var with n - 1: what matters on a shared test set (Miller 2024, "Adding Error Bars
  to Evals", sec. 4: the paired difference removes the variance of question difficulty both systems share);
* unpaired SE sqrt(var_A / n_A + var_B / n_B), what one would report without pairing (for comparison);
* correlation the implied correlation of A and B across instances, (var_A + var_B - var(d)) / (2 sd_A sd_B);
* z, p        z = mean(d) / paired SE, two-sided normal p-value (the CLT test of Miller sec. 4);
* MDE80       the minimum detectable effect at 80% power, two-sided level 0.05:
              (z_0.975 + z_0.80) x paired SE = 2.8016 x SE (Miller sec. 5);
* p_holm, p_bh  Holm's step-down (family-wise error) and Benjamini-Hochberg (false discovery rate) adjusted
              p-values over all pairs of the same task and metric.

With several samples per instance (epochs), the variance of each v_i holds prediction noise s_i^2 / k_i; the
paired variance splits (law of total variance, Miller sec. 3.2) into the mean of (s_Ai^2/k_Ai + s_Bi^2/k_Bi)
(``se_prediction``) and the rest (``se_data``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z_975 = 1.959963984540054
Z_80 = 0.8416212335729143
MDE_FACTOR = Z_975 + Z_80


@dataclass(frozen=True)
class PairStat:
    task: str
    metric: str
    system_a: str
    system_b: str
    n: int
    difference: float
    se_paired: float
    se_unpaired: float
    correlation: float
    z: float
    p: float
    mde80: float
    se_data: float
    se_prediction: float
    p_holm: float = float("nan")
    p_bh: float = float("nan")

    def as_row(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def two_sided_p(z: float) -> float:
    from scipy.special import ndtr

    return float(2.0 * ndtr(-abs(z)))


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (monotone, capped at 1): :func:`auditkit.adjust_pvalues`."""
    from auditkit import adjust_pvalues

    return adjust_pvalues(p, "holm")


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (step-up, monotone, capped at 1): :func:`auditkit.adjust_pvalues`."""
    from auditkit import adjust_pvalues

    return adjust_pvalues(p, "bh")


def pair_stats(suff) -> list[PairStat]:
    """Every pair of systems per (task, metric) with a mean metric (corpus metrics have no per-instance d)."""
    if suff.pairs is None:
        return []
    g = suff.groups.index()
    gf = suff.groups.fields

    def var(i):
        n, s, q = gf["n"][i], gf["s"][i], gf["q"][i]
        return max((q - s * s / n) / (n - 1), 0.0) if n > 1 else float("nan"), n

    out: list[PairStat] = []
    for (task, metric, a, b), f in suff.pairs.rows():
        n = f["n"]
        mean = f["sd"] / n if n else float("nan")
        vd = max((f["sd2"] - f["sd"] * f["sd"] / n) / (n - 1), 0.0) if n > 1 else float("nan")
        se = math.sqrt(vd / n) if n > 1 else float("nan")
        va, na = var(g[(a, task, metric)])
        vb, nb = var(g[(b, task, metric)])
        se_u = math.sqrt(va / na + vb / nb) if na > 1 and nb > 1 else float("nan")
        corr = ((va + vb - vd) / (2 * math.sqrt(va * vb))) if va > 0 and vb > 0 else float("nan")
        if se > 0:
            z = mean / se
            p = two_sided_p(z)
        elif n > 1:
            z = 0.0 if mean == 0 else math.copysign(math.inf, mean)
            p = 1.0 if mean == 0 else 0.0
        else:
            z = p = float("nan")
        if suff.has_sample and n > 1:
            pred = f["wd"] / n
            se_pred = math.sqrt(pred / n)
            se_data = math.sqrt(max(vd - pred, 0.0) / n)
        else:
            se_pred, se_data = float("nan"), se
        out.append(PairStat(task, metric, a, b, int(n), mean, se, se_u, corr, z, p, MDE_FACTOR * se,
                            se_data, se_pred))
    # multiple-comparison control per (task, metric) family
    fam: dict[tuple, list[int]] = {}
    for i, ps in enumerate(out):
        fam.setdefault((ps.task, ps.metric), []).append(i)
    final = list(out)
    for idx in fam.values():
        p = np.array([out[i].p for i in idx])
        ok = ~np.isnan(p)
        h = np.full(p.size, np.nan)
        bh = np.full(p.size, np.nan)
        if ok.any():
            h[ok], bh[ok] = holm(p[ok]), benjamini_hochberg(p[ok])
        for j, i in enumerate(idx):
            d = out[i].__dict__.copy()
            d["p_holm"], d["p_bh"] = float(h[j]), float(bh[j])
            final[i] = PairStat(**d)
    return final
