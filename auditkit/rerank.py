"""Re-aggregating a leaderboard: read -> recipe -> task scores -> aggregator(s) -> ranks, with everything stated.

This is the path behind ``auditkit rerank``; it imports numpy and the standard library only (no pandas, scipy or
torch) so the command stays interactive.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import DomainError, UsageError
from .ranking import TIE_RULE, competition_rank, kendall_tau
from .report import csv_text, format_value, html_page, html_table, jsonable, markdown_table, provenance, text_table
from .taskscores import TaskScores, detect_recipe, task_scores

NEGATIVE_POLICIES = ("refuse", "rescale", "exclude-task", "exclude-row")
POLICY_TEXT = {
    "refuse": "negative cells refused (none present)",
    "rescale": "tasks with negative cells rescaled from their declared range [lo, hi] to [0, hi]",
    "exclude-task": "tasks with negative cells excluded",
    "exclude-row": "rows with negative cells not scored (listed with the reason)",
}


def resolve_recipe(lb, benchmark: str | None):
    from .registry import get_registry

    recipes = get_registry().records("recipes")
    if benchmark:
        return get_registry().get("recipes", benchmark), []
    return detect_recipe(lb, recipes)


def scores_for(ts: TaskScores, mean: str, params: dict[str, Any] | None = None, *, backend: str = "numpy",
               device: str = "cpu", matrix: np.ndarray | None = None) -> np.ndarray:
    """Scores of every scorable row under aggregator ``mean`` (NaN for unscorable rows).

    Rules whose result for one candidate depends on the other candidates (Borda, Kemeny, ...) score the systems
    among themselves, and each reference row separately against the systems, so adding a human row never
    reorders the systems.
    """
    from .backend import get_backend, to_numpy
    from .registry import get_registry

    agg = get_registry().get("aggregators", mean)
    params = _check_params(agg, params or {})
    values = ts.values if matrix is None else matrix
    ok = ts.scorable
    out = np.full(len(ts.systems), np.nan)
    if not ok.any():
        return out
    ctx = get_backend(backend, device)
    weights = ctx.asarray(ts.weights)

    def run(rows: np.ndarray) -> np.ndarray:
        result = agg.func(ctx.asarray(values[rows]), xp=ctx.xp, weights=weights, **params)
        return np.asarray(to_numpy(result), float)

    if agg.candidate_dependent and (ts.reference & ok).any():
        systems = np.flatnonzero(ok & ~ts.reference)
        if systems.size:
            out[systems] = run(systems)
        for r in np.flatnonzero(ok & ts.reference):
            both = np.append(systems, r)
            out[r] = _place(run(both), out[systems])
    else:
        rows = np.flatnonzero(ok)
        out[rows] = run(rows)
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


def _check_params(agg, params: dict[str, Any]) -> dict[str, Any]:
    known = {p.name: p for p in agg.params}
    out = {}
    for name, value in params.items():
        if value is None:
            continue
        if name not in known:
            raise UsageError(f"aggregator {agg.name!r} takes no parameter {name!r}"
                             + (f"; its parameters: {', '.join(known)}" if known else ""))
        out[name] = known[name].type(value)
    for name, p in known.items():
        if name not in out:
            if p.default is None:
                raise UsageError(f"aggregator {agg.name!r} needs --{name} ({p.help})")
            out[name] = p.default
    return out


def apply_negative_policy(ts: TaskScores, policy: str, means: list[str]) -> tuple[TaskScores, str, list[str]]:
    """Refuse, rescale or exclude tasks with negative cells when a chosen mean needs nonnegative values.
    Returns the (possibly new) task scores, the policy text for the footer and notes."""
    from .registry import get_registry

    if policy not in NEGATIVE_POLICIES:
        from .errors import unknown_name

        raise unknown_name("negative-value policy", policy, NEGATIVE_POLICIES)
    needs = [m for m in means if get_registry().get("aggregators", m).domain in ("positive", "nonnegative")]
    ok = ts.scorable
    neg = (ts.values < 0) & ok[:, None]
    notes = []
    strict = [m for m in means if get_registry().get("aggregators", m).domain == "positive"]
    zero = (ts.values == 0) & ok[:, None]
    if needs and zero.any():
        cells = [f"{ts.systems[i]} {ts.tasks[j]}=0" for i, j in zip(*np.nonzero(zero))]
        if strict:
            raise DomainError(f"{', '.join(strict)} needs positive values; zero cells: {', '.join(cells[:5])}"
                              + (f" and {len(cells) - 5} more" if len(cells) > 5 else ""))
        notes.append("zero cells give the limit 0 under " + ", ".join(needs) + ": " + ", ".join(cells[:8])
                     + (f" and {len(cells) - 8} more" if len(cells) > 8 else ""))
    if not needs or not neg.any():
        return ts, (POLICY_TEXT["refuse"] if policy == "refuse" else f"{policy} (no negative cells)"), notes
    bad_tasks = sorted(set(np.nonzero(neg)[1]))
    i, j = next(zip(*np.nonzero(neg)))
    if policy == "refuse":
        raise DomainError(
            f"{ts.leaderboard.source}: {', '.join(needs)} mean is undefined for negative values: system "
            f"{ts.systems[i]!r}, task {ts.tasks[j]!r}, value {ts.values[i, j]:g} (line {ts.leaderboard.lines[i]}); "
            f"{int(neg.sum())} negative cell(s) in {', '.join(ts.tasks[k] for k in bad_tasks)}. Choose a policy: "
            "--negatives rescale (map a correlation task from [-100, 100] to [0, 100]), --negatives exclude-task, "
            "--negatives exclude-row, or leave the task out with --exclude")
    if policy == "exclude-row":
        reasons = dict(ts.reasons)
        values = ts.values.copy()
        rows = sorted(set(np.nonzero(neg)[0]))
        for r in rows:
            cols = [ts.tasks[k] for k in np.flatnonzero(neg[r])]
            reasons[r] = f"negative value in {', '.join(cols)} (--negatives exclude-row)"
            values[r, :] = np.nan
        new = TaskScores(**{**ts.__dict__, "values": values, "reasons": reasons})
        return new, f"exclude-row: {len(rows)} row(s) with negative cells not scored", notes
    if policy == "exclude-task":
        keep = [t for k, t in enumerate(ts.tasks) if k not in bad_tasks]
        if not keep:
            raise UsageError("every task has a negative cell; nothing left after --negatives exclude-task")
        new = task_scores(ts.leaderboard, ts.recipe, tasks=keep)
        return new, f"exclude-task: dropped {', '.join(ts.tasks[k] for k in bad_tasks)}", notes
    # rescale
    values = ts.values.copy()
    ulps = ts.half_ulps.copy()
    done = []
    for k in bad_tasks:
        lo, hi = ts.value_ranges[k]
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < 0 < hi):
            raise UsageError(f"task {ts.tasks[k]!r} has negative cells but no declared range to rescale from; "
                             "use --negatives exclude-task or --exclude")
        values[:, k] = (values[:, k] - lo) / (hi - lo) * hi
        ulps[:, k] = ulps[:, k] / (hi - lo) * hi
        done.append(f"{ts.tasks[k]} [{lo:g}, {hi:g}] -> [0, {hi:g}]")
    new = TaskScores(**{**ts.__dict__, "values": values, "half_ulps": ulps})
    return new, "rescale: " + "; ".join(done), notes


@dataclass
class RerankResult:
    """The outcome of :func:`rerank`: one row per system, plus the footer facts. ``.to_pandas()`` for notebooks."""

    task_scores: TaskScores
    means: list[str]
    scores: dict[str, np.ndarray]
    ranks: dict[str, np.ndarray]
    params: dict[str, dict[str, Any]]
    policy: str
    notes: list[str] = field(default_factory=list)
    command: str | None = None

    @property
    def benchmark(self) -> str:
        return self.task_scores.recipe.name

    def kendall(self) -> dict[str, float]:
        """Kendall tau-b between each pair of means (over rows scored under both)."""
        out = {}
        for a in range(len(self.means)):
            for b in range(a + 1, len(self.means)):
                ma, mb = self.means[a], self.means[b]
                out[f"{ma}|{mb}"] = kendall_tau(self.scores[ma], self.scores[mb])
        return out

    def all_notes(self) -> list[str]:
        """Reader repairs, recipe notes (NaN scored 0, fallbacks) and policy notes, in that order."""
        return [*self.task_scores.leaderboard.notes, *self.task_scores.notes, *self.notes]

    def rows(self) -> list[dict[str, Any]]:
        ts = self.task_scores
        teams = ts.leaderboard.teams()
        one = len(self.means) == 1
        rows = []
        for i, name in enumerate(ts.systems):
            pub_rank = ts.published_rank[i]
            row: dict[str, Any] = {
                "system": name, "team": teams[i], "reference": bool(ts.reference[i]),
                "published_score": _num(ts.published_score[i]), "published_rank": _int(pub_rank),
                "line": ts.leaderboard.lines[i],
            }
            for m in self.means:
                rank = self.ranks[m][i]
                entry = {"score": _num(self.scores[m][i]), "rank": _int(rank),
                         "rank_change": _int(pub_rank - rank) if np.isfinite(pub_rank) and np.isfinite(rank)
                         else None}
                if one:
                    row.update(entry)
                else:
                    row[m] = entry
            row["status"] = "scored" if i not in ts.reasons else "unscored"
            row["reason"] = ts.reasons.get(i)
            rows.append(row)
        first = self.means[0]
        order = sorted(range(len(rows)), key=lambda i: (not np.isfinite(self.ranks[first][i]),
                                                        self.ranks[first][i] if np.isfinite(self.ranks[first][i])
                                                        else 0, rows[i]["line"]))
        return [rows[i] for i in order]

    def to_dict(self) -> dict[str, Any]:
        ts = self.task_scores
        lb = ts.leaderboard
        out = {
            "schema": "auditkit.rerank/1",
            "benchmark": ts.recipe.name,
            "recipe_version": ts.recipe.version,
            "means": self.means,
            "mean_params": self.params,
            "tasks": ts.tasks,
            "task_weights": ts.weights,
            "reduction": ts.reduction,
            "tie_rule": TIE_RULE,
            "negative_policy": self.policy,
            "published_score_column": ts.published_column,
            "input": lb.source,
            "input_sha256": lb.sha256,
            "rows": self.rows(),
            "kendall_tau": self.kendall(),
            "notes": self.all_notes(),
            "provenance": provenance(command=self.command, inputs={lb.source: lb.sha256},
                                     recipe=f"{ts.recipe.name} {ts.recipe.version}"),
        }
        return jsonable(out)

    def to_pandas(self):
        """One row per system; with several means, columns ``<mean>_score``, ``<mean>_rank``, ..."""
        import pandas as pd

        return pd.DataFrame(self.flat_rows())

    # -- rendering -------------------------------------------------------------------------------------------
    def display_rows(self) -> list[dict[str, Any]]:
        out = []
        for row in self.rows():
            d: dict[str, Any] = {}
            for m in self.means:
                e = row if len(self.means) == 1 else row[m]
                prefix = "" if len(self.means) == 1 else f"{m} "
                d[f"{prefix}rank"] = e["rank"]
                d[f"{prefix}score"] = None if e["score"] is None else round(e["score"], 3)
                d[f"{prefix}Δ"] = _signed(e["rank_change"])
            d["system"] = row["system"] + (" (reference)" if row["reference"] else "")
            d["published"] = row["published_score"]
            d["pub rank"] = row["published_rank"]
            if row["reason"]:
                d["note"] = f"not scored: {row['reason']}"
            out.append(d)
        cols = list(dict.fromkeys(k for d in out for k in d))
        return [{c: d.get(c) for c in cols} for d in out]

    def footer(self) -> list[str]:
        ts = self.task_scores
        lines = [f"benchmark: {ts.recipe.title} (recipe {ts.recipe.name} {ts.recipe.version})",
                 f"means: {', '.join(_mean_label(m, self.params.get(m)) for m in self.means)}",
                 f"tasks ({len(ts.tasks)}): {', '.join(ts.tasks)}"
                 + ("" if np.allclose(ts.weights, ts.weights[0]) else
                    " weights " + ", ".join(f"{w:.3f}" for w in ts.weights)),
                 f"reduction: {ts.reduction}",
                 f"tie rule: {TIE_RULE}",
                 f"odd values: {self.policy}",
                 f"input: {ts.leaderboard.source} sha256 {ts.leaderboard.sha256}"]
        if ts.published_column:
            lines.append(f"published score column: {ts.published_column}")
        unscored = len(ts.reasons)
        if unscored:
            lines.append(f"not scored: {unscored} row(s), listed with the reason")
        for pair, tau in self.kendall().items():
            lines.append(f"Kendall tau-b {pair.replace('|', ' vs ')}: {format_value(tau)}")
        lines += [f"note: {n}" for n in self.all_notes()]
        return lines

    def render(self, fmt: str = "table") -> str:
        if fmt == "json":
            return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        if fmt == "csv":
            return csv_text(self.flat_rows())
        rows = self.display_rows()
        if fmt == "markdown":
            return markdown_table(rows) + "\n\n" + "\n".join(f"- {line}" for line in self.footer()) + "\n"
        if fmt == "html":
            import html

            foot = "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in self.footer()) + "</ul>"
            return html_page(f"auditkit rerank: {self.task_scores.recipe.title}", html_table(rows) + foot)
        if fmt == "table":
            return text_table(rows) + "\n\n" + "\n".join(self.footer()) + "\n"
        from .errors import unknown_name

        raise unknown_name("format", fmt, ("table", "csv", "json", "markdown", "html"))

    def flat_rows(self) -> list[dict[str, Any]]:
        flat = []
        for row in self.rows():
            r = {k: v for k, v in row.items() if not isinstance(v, dict)}
            for m in self.means:
                if isinstance(row.get(m), dict):
                    r.update({f"{m}_{k}": v for k, v in row[m].items()})
            flat.append(r)
        return flat

    def _repr_html_(self) -> str:
        return html_table(self.display_rows()) + "<br><small>" + "<br>".join(self.footer()) + "</small>"


def _mean_label(name: str, params: dict | None) -> str:
    return name + (f" ({', '.join(f'{k}={v}' for k, v in params.items())})" if params else "")


def _num(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def _int(x) -> int | None:
    return int(x) if x is not None and np.isfinite(x) else None


def _signed(x: int | None) -> str | None:
    if x is None:
        return None
    return f"+{x}" if x > 0 else ("0" if x == 0 else str(x))


def rerank(data, means=("arithmetic",), *, benchmark: str | None = None, tasks=None, exclude=None,
           negatives: str = "refuse", params: dict[str, dict[str, Any]] | None = None, backend: str = "numpy",
           device: str = "cpu", system_column: str | None = None, input_format: str | None = None,
           command: str | None = None) -> RerankResult:
    """Re-aggregate a leaderboard under one or more means.

    Parameters
    ----------
    data : path, ``"-"``, pandas DataFrame or :class:`~auditkit.leaderboard.Leaderboard`
    means : aggregator names (``"arithmetic"``, ``"geometric"``, ``"harmonic"``, ``"power"``, ...)
    benchmark : recipe name; auto-detected from the columns when None
    tasks, exclude : change the task set (names of recipe tasks or numeric columns)
    negatives : ``"refuse"`` (default), ``"rescale"`` or ``"exclude-task"``
    params : per-mean parameters, e.g. ``{"power": {"p": -2}}``
    """
    from .leaderboard import Leaderboard, read_leaderboard

    if isinstance(means, str):
        means = [means]
    means = [m.strip().lower() for m in means]
    if len(set(means)) != len(means):
        raise UsageError(f"a mean is given twice: {', '.join(means)}")
    lb = data if isinstance(data, Leaderboard) else read_leaderboard(data, format=input_format,
                                                                     system_column=system_column)
    recipe, notes = resolve_recipe(lb, benchmark)
    ts = task_scores(lb, recipe, tasks=list(tasks) if tasks else None, exclude=list(exclude) if exclude else None)
    ts, policy, more = apply_negative_policy(ts, negatives, means)
    params = params or {}
    scores, ranks, used = {}, {}, {}
    from .registry import get_registry

    for m in means:
        agg = get_registry().get("aggregators", m)
        used[m] = _check_params(agg, params.get(m, {}))
        s = scores_for(ts, m, used[m], backend=backend, device=device)
        scores[m] = s
        ranks[m] = competition_rank(s)
    return RerankResult(ts, means, scores, ranks, {k: v for k, v in used.items() if v}, policy, notes + more,
                        command=command)




class _CallableModule(type(os)):
    """``auditkit.rerank`` is both this module and the function: ``auditkit.rerank(path, "harmonic")`` reads best
    in a notebook, while plugins import helpers from ``auditkit.rerank``."""

    def __call__(self, *args, **kwargs):
        return rerank(*args, **kwargs)


import sys as _sys  # noqa: E402

_sys.modules[__name__].__class__ = _CallableModule
