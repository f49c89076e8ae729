"""Parquet, JSON, JSON Lines and Markdown tables."""

from __future__ import annotations

import io
import json
import re

from auditkit.errors import ParseError, require
from auditkit.leaderboard import RawTable, Source


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if value != value else repr(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _from_records(records: list, source: Source, lines: list[int] | None = None) -> RawTable:
    if not records:
        raise ParseError("holds no rows", source=source.name, hint="a leaderboard needs at least one row object")
    header: list[str] = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            line = lines[i] if lines else None
            raise ParseError(f"row {i + 1} is a {type(rec).__name__}, expected an object of column: value",
                             source=source.name, line=line)
        for key in rec:
            if key not in header:
                header.append(key)
    rows = [[_text(rec.get(k)) for k in header] for rec in records]
    return RawTable([str(h) for h in header], rows, lines or list(range(1, len(rows) + 1)))


def sniff_json(source: Source) -> bool:
    return source.data.lstrip()[:1] in (b"[", b"{")


def read_json(source: Source) -> RawTable:
    try:
        doc = json.loads(source.text())
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg}", source=source.name, line=exc.lineno) from None
    if isinstance(doc, dict) and "columns" in doc and "data" in doc:
        header = [str(c) for c in doc["columns"]]
        rows = [[_text(v) for v in row] for row in doc["data"]]
        for i, row in enumerate(rows):
            if len(row) != len(header):
                raise ParseError(f"data row {i + 1} has {len(row)} values for {len(header)} columns",
                                 source=source.name)
        return RawTable(header, rows, list(range(1, len(rows) + 1)))
    if isinstance(doc, dict) and isinstance(doc.get("rows"), list):
        doc = doc["rows"]
    if not isinstance(doc, list):
        raise ParseError("expected a list of row objects or {'columns': [...], 'data': [[...]]}", source=source.name)
    return _from_records(doc, source)


def read_jsonl(source: Source) -> RawTable:
    records, lines = [], []
    for n, line in enumerate(source.text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ParseError(f"invalid JSON: {exc.msg}", source=source.name, line=n) from None
        lines.append(n)
    return _from_records(records, source, lines)


def sniff_parquet(source: Source) -> bool:
    return source.data[:4] == b"PAR1"


def read_parquet(source: Source) -> RawTable:
    pq = require("pyarrow.parquet", "reading Parquet files")
    try:
        table = pq.read_table(io.BytesIO(source.data))
    except Exception as exc:
        raise ParseError(f"not a readable Parquet file: {exc}", source=source.name) from None
    return _from_records(table.to_pylist(), source)


_SEPARATOR = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def sniff_markdown(source: Source) -> bool:
    lines = [ln for ln in source.data[:4096].decode("utf-8", "replace").splitlines() if ln.strip()]
    return len(lines) >= 2 and lines[0].lstrip().startswith("|") and bool(_SEPARATOR.match(lines[1].strip()))


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]


def read_markdown(source: Source) -> RawTable:
    """The first pipe table in the file."""
    lines = source.text().splitlines()
    for i in range(len(lines) - 1):
        if lines[i].lstrip().startswith("|") and _SEPARATOR.match(lines[i + 1].strip()):
            header = _cells(lines[i])
            rows, nums = [], []
            for n in range(i + 2, len(lines)):
                if not lines[n].lstrip().startswith("|"):
                    break
                row = _cells(lines[n])
                if len(row) != len(header):
                    raise ParseError(f"has {len(row)} cells but the header has {len(header)}", source=source.name,
                                     line=n + 1)
                rows.append(row)
                nums.append(n + 1)
            return RawTable(header, rows, nums)
    raise ParseError("no Markdown pipe table found (a header row, then a |---| separator row)", source=source.name)
