"""The generic long format: one row per ``system, task, instance, metric, value`` in CSV, JSONL or Parquet.

Optional columns: ``sample`` (epoch / repeat index when a system answered an instance several times), ``prediction``
and ``reference`` (numbers; corpus-level metrics F1, MCC, Pearson, Spearman are computed from them). ``model`` is
accepted for ``system`` and ``score`` for ``value``. Files up to ``IN_MEMORY_BYTES`` (Parquet: ``IN_MEMORY_ROWS`` rows) are read and checked row by row
(a bad cell is refused naming file, line, column and value); larger files are left on disk for the engine to scan
(DuckDB or Dask), which refuses bad cells with its own message wrapped with the file name.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from auditkit.errors import ParseError

from .table import COLUMNS, InstanceSet, TableBuilder, conform, sha256_file

IN_MEMORY_BYTES = 32 * 1024 * 1024
IN_MEMORY_ROWS = 1_000_000          # Parquet compresses 0/1 scores ~10x: decide by its row count instead
SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
ALIASES = {"model": "system", "score": "value"}
HINT = "the long format needs columns system, task, instance, metric, value (optional: sample, prediction, reference)"


def file_format(path) -> str | None:
    return SUFFIXES.get(Path(path).suffix.lower())


def sniff(path) -> bool:
    p = Path(path)
    return p.is_file() and file_format(p) is not None


def _num(raw, source, line, column, *, optional=False):
    if raw is None or (isinstance(raw, str) and raw.strip() == ""):
        if optional:
            return None
        raise ParseError("empty cell", source=source, line=line, column=column, hint=HINT)
    if isinstance(raw, bool):
        return float(raw)
    try:
        x = float(raw)
    except (TypeError, ValueError):
        raise ParseError("not a number", source=source, line=line, column=column, value=str(raw)[:60]) from None
    if math.isnan(x) or math.isinf(x):
        raise ParseError("not a finite number", source=source, line=line, column=column, value=str(raw))
    return x


def _rows_csv(path: Path):
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ParseError("empty file", source=str(path), hint=HINT)
        header = [ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
        yield header
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise ParseError(f"{len(row)} cells where the header has {len(header)}", source=str(path),
                                 line=reader.line_num)
            yield reader.line_num, dict(zip(header, row))


def _rows_jsonl(path: Path):
    header = None
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ParseError(f"not valid JSON ({exc.msg})", source=str(path), line=lineno) from None
            if not isinstance(rec, dict):
                raise ParseError("line is not a JSON object", source=str(path), line=lineno, hint=HINT)
            rec = {ALIASES.get(k.lower(), k.lower()): v for k, v in rec.items()}
            if header is None:
                header = list(rec)
                yield header
            yield lineno, rec
    if header is None:
        raise ParseError("empty file", source=str(path), hint=HINT)


def _check_header(header, source):
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ParseError(f"missing column(s) {', '.join(missing)}", source=source, line=1, hint=HINT)


def read_arrow(path, fmt: str):
    """The file as a conformed Arrow table, checked row by row (CSV, JSONL) or by schema (Parquet)."""
    path = Path(path)
    src = str(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises several types for a broken file
            raise ParseError(f"cannot read Parquet: {exc}", source=src) from None
        table = table.rename_columns([ALIASES.get(c.lower(), c.lower()) for c in table.column_names])
        _check_header(table.column_names, src)
        import pyarrow as pa

        for c in ("value", "prediction", "reference"):
            if c in table.column_names and not (pa.types.is_floating(table.column(c).type)
                                                or pa.types.is_integer(table.column(c).type)
                                                or pa.types.is_boolean(table.column(c).type)):
                raise ParseError(f"column is {table.column(c).type}, not numeric", source=src, column=c)
        return conform(table)
    rows = _rows_csv(path) if fmt == "csv" else _rows_jsonl(path)
    header = next(rows)
    _check_header(header, src)
    b = TableBuilder()
    has_pr = "prediction" in header and "reference" in header
    for line, rec in rows:
        for c in ("system", "task", "metric", "instance"):
            if rec.get(c) in (None, ""):
                raise ParseError("empty cell", source=src, line=line, column=c, hint=HINT)
        pred = _num(rec.get("prediction"), src, line, "prediction", optional=True) if has_pr else None
        ref = _num(rec.get("reference"), src, line, "reference", optional=True) if has_pr else None
        value = _num(rec.get("value"), src, line, "value", optional=pred is not None)
        sample = rec.get("sample")
        if sample not in (None, ""):
            s = _num(sample, src, line, "sample")
            if s != int(s):
                raise ParseError("sample index is not an integer", source=src, line=line, column="sample",
                                 value=str(sample))
            sample = int(s)
        else:
            sample = None
        b.add(str(rec["system"]), str(rec["task"]), str(rec["metric"]), str(rec["instance"]), value, sample,
              pred, ref)
    if not len(b):
        raise ParseError("no data rows", source=src, hint=HINT)
    return b.table()


def read(path, *, in_memory: bool | None = None, **options) -> InstanceSet:
    p = Path(path)
    fmt = file_format(p)
    if fmt is None:
        raise ParseError(f"unknown file type {p.suffix!r} for the long format", source=str(p),
                         hint="use .csv, .jsonl or .parquet")
    if not p.is_file():
        raise ParseError("no such file", source=str(p))
    size = p.stat().st_size
    if in_memory is not None:
        keep_in_memory = in_memory
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            keep_in_memory = pq.ParquetFile(p).metadata.num_rows <= IN_MEMORY_ROWS
        except Exception as exc:  # not a Parquet file
            raise ParseError(f"cannot read Parquet: {exc}", source=str(p)) from None
    else:
        keep_in_memory = size <= IN_MEMORY_BYTES
    if keep_in_memory:
        table = read_arrow(p, fmt)
        from .table import Found

        import pyarrow.compute as pc

        def uniq(c):
            return tuple(sorted(pc.unique(table.column(c)).to_pylist()))

        found = Found(str(p), f"long-{fmt}", uniq("system"), uniq("task"), uniq("metric"),
                      len(pc.unique(table.column("instance"))), table.num_rows)
        return InstanceSet(table, inputs={str(p): sha256_file(p)}, found=[found], nbytes=size,
                           has_sample=table.column("sample").null_count < table.num_rows,
                           has_corpus=table.column("prediction").null_count < table.num_rows)
    from .table import Found

    found = Found(str(p), f"long-{fmt}", (), (), (), -1, -1, ("scanned by the engine",))
    return InstanceSet(None, (str(p),), fmt, found=[found], inputs={str(p): f"size:{size}"}, nbytes=size)
