"""``task-set-consistency``: which task set and which reduction reproduce each number of a claims table?

A claims table is a paper's or a model card's table: a system column and aggregate columns named by mean (``AM``,
``GM``, ``HM``, ``arithmetic``, ``geometric``, ``harmonic``, ``mean``/``average``). For every row and every mean the
check searches the candidate task sets (official tasks; official plus diagnostics; multi-column tasks such as MNLI
split or merged; pair average or first metric only; the first k columns in the leaderboard's order) and keeps those
whose interval (cells +- half a displayed unit, mean evaluated at both ends) overlaps the claimed number +- half its
displayed unit. A table is consistent when one task set reproduces every number of a column (and every mean of a
row); otherwise the rows or means were computed on different task sets, the error Su Jianlin found in "How not to
Lie with a Benchmark" (shared/reference/leaderboards.md s4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from auditkit.errors import InputError
from auditkit.report import Finding

from .components import all_task_data, mean_interval, overlaps, unit_interval, units_for

CHECK = "task-set-consistency"
MEAN_PATTERNS = (
    ("arithmetic", re.compile(r"^(am|a\.m\.|arith\w*|average|avg|mean|score)\b", re.I)),
    ("geometric", re.compile(r"^(gm|g\.m\.|geo\w*)\b", re.I)),
    ("harmonic", re.compile(r"^(hm|h\.m\.|harm\w*)\b", re.I)),
)


@dataclass(frozen=True)
class Candidate:
    id: str
    label: str
    tasks: tuple[str, ...]
    split: bool
    first_only: bool
    n_terms: int


def mean_columns(claims) -> dict[str, str]:
    """Claims column -> aggregator name. Raises InputError when no column names a mean."""
    out = {}
    for col in claims.columns:
        if col == claims.system_column or not claims.is_numeric(col):
            continue
        for mean, rx in MEAN_PATTERNS:
            if rx.match(col.strip()):
                out[col] = mean
                break
    if not out:
        raise InputError(f"{claims.source}: no column of the claims table names a mean; columns are "
                         f"{', '.join(claims.columns)}. Name them AM/GM/HM or arithmetic/geometric/harmonic "
                         "(a column per mean, one row per system)")
    return out


def candidates(lb, recipe, data) -> list[Candidate]:
    """Candidate task sets in order of preference (the official rule first)."""
    from itertools import combinations

    official = [t.name for t in recipe.official_tasks if t.name in data] if not recipe.generic else list(data)
    diags = [t for t, d in data.items() if d.diagnostic]
    has_split = any(data[t].multi_column for t in official)
    has_pairs = any(data[t].values.shape[1] > 1 and not data[t].multi_column for t in data)
    sets = [("official", official)]
    for r in range(len(diags), 0, -1):
        for combo in combinations(diags, r):
            sets.append((f"official + {' + '.join(combo)}", official + list(combo)))
    out: list[Candidate] = []
    seen = set()

    def add(name, tasks, split, first):
        units = units_for(data, list(tasks), split=split)
        key = (tuple(u.name for u in units), first)
        if key in seen:
            return
        seen.add(key)
        desc = name
        if split:
            desc += " (" + ", ".join(t for t in tasks if data[t].multi_column) + " split into columns)"
        if first:
            desc += ", first metric of each pair"
        out.append(Candidate(f"{name}|{'split' if split else 'merged'}|{'first' if first else 'pair'}",
                             f"{desc} [{len(units)} terms]", tuple(tasks), split, first, len(units)))

    for first in ((False, True) if has_pairs else (False,)):
        for name, tasks in sets:
            for split in ((False, True) if has_split else (False,)):
                add(name, tasks, split, first)
    # the first k columns in the leaderboard's order (multi-column tasks split, diagnostics where they stand)
    order = sorted(data, key=lambda t: min(lb.columns.index(c) for c in data[t].columns))
    units = units_for(data, order, split=True)
    for k in range(1, len(units)):
        names = [u.name for u in units[:k]]
        tasks = list(dict.fromkeys(u.task for u in units[:k]))
        if any(data[t].multi_column and not all(c in names for c in data[t].columns) for t in tasks):
            continue  # a prefix that cuts a multi-column task in half is covered by the split sets below
        for first in ((False, True) if has_pairs else (False,)):
            add(f"first {k} columns ({names[0]} .. {names[-1]})", tasks, True, first)
    return out


def evaluate(data, cand: Candidate, row: int, mean: str, nan_rule: str):
    units = units_for(data, list(cand.tasks), split=cand.split)
    terms = [unit_interval(data[u.task], u, row, nan_rule=nan_rule, first_only=cand.first_only) for u in units]
    return mean_interval(terms, [u.weight for u in units], mean)


def task_set_consistency(ctx):
    from .matching import find_system

    claims, lb = ctx.claims, ctx.leaderboard
    if claims is None:
        return
    means = mean_columns(claims)
    data = all_task_data(lb, ctx.recipe)
    cands = candidates(lb, ctx.recipe, data)
    nan_rule = ctx.recipe.nan_in_composite if ctx.recipe.nan_in_composite in ("zero", "missing") else "zero"
    results: dict[tuple[int, str], list[int]] = {}
    table = []
    unmatched = []
    rows_used = []
    for r, name in enumerate(claims.systems):
        hits = find_system(lb, name)
        if not hits:
            unmatched.append(name)
            yield Finding(CHECK, "warning", f"claims row {name!r} matches no system of the leaderboard "
                          "(names are compared ignoring case, spacing and punctuation)", system=name,
                          evidence={"claims_line": claims.lines[r]})
            continue
        i = hits[0]
        rows_used.append(r)
        entry = {"system": name, "leaderboard_system": lb.systems[i]}
        for col, mean in means.items():
            pc = claims.parsed(col)
            if pc.missing[r] or np.isnan(pc.values[r, 0]):
                continue
            claimed, half = float(pc.values[r, 0]), float(pc.half_ulps[r, 0])
            ok, closest = [], None
            for k, c in enumerate(cands):
                iv = evaluate(data, c, i, mean, nan_rule)
                if iv is None or not np.isfinite(iv[0]):
                    continue
                if overlaps(iv, claimed, half):
                    ok.append(k)
                if closest is None or abs(iv[0] - claimed) < abs(closest[1] - claimed):
                    closest = (k, iv[0])
            results[(r, col)] = ok
            entry[col] = cands[ok[0]].label if ok else "(none)"
            if not ok:
                yield Finding(CHECK, "warning",
                              f"{col} = {claims.raw[r][claims.columns.index(col)]} is reproduced by no candidate task "
                              f"set under the {mean} mean"
                              + (f"; closest: {cands[closest[0]].label} gives {closest[1]:.3f}" if closest else ""),
                              system=name, column=col,
                              evidence={"claimed": claimed, "half_ulp": half, "mean": mean,
                                        "closest": None if closest is None else
                                        {"candidate": cands[closest[0]].id, "value": closest[1]}})
        if len(entry) > 2:
            table.append(entry)
    if len(table) > 0:
        ctx.add_table("claims: task set reproducing each number", table)
    # (a) each mean column across rows
    inconsistent = False
    for col, mean in means.items():
        sets = {r: set(results[(r, col)]) for r in rows_used if results.get((r, col))}
        if len(sets) < 2:
            continue
        common = set.intersection(*sets.values())
        if common:
            continue
        inconsistent = True
        groups = _groups(sets, cands)
        yield Finding(
            CHECK, "error",
            f"column {col} ({mean} mean): no single task set reproduces every row; the rows are only explained by "
            "different task sets: " + "; ".join(f"{', '.join(claims.systems[r] for r in rows)} -> {label}"
                                                for label, rows in groups),
            column=col,
            evidence={"mean": mean, "groups": [{"task_set": label, "rows": [claims.systems[r] for r in rows]}
                                               for label, rows in groups],
                      "per_row": {claims.systems[r]: [cands[k].id for k in sorted(s)] for r, s in sets.items()}})
    # (b) the means of each row
    for r in rows_used:
        sets = {col: set(results[(r, col)]) for col in means if results.get((r, col))}
        if len(sets) < 2:
            continue
        if set.intersection(*sets.values()):
            continue
        inconsistent = True
        yield Finding(
            CHECK, "error",
            "the means of this row are computed on different task sets: "
            + "; ".join(f"{col} -> {cands[min(s)].label}" for col, s in sets.items()),
            system=claims.systems[r],
            evidence={"per_mean": {col: [cands[k].id for k in sorted(s)] for col, s in sets.items()}})
    all_sets = [set(v) for v in results.values() if v]
    if all_sets and not inconsistent:
        common = set.intersection(*all_sets)
        if common:
            best = cands[min(common)]
            yield Finding(CHECK, "info", f"every claimed number ({len(all_sets)}) is reproduced by one task set: "
                          f"{best.label}", evidence={"task_set": best.id,
                                                     "also": [cands[k].id for k in sorted(common)][1:]})
    ctx.summary[CHECK] = {"claims": claims.source, "mean_columns": means, "rows": len(claims),
                          "unmatched_names": unmatched, "numbers": len(results),
                          "reproduced": sum(bool(v) for v in results.values()), "consistent": not inconsistent,
                          "candidates": len(cands)}


def _groups(sets: dict[int, set[int]], cands: list[Candidate]) -> list[tuple[str, list[int]]]:
    """Greedy cover: the candidate shared by most remaining rows first, labelled by its preferred description."""
    remaining = dict(sets)
    out = []
    while remaining:
        counts: dict[int, int] = {}
        for s in remaining.values():
            for k in s:
                counts[k] = counts.get(k, 0) + 1
        k = min(counts, key=lambda c: (-counts[c], c))
        rows = [r for r, s in remaining.items() if k in s]
        out.append((cands[k].label, rows))
        for r in rows:
            del remaining[r]
    return out
