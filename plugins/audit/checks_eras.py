"""``recipe-era``: which dated version of a recipe does each published average match?

A leaderboard that changed its task set over time (Open LLM Leaderboard v1: 4 tasks until November 2023, 7 with DROP
in late 2023, 6 from December 2023) has one recipe record per era, named ``<family>@<date>`` beside the final
``<family>``. For every row with a published score this check recomputes the plain mean under each era whose columns
are present and says which era's average it reproduces (within the rounding of the cells and of the published
number). A row that matches another era but not the applied recipe is not a data-entry error: it is a row from
that period, and the finding names the ``--benchmark`` that audits it.
"""

from __future__ import annotations

import numpy as np

from auditkit.report import Finding

CHECK = "recipe-era"


def family_of(name: str) -> str:
    return name.split("@", 1)[0]


def eras_of(recipe, recipes) -> list:
    """All recipe records of ``recipe``'s family (``openllm-v1``, ``openllm-v1@2023-06``, ...), oldest first, the
    undated final record last."""
    fam = family_of(recipe.name)
    found = {r.name: r for r in recipes.values() if family_of(r.name) == fam and not r.generic}
    return sorted(found.values(), key=lambda r: ("@" not in r.name, r.name))


def era_means(lb, era):
    """(plain mean over the era's official tasks per row, its rounding half-width) or None when a column is
    missing. Cells that are missing or unscorable give NaN."""
    from auditkit.errors import AuditkitError
    from auditkit.taskscores import task_scores

    try:
        ts = task_scores(lb, era)
    except AuditkitError:
        return None
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(np.where(np.isfinite(ts.values), ts.values, np.nan), axis=1) \
            if ts.values.size else np.full(len(lb.systems), np.nan)
        width = np.mean(ts.half_ulps, axis=1) if ts.values.size else np.zeros(len(lb.systems))
    incomplete = ~np.all(np.isfinite(ts.values), axis=1)
    mean = np.where(incomplete, np.nan, mean)
    return mean, width, ts


def recipe_era(ctx):
    import auditkit

    recipes = auditkit.get_registry().records("recipes")
    eras = eras_of(ctx.recipe, recipes)
    if len(eras) < 2:
        return
    ts = ctx.ts
    published = np.asarray(ts.published_score, dtype=np.float64)
    if not np.any(np.isfinite(published)):
        return
    pub_half = np.asarray(ts.published_half_ulp, dtype=np.float64)
    results = {}
    for era in eras:
        got = era_means(ctx.leaderboard, era)
        if got is not None:
            results[era.name] = got
    if not results:
        return
    applied = ctx.recipe.name
    rows, counts = [], {name: 0 for name in results}
    counts["none"] = 0
    findings = []
    for i, system in enumerate(ctx.systems):
        if not np.isfinite(published[i]):
            continue
        matches = []
        recomputed = {}
        for name, (mean, width, _) in results.items():
            recomputed[name] = None if not np.isfinite(mean[i]) else round(float(mean[i]), 4)
            if np.isfinite(mean[i]) and abs(mean[i] - published[i]) <= pub_half[i] + width[i] + 1e-9:
                matches.append(name)
        for name in matches:
            counts[name] += 1
        if not matches:
            counts["none"] += 1
        rows.append({"system": system, "line": ctx.line(i), "published": float(published[i]), **recomputed,
                     "matches": ", ".join(matches) if matches else "none"})
        if matches and applied not in matches:
            other = recipes[matches[0]] if matches[0] in recipes else None
            label = f"{matches[0]} ({other.title})" if other is not None else matches[0]
            findings.append(Finding(
                CHECK, "warning",
                f"published {ts.published_column or 'score'} {published[i]:g} does not match {applied} "
                f"({recomputed.get(applied)}) but matches {label}: a row from that era, not a data-entry error; "
                f"audit it with --benchmark {matches[0]}",
                system=system, column=ts.published_column,
                evidence={"published": float(published[i]), "recomputed": recomputed, "matches": matches,
                          "line": ctx.line(i)}))
    ctx.add_table("recipe eras", rows)
    ctx.summary[CHECK] = {"applied": applied, "eras": list(results), "rows_matching": counts}
    parts = [f"{name}: {n}" for name, n in counts.items() if n]
    findings.append(Finding(CHECK, "info", f"published averages by the era they match ({', '.join(parts)}); "
                                           f"applied recipe {applied}",
                            evidence={"rows_matching": counts, "eras": list(results)}))
    yield from findings
