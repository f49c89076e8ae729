"""One tie rule everywhere, and rank agreement.

Tie rule: **competition ranking** ("1224"): systems whose scores are equal after rounding to 12 significant digits
share the best rank of their group, and the next rank skips. Higher scores rank first. NaN scores get no rank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

TIE_RULE = "competition ranking (1224): equal scores (to 12 significant digits) share the best rank"
TIE_BITS = 40


def tie_key(scores, xp=np):
    """Scores rounded to 40 mantissa bits (about 12 significant digits), so sums taken in another order still tie.

    The one tie key of auditkit: every path that ranks (rerank, compare, significance, audit, bootstrap, Kemeny)
    compares these keys, so the same scores get the same ranks everywhere. Works elementwise on any shape and on
    any array namespace ``xp`` with ``frexp``/``ldexp`` (numpy; torch through :func:`torch.frexp`)."""
    if xp is np:
        mantissa, exponent = np.frexp(np.asarray(scores, float))
        return np.ldexp(np.round(mantissa * 2.0 ** TIE_BITS) / 2.0 ** TIE_BITS, exponent)
    import torch

    mantissa, exponent = torch.frexp(scores)
    return torch.ldexp(torch.round(mantissa * 2.0 ** TIE_BITS) / 2.0 ** TIE_BITS, exponent.to(scores.dtype))


def competition_rank(scores, higher_is_better: bool = True) -> np.ndarray:
    """Ranks 1.. with ties (equal :func:`tie_key`) sharing the best rank; NaN where the score is NaN.

    One stable argsort, then each tie group takes the position of its first member."""
    s = np.asarray(scores, float)
    ranks = np.full(s.shape, np.nan)
    ok = ~np.isnan(s)
    k = tie_key(s[ok])
    if not k.size:
        return ranks
    key = -k if higher_is_better else k
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.empty(sorted_key.size, bool)
    starts[0] = True
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=starts[1:])
    position = np.maximum.accumulate(np.where(starts, np.arange(sorted_key.size), 0)) + 1
    out = np.empty(k.size)
    out[order] = position
    ranks[ok] = out
    return ranks


@dataclass(frozen=True)
class Ranking:
    """The Ranking stage: one rule applied to one set of systems, with everything needed to read the result.

    ``rule`` and ``params`` name the aggregator (or rating model) and its bound parameters; ``label`` shows both
    (``power(p=-2)``). ``scores`` are NaN for rows that were not scored (``unscored`` says why); ``ranks`` use
    :data:`TIE_RULE`. ``policies`` records every policy in effect (negatives, missing cells, direction); ``notes``
    are facts the reader should see (zeros under a geometric mean, tied winners, ...). ``provider`` is the
    distribution and version of the record that produced the scores.
    """

    rule: str
    params: Mapping[str, Any]
    systems: tuple[str, ...]
    scores: np.ndarray
    ranks: np.ndarray
    higher_is_better: bool = True
    tie_rule: str = TIE_RULE
    policies: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    unscored: Mapping[int, str] = field(default_factory=dict)
    provider: str | None = None

    @property
    def label(self) -> str:
        from .rules import RuleSpec

        return RuleSpec(self.rule, self.params).label

    def order(self) -> np.ndarray:
        """Row indices best first (ties in input order, unranked last)."""
        r = np.where(np.isnan(self.ranks), np.inf, self.ranks)
        return np.argsort(r, kind="stable")

    def winners(self) -> list[str]:
        return [self.systems[i] for i in np.flatnonzero(self.ranks == 1)]

    def to_dict(self) -> dict[str, Any]:
        from .report import jsonable

        return jsonable({
            "rule": self.rule, "params": dict(self.params), "label": self.label,
            "higher_is_better": self.higher_is_better, "tie_rule": self.tie_rule,
            "policies": dict(self.policies), "notes": list(self.notes), "provider": self.provider,
            "rows": [{"system": s, "score": _num(self.scores[i]), "rank": _int(self.ranks[i]),
                      "unscored_reason": self.unscored.get(i)} for i, s in enumerate(self.systems)],
        })

    def to_pandas(self):
        import pandas as pd

        return pd.DataFrame({"system": list(self.systems), "score": self.scores,
                             "rank": pd.array([_int(r) for r in self.ranks], dtype="Int64")})


def ranking_from_scores(systems, scores, rule: str, params: Mapping[str, Any] | None = None, *,
                        higher_is_better: bool = True, policies: Mapping[str, str] | None = None,
                        notes=(), unscored: Mapping[int, str] | None = None,
                        provider: str | None = None) -> Ranking:
    """The one constructor of a :class:`Ranking` from scores already computed (a rule's output, BT ratings)."""
    s = np.asarray(scores, float)
    if s.shape != (len(systems),):
        raise ValueError(f"rule {rule!r} returned shape {s.shape} for {len(systems)} systems")
    return Ranking(rule, dict(params or {}), tuple(systems), s, competition_rank(s, higher_is_better),
                   higher_is_better, TIE_RULE, dict(policies or {}), tuple(notes), dict(unscored or {}), provider)


def _num(x):
    x = float(x)
    return x if np.isfinite(x) else None


def _int(x):
    x = float(x)
    return int(x) if np.isfinite(x) else None


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
