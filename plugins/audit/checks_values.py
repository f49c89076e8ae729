"""Checks on the cells themselves: ``nonpositive-values``, ``missing-values``, ``duplicate-systems``,
``scale-mismatch``, ``constant-predictor``, and ``human-baseline`` (the reference row as a reference, not a
competitor)."""

from __future__ import annotations

import re

import numpy as np

from auditkit.report import Finding

from .components import all_task_data

# -- known facts (each with its source) ---------------------------------------------------------------------------
KNOWN_REFERENCE_MISSING = {
    ("glue", "AX"): "the GLUE leaderboard shows '-' for the human AX (no human R3 on the diagnostic was published; "
                    "the MT-DNN paper, Liu et al. 2019, arXiv 1901.11504, Table 2, reproduces the row with AX '-')",
}
KNOWN_COPIES = {
    ("glue", "AX", 76.6): "equals the SuperGLUE human AX-b (76.6), probably copied from the SuperGLUE leaderboard",
}
CONSTANT_SIGNATURES = {
    "superglue": (
        ("AX-g", (100.0, 50.0), "perfect gender parity at 50% accuracy: the same class predicted for every example "
                                "(SuperGLUE paper: 'a system can trivially obtain a perfect gender parity score')"),
        ("AX-b", (-0.4,), "the MCC of a constant predictor on the broad-coverage diagnostic"),
        ("MultiRC", (0.0, 0.5), "F1a 0.0 / EM 0.5: no answer option ever selected"),
        ("ReCoRD", (14.0, 13.6), "the ReCoRD score of a trivial (random-entity) predictor"),
    ),
    "glue": (
        ("STS-B", (61.2, 58.7), "placeholder STS-B value shared by many low GLUE submissions"),
        ("QQP", (51.4, 79.1), "placeholder QQP value shared by many low GLUE submissions"),
        ("QNLI", (50.4,), "QNLI 50.4: chance level, placeholder shared by many low GLUE submissions"),
        ("MNLI", (56.0, 56.4), "MNLI 56/56.4: placeholder shared by many low GLUE submissions"),
    ),
}
SIGNATURE_SOURCE = "shared/reference/leaderboards.md s3.3 (constant-predictor signatures)"
LOWER_IS_BETTER = re.compile(r"loss|error|\berr\b|perplexity|\bppl\b|\bwer\b|\bcer\b|latency|\btime\b|distance|"
                             r"\bfid\b|\brank\b", re.I)
NONNEGATIVE_DOMAINS = ("positive", "nonnegative")


def _fmt_cell(d, row: int) -> str:
    v = d.values[row]
    return "/".join("NaN" if np.isnan(x) else f"{x:g}" for x in v)


def _task_raw(ctx, d, row):
    return "/".join(dict.fromkeys(ctx.raw(row, c) for c in d.columns)) if len(d.columns) > 1 else \
        ctx.raw(row, d.columns[0])


# -- nonpositive-values --------------------------------------------------------------------------------------------
def nonpositive_values(ctx):
    from auditkit.registry import get_registry

    data = all_task_data(ctx.leaderboard, ctx.recipe)
    requested = ctx.options.get("means_requested")
    needing = [m for m in ctx.means
               if get_registry().get("aggregators", m.split(":")[0]).domain in NONNEGATIVE_DOMAINS]
    official = set(ctx.ts.tasks)
    for name, d in data.items():
        for i in range(len(ctx.leaderboard)):
            if d.missing[i]:
                continue
            v = d.values[i]
            bad = np.isfinite(v) & (v <= 0)
            if not bad.any():
                continue
            neg = bool((v[bad] < 0).any())
            severity = "warning" if requested and needing and name in official else "info"
            kind = "negative" if neg else "zero"
            effect = ("undefined under a geometric or harmonic mean (a policy is needed: rescale, exclude)"
                      if neg else "the geometric and harmonic means of this row take the limit 0")
            msg = f"{name} = {_task_raw(ctx, d, i)} is {kind}: {effect}"
            if ctx.ts.recipe_task(name).value_range[0] < 0:
                msg += "; this metric is a correlation, not a rate"
            if name not in official:
                msg += f" (diagnostic, not in the official {ctx.recipe.title} score)"
            yield Finding("nonpositive-values", severity, msg, system=ctx.systems[i], column=d.columns[0],
                          evidence={"line": ctx.line(i), "task": name, "value": v.tolist(), "kind": kind,
                                    "in_official_task_set": name in official, "means_needing_positive": needing})
    for i, task in ctx.ts.nan_zeroed:
        yield Finding("nonpositive-values", "warning" if requested and needing else "info",
                      f"{task} is scored 0 (a NaN inside the pair, scored 0 by the recipe): geometric and harmonic "
                      "means of this row take the limit 0", system=ctx.systems[i], column=task,
                      evidence={"line": ctx.line(i), "task": task, "value": 0.0, "kind": "zero-from-nan"})


