"""``auditkit diff OLD NEW``: what changed between two dated snapshots of one leaderboard.

Systems are matched with :mod:`.matching` (team and model first, then model name; repeated names in order). Task
cells are compared as numbers per metric (so ``92`` vs ``92.0`` or a composite vs pre-split columns is no change,
but ``NaN/99.8`` vs ``00.0/99.8`` or ``-`` vs ``76.6`` is). Findings (check ids):

- ``diff-added`` / ``diff-removed`` (info): systems only in NEW / only in OLD;
- ``diff-edited-cell`` (warning): a task cell of a system present in both changed retroactively;
- ``diff-published-score`` (info when the row's cells changed too and the recipe reproduces the new score,
  warning otherwise): the published score of a system changed;
- ``diff-rank-flip`` (info): two systems present in both whose order by published score reversed;
- ``diff-published-column`` (info): the published score column is named differently (LiveBench names it by
  release: ``livebench_240624`` vs ``livebench_240725``);
- ``diff-reference-rank`` (info): the published rank of a reference (human) row moved;
- ``diff-reproduction``: the ``published-score`` check on each snapshot (its findings, prefixed OLD/NEW, keep
  their severity).
"""

from __future__ import annotations

import numpy as np

from auditkit.errors import UsageError
from auditkit.report import Finding, Report, provenance

from .components import all_task_data
from .matching import match_rows


def _raw(lb, d, row):
    return "/".join(lb.raw[row][lb.columns.index(c)] for c in d.columns)


def _same(a, b) -> bool:
    if a.shape != b.shape:
        return False
    na, nb = np.isnan(a), np.isnan(b)
    return bool((na == nb).all() and np.allclose(a[~na], b[~nb], atol=1e-9, rtol=0))


def diff(old, new, *, benchmark: str | None = None, command: str | None = None) -> Report:
    from auditkit.leaderboard import Leaderboard, read_leaderboard
    from auditkit.ranking import TIE_RULE
    from auditkit.loading import resolve_recipe

    from . import checks_published
    from .context import build_context

    lo = old if isinstance(old, Leaderboard) else read_leaderboard(old)
    ln = new if isinstance(new, Leaderboard) else read_leaderboard(new)
    ro, _ = resolve_recipe(lo, benchmark)
    rn, _ = resolve_recipe(ln, benchmark)
    if ro.name != rn.name:
        raise UsageError(f"the snapshots look like different benchmarks: {lo.source} -> {ro.name}, {ln.source} -> "
                         f"{rn.name}; pass --benchmark to compare them under one recipe")
    co = build_context(lo, benchmark=ro.name)
    cn = build_context(ln, benchmark=rn.name)
    findings: list[Finding] = []
    do, dn = all_task_data(lo, ro), all_task_data(ln, rn)
    common = [t for t in do if t in dn]

    def similarity(i, j):  # repeated names (four RefBERT rows) pair with the row whose cells agree most
        return sum(do[t].missing[i] == dn[t].missing[j] and _same(do[t].values[i], dn[t].values[j]) for t in common)

    pairs, removed, added = match_rows(lo, ln, similarity)
    for i in removed:
        findings.append(Finding("diff-removed", "info", f"only in OLD (line {lo.lines[i]}): removed from the "
                                "leaderboard or renamed", system=lo.systems[i],
                                evidence={"old_line": lo.lines[i], "published": _pub(co.ts, i)}))
    for j in added:
        findings.append(Finding("diff-added", "info", f"only in NEW (line {ln.lines[j]})", system=ln.systems[j],
                                evidence={"new_line": ln.lines[j], "published": _pub(cn.ts, j)}))
    edited_rows: set[int] = set()
    n_edited = 0
    for i, j, how in pairs:
        for t in common:
            a, b = do[t], dn[t]
            if a.missing[i] and b.missing[j]:
                continue
            if a.missing[i] != b.missing[j] or not _same(a.values[i], b.values[j]):
                n_edited += 1
                edited_rows.add(j)
                findings.append(Finding(
                    "diff-edited-cell", "warning",
                    f"{t} changed: {_raw(lo, a, i)!r} (OLD) -> {_raw(ln, b, j)!r} (NEW), a retroactive edit or a "
                    "resubmission under the same name",
                    system=ln.systems[j], column=t,
                    evidence={"old": _raw(lo, a, i), "new": _raw(ln, b, j), "old_line": lo.lines[i],
                              "new_line": ln.lines[j], "matched_by": how}))
    # published scores
    to, tn = co.ts, cn.ts
    repro_new = {}
    new_findings = list(checks_published.run(cn))
    old_findings = list(checks_published.run(co))
    for f in new_findings:
        if f.evidence.get("line") is not None:
            repro_new[f.evidence["line"]] = f.evidence.get("classification", "not reproducible")
    n_pub = 0
    for i, j, _ in pairs:
        po, pn = to.published_score[i], tn.published_score[j]
        if not (np.isfinite(po) or np.isfinite(pn)):
            continue
        if np.isfinite(po) and np.isfinite(pn) and abs(po - pn) < 1e-9:
            continue
        n_pub += 1
        status = repro_new.get(ln.lines[j], "reproduced")
        explained = j in edited_rows and status in ("reproduced", "explained")
        findings.append(Finding(
            "diff-published-score", "info" if explained else "warning",
            f"published score {_fmt(po)} (OLD) -> {_fmt(pn)} (NEW)"
            + ("; the task cells changed too and the recipe reproduces the new score" if explained else
               "; " + ("the task cells changed but the new score is " + status if j in edited_rows
                       else "no task cell changed")),
            system=ln.systems[j], column=tn.published_column,
            evidence={"old": _pub(to, i), "new": _pub(tn, j), "cells_changed": j in edited_rows,
                      "new_reproduction": status}))
    # rank flips by published score (rank_flips: linear-log plus the flips, pairs in the order of `both`)
    both = [(i, j) for i, j, _ in pairs if np.isfinite(to.published_score[i]) and np.isfinite(tn.published_score[j])]
    flips = 0
    x = np.array([to.published_score[i] for i, _ in both], float)
    y = np.array([tn.published_score[j] for _, j in both], float)
    for a, b in zip(*rank_flips(x, y)):
        (i1, j1), (i2, j2) = both[a], both[b]
        flips += 1
        findings.append(Finding(
            "diff-rank-flip", "info",
            f"order reversed: {ln.systems[j1]} {_fmt(to.published_score[i1])} vs {ln.systems[j2]} "
            f"{_fmt(to.published_score[i2])} (OLD) -> {_fmt(tn.published_score[j1])} vs "
            f"{_fmt(tn.published_score[j2])} (NEW)", system=ln.systems[j1],
            evidence={"other": ln.systems[j2],
                      "old": [_pub(to, i1), _pub(to, i2)], "new": [_pub(tn, j1), _pub(tn, j2)]}))
    if to.published_column and tn.published_column and to.published_column != tn.published_column:
        findings.append(Finding("diff-published-column", "info",
                                f"the published score column is {to.published_column!r} in OLD and "
                                f"{tn.published_column!r} in NEW: if the names carry a release, the snapshots score "
                                "different question sets and changed cells are expected", column=tn.published_column,
                                evidence={"old": to.published_column, "new": tn.published_column}))
    ref_o, ref_n = co.reference_rows(), cn.reference_rows()
    for i, j, _ in pairs:
        if ref_o[i] and ref_n[j]:
            ro_, rn_ = to.published_rank[i], tn.published_rank[j]
            if np.isfinite(ro_) and np.isfinite(rn_) and ro_ != rn_:
                findings.append(Finding("diff-reference-rank", "info",
                                        f"reference row's published rank {int(ro_)} (OLD) -> {int(rn_)} (NEW): "
                                        "any statement about human level depends on the snapshot",
                                        system=ln.systems[j], evidence={"old_rank": int(ro_), "new_rank": int(rn_)}))
    for tag, fs in (("OLD", old_findings), ("NEW", new_findings)):
        for f in fs:
            findings.append(Finding("diff-reproduction", f.severity, f"[{tag}] {f.message}", system=f.system,
                                    column=f.column, evidence={"snapshot": tag, **f.evidence}))
    summary = {"benchmark": ro.name, "old": lo.source, "new": ln.source, "old_systems": len(lo),
               "new_systems": len(ln), "matched": len(pairs), "added": len(added), "removed": len(removed),
               "edited_cells": n_edited, "published_changed": n_pub, "rank_flips": flips,
               "reproduction": {"old": co.summary.get("published-score"), "new": cn.summary.get("published-score")},
               "common_tasks": common}
    tables = {}
    if added:
        tables["added systems"] = [{"system": ln.systems[j], "published": _pub(tn, j)} for j in added]
    if removed:
        tables["removed systems"] = [{"system": lo.systems[i], "published": _pub(to, i)} for i in removed]
    prov = provenance(command=command, inputs={lo.source: lo.sha256, ln.source: ln.sha256},
                      recipe=f"{ro.name} {ro.version}", tie_rule=TIE_RULE)
    return Report(f"auditkit diff: {lo.source} -> {ln.source} ({ro.title})", findings, prov, summary, tables)


