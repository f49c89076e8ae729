"""Compare recomputed task scores with the aggregates a harness reported, and explain every mismatch.

For each reported aggregate, in order:

1. **reproduced**: |recomputed - reported| <= tolerance (info when the harness scored a subset: see 4);
2. **normalization**: reported = 100 x recomputed (a 0-100 scale) or recomputed / 100;
3. **different filter / metric**: the reported value is what another filter (lm-eval ``strict-match`` vs
   ``flexible-extract``) or a sibling metric (``acc`` vs ``acc_norm``) of the same system and task gives;
4. **subset evaluated**: the harness says it scored fewer instances than the dataset has (``--limit``), or the
   reported value is the mean over the first N instances of the log (N from the harness, or the smallest N that
   gives it);
5. **missing instances**: the log has fewer instances than the harness scored, and the reported value is reachable
   by some values of the missing ones (in [0, 1] when the sums show every score is there: 0 <= sum v^2 <= sum v <= n;
   the implied mean of the missing ones is shown);
6. otherwise **unexplained**.

Each outcome is an :class:`auditkit.Finding` of the check ``instances.reported`` with the evidence.
"""

from __future__ import annotations

import math

import numpy as np

CHECK = "instances.reported"


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= tol + 1e-12 * max(1.0, abs(a), abs(b))


def prefix_means(iset, system: str, task: str, metric: str) -> np.ndarray | None:
    """Running mean over instances in log order (instance values averaged over samples), for in-memory sets."""
    if not iset.in_memory:
        return None
    import pyarrow.compute as pc

    t = iset.table
    mask = pc.and_(pc.and_(pc.equal(t.column("system"), system), pc.equal(t.column("task"), task)),
                   pc.equal(t.column("metric"), metric))
    sub = t.filter(mask)
    if sub.num_rows == 0:
        return None
    inst = sub.column("instance").to_pylist()
    vals = sub.column("value").to_numpy(zero_copy_only=False).astype(float)
    order: dict[str, list[float]] = {}
    for i, v in zip(inst, vals):
        if not math.isnan(v):
            order.setdefault(i, []).append(v)
    per = np.array([math.fsum(v) / len(v) for v in order.values()])
    if not per.size:
        return None
    return np.cumsum(per) / np.arange(1, per.size + 1)


def explain(reported, scores, iset) -> tuple[list, list[dict]]:
    """(findings, rows of the comparison table)."""
    from auditkit import Finding

    by_key = {(s.system, s.task, s.metric): s for s in scores}
    groups = {(r.system, r.task): r.components for r in reported if r.components}
    findings, rows = [], []
    for r in reported:
        key = (r.system, r.task, r.metric)
        if r.components:
            row, finding = _group(r, by_key, groups)
            rows.append(row)
            if finding is not None:
                findings.append(finding)
            continue
        s = by_key.get(key)
        row = {"system": r.system, "task": r.task, "metric": r.metric, "reported": r.value,
               "recomputed": s.score if s else None, "difference": (s.score - r.value) if s else None,
               "n": s.n if s else 0, "n_reported": r.n_expected, "status": "", "source": r.source}
        status, severity, message, evidence = _classify(r, s, by_key, iset)
        row["status"] = status
        rows.append(row)
        if status == "reproduced":
            continue
        evidence = {"reported": r.value, "recomputed": s.score if s else None, "n_instances": s.n if s else 0,
                    "n_reported": r.n_expected, "n_original": r.n_original, "source": r.source,
                    "explanation": status, **evidence}
        findings.append(Finding(CHECK, severity, message, system=r.system, column=f"{r.task}/{r.metric}",
                                evidence=evidence))
    return findings, rows


def _group_score(system, task, metric, by_key, groups, weighted: bool, seen=()):
    """(score, instances) of a task or, recursively, of a group of tasks; None when a part is missing."""
    if task in seen:
        return None
    parts = groups.get((system, task))
    if not parts:
        s = by_key.get((system, task, metric))
        return None if s is None else (s.score, s.n)
    got = [_group_score(system, t, metric, by_key, groups, weighted, (*seen, task)) for t in parts]
    if any(g is None for g in got):
        return None
    n = sum(g[1] for g in got)
    if weighted:
        return sum(g[0] * g[1] for g in got) / n, n
    return sum(g[0] for g in got) / len(got), n


def _group(r, by_key, groups):
    """A group row: reproduced by the unweighted or the size-weighted mean of its subtasks."""
    from auditkit import Finding

    plain = _group_score(r.system, r.task, r.metric, by_key, groups, weighted=False)
    sized = _group_score(r.system, r.task, r.metric, by_key, groups, weighted=True)
    row = {"system": r.system, "task": r.task, "metric": r.metric, "reported": r.value,
           "recomputed": plain[0] if plain else None, "difference": (plain[0] - r.value) if plain else None,
           "n": plain[1] if plain else 0, "n_reported": r.n_expected, "status": "", "source": r.source}
    where = f"{r.task} {r.metric} (group of {len(r.components)})"
    evidence = {"reported": r.value, "subtasks": list(r.components), "source": r.source}
    if plain is None:
        row["status"] = "no instances"
        return row, Finding(CHECK, "error", f"{where}: a subtask has no instances for this metric", system=r.system,
                            column=f"{r.task}/{r.metric}", evidence={**evidence, "explanation": "no instances"})
    evidence.update(unweighted=plain[0], size_weighted=sized[0])
    if _close(plain[0], r.value, r.tolerance):
        row["status"] = "reproduced"
        return row, None
    if _close(sized[0], r.value, r.tolerance):
        row.update(status="reproduced (size-weighted)", recomputed=sized[0], difference=sized[0] - r.value)
        return row, None
    row["status"] = "unexplained"
    return row, Finding(CHECK, "error", f"{where}: reported {r.value:.6g}; the mean of its subtasks is "
                        f"{plain[0]:.6g} (weighted by instances {sized[0]:.6g})", system=r.system,
                        column=f"{r.task}/{r.metric}", evidence={**evidence, "explanation": "unexplained"})