# -- missing-values ------------------------------------------------------------------------------------------------
def missing_values(ctx):
    from auditkit.taskscores import rank_column

    lb, ts = ctx.leaderboard, ctx.ts
    data = all_task_data(lb, ctx.recipe)
    reference = ctx.reference_rows()
    rank_col = rank_column(lb)
    if rank_col is not None and lb.parsed(rank_col).missing.all():
        rank_col = None  # an empty rank column (curated copies): nothing is ranked, nothing to report
    official = [t for t in ts.tasks if t in data]
    for i in range(len(lb)):
        absent = [t for t in data if data[t].missing[i]]
        if absent and len(absent) == len(data):
            yield Finding("missing-values", "info", "every task cell of this row is missing: it is not a result",
                          system=ctx.systems[i], evidence={"line": ctx.line(i)})
            continue
        miss_off = [t for t in official if data[t].missing[i]]
        if miss_off:
            pub = ts.published_score[i]
            state = "no published score, as the leaderboard does when a task is missing" if not np.isfinite(pub) \
                else f"yet a published score {pub:g} is shown"
            yield Finding("missing-values", "info" if not np.isfinite(pub) or ctx.recipe.generic else "warning",
                          f"{', '.join(miss_off)} missing "
                          f"({', '.join(repr(_task_raw(ctx, data[t], i)) for t in miss_off)}); "
                          f"{state}", system=ctx.systems[i], column=data[miss_off[0]].columns[0],
                          evidence={"line": ctx.line(i), "missing_tasks": miss_off})
        if rank_col is not None:
            rc = lb.parsed(rank_col)
            if rc.missing[i] and not (absent and len(absent) == len(data)):
                yield Finding("missing-values", "info",
                              f"not ranked ({rank_col} {ctx.raw(i, rank_col)!r}): listed but outside the ranking",
                              system=ctx.systems[i], column=rank_col, evidence={"line": ctx.line(i)})
        for t, d in data.items():
            if not d.missing[i] and np.isnan(d.values[i]).any():
                yield Finding("missing-values", "warning",
                              f"{t} shows {_task_raw(ctx, d, i)!r}: a NaN is a missing value, not a score"
                              + ("; the recipe scores the whole task 0" if ctx.recipe.nan_in_composite == "zero"
                                 and t in official else ""),
                              system=ctx.systems[i], column=d.columns[0],
                              evidence={"line": ctx.line(i), "task": t, "raw": _task_raw(ctx, d, i)})
    # imputed values: known facts and other snapshots
    imputed: dict[tuple[int, str], dict] = {}
    for (bench, task), fact in KNOWN_REFERENCE_MISSING.items():
        if bench != ctx.recipe.name or task not in data:
            continue
        d = data[task]
        for i in np.flatnonzero(reference & ~d.missing):
            e = imputed.setdefault((int(i), task), {"sources": []})
            e["sources"].append({"known_fact": fact})
            copy = KNOWN_COPIES.get((bench, task, float(d.values[i, 0])))
            if copy:
                e["copy"] = copy
    if ctx.compare_with:
        from auditkit.loading import resolve_recipe

        from .matching import match_rows

        for other in ctx.compare_with:
            odata = all_task_data(other, resolve_recipe(other, ctx.recipe.name)[0])
            pairs, _, _ = match_rows(lb, other)
            for i, j, _how in pairs:
                for t, d in data.items():
                    if t not in odata or d.missing[i]:
                        continue
                    od = odata[t]
                    here, there = d.values[i], od.values[j]
                    if od.missing[j]:
                        status = "'-'"
                    elif there.shape == here.shape and (np.isnan(there) & np.isfinite(here)).any():
                        status = "NaN"
                    else:
                        continue
                    e = imputed.setdefault((i, t), {"sources": []})
                    e["sources"].append({"snapshot": other.source, "system": other.systems[j],
                                         "raw": _task_raw_lb(other, od, j), "shows": status})
    for (i, t), e in sorted(imputed.items()):
        d = data[t]
        raw = _task_raw(ctx, d, i)
        where = []
        for s in e["sources"]:
            where.append(f"{s['snapshot']} shows {s['raw']!r}" if "snapshot" in s else s["known_fact"])
        zero = np.nanmin(np.where(np.isnan(d.values[i]), np.inf, d.values[i])) == 0
        what = "a 0 standing for a missing value" if zero else "an imputed value"
        msg = f"{t} = {raw!r} is {what}: " + "; ".join(where)
        if e.get("copy"):
            msg += f"; {raw} {e['copy']}"
        yield Finding("missing-values", "warning", msg, system=ctx.systems[i], column=d.columns[0],
                      evidence={"line": ctx.line(i), "task": t, "raw": raw, "kind": "imputed",
                                "reference_row": bool(reference[i]), **e})


