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
    keys: dict[str, None] = {}  # ordered set: a column lookup per key would be quadratic in wide files
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            line = lines[i] if lines else None
            raise ParseError(f"row {i + 1} is a {type(rec).__name__}, expected an object of column: value",
                             source=source.name, line=line)
        keys.update(dict.fromkeys(rec))
    header = list(keys)
    rows = [[_text(rec.get(k)) for k in header] for rec in records]
    return RawTable([str(h) for h in header], rows, lines or list(range(1, len(rows) + 1)))


class _DuplicateKey(ValueError):
    def __init__(self, key, first, second):
        super().__init__(key)
        self.key, self.first, self.second = key, first, second


def _no_duplicate_keys(pairs):
    """json object hook: a key given twice in one object is refused (json.loads would keep the last silently)."""
    seen = {}
    for i, (k, _) in enumerate(pairs):
        if k in seen:
            raise _DuplicateKey(k, seen[k] + 1, i + 1)
        seen[k] = i
    return dict(pairs)


def _loads(text: str, source: Source, line: int | None = None):
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg}", source=source.name,
                         line=line if line is not None else exc.lineno) from None
    except _DuplicateKey as exc:
        raise ParseError(f"key {exc.key!r} appears twice in one object (keys {exc.first} and {exc.second})",
                         source=source.name, line=line, column=exc.key,
                         hint="rename one of them so each column has its own name") from None


def sniff_json(source: Source) -> bool:
    return source.data.lstrip()[:1] in (b"[", b"{")


def read_json(source: Source) -> RawTable:
    doc = _loads(source.text(), source)
    if isinstance(doc, dict) and "columns" in doc and "data" in doc:
        header = [str(c) for c in doc["columns"]]
        _refuse_duplicate_names(header, source)
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
        records.append(_loads(line, source, n))
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
    header = [str(c) for c in table.column_names]
    _refuse_duplicate_names(header, source)
    rows = [[_text(v) for v in row] for row in zip(*(col.to_pylist() for col in table.columns))]
    if not rows:
        raise ParseError("holds no rows", source=source.name, hint="a leaderboard needs at least one row")
    return RawTable(header, rows, list(range(1, len(rows) + 1)), header_line=None)


def _refuse_duplicate_names(header: list[str], source: Source) -> None:
    """A column list with a name twice (a dict of rows would keep one of them silently)."""
    first: dict[str, int] = {}
    for i, h in enumerate(header):
        if h in first:
            raise ParseError(f"columns {first[h] + 1} and {i + 1} are both named {h!r}", source=source.name,
                             column=h, hint="rename one of them so each column has its own name")
        first[h] = i


_SEPARATOR = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_BLOCK_START = re.compile(r"^\s{0,3}(#|>|```|~~~|<)")  # a heading, quote, fence or HTML block ends a table (GFM)


def sniff_markdown(source: Source) -> bool:
    lines = [ln for ln in source.data[:4096].decode("utf-8", "replace").splitlines() if ln.strip()]
    return len(lines) >= 2 and "|" in lines[0] and "-" in lines[1] and bool(_SEPARATOR.match(lines[1].strip()))


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)]


def _table_start(lines: list[str], i: int) -> bool:
    """A GFM table starts with a header row holding a pipe, then a delimiter row with as many cells."""
    return ("|" in lines[i] and i + 1 < len(lines) and "-" in lines[i + 1]
            and bool(_SEPARATOR.match(lines[i + 1].strip())) and len(_cells(lines[i])) == len(_cells(lines[i + 1])))


def read_markdown(source: Source) -> RawTable:
    """The pipe table in the file, read per GitHub-Flavored Markdown: outer pipes are optional, a blank line or a
    new block (heading, quote, fence, HTML) ends the table. A file with a second table, or with table-like rows
    after the blank line that ended the table, is refused rather than read in part."""
    lines = source.text().splitlines()
    start = next((i for i in range(len(lines) - 1) if _table_start(lines, i)), None)
    if start is None:
        raise ParseError("no Markdown pipe table found (a header row, then a |---| separator row)",
                         source=source.name)
    header = _cells(lines[start])
    rows, nums, end = [], [], len(lines)
    for n in range(start + 2, len(lines)):
        if not lines[n].strip() or _BLOCK_START.match(lines[n]):
            end = n
            break
        row = _cells(lines[n])
        if len(row) != len(header):
            raise ParseError(f"has {len(row)} cells but the header has {len(header)}", source=source.name,
                             line=n + 1, value=lines[n].strip()[:80],
                             hint="every row of a table needs one cell per column; a table ends at a blank line")
        rows.append(row)
        nums.append(n + 1)
    for n in range(end, len(lines)):
        if _table_start(lines, n):
            raise ParseError(f"holds a second table at line {n + 1} (the first starts at line {start + 1}); "
                             "auditkit reads one table per file", source=source.name, line=n + 1,
                             hint="put each table in its own file")
        if lines[n].lstrip().startswith("|") or ("|" in lines[n] and len(_cells(lines[n])) == len(header)):
            raise ParseError(f"line {n + 1} looks like a table row, but the table ended at line {end + 1}",
                             source=source.name, line=n + 1, value=lines[n].strip()[:80],
                             hint="remove the blank line inside the table (Markdown ends a table at a blank line)")
    return RawTable(header, rows, nums, header_line=start + 1)