def rank_flips(x: np.ndarray, y: np.ndarray, block: int = 1 << 20) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (a, b), a < b, in lexicographic order, whose order by ``x`` and by ``y`` is strictly reversed:
    ``sign(x[a] - x[b]) * sign(y[a] - y[b]) < 0``.

    O(m log m + W) for m systems: one sort by ``x``; every flipped pair has an end ``p`` with the smaller ``x``,
    and its partners ``q`` lie after ``p``'s tie group and before the last position whose suffix minimum of ``y``
    is below ``y[p]`` (a binary search in that non-decreasing array). Only those windows (W positions in all,
    about the number of flips plus a few neighbours each when the snapshots differ locally) are compared, in
    blocks of about ``block`` positions so that memory stays bounded."""
    m = x.size
    empty = np.empty(0, np.int64)
    if m < 2:
        return empty, empty
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])
    group_end = np.r_[starts[1:], m][np.cumsum(np.r_[True, xs[1:] != xs[:-1]]) - 1]
    suffix_min = np.minimum.accumulate(ys[::-1])[::-1]
    window_end = np.searchsorted(suffix_min, ys, side="left")       # q < window_end  <=>  suffix_min[q] < ys[p]
    lengths = np.maximum(window_end - group_end, 0)
    ends = np.cumsum(lengths)
    found_a, found_b = [empty], [empty]
    first = 0
    while first < m:                                 # blocks of systems with about `block` window positions each
        last = max(first + 1, int(np.searchsorted(ends, (ends[first - 1] if first else 0) + block, side="right")))
        length = lengths[first:last]
        p = np.repeat(np.arange(first, last), length)
        offset = np.arange(p.size) - np.repeat(np.cumsum(length) - length, length)
        q = group_end[p] + offset
        hit = ys[q] < ys[p]                          # xs[q] > xs[p] by construction
        found_a.append(order[p[hit]])
        found_b.append(order[q[hit]])
        first = last
    a, b = np.concatenate(found_a), np.concatenate(found_b)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    k = np.lexsort((hi, lo))
    return lo[k], hi[k]


def _pub(ts, i):
    v = ts.published_score[i]
    return float(v) if np.isfinite(v) else None


def _fmt(v) -> str:
    return f"{v:g}" if np.isfinite(v) else "-"
