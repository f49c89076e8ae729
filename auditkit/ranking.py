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
    if xp is np or isinstance(scores, (np.ndarray, np.generic, list, tuple, float, int)):
        mantissa, exponent = np.frexp(np.asarray(scores, float))
        return np.ldexp(np.round(mantissa * 2.0 ** TIE_BITS) / 2.0 ** TIE_BITS, exponent)
    import torch

    mantissa, exponent = torch.frexp(scores)
    return torch.ldexp(torch.round(mantissa * 2.0 ** TIE_BITS) / 2.0 ** TIE_BITS, exponent.to(scores.dtype))


def competition_rank(scores, higher_is_better: bool = True) -> np.ndarray:
    """Ranks 1.. with ties (equal :func:`tie_key`) sharing the best rank; NaN where the score is NaN.

    One argsort of the tie keys (any order within a tie group: its members share the group's first position),
    then each group's start carried forward with a running maximum."""
    s = np.asarray(scores, float)
    nan = np.isnan(s)
    has_nan = bool(nan.any())
    k = tie_key(s[~nan] if has_nan else s.reshape(-1))
    n = k.size
    if not n:
        return np.full(s.shape, np.nan)
    key = -k if higher_is_better else k
    order = np.argsort(key)
    sorted_key = key[order]
    position = np.arange(1, n + 1, dtype=float)
    position[1:][sorted_key[1:] == sorted_key[:-1]] = 0.0     # not a group start
    np.maximum.accumulate(position, out=position)
    out = np.empty(n)
    out[order] = position
    if not has_nan:
        return out.reshape(s.shape)
    ranks = np.full(s.shape, np.nan)
    ranks[~nan] = out
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


# -- the Ranking stage: task scores + a rule -> Ranking ------------------------------------------------------------
def rank(ts, rule, *, backend: str = "numpy", device: str = "cpu", policies: Mapping[str, str] | None = None,
         notes=()) -> Ranking:
    """Rank the rows of task scores ``ts`` under ``rule`` (a :class:`auditkit.RuleSpec` or rule text such as
    ``"power:p=-2"``): the single function every command ranks with.

    Rules whose score for one system depends on the others (Borda, Kemeny, ...) score the systems among
    themselves and each reference row separately against them, so a human row never reorders the systems. Rows
    with missing cells kept by ``--missing skip`` are aggregated over their available tasks. Tasks whose lower
    values are better are oriented first (see :func:`oriented_values`).
    """
    from .registry import get_registry
    from .rules import resolve_rules

    spec = resolve_rules([rule])[0]   # binding is idempotent: a RuleSpec passes through, a text is parsed
    registry = get_registry()
    agg = registry.get("aggregators", spec.name)
    values, higher, direction_note = oriented_values(ts, agg)
    scores = _rule_scores(ts, agg, dict(spec.params), values, backend=backend, device=device)
    info = registry.plugins.get(registry.provider("aggregators", agg.name) or "")
    provider = f"{info.distribution} {info.version}" if info is not None and info.distribution else None
    return ranking_from_scores(ts.systems, scores, agg.name, spec.params, higher_is_better=higher,
                               policies=policies, notes=[*notes, *([direction_note] if direction_note else [])],
                               unscored=ts.reasons, provider=provider)


def oriented_values(ts, agg) -> tuple[np.ndarray, bool, str | None]:
    """Task values with every task pointing the same way for ``agg``, the direction of the resulting scores, and a
    note. All tasks lower-is-better: a mean keeps the values and ranks ascending; a rule that compares systems
    task by task sees the values negated. Mixed directions: a lower-is-better task with a declared range
    [lo, hi] is flipped to lo + hi - x; without a range only rules that compare systems task by task can use it
    (negated), and a mean is refused."""
    from .errors import UsageError

    directions = ts.directions
    if directions.all():
        return ts.values, True, None
    lower = np.flatnonzero(~directions)
    names = ", ".join(ts.tasks[k] for k in lower)
    if not directions.any() and not agg.candidate_dependent:
        return ts.values, False, f"lower is better on every task ({names}): {agg.name} scores ranked ascending"
    values = ts.values.copy()
    if agg.candidate_dependent:
        values[:, lower] = -values[:, lower]
        return values, True, f"lower-is-better task(s) {names} negated before {agg.name} compares systems"
    flipped = []
    for k in lower:
        lo, hi = ts.value_ranges[k]
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise UsageError(f"task {ts.tasks[k]!r} is lower-is-better and has no declared range, so a {agg.name} "
                             "mean cannot combine it with higher-is-better tasks; use a rule that compares systems "
                             "task by task (--mean borda, winrate, copeland), or leave the task out with --exclude")
        values[:, k] = lo + hi - values[:, k]
        flipped.append(f"{ts.tasks[k]} [{lo:g}, {hi:g}]")
    return values, True, "lower-is-better task(s) flipped to lo + hi - x: " + ", ".join(flipped)


