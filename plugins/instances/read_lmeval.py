"""lm-evaluation-harness output directories: ``results_<timestamp>.json`` + ``samples_<task>_<timestamp>.jsonl``.

Written by ``lm-eval run ... --output_path DIR --log_samples`` (one sub-directory per model, named after the
sanitized model name). Fields read (meaning from lm-eval's docs/interface.md, its ``EvaluationTracker`` and
``evaluator.py``, v0.4):

results JSON
    ``results[task]["<metric>,<filter>"]``   the aggregate reported for a metric under a filter
    ``results[task]["<metric>_stderr,<filter>"]``  its standard error (``"N/A"`` when not computed)
    ``groups`` / ``group_subtasks``          group rows: the mean of their subtasks' scores, unweighted or
                                             weighted by size (``aggregate_metric_list.weight_by_size``)
    ``n-samples[task]``                      ``original`` (dataset size) and ``effective`` (instances scored)
    ``config.limit``                         ``--limit`` (a count, or a fraction when < 1)
    ``model_name``; else ``config.model_args`` (``pretrained=...``); else ``config.model``   the system name
samples JSONL (one line per instance and filter)
    ``doc_id``     the instance id (pairing key across models)
    ``filter``     the filter pipeline the line was scored under (``none``, ``strict-match``, ...)
    ``metrics``    the metric names the line carries (older logs: every numeric key that is a reported metric)
    ``<metric>``   the per-instance score; a two-element list ``[gold, pred]`` for corpus metrics (``mcc``,
                   ``f1``), which the harness aggregates over the whole task

Metric keys: ``acc`` for the ``none`` filter, ``exact_match,strict-match`` otherwise (lm-eval's own key).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from auditkit.errors import ParseError

from .table import InstanceSet, Reported, TableBuilder, sha256_file

SAMPLES_RE = re.compile(r"^samples_(?P<task>.+)_(?P<ts>\d{4}-\d{2}-\d{2}T[0-9.\-]+)\.jsonl$")
RESULTS_RE = re.compile(r"^results(?:_(?P<ts>\d{4}-\d{2}-\d{2}T[0-9.\-]+))?\.json$")
SKIP_KEYS = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics", "doc_hash",
             "prompt_hash", "target_hash", "task_name", "alias"}


def metric_key(metric: str, filt: str) -> str:
    return metric if filt in ("none", "", None) else f"{metric},{filt}"


def sniff(path) -> bool:
    p = Path(path)
    if p.is_file():
        return bool(RESULTS_RE.match(p.name)) and _is_results(p)
    if p.is_dir():
        return any(_is_results(f) for f in p.rglob("results*.json") if RESULTS_RE.match(f.name))
    return False


def _is_results(p: Path) -> bool:
    try:
        with open(p, encoding="utf-8") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return '"results"' in head or '"n-samples"' in head or '"config"' in head


def model_name(doc: dict, fallback: str) -> str:
    if doc.get("model_name"):
        return str(doc["model_name"])
    cfg = doc.get("config") or {}
    args = cfg.get("model_args")
    if isinstance(args, dict) and args.get("pretrained"):
        return str(args["pretrained"])
    if isinstance(args, str):
        for part in args.split(","):
            k, _, v = part.partition("=")
            if k.strip() in ("pretrained", "model", "engine") and v:
                return v.strip()
    if cfg.get("model"):
        return str(cfg["model"])
    return fallback


def _number(x):
    if isinstance(x, bool):
        return float(x)
    if isinstance(x, (int, float)):
        return float(x)
    return None


def read(path, **options) -> InstanceSet:
    p = Path(path)
    results = [p] if p.is_file() else sorted(f for f in p.rglob("results*.json") if RESULTS_RE.match(f.name))
    if not results:
        raise ParseError("no lm-evaluation-harness results_*.json found", source=str(path),
                         hint="point at the --output_path directory lm-eval wrote (or one results JSON)")
    out = InstanceSet()
    for res in results:
        out = out.merge(_read_one(res))
    return out


def _read_one(res: Path) -> InstanceSet:
    try:
        doc = json.loads(res.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON: {exc.msg}", source=str(res), line=exc.lineno,
                         hint="is this file complete?") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), dict):
        raise ParseError("no 'results' object; not an lm-evaluation-harness results file", source=str(res))
    system = model_name(doc, res.parent.name)
    # group rows: "groups", and "group_subtasks" keys with subtasks (lm-eval lists a standalone task with [])
    subtasks = {g: tuple(subs) for g, subs in (doc.get("group_subtasks") or {}).items() if subs}
    groups = set(doc.get("groups") or {}) | set(subtasks)
    nsamp = doc.get("n-samples") or {}
    limit = (doc.get("config") or {}).get("limit")
    reported: list[Reported] = []
    wanted: dict[str, set[str]] = {}
    for task, entry in doc["results"].items():
        if task in groups or not isinstance(entry, dict):
            continue
        ns = nsamp.get(task) or {}
        for key, val in entry.items():
            if key == "alias" or "," not in key or "_stderr," in key:
                continue
            metric, filt = key.split(",", 1)
            value = _number(val)
            if value is None:
                continue
            se = _number(entry.get(f"{metric}_stderr,{filt}"))
            reported.append(Reported(system, task, metric_key(metric, filt), value, str(res), se,
                                     ns.get("effective"), ns.get("original"), limit))
            wanted.setdefault(task, set()).add(metric)
    group_rows = {**{g: e for g, e in doc["results"].items() if g in groups}, **(doc.get("groups") or {})}
    for group, entry in group_rows.items():
        if group not in subtasks or not isinstance(entry, dict):
            continue
        for key, val in entry.items():
            if key == "alias" or "," not in key or "_stderr," in key or _number(val) is None:
                continue
            metric, filt = key.split(",", 1)
            reported.append(Reported(system, group, metric_key(metric, filt), _number(val), str(res),
                                     _number(entry.get(f"{metric}_stderr,{filt}")), components=subtasks[group]))
    m = RESULTS_RE.match(res.name)
    ts = m.group("ts") if m else None
    builder = TableBuilder()
    notes: list[str] = []
    inputs = {str(res): sha256_file(res)}
    for f in sorted(res.parent.glob("samples_*.jsonl")):
        sm = SAMPLES_RE.match(f.name)
        if not sm or (ts is not None and sm.group("ts") != ts):
            continue
        inputs[str(f)] = sha256_file(f)
        _read_samples(f, system, sm.group("task"), wanted.get(sm.group("task"), set()), builder, notes)
    found = builder.found(str(res.parent), "lm-eval", notes)
    if not len(builder):
        notes.append("no samples_*.jsonl next to the results file (run lm-eval with --log_samples)")
    return InstanceSet(builder.table(), reported=reported, found=[found], inputs=inputs,
                       nbytes=sum(Path(k).stat().st_size for k in inputs), has_sample=False,
                       has_corpus=any(v is None for v in builder.cols["value"]))


def _read_samples(f: Path, system: str, task: str, wanted: set[str], builder: TableBuilder, notes: list) -> None:
    skipped: set[str] = set()
    with open(f, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ParseError(f"not valid JSON ({exc.msg} at character {exc.pos + 1})", source=str(f),
                                 line=lineno, hint="each line of a samples file is one JSON object") from None
            if not isinstance(rec, dict) or "doc_id" not in rec:
                raise ParseError("sample line has no 'doc_id'", source=str(f), line=lineno, column="doc_id",
                                 hint="lm-eval writes doc_id on every sample line")
            filt = rec.get("filter", "none")
            names = rec.get("metrics")
            if not isinstance(names, list):
                names = [k for k in rec if k not in SKIP_KEYS and (k in wanted or not wanted)]
            for metric in names:
                if metric not in rec:
                    raise ParseError(f"sample line lists metric {metric!r} but has no value for it",
                                     source=str(f), line=lineno, column=metric)
                val = rec[metric]
                key = metric_key(metric, filt)
                num = _number(val)
                if num is not None:
                    if math.isnan(num):
                        raise ParseError("per-instance score is NaN", source=str(f), line=lineno, column=metric,
                                         value=str(val))
                    builder.add(system, task, key, rec["doc_id"], num)
                elif isinstance(val, list) and len(val) == 2 and all(_number(x) is not None for x in val):
                    gold, pred = (_number(x) for x in val)
                    builder.add(system, task, key, rec["doc_id"], None, prediction=pred, reference=gold)
                elif isinstance(val, (list, dict, str)):
                    skipped.add(metric)
                else:
                    raise ParseError("per-instance score is not a number", source=str(f), line=lineno,
                                     column=metric, value=repr(val)[:60])
    for metric in sorted(skipped):
        notes.append(f"{f.name}: metric {metric!r} carries text or structured values; not re-scored")