def _classify(r, s, by_key, iset):
    tol = r.tolerance
    where = f"{r.task} {r.metric}"
    if s is None:
        others = sorted(m for (sy, t, m) in by_key if sy == r.system and t == r.task)
        return ("no instances", "error",
                f"{where}: reported {r.value:.6g} but the log has no instances for this metric"
                + (f" (it has: {', '.join(others)})" if others else ""), {"metrics_in_log": others})
    if _close(s.score, r.value, tol):
        subset = _subset_note(r, s)
        if subset:
            return ("reproduced on a subset", "warning",
                    f"{where}: reproduced ({s.score:.6g}) but on {subset}", {"subset": subset})
        return "reproduced", "info", "", {}
    for factor, label in ((100.0, "a 0-100 scale"), (0.01, "a 0-1 scale")):
        if _close(s.score * factor, r.value, tol * max(1.0, factor)):
            return ("normalization", "warning",
                    f"{where}: reported {r.value:.6g} is the recomputed {s.score:.6g} on {label}",
                    {"factor": factor})
    for (sy, t, m), other in sorted(by_key.items()):
        if sy != r.system or t != r.task or m == r.metric:
            continue
        if _close(other.score, r.value, tol):
            from .scoring import base_metric

            kind = "different filter" if base_metric(m) == base_metric(r.metric) else "different metric"
            return (kind, "error",
                    f"{where}: reported {r.value:.6g} is what {m!r} gives ({other.score:.6g}); the instances "
                    f"give {s.score:.6g} for {r.metric!r}", {"matches": m})
    prefix = prefix_means(iset, r.system, r.task, r.metric)
    if prefix is not None:
        if r.n_expected and 0 < r.n_expected < prefix.size and _close(prefix[r.n_expected - 1], r.value, tol):
            return ("subset evaluated", "error",
                    f"{where}: reported {r.value:.6g} is the mean of the first {r.n_expected} of {prefix.size} "
                    f"instances in the log (the full log gives {s.score:.6g})", {"subset_n": r.n_expected})
        hits = np.flatnonzero(np.abs(prefix[:-1] - r.value) <= tol + 1e-12)
        if hits.size and not r.n_expected:
            k = int(hits[0]) + 1
            return ("subset evaluated", "error",
                    f"{where}: reported {r.value:.6g} is the mean of the first {k} of {prefix.size} instances in "
                    f"the log (the full log gives {s.score:.6g})", {"subset_n": k})
    if r.n_expected and s.n < r.n_expected and s.kind == "mean":
        missing = r.n_expected - s.n
        implied = (r.value * r.n_expected - s.score * s.n) / missing
        lo, hi = (0.0, 1.0) if s.unit_range else (-math.inf, math.inf)
        if lo - 1e-9 <= implied <= hi + 1e-9:
            return ("missing instances", "error",
                    f"{where}: the log has {s.n} of the {r.n_expected} instances the harness scored; the reported "
                    f"{r.value:.6g} needs the {missing} missing ones to average {implied:.4g}",
                    {"missing": missing, "implied_missing_mean": implied})
    if r.n_expected and s.n > r.n_expected:
        return ("unexplained", "error",
                f"{where}: the log has {s.n} instances but the harness reports {r.n_expected}; recomputed "
                f"{s.score:.6g} vs reported {r.value:.6g}", {})
    return ("unexplained", "error",
            f"{where}: recomputed {s.score:.6g} from {s.n} instances, reported {r.value:.6g} "
            f"(difference {s.score - r.value:+.3g}); no explanation found", {})


def _subset_note(r, s) -> str | None:
    if r.n_original and r.n_expected and r.n_expected < r.n_original:
        lim = f" (--limit {r.limit:g})" if isinstance(r.limit, (int, float)) else ""
        return f"{r.n_expected} of {r.n_original} instances{lim}: the harness evaluated a subset"
    return None


def stderr_findings(reported, scores) -> list:
    """Reported standard errors of mean metrics that disagree with sqrt(var / n) over the instances."""
    from auditkit import Finding

    by_key = {(s.system, s.task, s.metric): s for s in scores}
    out = []
    for r in reported:
        s = by_key.get((r.system, r.task, r.metric))
        if s is None or r.stderr is None or s.kind != "mean" or math.isnan(s.se) or not _close(s.score, r.value,
                                                                                                r.tolerance):
            continue
        if not math.isclose(s.se, r.stderr, rel_tol=1e-6, abs_tol=1e-9):
            out.append(Finding("instances.stderr", "info",
                               f"{r.task} {r.metric}: reported standard error {r.stderr:.4g}, the instances give "
                               f"{s.se:.4g} (sqrt(var/n) over instances; clustered or bootstrap errors differ)",
                               system=r.system, column=f"{r.task}/{r.metric}",
                               evidence={"reported_stderr": r.stderr, "recomputed_stderr": s.se}))
    return out