def _rule_scores(ts, agg, params: dict, values: np.ndarray, *, backend: str, device: str) -> np.ndarray:
    """Scores of every scorable row (NaN for the others); a plugin's failure, wrong shape or non-finite output is
    a PluginError naming the rule."""
    from .backend import get_backend, to_numpy
    from .errors import PluginError

    ok = ts.scorable
    out = np.full(len(ts.systems), np.nan)
    if not ok.any():
        return out
    ctx = get_backend(backend, device)
    weights = np.asarray(ts.weights, float)

    def run(rows: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        block = values[rows] if cols is None else values[np.ix_(rows, cols)]
        w = weights if cols is None else weights[cols] / weights[cols].sum()
        try:
            result = agg.func(ctx.asarray(block), xp=ctx.xp, weights=ctx.asarray(w), **params)
            result = np.asarray(to_numpy(result), float)
        except Exception as exc:  # noqa: BLE001 - a rule's own bug must name the rule, not print a traceback
            raise PluginError(f"rule {agg.name!r} failed on a {block.shape[0]} x {block.shape[1]} table: "
                              f"{type(exc).__name__}: {exc}") from exc
        if result.shape != (rows.size,):
            raise PluginError(f"rule {agg.name!r} returned shape {result.shape} for {rows.size} systems; an "
                              "aggregator returns one score per row")
        if not np.isfinite(result).all():
            k = int(np.flatnonzero(~np.isfinite(result))[0])
            i = int(rows[k])
            shown = "NaN" if np.isnan(result[k]) else ("inf" if result[k] > 0 else "-inf")
            raise PluginError(f"rule {agg.name!r} returned {shown} for system {ts.systems[i]!r} (line "
                              f"{ts.leaderboard.lines[i]}) although every cell of the row is a finite number; "
                              "a rule returns a finite score per row")
        return result

    partial = ok & np.isnan(values).any(axis=1)      # kept by --missing skip
    full = ok & ~partial
    if agg.candidate_dependent and (ts.reference & full).any():
        systems = np.flatnonzero(full & ~ts.reference)
        if systems.size:
            out[systems] = run(systems)
        for r in np.flatnonzero(full & ts.reference):
            out[r] = _place(run(np.append(systems, r)), out[systems])
    elif full.any():
        rows = np.flatnonzero(full)
        out[rows] = run(rows)
    if partial.any():
        patterns: dict[bytes, list[int]] = {}
        for r in np.flatnonzero(partial):
            patterns.setdefault(np.isnan(values[r]).tobytes(), []).append(int(r))
        for rows in patterns.values():
            cols = np.flatnonzero(~np.isnan(values[rows[0]]))
            out[rows] = run(np.asarray(rows), cols)
    return out


def _place(joint: np.ndarray, system_scores: np.ndarray) -> float:
    """Place a reference row, scored in a joint run with the systems, at the same position among the systems-only
    scores: k systems above it in the joint run -> just below the k-th best system; a tie stays a tie."""
    ref, others = joint[-1], joint[:-1]
    above = int((others > ref).sum())
    tied = bool((others == ref).any())
    ordered = np.sort(system_scores)[::-1]
    if above == 0 and not tied:
        return float(ordered[0] + abs(ref - others.max()) + 1e-9)
    if above >= ordered.size:
        return float(ordered[-1] - abs(others.min() - ref) - 1e-9)
    if tied:
        return float(ordered[above])
    lo, hi = ordered[above - 1], ordered[above]
    return float((lo + hi) / 2) if lo != hi else float(hi)
