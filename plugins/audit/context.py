"""The object every audit check receives, and the function that runs the checks into a Report.

A check is an :class:`auditkit.Check` record whose ``run(ctx)`` yields :class:`auditkit.Finding` objects. ``ctx`` is
an :class:`AuditContext`: the leaderboard, the recipe, the official :class:`~auditkit.taskscores.TaskScores`, the
claims table (or None), the snapshots to compare with, and the options. A check may also add a named table
(``ctx.add_table``) and summary entries (``ctx.summary[check_id] = {...}``) to the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from auditkit.errors import AuditkitError, UsageError
from auditkit.report import Finding, Report, provenance

DEFAULT_MEANS = ("arithmetic", "geometric", "harmonic")


@dataclass
class AuditContext:
    """Everything a check may look at.

    Attributes
    ----------
    leaderboard : the audited :class:`~auditkit.leaderboard.Leaderboard`
    recipe : the :class:`~auditkit.records.Recipe` applied (``--benchmark`` or auto-detected)
    ts : :class:`~auditkit.taskscores.TaskScores` for the recipe's official task set
    claims : a claims table (Leaderboard) or None
    compare_with : other snapshots of the same leaderboard (``--compare-with``), as Leaderboards
    options : ``means`` (list of aggregator names), ``means_requested`` (True when the user chose them),
        ``negatives`` (policy for GM/HM with negative cells), and anything a third-party check wants
    """

    leaderboard: Any
    recipe: Any
    ts: Any
    claims: Any = None
    compare_with: list = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _cache: dict = field(default_factory=dict)

    @property
    def systems(self) -> list[str]:
        return self.leaderboard.systems

    @property
    def means(self) -> list[str]:
        return list(self.options.get("means") or DEFAULT_MEANS)

    def add_table(self, name: str, rows: list[dict[str, Any]]) -> None:
        self.tables[name] = rows

    def task_scores(self, tasks: list[str] | None = None):
        """TaskScores for another task set (cached); None when the leaderboard lacks one of its columns."""
        from auditkit.taskscores import task_scores

        key = tuple(tasks) if tasks else None
        if key not in self._cache:
            try:
                self._cache[key] = task_scores(self.leaderboard, self.recipe, tasks=list(tasks) if tasks else None)
            except UsageError:
                self._cache[key] = None
        return self._cache[key]

    def reference_rows(self) -> np.ndarray:
        """Rows that are a reference (human baseline), as the recipe marks them."""
        return self.ts.reference

    def line(self, row: int) -> int:
        return self.leaderboard.lines[row]

    def raw(self, row: int, column: str) -> str:
        lb = self.leaderboard
        return lb.raw[row][lb.columns.index(column)]


def task_columns(ts, task: str) -> list[str]:
    """The leaderboard columns a task's metrics come from."""
    from auditkit.taskscores import resolve_task

    where = resolve_task(ts.leaderboard, ts.recipe_task(task)) or []
    return list(dict.fromkeys(c for c, _ in where))


def selected_checks(names: list[str] | None, *, have_claims: bool) -> list:
    """The checks to run: every default check (those needing claims only with a claims table), or exactly
    ``names``. Unknown ids raise a UsageError listing the known ones."""
    from auditkit.errors import unknown_name
    from auditkit.registry import get_registry

    # score-table checks only: pairwise and per-instance checks run under their own commands
    checks = {n: c for n, c in get_registry().records("checks").items() if c.applies_to == "table"}
    if names:
        out = []
        for n in names:
            if n not in checks:
                raise unknown_name("check", n, checks)
            if checks[n].needs_claims and not have_claims:
                raise UsageError(f"check {n!r} needs a claims table: pass --claims FILE")
            out.append(checks[n])
        return out
    return [c for c in checks.values() if c.default and (have_claims or not c.needs_claims)]


