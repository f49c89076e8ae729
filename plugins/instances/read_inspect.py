"""Inspect (``inspect_ai``) eval logs: the JSON log format (``.json``) and the zip archive (``.eval``).

Fields read (meaning from Inspect's log reference, ``inspect_ai.log.EvalLog`` / ``EvalSample`` / ``EvalScore``, and
checked against logs Inspect 0.3 itself wrote with its ``mockllm`` model; see
tests/fixtures/instances/make_inspect_logs.py):

``eval.model``                the system; ``eval.task`` the task
``eval.dataset.samples``      instances in the dataset; ``eval.config.limit`` / ``epochs``
``samples[].id`` / ``epoch``  instance id and sample (epoch) index
``samples[].scores[scorer].value``  the per-sample score; ``"C"`` = 1, ``"I"`` = 0, ``"P"`` = 0.5, ``"N"`` = 0
                              (Inspect's ``value_to_float``), booleans and numbers as themselves; a dict value gives
                              one metric per key (``scorer/key``)
``results.scores[]``          per scorer: ``name``, ``reducer`` (how epochs are combined; ``mean`` by default),
                              ``scored_samples`` and ``metrics`` (``accuracy`` / ``mean``: the reported aggregate,
                              ``stderr``)
``status``                    ``success``, ``error``, ``cancelled``: an unfinished log is read with a note

``.eval`` archives hold ``header.json`` (everything but the samples) and ``samples/<id>_epoch_<n>.json``; current
Inspect compresses members with zstd (zip method 93), read through the ``zstandard`` package on Python < 3.14.
"""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

from auditkit.errors import ParseError

from .table import InstanceSet, Reported, TableBuilder, sha256_file

LETTERS = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}
AGG_METRICS = ("accuracy", "mean")


def sniff(path) -> bool:
    p = Path(path)
    if p.is_dir():
        return any(_claims(f) for f in p.iterdir())
    return _claims(p)


def _claims(p: Path) -> bool:
    if p.suffix == ".eval":
        return zipfile.is_zipfile(p)
    if p.suffix == ".json" and p.is_file():
        with open(p, encoding="utf-8", errors="replace") as fh:
            head = fh.read(2048)
        return '"eval"' in head and '"version"' in head and '"status"' in head
    return False


def value_to_float(v, where: dict):
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        if v in LETTERS:
            return LETTERS[v]
        if v.lower() in ("yes", "true"):
            return 1.0
        if v.lower() in ("no", "false"):
            return 0.0
        try:
            return float(v)
        except ValueError:
            pass
    raise ParseError("score value is not a number, C/I/P/N or a boolean", value=repr(v)[:60], **where)


def read(path, **options) -> InstanceSet:
    p = Path(path)
    files = sorted(f for f in p.iterdir() if _claims(f)) if p.is_dir() else [p]
    out = InstanceSet()
    for f in files:
        out = out.merge(_read_one(f))
    return out


def _member(z: zipfile.ZipFile, name: str, source: str):
    info = z.getinfo(name)
    if info.compress_type == 93:
        data = _zstd_member(z, info, source)
    else:
        data = z.read(info)
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise ParseError(f"member {name}: not valid JSON ({exc.msg})", source=source, line=exc.lineno) from None


def _zstd_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> bytes:
    import sys

    if sys.version_info >= (3, 14):   # the standard library's zipfile reads zstd members
        return z.read(info)
    try:
        import zstandard
    except ImportError:
        from auditkit.errors import MissingDependencyError

        raise MissingDependencyError("zstandard", f"reading {source} (an Inspect .eval archive with zstd "
                                     "members)") from None
    fh = z.fp
    fh.seek(info.header_offset)
    header = fh.read(30)
    if header[:4] != b"PK\x03\x04":
        raise ParseError(f"member {info.filename}: bad local header", source=source)
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    raw = fh.read(info.compress_size)
    return zstandard.ZstdDecompressor().decompressobj().decompress(raw) if raw else b""


def _read_one(f: Path) -> InstanceSet:
    src = str(f)
    if f.suffix == ".eval":
        try:
            z = zipfile.ZipFile(f)
        except zipfile.BadZipFile as exc:
            raise ParseError(f"not a zip archive ({exc})", source=src, hint="an Inspect .eval log is a zip") from None
        with z:
            names = z.namelist()
            if "header.json" not in names:
                raise ParseError("archive has no header.json (an unfinished log?)", source=src)
            header = _member(z, "header.json", src)
            samples = [_member(z, n, src) for n in sorted(names)
                       if n.startswith("samples/") and n.endswith(".json")]
    else:
        try:
            header = json.loads(f.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ParseError(f"not valid JSON: {exc.msg}", source=src, line=exc.lineno, column=None) from None
        samples = header.get("samples") or []
    if not isinstance(header, dict) or not isinstance(header.get("eval"), dict):
        raise ParseError("no 'eval' object; not an Inspect eval log", source=src)
    ev = header["eval"]
    system, task = str(ev.get("model", f.stem)), str(ev.get("task", f.stem))
    notes = []
    if header.get("status") not in (None, "success"):
        notes.append(f"log status is {header.get('status')!r}: the run did not finish")
    builder = TableBuilder()
    for i, s in enumerate(samples):
        where = {"source": src, "line": None, "column": f"samples[{i}].scores"}
        if "id" not in s:
            raise ParseError("sample has no 'id'", source=src, column=f"samples[{i}]")
        for scorer, score in (s.get("scores") or {}).items():
            value = score.get("value") if isinstance(score, dict) else score
            if isinstance(value, dict):
                for key, v in value.items():
                    builder.add(system, task, f"{scorer}/{key}", s["id"], value_to_float(v, where),
                                sample=int(s.get("epoch", 1)))
            else:
                builder.add(system, task, scorer, s["id"], value_to_float(value, where), sample=int(s.get("epoch", 1)))
    cfg = ev.get("config") or {}
    n_original = (ev.get("dataset") or {}).get("samples")
    reported = []
    results = header.get("results") or {}
    for sc in results.get("scores") or []:
        metrics = sc.get("metrics") or {}
        for name in AGG_METRICS:
            if name in metrics:
                se = (metrics.get("stderr") or {}).get("value")
                reducer = sc.get("reducer")
                metric = sc.get("name", sc.get("scorer"))
                if reducer not in (None, "mean"):
                    notes.append(f"scorer {metric!r} reduces epochs with {reducer!r}; re-scoring uses the mean")
                reported.append(Reported(system, task, metric, float(metrics[name]["value"]), src, se,
                                         sc.get("scored_samples"), n_original, cfg.get("limit")))
                break
    return InstanceSet(builder.table(), reported=reported, found=[builder.found(src, "inspect", notes)],
                       inputs={src: sha256_file(f)}, nbytes=f.stat().st_size, has_sample=True)
