"""Re-aggregating a leaderboard: the one loader, then one :class:`~auditkit.ranking.Ranking` per rule, rendered
through :class:`~auditkit.report.Report` like every other command.

This is the path behind ``auditkit rerank``; it imports numpy and the standard library only (no pandas, scipy or
torch) so the command stays interactive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .loading import Loaded, load_task_scores
from .policies import DEFAULT_MISSING, DEFAULT_NEGATIVES, DEFAULT_RANGE
from .ranking import TIE_RULE, Ranking, kendall_tau, rank
from .report import Report, format_value, provenance

SCHEMA = "auditkit.rerank/2"


@dataclass
class RerankResult:
    """The outcome of :func:`rerank`: the loaded task scores and one :class:`~auditkit.ranking.Ranking` per rule.

    ``scores`` and ``ranks`` map each rule's label (``harmonic``, ``power(p=-2)``) to its array; ``to_report()``
    gives the :class:`~auditkit.report.Report` every renderer uses; ``to_pandas()`` one row per system.
    """

    loaded: Loaded
    rankings: list[Ranking]
    command: str | None = None

    @property
    def task_scores(self):
        return self.loaded.task_scores

    @property
    def means(self) -> list[str]:
        return [r.label for r in self.rankings]

    @property
    def scores(self) -> dict[str, np.ndarray]:
        return {r.label: r.scores for r in self.rankings}

    @property
    def ranks(self) -> dict[str, np.ndarray]:
        return {r.label: r.ranks for r in self.rankings}

    @property
    def policies(self) -> dict[str, str]:
        return dict(self.loaded.policies)

    @property
    def policy(self) -> str:
        """The negative-cell policy text (kept for the 0.1 API; ``policies`` has every policy)."""
        return self.loaded.policies["negatives"]

    @property
    def benchmark(self) -> str:
        return self.task_scores.recipe.name

    def kendall(self) -> list[dict[str, Any]]:
        """Kendall tau-b between each pair of rules (over rows scored under both), as records."""
        out = []
        for a in range(len(self.rankings)):
            for b in range(a + 1, len(self.rankings)):
                ra, rb = self.rankings[a], self.rankings[b]
                sa = ra.scores if ra.higher_is_better else -ra.scores
                sb = rb.scores if rb.higher_is_better else -rb.scores
                out.append({"a": ra.label, "b": rb.label, "tau": float(kendall_tau(sa, sb))})
        return out

    def all_notes(self) -> list[str]:
        """Reader repairs, recipe notes (NaN scored 0, fallbacks), policy notes and rule notes, in that order."""
        ts = self.task_scores
        rule_notes = [n for r in self.rankings for n in r.notes]
        return list(dict.fromkeys([*ts.leaderboard.notes, *ts.notes, *self.loaded.notes, *rule_notes]))

    def _order(self) -> np.ndarray:
        """Row indices: ranked rows by the first rule's rank, then unranked rows; ties in input-line order."""
        first = self.rankings[0].ranks
        lines = np.asarray(self.task_scores.leaderboard.lines)
        ranked = np.isfinite(first)
        return np.lexsort((lines, np.where(ranked, first, 0.0), ~ranked))

    def rows(self) -> list[dict[str, Any]]:
        """One record per system, best first under the first rule; ``rules`` maps every rule label to its score,
        rank and rank change, whatever the number of rules (the row shape never changes). Built once, column by
        column (a leaderboard can have 10^5 rows)."""
        cached = self.__dict__.get("_rows")
        if cached is not None:
            return cached
        ts = self.task_scores
        order = self._order()
        teams = ts.leaderboard.teams()
        lines = ts.leaderboard.lines
        pub_rank = ts.published_rank[order]
        columns = {}
        for r in self.rankings:
            ranks = r.ranks[order]
            columns[r.label] = (_values(r.scores[order]), _values(ranks, int), _values(pub_rank - ranks, int))
        published = _values(ts.published_score[order])
        published_rank = _values(pub_rank, int)
        reference = ts.reference[order].tolist()
        out = []
        for j, i in enumerate(order.tolist()):
            reason = ts.reasons.get(i)
            out.append({"system": ts.systems[i], "team": teams[i], "reference": reference[j], "line": lines[i],
                        "published_score": published[j], "published_rank": published_rank[j],
                        "status": "scored" if reason is None else "unscored", "reason": reason,
                        "rules": {label: {"score": c[0][j], "rank": c[1][j], "rank_change": c[2][j]}
                                  for label, c in columns.items()}})
        self.__dict__["_rows"] = out
        return out

    def flat_rows(self) -> list[dict[str, Any]]:
        """The records flattened for CSV and pandas: ``<label>_score``, ``<label>_rank``, ``<label>_rank_change``."""
        flat = []
        for row in self.rows():
            r = {k: v for k, v in row.items() if k != "rules"}
            for label, e in row["rules"].items():
                r.update({f"{label}_{k}": v for k, v in e.items()})
            flat.append(r)
        return flat

    def display_rows(self) -> list[dict[str, Any]]:
        digits = 2 if self.task_scores.recipe.scale >= 10 else 4
        one = len(self.rankings) == 1
        out = []
        for row in self.rows():
            d: dict[str, Any] = {}
            for label, e in row["rules"].items():
                prefix = "" if one else f"{label} "
                d[f"{prefix}rank"] = e["rank"]
                d[f"{prefix}score"] = None if e["score"] is None else round(e["score"], digits)
                d[f"{prefix}Δ"] = _signed(e["rank_change"])
            d["system"] = row["system"] + (" (reference)" if row["reference"] else "")
            d["published"] = row["published_score"]
            d["pub rank"] = row["published_rank"]
            if row["reason"]:
                d["note"] = f"not scored: {row['reason']}"
            out.append(d)
        cols = list(dict.fromkeys(k for d in out for k in d))
        return [{c: d.get(c) for c in cols} for d in out]

    def task_rows(self) -> list[dict[str, Any]]:
        """The per-task cells behind each aggregate, rows in the order of the ranking table (same system names),
        so a reader sees which tasks moved a system."""
        ts = self.task_scores
        order = self._order()
        observed = ts.observed if ts.observed is not None else ts.values
        digits = 2 if ts.recipe.scale >= 10 else 4
        columns = [_values(np.round(observed[order, j], digits)) for j in range(len(ts.tasks))]
        rows = []
        for k, i in enumerate(order.tolist()):
            row: dict[str, Any] = {"system": ts.systems[i] + (" (reference)" if ts.reference[i] else "")}
            row.update({task: columns[j][k] for j, task in enumerate(ts.tasks)})
            rows.append(row)
        return rows

    def footer(self) -> list[str]:
        ts = self.task_scores
        lines = [f"benchmark: {ts.recipe.title} (recipe {ts.recipe.name} {ts.recipe.version}, "
                 f"{self.loaded.recipe_source})",
                 f"means: {', '.join(r.label for r in self.rankings)}",
                 f"tasks ({len(ts.tasks)}): {', '.join(ts.tasks)}"
                 + ("" if np.allclose(ts.weights, ts.weights[0]) else
                    " weights " + ", ".join(f"{w:.3f}" for w in ts.weights)),
                 f"reduction: {ts.reduction}",
                 f"tie rule: {TIE_RULE}",
                 f"negative cells: {self.loaded.policies['negatives']}",
                 f"missing cells: {self.loaded.policies['missing']}",
                 f"cells outside their range: {self.loaded.policies['out_of_range']}",
                 f"direction: {self.loaded.policies['direction']}",
                 f"input: {ts.leaderboard.source} sha256 {ts.leaderboard.sha256}"]
        if ts.published_column:
            lines.append(f"published score column: {ts.published_column}")
        if ts.reasons:
            lines.append(f"not scored: {len(ts.reasons)} row(s), listed with the reason")
        for k in self.kendall():
            lines.append(f"Kendall tau-b {k['a']} vs {k['b']}: {format_value(k['tau'])}")
        lines += [f"note: {n}" for n in self.all_notes()]
        return lines

    def summary(self) -> dict[str, Any]:
        ts = self.task_scores
        lb = ts.leaderboard
        return {
            "schema": SCHEMA, "benchmark": ts.recipe.name, "recipe_version": ts.recipe.version,
            "recipe_source": self.loaded.recipe_source,
            "rules": [{"name": r.rule, "label": r.label, "params": dict(r.params), "provider": r.provider,
                       "higher_is_better": r.higher_is_better} for r in self.rankings],
            "tasks": ts.tasks, "task_weights": ts.weights, "reduction": ts.reduction, "tie_rule": TIE_RULE,
            "policies": self.policies, "published_score_column": ts.published_column,
            "input": lb.source, "input_sha256": lb.sha256, "rows": self.rows(), "kendall_tau": self.kendall(),
            "notes": self.all_notes(),
        }

    def to_report(self, parts=("summary", "tables", "task scores", "records")) -> Report:
        """The Report every renderer uses. ``parts`` leaves out what a rendering does not read (the summary's
        rows, the display table, the flat records), so a 10^5-row table is not held three times to print one."""
        ts = self.task_scores
        lb = ts.leaderboard
        prov = provenance(command=self.command, inputs={lb.source: lb.sha256},
                          recipe=f"{ts.recipe.name} {ts.recipe.version}",
                          rules=[r.label for r in self.rankings], policies=self.policies)
        summary = self.summary() if "summary" in parts else {"schema": SCHEMA, "benchmark": ts.recipe.name}
        tables = {"ranking": self.display_rows()} if "tables" in parts else {}
        if "task scores" in parts:
            tables["task scores"] = self.task_rows()
        return Report(f"auditkit rerank: {ts.recipe.title} ({lb.source.rsplit('/', 1)[-1]})", [], prov,
                      summary, tables, footer=self.footer(),
                      records=self.flat_rows() if "records" in parts else None)

    def to_dict(self) -> dict[str, Any]:
        return self.to_report().as_dict()

    def render(self, fmt: str = "table") -> str:
        # what each rendering reads: CSV the records; the human formats the display table; JSON (and machine
        # formats from plugins) everything
        # the per-task cells go where they are read beside the ranking (the HTML page joins them); a terminal or a
        # paper table shows the ranking alone
        parts = {"csv": ("records",), "table": ("tables",), "markdown": ("tables",), "latex": ("tables",),
                 "html": ("tables", "task scores")}.get(fmt, ("summary", "tables", "task scores", "records"))
        return self.to_report(parts).render(fmt)

    def to_pandas(self):
        """One row per system; columns ``<label>_score``, ``<label>_rank``, ``<label>_rank_change``."""
        import pandas as pd

        return pd.DataFrame(self.flat_rows())

    def _repr_html_(self) -> str:
        return self.to_report()._repr_html_()