def _task_raw_lb(lb, d, row):
    return "/".join(lb.raw[row][lb.columns.index(c)] for c in d.columns)


# -- duplicate-systems ---------------------------------------------------------------------------------------------
def duplicate_systems(ctx):
    from .matching import row_keys

    lb = ctx.leaderboard
    data = all_task_data(lb, ctx.recipe)
    keys = row_keys(lb, strict=True)  # punctuation matters here: 'BERT++' and 'BERT' are two systems
    groups: dict[str, list[int]] = {}
    for i, (_, model) in enumerate(keys):
        if model:
            groups.setdefault(model, []).append(i)
    teams = lb.teams()

    def cells(i):
        return tuple(_task_raw(ctx, d, i) for d in data.values())

    for rows in groups.values():
        if len(rows) < 2:
            continue
        differ = [t for t, d in data.items() if len({_task_raw(ctx, d, i) for i in rows}) > 1]
        pubs = [ctx.raw(i, ctx.ts.published_column) if ctx.ts.published_column else None for i in rows]
        same = "identical task cells" if not differ else f"task cells differ in {', '.join(differ)}"
        shown = re.sub(r" \| \d+$", "", ctx.systems[rows[0]])  # RankingNLPSystems numbers repeated names
        yield Finding("duplicate-systems", "warning",
                      f"{len(rows)} rows named {shown!r} (lines {', '.join(str(ctx.line(i)) for i in rows)}"
                      f"; teams {', '.join(sorted({t or '-' for t in (teams[i] for i in rows)}))}): {same}; "
                      "each takes a "
                      "place in the ranking", system=ctx.systems[rows[0]],
                      evidence={"lines": [ctx.line(i) for i in rows], "teams": [teams[i] for i in rows],
                                "systems": [ctx.systems[i] for i in rows], "published": pubs,
                                "differing_tasks": differ})
    by_cells: dict[tuple, list[int]] = {}
    for i in range(len(lb)):
        c = cells(i)
        if all(x.strip() in ("", "-") for x in c):
            continue
        by_cells.setdefault(c, []).append(i)
    for rows in by_cells.values():
        names = {keys[i][1] for i in rows}
        if len(rows) > 1 and len(names) > 1:
            yield Finding("duplicate-systems", "warning",
                          f"identical results in every task under different names: "
                          f"{', '.join(repr(ctx.systems[i]) for i in rows)}", system=ctx.systems[rows[0]],
                          evidence={"lines": [ctx.line(i) for i in rows], "systems": [ctx.systems[i] for i in rows]})


