"""Policies for odd cells, applied to task scores before any rule sees them: one vocabulary for every command.

- ``--negatives`` (what rules defined for nonnegative values do with negative cells): ``refuse`` (default: stop and
  say which cell), ``rescale`` (map a task's declared range [lo, hi] onto [0, hi]), ``exclude-task``,
  ``exclude-row`` (such rows are listed, not scored).
- ``--out-of-range`` (a cell outside its task's declared range, such as ``755`` on a 0-100 task or ``1,234.5``
  read as a number): ``refuse`` (default: stop and name the cell) or ``keep`` (use it, with a note naming it).
- ``--missing`` (a task cell that is empty, ``-`` or NaN): ``exclude-row`` (default: the row is listed with the
  reason, not scored), ``refuse`` (stop and name the cell), ``skip`` (HELM's "mean over the tasks present": the
  row is aggregated over its available tasks, weights renormalized; rules that compare systems task by task refuse
  it), ``zero`` (the cell scores 0, as the GLUE server did with NaN).

Every function returns the new task scores and a one-line description of what was done, which the footer prints
and the JSON records under ``policies``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .errors import DomainError, InputError, UsageError, unknown_name

NEGATIVE_POLICIES = ("refuse", "rescale", "exclude-task", "exclude-row")
MISSING_POLICIES = ("exclude-row", "refuse", "skip", "zero")
RANGE_POLICIES = ("refuse", "keep")
DEFAULT_NEGATIVES = "refuse"
DEFAULT_MISSING = "exclude-row"
DEFAULT_RANGE = "refuse"


def _cells(ts, mask, limit: int = 5) -> str:
    cells = [f"{ts.systems[i]} {ts.tasks[j]}={ts.observed[i, j]:g}" for i, j in zip(*np.nonzero(mask))]
    return ", ".join(cells[:limit]) + (f" and {len(cells) - limit} more" if len(cells) > limit else "")


def apply_out_of_range(ts, policy: str = DEFAULT_RANGE):
    """Refuse (default) or keep, with a note, the cells outside their task's declared range."""
    if policy not in RANGE_POLICIES:
        raise unknown_name("out-of-range policy", policy, RANGE_POLICIES)
    if not ts.out_of_range:
        return ts, f"{policy} (every cell inside its task's range)"
    lb = ts.leaderboard
    row, task, column, raw, lo, hi = ts.out_of_range[0]
    if policy == "refuse":
        from .errors import ParseError

        raise ParseError(f"value outside task {task!r}'s declared range [{lo:g}, {hi:g}] "
                         f"({len(ts.out_of_range)} such cell(s))", source=lb.source, line=lb.lines[row],
                         column=column, value=raw,
                         hint=f"system {ts.systems[row]!r}; a percentage written on another scale or a misparsed "
                              "separator? Fix the cell, or pass --out-of-range keep to use it as it is")
    cells = ", ".join(f"{ts.systems[r]} {t}={v!r} (line {lb.lines[r]})" for r, t, _, v, _, _ in ts.out_of_range[:5])
    more = f" and {len(ts.out_of_range) - 5} more" if len(ts.out_of_range) > 5 else ""
    return ts, f"keep: {len(ts.out_of_range)} cell(s) outside their task's range used as they are: {cells}{more}"