def build_context(file, *, claims=None, benchmark=None, compare_with=(), means=None, negatives="refuse",
                  system_column=None, input_format=None, claims_system_column=None, **options) -> AuditContext:
    """The context of an audit: the one loader (``auditkit.load_task_scores``) with no policy applied, since the
    checks report odd cells instead of resolving them; ``negatives`` is the policy the checks that rank use."""
    from auditkit import NEGATIVE_POLICIES, Leaderboard, load_task_scores, read_leaderboard
    from auditkit.errors import unknown_name

    if negatives not in NEGATIVE_POLICIES:
        raise unknown_name("negative-value policy", negatives, NEGATIVE_POLICIES)
    lb = file if isinstance(file, Leaderboard) else read_leaderboard(file, format=input_format,
                                                                     system_column=system_column)
    loaded = load_task_scores(lb, (), benchmark=benchmark, out_of_range="keep")  # checks report such cells
    recipe, ts, notes = loaded.task_scores.recipe, loaded.task_scores, list(loaded.notes)
    if means:
        from auditkit import resolve_rules

        means = [spec.name + (":" + ",".join(f"{k}={v}" for k, v in spec.params.items()) if spec.params else "")
                 for spec in resolve_rules(means)]
    claims_lb = None
    if claims is not None:
        claims_lb = claims if isinstance(claims, Leaderboard) else read_leaderboard(
            claims, system_column=claims_system_column)
    others = [o if isinstance(o, Leaderboard) else read_leaderboard(o) for o in compare_with]
    opts = {"means": list(means) if means else list(DEFAULT_MEANS), "means_requested": bool(means),
            "negatives": negatives, **options}
    return AuditContext(lb, recipe, ts, claims_lb, others, opts, notes=list(notes) + list(lb.notes) + ts.notes)


def run_checks(ctx: AuditContext, checks: list) -> list[Finding]:
    """Run checks in order. An AuditkitError (bad input) propagates; any other exception of a (third-party) check,
    or something that is not a Finding, is a PluginError naming the check (exit 2): a broken check must not pass
    for a finding (exit 1) or for a clean audit (exit 0)."""
    from auditkit.errors import PluginError

    findings: list[Finding] = []
    for check in checks:
        try:
            for f in check.run(ctx) or ():
                if not isinstance(f, Finding):
                    raise TypeError(f"yielded {type(f).__name__} {f!r:.60}, expected auditkit.Finding")
                findings.append(f)
        except AuditkitError:
            raise
        except Exception as exc:  # noqa: BLE001 - name the broken check instead of printing a traceback
            raise PluginError(f"check {check.name!r} failed: {type(exc).__name__}: {exc}") from exc
    return findings


def audit(file, *, checks: list[str] | None = None, command: str | None = None, **kwargs) -> Report:
    """Run the audit and return a :class:`auditkit.Report` (the Python API behind ``auditkit audit``)."""
    from auditkit.ranking import TIE_RULE

    ctx = build_context(file, **kwargs)
    chosen = selected_checks(checks, have_claims=ctx.claims is not None)
    findings = run_checks(ctx, chosen)
    lb = ctx.leaderboard
    inputs = {lb.source: lb.sha256}
    if ctx.claims is not None:
        inputs[ctx.claims.source] = ctx.claims.sha256
    for o in ctx.compare_with:
        inputs[o.source] = o.sha256
    by_check: dict[str, dict[str, int]] = {c.name: {"info": 0, "warning": 0, "error": 0} for c in chosen}
    for f in findings:
        by_check.setdefault(f.check, {"info": 0, "warning": 0, "error": 0})[f.severity] += 1
    summary = {"benchmark": ctx.recipe.name, "systems": len(lb), "checks_run": [c.name for c in chosen],
               "by_check": by_check, **ctx.summary}
    if ctx.notes:
        summary["notes"] = ctx.notes
    prov = provenance(command=command, inputs=inputs, recipe=f"{ctx.recipe.name} {ctx.recipe.version}",
                      means=ctx.means, negatives=ctx.options["negatives"], tie_rule=TIE_RULE,
                      checks=[c.name for c in chosen])
    title = f"auditkit audit: {lb.source} ({ctx.recipe.title})"
    return Report(title, findings, prov, summary, dict(ctx.tables))