# -- scale-mismatch ------------------------------------------------------------------------------------------------
def scale_mismatch(ctx):
    data = all_task_data(ctx.leaderboard, ctx.recipe)
    stats = {}
    for t, d in data.items():
        v = d.values[np.isfinite(d.values)]
        if v.size:
            stats[t] = (float(v.min()), float(v.max()))
    if not stats:
        return
    for t, (lo, hi) in stats.items():
        spec = ctx.ts.recipe_task(t)
        rlo, rhi = spec.value_range
        others = [s for u, s in stats.items() if u != t]
        col = data[t].columns[0]
        if np.isfinite(rhi) and (hi > rhi or lo < rlo):
            yield Finding("scale-mismatch", "warning",
                          f"{t} holds values in [{lo:g}, {hi:g}], outside the recipe's declared range "
                          f"[{rlo:g}, {rhi:g}]",
                          column=col, evidence={"min": lo, "max": hi, "declared_range": [rlo, rhi]})
        if hi > 100 and others and all(o[1] <= 100 for o in others):
            yield Finding("scale-mismatch", "warning",
                          f"{t} goes up to {hi:g} (above 100, e.g. CIDEr) beside columns on a 0-100 scale: in a plain "
                          "mean it weighs more than the others", column=col,
                          evidence={"max": hi, "other_max": max(o[1] for o in others)})
        if 0 < hi <= 1.0 and others and any(o[1] > 1.0 for o in others):
            yield Finding("scale-mismatch", "warning",
                          f"{t} is on a 0-1 scale (max {hi:g}) beside columns on a 0-100 scale: multiply by 100 before "
                          "averaging", column=col, evidence={"max": hi, "other_max": max(o[1] for o in others)})
    if ctx.recipe.generic:
        lower = [t for t in data if LOWER_IS_BETTER.search(t)]
        if lower and len(lower) < len(data):
            yield Finding("scale-mismatch", "warning",
                          f"mixed directions: {', '.join(lower)} look lower-is-better (by name) beside "
                          "higher-is-better "
                          "columns; averaging them rewards worse results", column=data[lower[0]].columns[0],
                          evidence={"lower_is_better": lower})


# -- constant-predictor --------------------------------------------------------------------------------------------
def constant_predictor(ctx):
    sigs = CONSTANT_SIGNATURES.get(ctx.recipe.name, ())
    if not sigs:
        return
    data = all_task_data(ctx.leaderboard, ctx.recipe)
    for i in range(len(ctx.leaderboard)):
        hits = []
        for task, sig, meaning in sigs:
            d = data.get(task)
            if d is None or d.missing[i] or d.values.shape[1] != len(sig):
                continue
            if np.allclose(d.values[i], sig, atol=1e-9, rtol=0):
                hits.append((task, _task_raw(ctx, d, i), meaning, d.columns[0]))
        if hits:
            yield Finding("constant-predictor", "warning",
                          "known placeholder / constant-predictor signature: "
                          + "; ".join(f"{t} {raw} ({m})" for t, raw, m, _ in hits),
                          system=ctx.systems[i], column=hits[0][3],
                          evidence={"line": ctx.line(i), "signatures": [{"task": t, "raw": raw, "meaning": m}
                                                                        for t, raw, m, _ in hits],
                                    "source": SIGNATURE_SOURCE})


# -- human-baseline ------------------------------------------------------------------------------------------------
def task_columns_of(ctx, task: str) -> str:
    from .context import task_columns

    return task_columns(ctx.ts, task)[0]