def apply_missing(ts, policy: str = DEFAULT_MISSING, rules=()):
    """Apply the missing-cell policy. ``rules`` are the Aggregator records about to be used (``skip`` refuses
    candidate-dependent ones: a system's Borda or Copeland score over other tasks than its rivals' means nothing)."""
    if policy not in MISSING_POLICIES:
        raise unknown_name("missing-cell policy", policy, MISSING_POLICIES)
    rows = sorted(ts.missing_rows)
    if policy == "skip":  # a row with no value at all has nothing to average: it stays listed, unscored
        rows = [r for r in rows if not ts.missing[r].all()]
    if not rows:
        return ts, f"{policy} (no missing cells)"
    if policy == "exclude-row":
        return ts, f"exclude-row: {len(rows)} row(s) with missing cells listed, not scored"
    first = rows[0]
    j = int(np.flatnonzero(ts.missing[first])[0])
    if policy == "refuse":
        lb = ts.leaderboard
        raise InputError(f"{lb.source}: line {lb.lines[first]}: system {ts.systems[first]!r} has no value for "
                         f"task {ts.tasks[j]!r} ({ts.reasons[first]}); {len(rows)} row(s) have missing cells. "
                         "Choose --missing exclude-row (list them unscored), skip (mean over the tasks present) "
                         "or zero (score the cell 0)")
    values = ts.values.copy()
    reasons = dict(ts.reasons)
    for r in rows:
        values[r] = ts.observed[r]
        del reasons[r]
    cells = ", ".join(f"{ts.systems[r]} ({', '.join(ts.tasks[k] for k in np.flatnonzero(ts.missing[r]))})"
                      for r in rows[:8]) + (f" and {len(rows) - 8} more" if len(rows) > 8 else "")
    if policy == "zero":
        for r in rows:
            values[r, ts.missing[r]] = 0.0
        return (replace(ts, values=values, reasons=reasons, missing_rows=frozenset()),
                f"zero: missing cells scored 0: {cells}")
    dependent = [r.name for r in rules if r.candidate_dependent]
    if dependent:
        raise UsageError(f"--missing skip cannot be used with {', '.join(dependent)}: these rules compare systems "
                         "task by task, so scoring a row over other tasks than the rest is undefined; use "
                         "--missing exclude-row or zero")
    return (replace(ts, values=values, reasons=reasons, missing_rows=frozenset()),
            f"skip: {len(rows)} row(s) aggregated over the tasks present (weights renormalized): {cells}")


def apply_negatives(ts, policy: str = DEFAULT_NEGATIVES, rules=()):
    """Apply the negative-cell policy for the Aggregator records ``rules``. Returns (task scores, policy text,
    notes); zero cells under a geometric/harmonic mean are noted (their limit is 0) or refused (domain
    ``positive``)."""
    from .taskscores import task_scores

    if policy not in NEGATIVE_POLICIES:
        raise unknown_name("negative-value policy", policy, NEGATIVE_POLICIES)
    needs = [r.name for r in rules if r.domain in ("positive", "nonnegative")]
    strict = [r.name for r in rules if r.domain == "positive"]
    ok = ts.scorable
    with np.errstate(invalid="ignore"):
        neg = (ts.values < 0) & ok[:, None]
        zero = (ts.values == 0) & ok[:, None]
    notes = []
    if needs and zero.any():
        if strict:
            raise DomainError(f"{', '.join(strict)} needs positive values; zero cells: {_cells(ts, zero)}")
        notes.append(f"zero cells give the limit 0 under {', '.join(needs)}: {_cells(ts, zero, 8)}")
    if not neg.any():
        return ts, f"{policy} (no negative cells)", notes
    if not needs:
        return ts, (f"{policy}: {int(neg.sum())} negative cell(s) kept as they are (no chosen rule needs "
                    "nonnegative values)"), notes
    bad_tasks = sorted(set(np.nonzero(neg)[1]))
    i, j = next(zip(*np.nonzero(neg)))
    lb = ts.leaderboard
    if policy == "refuse":
        raise DomainError(
            f"{lb.source}: line {lb.lines[i]}: {', '.join(needs)} is undefined for negative values: system "
            f"{ts.systems[i]!r}, task {ts.tasks[j]!r}, value {ts.values[i, j]:g}; {int(neg.sum())} negative "
            f"cell(s) in {', '.join(ts.tasks[k] for k in bad_tasks)}. Choose a policy: --negatives rescale (map a "
            "correlation task from [-100, 100] to [0, 100]), --negatives exclude-task, --negatives exclude-row, "
            "or leave the task out with --exclude")
    if policy == "exclude-row":
        reasons = dict(ts.reasons)
        values = ts.values.copy()
        rows = sorted(set(np.nonzero(neg)[0]))
        for r in rows:
            reasons[r] = f"negative value in {', '.join(ts.tasks[k] for k in np.flatnonzero(neg[r]))} " \
                         "(--negatives exclude-row)"
            values[r, :] = np.nan
        return (replace(ts, values=values, reasons=reasons),
                f"exclude-row: {len(rows)} row(s) with negative cells not scored", notes)
    if policy == "exclude-task":
        keep = [t for k, t in enumerate(ts.tasks) if k not in bad_tasks]
        if not keep:
            raise UsageError("every task has a negative cell; nothing left after --negatives exclude-task")
        new = task_scores(ts.leaderboard, ts.recipe, tasks=keep, lower_is_better=ts.lower_is_better_names())
        return new, f"exclude-task: dropped {', '.join(ts.tasks[k] for k in bad_tasks)}", notes
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
    return replace(ts, values=values, half_ulps=ulps), "rescale: " + "; ".join(done), notes
