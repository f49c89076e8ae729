"""The Python API and the Report of ``auditkit rescore``: read logs, reduce with an engine, score, compare with the
reported aggregates, pair every two systems."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .table import InstanceSet


@dataclass
class RescoreResult:
    instances: InstanceSet
    engine: str
    engine_reason: str
    scores: list
    pairs: list
    findings: list
    comparison: list[dict]
    seconds: float
    suff: Any = field(repr=False, default=None)
    extra_tables: dict = field(default_factory=dict)   # tables added by third-party instance checks

    def matrix(self, metric: str | None = None):
        """(systems, tasks, values): systems x tasks float64 (NaN: not scored), one metric per task."""
        from .scoring import score_matrix

        return score_matrix(self.scores, metric)

    def ranking(self, rule: str = "arithmetic", metric: str | None = None, **params):
        """The systems ranked by ``rule`` over the recomputed task scores (``auditkit.ranking_from_scores``); only
        systems scored on every task take part (the others are listed as unscored)."""
        import numpy as np

        import auditkit

        systems, tasks, values = self.matrix(metric)
        rec = auditkit.get_registry().get("aggregators", rule)
        complete = ~np.isnan(values).any(axis=1)
        scores = np.full(len(systems), np.nan)
        if complete.any():
            w = np.full(len(tasks), 1.0 / len(tasks))
            scores[complete] = rec.func(values[complete], xp=np, weights=w, **params)
        unscored = {i: "not scored on every task" for i in np.flatnonzero(~complete)}
        return auditkit.ranking_from_scores(systems, scores, rule, params, unscored=unscored,
                                            provider="auditkit_plugins.instances")

    def driver_rows(self, max_pairs: int = 10, k: int = 3, alpha: float = 0.05) -> list[dict]:
        """For the most significant pairs (Holm-adjusted p < alpha; in-memory inputs), the k instances with the
        largest |d|."""
        from .differences import drivers

        if not self.instances.in_memory:
            return []
        sig = sorted((p for p in self.pairs if p.p_holm < alpha), key=lambda p: (p.p_holm, p.task, p.system_a))
        rows = []
        for p in sig[:max_pairs]:
            d = drivers(self.instances, p.task, p.metric, p.system_a, p.system_b, k)
            rows.append({"task": p.task, "metric": p.metric, "system_a": p.system_a, "system_b": p.system_b,
                         "a_better": d["a_better"], "b_better": d["b_better"], "ties": d["ties"],
                         "top_instances": ", ".join(f"{r['instance']} ({r['d']:+g})" for r in d["top"])})
        return rows

    def bootstrap_rows(self, n_resamples: int, *, seed: int | None = 0, progress=None) -> list[dict]:
        """The streamed instance bootstrap for every (task, metric) of a mean metric: one row per system with the
        bootstrap SE, percentile interval and rank interval. A task where some system lacks an instance the others
        have is skipped (the bootstrap is paired) and listed with the reason."""
        from auditkit.errors import InputError

        from .progress import bar
        from .resampling import bootstrap_matrix, dense_matrix

        rows = []
        keys = sorted({(s.task, s.metric) for s in self.scores if s.kind == "mean"})
        for task, metric in keys:
            try:
                systems, X = dense_matrix(self.instances, task, metric)
            except InputError as exc:
                rows.append({"task": task, "metric": metric, "system": None, "note": str(exc)})
                continue
            with bar(progress, total=n_resamples, desc=f"bootstrap {task}") as tick:
                res = bootstrap_matrix(X, n_resamples=n_resamples, seed=seed, progress=tick, systems=systems,
                                       task=task, metric=metric)
            rows += [{"task": task, "metric": metric, **r} for r in res.rows()]
        return rows

    def report(self):
        from auditkit import Finding, Report, provenance

        from .explain import CHECK

        rep = Report("auditkit rescore: instance logs re-scored")
        rep.tables["found"] = [f.as_row() for f in self.instances.found]
        rep.tables["task scores"] = [
            {"system": s.system, "task": s.task, "metric": s.metric, "kind": s.kind, "score": s.score, "n": s.n,
             "se": s.se, **({"se_data": s.se_data, "se_prediction": s.se_prediction}
                            if self.suff is not None and self.suff.has_sample else {})} for s in self.scores]
        if self.comparison:
            rep.tables["reported vs recomputed"] = self.comparison
        if self.pairs:
            rep.tables["paired differences"] = [
                {k: v for k, v in p.as_row().items()
                 if k not in ("se_data", "se_prediction") or self.suff.has_sample} for p in self.pairs]
        rep.tables.update(self.extra_tables)
        drivers = self.driver_rows()
        if drivers:
            rep.tables["instances driving significant differences"] = drivers
        for f in self.findings:
            rep.add(f)
        ok = sum(r["status"].startswith("reproduced") and "subset" not in r["status"] for r in self.comparison)
        if self.comparison:
            rep.add(Finding(CHECK, "info", f"{ok} of {len(self.comparison)} reported aggregates reproduced from "
                                           "the instances", evidence={"reproduced": ok,
                                                                      "reported": len(self.comparison)}))
        for found in self.instances.found:
            for note in found.notes:
                rep.add(Finding("instances.read", "info", note, evidence={"source": found.source}))
        rows = sum(s.rows for s in self.scores)
        rep.summary.update({"engine": f"{self.engine} ({self.engine_reason})", "rows": rows,
                            "seconds": round(self.seconds, 3),
                            "rows_per_second": round(rows / self.seconds) if self.seconds > 0 else None})
        rep.provenance = provenance(inputs=self.instances.inputs, engine=self.engine)
        return rep


def rescore(paths, *, engine: str | None = None, reported=None, reader: str | None = None, pairs: bool = True,
            progress: bool | None = None, checks=None, options=None) -> RescoreResult:
    """Re-score instance logs.

    ``paths``: a path, a list of paths, or an :class:`InstanceSet`; ``engine``: ``numpy``, ``duckdb``, ``dask`` or
    None (chosen by size); ``reported``: a published table (CSV system, task, metric, value) or a list of
    :class:`~.table.Reported` to compare with, in addition to what the logs themselves report; ``checks``: the
    instance checks to run (names; default: every registered ``applies_to="instances"`` check that is on by
    default); ``options``: a dict handed to the checks in their context."""
    from .engines import choose, reduce
    from .checks import InstancesContext, run_checks
    from .loading import read_instances, read_reported
    from .pairstats import pair_stats
    from .progress import bar
    from .scoring import task_scores

    t0 = time.perf_counter()
    iset = paths if isinstance(paths, InstanceSet) else read_instances(paths, reader=reader)
    extra = []
    if reported is not None:
        extra = read_reported(reported) if not isinstance(reported, list) else list(reported)
    name, reason = choose(iset, engine)
    with bar(progress, total=1 + int(pairs), desc=f"rescore ({name})") as tick:
        suff = reduce(iset, name, pairs=pairs, progress=tick)
    scores = task_scores(suff)
    _fill_scanned_found(iset, suff)
    ps = pair_stats(suff) if pairs else []
    context = InstancesContext(iset, scores, ps, suff, list(iset.reported) + extra, name, dict(options or {}))
    findings = run_checks(context, checks)
    comparison = context.tables.pop("reported vs recomputed", [])
    result = RescoreResult(iset, name, reason, scores, ps, findings, comparison, time.perf_counter() - t0, suff)
    result.extra_tables = context.tables
    return result


def _fill_scanned_found(iset, suff) -> None:
    """A file left on disk is described after the engine's scan: systems, tasks, metrics, rows, and instances
    (per task the most any system has, summed over tasks)."""
    import dataclasses

    if not any(f.rows < 0 for f in iset.found) or len(iset.files) != 1:
        return
    g = suff.groups
    per_task: dict[str, float] = {}
    for (system, task, metric), f in g.rows():
        per_task[task] = max(per_task.get(task, 0.0), f["n"])
    iset.found = [dataclasses.replace(f, systems=tuple(sorted(set(g.keys["system"]))),
                                      tasks=tuple(sorted(set(g.keys["task"]))),
                                      metrics=tuple(sorted(set(g.keys["metric"]))),
                                      instances=int(sum(per_task.values())), rows=int(g.fields["rows"].sum()))
                  if f.rows < 0 else f for f in iset.found]


def paired(paths, *, engine: str | None = None, reader: str | None = None, progress: bool | None = None) -> list:
    """Paired statistics (:class:`~.paired.PairStat`) for every pair of systems on every task and metric."""
    return rescore(paths, engine=engine, reader=reader, pairs=True, progress=progress).pairs