def human_baseline(ctx):
    from dataclasses import replace

    from auditkit import DomainError, competition_rank
    from auditkit import rank as rank_under
    from auditkit.policies import apply_negatives
    from auditkit.registry import get_registry

    ref = ctx.reference_rows()
    if not ref.any():
        ctx.summary["human-baseline"] = {"note": "no reference (human) row"}
        return
    official = list(ctx.ts.tasks)
    diags = [t.name for t in ctx.recipe.diagnostic_tasks]
    sets = [("official", official)]
    if diags:
        sets.append(("official+diagnostics", official + diags))
    policy = ctx.options.get("negatives", "refuse")
    rows_out, verdicts = [], {}
    for set_name, tasks in sets:
        ts = ctx.ts if set_name == "official" else ctx.task_scores(tasks)
        if ts is None:
            continue
        ts = replace(ts, reference=ref.copy())
        for mean in ctx.means:
            agg = get_registry().get("aggregators", mean.split(":")[0])
            excluded = []
            try:  # the one negative-cell policy of every command (auditkit.policies)
                use, note, _ = apply_negatives(ts, policy, [agg])
            except DomainError as exc:
                label = f"{set_name} ({len(tasks)} tasks)"
                for h in np.flatnonzero(ref):
                    rows_out.append({"reference": ctx.systems[h], "task_set": set_name, "tasks": len(tasks),
                                     "mean": mean, "score": None, "rank": None, "systems_above": None,
                                     "systems_scored": None, "humans_first": None, "note": str(exc)})
                    yield Finding("human-baseline", "info",
                                  f"{label}, {mean} mean: not computed under --negatives {policy}: {exc}",
                                  system=ctx.systems[h], evidence={"task_set": tasks, "mean": mean,
                                                                   "negatives": policy})
                continue
            if note.endswith("(no negative cells)") or "kept as they are" in note:
                note = None
            else:
                excluded = [ctx.systems[i] for i in use.reasons if i not in ts.reasons]
            scores = rank_under(use, mean).scores
            systems = np.flatnonzero(~ref & np.isfinite(scores))
            for h in np.flatnonzero(ref):
                label = f"{set_name} ({len(tasks)} tasks)"
                if not np.isfinite(scores[h]):
                    why = use.reasons.get(int(h), "not scorable")
                    rows_out.append({"reference": ctx.systems[h], "task_set": set_name, "tasks": len(tasks),
                                     "mean": mean, "score": None, "rank": None, "systems_above": None,
                                     "systems_scored": int(systems.size), "humans_first": None, "note": why})
                    yield Finding("human-baseline", "info",
                                  f"{label}, {mean} mean: the reference row cannot be scored ({why})",
                                  system=ctx.systems[h], evidence={"task_set": tasks, "mean": mean, "reason": why})
                    continue
                ranks = competition_rank(np.append(scores[systems], scores[h]))
                rank = int(ranks[-1])
                above = int((scores[systems] > scores[h]).sum())
                first = above == 0
                verdicts.setdefault(ctx.systems[h], {})[(set_name, mean)] = first
                imputed = [t for t in tasks if (ctx.recipe.name, t) in KNOWN_REFERENCE_MISSING]
                if imputed:
                    cells = ", ".join(f"{t} {ctx.raw(h, task_columns_of(ctx, t))}" for t in imputed)
                    caveat = f"uses {cells}, a value the leaderboard shows as '-' (see missing-values)"
                    note = f"{note}; {caveat}" if note else caveat
                rows_out.append({"reference": ctx.systems[h], "task_set": set_name, "tasks": len(tasks),
                                 "mean": mean, "score": round(float(scores[h]), 4), "rank": rank,
                                 "systems_above": above, "systems_scored": int(systems.size), "humans_first": first,
                                 "note": note})
                beaten_by = [ctx.systems[s] for s in systems[np.argsort(-scores[systems])][:above]][:5]
                yield Finding(
                    "human-baseline", "info",
                    f"{label}, {mean} mean: reference scores {scores[h]:.2f}, rank {rank} of {systems.size + 1}; "
                    f"{above} system(s) exceed it: 'beats humans' {'holds' if above else 'does not hold'}, "
                    f"'humans still first' {'holds' if first else 'does not hold'}"
                    + (f" (caveat: {note.split('; ')[-1]})" if imputed else ""),
                    system=ctx.systems[h],
                    evidence={"task_set": tasks, "mean": mean, "score": float(scores[h]), "rank": rank,
                              "systems_above": above, "systems_scored": int(systems.size),
                              "top_systems_above": beaten_by, "negatives": note, "excluded_rows": excluded,
                              "tie_rule": "competition ranking (1224)"})
    for name, v in verdicts.items():
        if len(set(v.values())) > 1:
            holds = sorted(f"{s} / {m}" for (s, m), ok in v.items() if ok)
            fails = sorted(f"{s} / {m}" for (s, m), ok in v.items() if not ok)
            yield Finding("human-baseline", "warning",
                          f"'humans still first' depends on the choice of columns or mean: holds for "
                          f"{'; '.join(holds)}; fails for {'; '.join(fails)}. A claim about human level must name "
                          "its task set and mean", system=name,
                          evidence={"holds": holds, "fails": fails, "negatives_policy": policy})
    ctx.add_table("human baseline", rows_out)
    ctx.summary["human-baseline"] = {"negatives_policy": policy, "rows": rows_out}
