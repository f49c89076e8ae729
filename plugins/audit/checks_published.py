"""``published-score``: recompute every published aggregate with the recipe and explain each mismatch.

Interval arithmetic: a cell displayed as ``91.1`` stands for [91.05, 91.15]; the recomputed score is the interval of
the recipe's mean over those cell intervals, and the published ``91.1`` is itself an interval. The two are
consistent when the intervals overlap, so honest rounding is never flagged (it is counted in the summary).
A mismatch is then tried against known recipe variants (a NaN inside a pair scored 0 or ignored, a 0.0 standing for
such a NaN, MNLI counted as two tasks, the diagnostic column included, the first metric of each pair only); a
variant that reproduces the number is named in a warning; a mismatch no variant explains is an error (likely data
entry).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from auditkit.report import Finding

from .components import all_task_data, mean_interval, unit_interval, units_for

CHECK = "published-score"


@dataclass
class Variant:
    id: str
    label: str
    tasks: list[str]
    split: bool = False
    nan_rule: str = "zero"
    zero_means_nan: bool = False
    first_only: bool = False
    applies: Callable[[int], bool] = lambda row: True


def variants(ctx, data) -> tuple[Variant, list[Variant]]:
    """The official rule and the variants worth trying."""
    ts, recipe = ctx.ts, ctx.recipe
    official = [t for t in ts.tasks if t in data]
    diags = [t for t, d in data.items() if d.diagnostic]
    multi_col = [t for t in official if data[t].multi_column]
    pairs = [t for t in official if data[t].values.shape[1] > 1 and not data[t].multi_column]
    rule = recipe.nan_in_composite if recipe.nan_in_composite in ("zero", "missing") else "zero"
    base = Variant("official", f"official rule ({recipe.name} {recipe.version})", official, nan_rule=rule)

    def has_nan_pair(row):
        return any(np.isnan(data[t].values[row]).any() and not data[t].missing[row] for t in pairs)

    def has_zero_pair(row):
        return any((data[t].values[row] == 0).any() for t in pairs)

    out = [
        Variant("nan-pair-ignored", "a NaN inside a pair ignored (the task scored by its other metric)", official,
                nan_rule="ignore", applies=has_nan_pair),
        Variant("nan-pair-zero", "a NaN inside a pair scored as 0 for the whole task", official, nan_rule="zero",
                applies=lambda row: rule != "zero" and has_nan_pair(row)),
        Variant("zero-as-nan-pair-zero", "a NaN shown as 0.0 in this snapshot: the pair scored 0 for the whole task",
                official, nan_rule=rule, zero_means_nan=True, applies=has_zero_pair),
    ]
    if multi_col:
        out.append(Variant("split-columns", " and ".join(f"{t} counted as {len(data[t].columns)} tasks "
                                                           f"({', '.join(data[t].columns)})" for t in multi_col),
                           official, split=True, nan_rule=rule))
    if diags:
        out.append(Variant("diagnostics-included", f"diagnostic column included ({', '.join(diags)})",
                           official + diags, nan_rule=rule))
    if multi_col and diags:
        out.append(Variant("split-columns+diagnostics", f"{', '.join(multi_col)} split and diagnostics "
                           f"({', '.join(diags)}) included", official + diags, split=True, nan_rule=rule))
    if pairs:
        out.append(Variant("first-metric-only", f"first metric of each pair only ({', '.join(pairs)}) instead of "
                           "the pair average", official, nan_rule=rule, first_only=True))
    return base, out


def score_variant(data, v: Variant, row: int, weights_from_recipe: bool = True):
    units = units_for(data, v.tasks, split=v.split)
    terms = [unit_interval(data[u.task], u, row, nan_rule=v.nan_rule, zero_means_nan=v.zero_means_nan,
                           first_only=v.first_only) for u in units]
    weights = [u.weight for u in units] if weights_from_recipe else [1.0] * len(units)
    return mean_interval(terms, weights, "arithmetic")


def _consistent(iv, pub, half):
    return iv is not None and iv[1] <= pub + half + 1e-9 and iv[2] >= pub - half - 1e-9


def run(ctx):
    """Per-row findings; with the generic recipe (no known rule) a mismatch is a warning, and when most rows
    mismatch a single warning says the published column is not the plain mean of the task columns."""
    findings = list(_run(ctx))
    stats = ctx.summary.get(CHECK, {})
    if ctx.recipe.generic and stats.get("unexplained"):
        bad = [f for f in findings if f.evidence.get("classification") == "unexplained"]
        if len(bad) > stats["compared"] / 2:
            findings = [f for f in findings if f not in bad]
            findings.append(Finding(
                CHECK, "warning",
                f"the published {stats['column']} is not the plain mean of the task columns the generic recipe uses "
                f"({len(bad)} of {stats['compared']} rows differ beyond rounding): the leaderboard's rule is unknown "
                "to auditkit; choose a recipe with --benchmark or restrict the tasks", column=stats["column"],
                evidence={"rows_differing": len(bad), "compared": stats["compared"],
                          "tasks": list(ctx.ts.tasks), "examples": [f.system for f in bad[:5]]}))
        else:
            for f in bad:
                f.severity = "warning"
                f.message += " (generic recipe: the leaderboard's rule is a guess)"
    yield from findings


def _run(ctx):
    ts, lb = ctx.ts, ctx.leaderboard
    if ts.published_column is None:
        ctx.summary[CHECK] = {"column": None, "note": "no published score column; nothing to recompute"}
        return
    data = all_task_data(lb, ctx.recipe)
    base, alts = variants(ctx, data)
    col = ts.published_column
    stats = {"column": col, "rule": ts.reduction, "compared": 0, "exact": 0, "rounding": 0, "explained": 0,
             "unexplained": 0, "not_reproducible": 0, "max_abs_difference_when_consistent": 0.0}
    for i in range(len(lb)):
        pub, half = ts.published_score[i], ts.published_half_ulp[i]
        if not np.isfinite(pub):
            continue
        raw_pub = ctx.raw(i, col)
        if i in ts.reasons:
            stats["not_reproducible"] += 1
            generic = ctx.recipe.generic
            yield Finding(CHECK, "info" if generic else "warning",
                          f"published {col} {raw_pub} cannot be reproduced: {ts.reasons[i]}"
                          + ("; how this leaderboard treats a missing task is unknown (generic recipe)" if generic
                             else f"; the {ctx.recipe.title} rule needs every official task, so a score beside a "
                                  "missing task was computed some other way"),
                          system=lb.systems[i], column=col,
                          evidence={"line": ctx.line(i), "published": pub, "reason": ts.reasons[i]})
            continue
        stats["compared"] += 1
        iv = score_variant(data, base, i)
        if _consistent(iv, pub, half):
            diff = iv[0] - pub
            stats["max_abs_difference_when_consistent"] = max(stats["max_abs_difference_when_consistent"], abs(diff))
            zeroed = [t for r, t in ts.nan_zeroed if r == i]
            if not zeroed:
                stats["exact" if abs(diff) <= half + 1e-9 else "rounding"] += 1
            else:
                # reproduced, but only because the recipe scores a NaN inside a pair as 0: say so
                alt = score_variant(data, alts[0], i) if alts and alts[0].id == "nan-pair-ignored" else None
                stats["explained"] += 1
                yield Finding(
                    CHECK, "warning",
                    f"published {col} {raw_pub} is reproduced only because a NaN inside "
                    f"{', '.join(zeroed)} is scored as 0 for the whole task (recomputed {iv[0]:.3f}); ignoring the "
                    f"NaN would give {alt[0]:.3f}" if alt else f"published {col} {raw_pub} reproduced with a NaN "
                    f"inside {', '.join(zeroed)} scored as 0",
                    system=lb.systems[i], column=zeroed[0],
                    evidence={"line": ctx.line(i), "published": pub, "published_half_ulp": half,
                              "classification": "explained", "variant": "nan-pair-zero",
                              "variant_label": "a NaN inside a pair scored as 0 for the whole task",
                              "recomputed": iv[0], "interval": [iv[1], iv[2]],
                              "raw_cells": {t: ctx.raw(i, data[t].columns[0]) for t in zeroed},
                              "if_nan_ignored": alt[0] if alt else None})
            continue
        matches = []
        for v in alts:
            if not v.applies(i):
                continue
            viv = score_variant(data, v, i)
            if _consistent(viv, pub, half):
                matches.append((v, viv))
        evidence = {"line": ctx.line(i), "published": pub, "published_half_ulp": half, "recomputed": iv[0],
                    "interval": [iv[1], iv[2]], "difference": iv[0] - pub, "rule": base.label}
        if matches:
            v, viv = matches[0]
            stats["explained"] += 1
            cells = {}
            if v.id in ("zero-as-nan-pair-zero", "nan-pair-ignored", "nan-pair-zero"):
                for t in v.tasks:
                    d = data[t]
                    if d.values.shape[1] > 1 and (np.isnan(d.values[i]).any() or (d.values[i] == 0).any()):
                        cells[t] = ctx.raw(i, d.columns[0]) if len(d.columns) == 1 else \
                            "/".join(ctx.raw(i, c) for c in d.columns)
            where = next(iter(cells), None)
            yield Finding(
                CHECK, "warning",
                f"published {col} {raw_pub} differs from the recomputed {iv[0]:.3f} under the official rule; "
                f"explained by a known recipe variant: {v.label} (gives {viv[0]:.3f})",
                system=lb.systems[i], column=where or col,
                evidence={**evidence, "classification": "explained", "variant": v.id, "variant_label": v.label,
                          "variant_score": viv[0], "variant_interval": [viv[1], viv[2]],
                          "also_explained_by": [m.id for m, _ in matches[1:]], "cells": cells})
        else:
            stats["unexplained"] += 1
            tried = []
            for v in alts:
                if v.applies(i):
                    viv = score_variant(data, v, i)
                    tried.append({"variant": v.id, "score": None if viv is None else viv[0]})
            yield Finding(
                CHECK, "error",
                f"published {col} {raw_pub} does not match the recomputed {iv[0]:.3f} (difference "
                f"{iv[0] - pub:+.3f}, beyond rounding) and no known recipe variant explains it: likely a data-entry "
                "error in the score or in a task cell",
                system=lb.systems[i], column=col,
                evidence={**evidence, "classification": "unexplained", "variants_tried": tried})
    ctx.summary[CHECK] = stats