def _values(x: np.ndarray, kind=float) -> list:
    """Plain Python numbers for JSON and tables, None where not finite (one pass, not a call per cell)."""
    finite = np.isfinite(x)
    values = (x if kind is float else np.where(finite, x, 0).astype(np.int64)).tolist()
    if finite.all():
        return values
    return [v if ok else None for v, ok in zip(values, finite.tolist())]


def _signed(x: int | None) -> str | None:
    if x is None:
        return None
    return f"+{x}" if x > 0 else ("0" if x == 0 else str(x))


def rerank(data, means=("arithmetic",), *, benchmark: str | None = None, tasks=None, exclude=None,
           negatives: str = DEFAULT_NEGATIVES, missing: str = DEFAULT_MISSING, out_of_range: str = DEFAULT_RANGE,
           lower_is_better=None,
           params: dict[str, dict[str, Any]] | None = None, backend: str = "numpy", device: str = "cpu",
           system_column: str | None = None, input_format: str | None = None,
           command: str | None = None) -> RerankResult:
    """Re-aggregate a leaderboard under one or more rules.

    Parameters
    ----------
    data : path, ``"-"``, pandas DataFrame or :class:`~auditkit.leaderboard.Leaderboard`
    means : rule texts: ``"harmonic"``, ``"power:p=-2"``, ``["arithmetic", "geometric"]``; the same rule may
        appear twice with different parameters
    benchmark : recipe name (``glue``, ``openllm-v1@2023-11``); auto-detected from the columns when None
    tasks, exclude : change the task set (names of recipe tasks or numeric columns)
    negatives : ``"refuse"`` (default), ``"rescale"``, ``"exclude-task"`` or ``"exclude-row"``
    missing : ``"exclude-row"`` (default), ``"refuse"``, ``"skip"`` or ``"zero"``
    out_of_range : ``"refuse"`` (default) or ``"keep"`` cells outside their task's declared range
    lower_is_better : task names whose lower values are better
    params : per-rule parameters by rule name, e.g. ``{"power": {"p": -2}}`` (same as ``"power:p=-2"``)
    """
    loaded = load_task_scores(data, means, benchmark=benchmark, tasks=tasks, exclude=exclude, negatives=negatives,
                              missing=missing, out_of_range=out_of_range, lower_is_better=lower_is_better,
                              system_column=system_column,
                              input_format=input_format, shorthand=params)
    rankings = [rank(loaded.task_scores, spec, backend=backend, device=device, policies=loaded.policies)
                for spec in loaded.rules]
    return RerankResult(loaded, rankings, command=command)
