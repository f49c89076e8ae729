"""HELM run directories: ``run_spec.json`` + ``per_instance_stats.json`` (+ ``stats.json``).

Written by ``helm-run`` under ``benchmark_output/runs/<suite>/<run name>/``. Fields read (meaning from HELM's
``helm.benchmark.metrics.statistic.Stat``, ``MetricName`` and ``metric.PerInstanceStats``, and its tutorial):

``run_spec.json``  ``name`` (``mmlu:subject=anatomy,method=multiple_choice_joint,model=openai_gpt2``; the task is
                   the name without its ``model=`` argument) and ``adapter_spec.model`` (the system)
``per_instance_stats.json``  a list of ``{instance_id, train_trial_index, perturbation, stats: [Stat]}``; each
                   ``Stat`` has ``name: {name, split, sub_split, perturbation}``, ``count``, ``sum``,
                   ``sum_squared``, ``mean``...; the per-instance score is ``sum / count``; ``train_trial_index``
                   is the sample index (HELM's repeated trials)
``stats.json``     the aggregate ``Stat`` list: ``mean`` of the unperturbed entries is the reported score

Only unperturbed statistics (no ``perturbation``) are read; the metric key is the stat name (``exact_match``).
"""

from __future__ import annotations

import json
from pathlib import Path

from auditkit.errors import ParseError

from .table import InstanceSet, Reported, TableBuilder, sha256_file


def sniff(path) -> bool:
    p = Path(path)
    if p.is_file():
        p = p.parent
    return (p / "per_instance_stats.json").is_file() or any(
        (d / "per_instance_stats.json").is_file() for d in p.glob("*") if d.is_dir())


def _load(f: Path):
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON: {exc.msg}", source=str(f), line=exc.lineno) from None


def task_name(run_name: str) -> str:
    scenario, _, args = run_name.partition(":")
    kept = [a for a in args.split(",") if a and not a.startswith("model=")]
    return scenario + (":" + ",".join(kept) if kept else "")


def read(path, **options) -> InstanceSet:
    p = Path(path)
    if p.is_file():
        p = p.parent
    runs = [p] if (p / "per_instance_stats.json").is_file() else sorted(
        d for d in p.glob("*") if (d / "per_instance_stats.json").is_file())
    out = InstanceSet()
    for run in runs:
        out = out.merge(_read_run(run))
    return out


def _read_run(run: Path) -> InstanceSet:
    spec_file = run / "run_spec.json"
    if not spec_file.is_file():
        raise ParseError("no run_spec.json next to per_instance_stats.json", source=str(run))
    spec = _load(spec_file)
    system = str((spec.get("adapter_spec") or {}).get("model") or "unknown")
    task = task_name(str(spec.get("name", run.name)))
    pis_file = run / "per_instance_stats.json"
    pis = _load(pis_file)
    if not isinstance(pis, list):
        raise ParseError("expected a list of per-instance stats", source=str(pis_file))
    builder = TableBuilder()
    for i, entry in enumerate(pis):
        if not isinstance(entry, dict) or "instance_id" not in entry or "stats" not in entry:
            raise ParseError("entry has no instance_id or stats", source=str(pis_file), column=f"[{i}]")
        if entry.get("perturbation"):
            continue
        for st in entry["stats"]:
            name = st.get("name") or {}
            if name.get("perturbation") or not st.get("count"):
                continue
            try:
                value = float(st["sum"]) / float(st["count"])
            except (KeyError, TypeError, ValueError):
                raise ParseError("stat has no numeric sum/count", source=str(pis_file),
                                 column=f"[{i}].stats.{name.get('name')}", value=str(st.get("sum"))) from None
            builder.add(system, task, str(name.get("name")), entry["instance_id"], value,
                        sample=int(entry.get("train_trial_index", 0)))
    reported = []
    inputs = {str(spec_file): sha256_file(spec_file), str(pis_file): sha256_file(pis_file)}
    stats_file = run / "stats.json"
    metrics = set(builder.cols["metric"])
    if stats_file.is_file():
        inputs[str(stats_file)] = sha256_file(stats_file)
        split = None
        for st in _load(stats_file):
            name = st.get("name") or {}
            if name.get("perturbation") or name.get("sub_split") or name.get("name") not in metrics:
                continue
            if st.get("mean") is None:
                continue
            split = split or name.get("split")
            if name.get("split") != split:
                continue
            reported.append(Reported(system, task, str(name["name"]), float(st["mean"]), str(stats_file)))
    max_inst = (spec.get("adapter_spec") or {}).get("max_eval_instances")
    notes = [f"max_eval_instances={max_inst}"] if max_inst else []
    return InstanceSet(builder.table(), reported=reported, found=[builder.found(str(run), "helm", notes)],
                       inputs=inputs, nbytes=sum(Path(k).stat().st_size for k in inputs), has_sample=True)
