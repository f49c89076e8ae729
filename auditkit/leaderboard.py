"""The table model: a leaderboard is systems x columns of raw cells, with parsed values beside them.

Nothing here drops a row or guesses silently: a reader's repairs (an empty padding column, an unnamed first column)
are recorded in ``Leaderboard.notes``, a cell that is not a number raises :class:`auditkit.errors.ParseError` naming
the file, line, column and value the moment a recipe needs it as a number.
"""

from __future__ import annotations

import hashlib
import operator
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .cells import parse_cell
from .errors import InputError, ParseError, UsageError

SYSTEM_COLUMN_NAMES = ("model", "models", "model_name", "llm_model", "model/adapter", "system", "systems",
                       "submission", "name", "")
TEAM_COLUMN_NAMES = ("name", "team", "organization", "organisation", "company")
LONG_TASK_NAMES = ("task", "benchmark", "dataset")
LONG_VALUE_NAMES = ("value", "score", "result")
LONG_METRIC_NAMES = ("metric",)
LONG_INSTANCE_NAMES = ("instance", "instance_id", "example", "example_id", "item", "item_id")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


def normalize(name: str) -> str:
    """Column-name key: case, spacing and underscores do not matter."""
    return re.sub(r"[\s_]+", " ", name.strip().lower())


@dataclass
class Source:
    """The bytes of an input and where they came from."""

    name: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def suffix(self) -> str:
        return os.path.splitext(self.name)[1].lower()

    def text(self) -> str:
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = self.data[:exc.start].count(b"\n") + 1
            raise ParseError("is not UTF-8 text", source=self.name, line=line,
                             hint="save the file as UTF-8 (most spreadsheet programs offer 'CSV UTF-8')") from None


@dataclass
class RawTable:
    """What a reader returns: header, rows of strings, the source line of each row, and notes on repairs."""

    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    notes: list[str] = field(default_factory=list)
    header_line: int | None = 1  # where the header is, for messages about it (None: no such line, e.g. Parquet)


@dataclass
class ParsedColumn:
    """One column as numbers: ``values`` (n_rows x n_components, NaN where absent), ``half_ulps`` alike,
    ``n_components`` per row (0 when missing), ``missing`` per row, ``nan`` (the table said NaN)."""

    name: str
    values: np.ndarray
    half_ulps: np.ndarray
    n_components: np.ndarray
    missing: np.ndarray
    nan: np.ndarray
    errors: list[tuple[int, str, str]]  # (row index, raw text, message)
    notes: list[str] = field(default_factory=list)  # e.g. thousands separators removed


class Leaderboard:
    """A leaderboard: raw cells (what the table said), parsed numbers, the system column and provenance.

    Build one with :func:`read_leaderboard` (a path, ``"-"`` for stdin, or a pandas DataFrame).
    """

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[str]], *, source: str = "<memory>",
                 sha256: str | None = None, lines: Sequence[int] | None = None, notes: Sequence[str] = (),
                 system_column: str | None = None, format: str = "", long_records: Any = None,
                 header_line: int | None = 1):
        self.columns = [str(c).strip() for c in columns]
        self.raw = [r if type(r) is list else list(r) for r in rows]  # a reader's row lists are kept, not copied
        self.source = source
        self.format = format
        self.lines = list(lines) if lines is not None else list(range(2, len(self.raw) + 2))
        self.notes = list(notes)
        self.long_records = long_records
        if sha256 is None:
            sha256 = hashlib.sha256("\n".join(",".join(r) for r in [self.columns, *self.raw]).encode()).hexdigest()
        self.sha256 = sha256
        self._index = _unique_index(self.columns, source, header_line)
        self._position = {c: i for i, c in enumerate(self.columns)}
        self._parsed: dict[str, ParsedColumn] = {}
        self.system_column = self._pick_system_column(system_column)
        self.team_column = self._pick_team_column()
        self.systems = [clean_name(c) for c in self.column(self.system_column)]
        self._note_cleaned_names()

    # -- columns ---------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.raw)

    def __repr__(self) -> str:
        return f"<Leaderboard {self.source!r}: {len(self)} systems x {len(self.columns)} columns>"

    def find_column(self, name: str) -> str | None:
        i = self._index.get(normalize(name))
        return None if i is None else self.columns[i]

    def column(self, name: str) -> list[str]:
        col = self.find_column(name)
        if col is None:
            raise UsageError(f"{self.source}: no column {name!r}; columns are: {', '.join(self.columns)}")
        return list(map(operator.itemgetter(self._position[col]), self.raw))

    def teams(self) -> list[str | None]:
        if self.team_column is None:
            return [None] * len(self)
        return [clean_name(c) or None for c in self.column(self.team_column)]

    def _pick_system_column(self, wanted: str | None) -> str:
        if wanted is not None:
            col = self.find_column(wanted)
            if col is None:
                raise UsageError(f"{self.source}: --system-column {wanted!r} is not a column; columns are: "
                                 f"{', '.join(self.columns)}")
            return col
        for name in SYSTEM_COLUMN_NAMES:
            col = self.find_column(name)
            if col is not None and self._mostly_text(col):
                return col
        for col in self.columns:
            if self._mostly_text(col):
                return col
        raise InputError(f"{self.source}: cannot tell which column names the systems (no text column); "
                         "name it with --system-column")

    def _pick_team_column(self) -> str | None:
        for name in TEAM_COLUMN_NAMES:
            col = self.find_column(name)
            if col is not None and col != self.system_column:
                return col
        return None

    def _note_cleaned_names(self) -> None:
        raw = self.column(self.system_column)
        changed = [(r, s) for r, s in zip(raw, self.systems) if r != s and re.sub(r"\s+", " ", r).strip() == s]
        if changed:
            r, s = changed[0]
            self.notes.append(f"system names: whitespace normalized in {len(changed)} name(s) (e.g. {r!r} -> "
                              f"{s!r}); names that differ only in spacing are the same system")

    def _mostly_text(self, col: str) -> bool:
        i = self._position[col]
        cells = [parse_cell(r[i]) for r in self.raw[:50]]
        present = [c for c in cells if not c.missing]
        return bool(present) and sum(c.error is not None for c in present) > len(present) / 2

    # -- numbers ---------------------------------------------------------------------------------------------
    def parsed(self, name: str) -> ParsedColumn:
        """The column as numbers (cached). Text cells are kept in ``errors``; see :meth:`numeric`."""
        col = self.find_column(name)
        if col is None:
            raise UsageError(f"{self.source}: no column {name!r}; columns are: {', '.join(self.columns)}")
        if col not in self._parsed:
            pc = self._parsed[col] = _parse_column(col, self.column(col))
            self.notes.extend(pc.notes)
        return self._parsed[col]

    def numeric(self, name: str) -> ParsedColumn:
        """The column as numbers, or a ParseError naming the first cell that is not a number."""
        pc = self.parsed(name)
        if pc.errors:
            row, raw, msg = pc.errors[0]
            more = f" ({len(pc.errors) - 1} more cells in this column)" if len(pc.errors) > 1 else ""
            raise ParseError(f"{msg}{more}", source=self.source, line=self.lines[row], column=pc.name, value=raw,
                             hint=f"system {self.systems[row]!r}; fix the cell or leave the column out of the "
                                  "task set (--exclude)")
        return pc

    def is_numeric(self, name: str) -> bool:
        pc = self.parsed(name)
        return not pc.errors and bool((~pc.missing).any())

    def numeric_columns(self) -> list[str]:
        return [c for c in self.columns if c != self.system_column and self.is_numeric(c)]

    def row_of(self, system: str) -> int:
        key = match_key(system)
        for i, s in enumerate(self.systems):
            if match_key(s) == key:
                return i
        raise UsageError(f"{self.source}: no system {system!r}")

    # -- conversion ------------------------------------------------------------------------------------------
    def to_pandas(self, values: str = "raw"):
        """The table as a pandas DataFrame, one row per input row, the system column holding the cleaned names.

        ``values="raw"``: every cell as the table wrote it (strings). ``values="parsed"``: columns of plain numbers
        as float64 (``-`` and NaN as NaN); composite (``93.9/91.8``) and text columns stay strings. The parsed
        task matrix a recipe makes is :meth:`auditkit.TaskScores.to_pandas`."""
        import pandas as pd

        if values not in ("raw", "parsed"):
            raise UsageError(f"to_pandas(values={values!r}): choose 'raw' or 'parsed'")
        df = pd.DataFrame(self.raw, columns=self.columns)
        df[self.system_column] = self.systems
        if values == "parsed":
            for col in self.columns:
                if col == self.system_column or not self.is_numeric(col):
                    continue
                pc = self.parsed(col)
                if pc.values.shape[1] == 1 and not (pc.n_components > 1).any():
                    df[col] = np.where(pc.missing, np.nan, pc.values[:, 0])
        df.attrs.update(source=self.source, sha256=self.sha256, system_column=self.system_column)
        return df

    def _repr_html_(self) -> str:
        return self.to_pandas()._repr_html_()


def clean_name(text: str) -> str:
    """A system name as a person reads it: HTML comments removed, tabs between parts shown as ' | ',
    whitespace collapsed."""
    if "<" not in text and text[:1] != "-" and " ".join(text.split()) == text:
        return text  # the common case, already clean
    text = _HTML_COMMENT.sub(" ", text)
    parts = [p.strip().lstrip("-").strip() for p in text.split("\t")]
    parts = [re.sub(r"\s+", " ", p) for p in parts if p.strip().lstrip("-").strip()]
    return " | ".join(parts)


def match_key(name: str) -> str:
    """Key for robust name matching: case, spacing and punctuation do not matter."""
    return re.sub(r"[^0-9a-z]+", "", name.lower())


def _unique_index(columns: list[str], source: str, header_line: int | None) -> dict[str, int]:
    """normalized name -> position; two columns with one name (case and spacing aside) are refused, since a
    reader that picked one of them would pick silently."""
    index: dict[str, int] = {}
    for i, c in enumerate(columns):
        key = normalize(c)
        if key in index:
            j = index[key]
            same = "the same name" if columns[j] == c else "names that differ only in case or spacing"
            raise ParseError(f"columns {j + 1} ({columns[j]!r}) and {i + 1} ({c!r}) have {same}", source=source,
                             line=header_line, column=c,
                             hint="rename one of them (e.g. 'MMLU' and 'MMLU (5-shot)') so each column has its "
                                  "own name")
        index[key] = i
    return index


def _parse_column(name: str, cells: list[str]) -> ParsedColumn:
    n = len(cells)
    fast = _fast_numeric(cells)
    if fast is not None:  # one finite value per cell: the per-cell flags are read-only constant views (no memory)
        values, ulps = fast
        ulps = np.broadcast_to(ulps[:1].copy(), (n, 1)) if (ulps == ulps[0]).all() else ulps[:, None]
        return ParsedColumn(name, values[:, None], ulps, np.broadcast_to(np.int64(1), (n,)),
                            np.broadcast_to(False, (n,)), np.broadcast_to(False, (n, 1)), [])
    parsed = [parse_cell(c) for c in cells]
    k = max([len(p.values) for p in parsed] + [1])
    values = np.full((n, k), np.nan)
    ulps = np.zeros((n, k))
    ncomp = np.zeros(n, np.int64)
    missing = np.zeros(n, bool)
    errors = []
    thousands = [p.raw for p in parsed if p.thousands]
    for i, p in enumerate(parsed):
        if p.error is not None:
            errors.append((i, p.raw, p.error))
            missing[i] = True
        elif p.missing:
            missing[i] = True
        else:
            ncomp[i] = len(p.values)
            values[i, :len(p.values)] = p.values
            ulps[i, :len(p.values)] = p.half_ulps
    nan = np.isnan(values) & (np.arange(k)[None, :] < ncomp[:, None])
    notes = [f"column {name!r}: thousands separators removed in {len(thousands)} cell(s) (e.g. {thousands[0]!r} "
             f"read as {parse_cell(thousands[0]).values[0]:g})"] if thousands else []
    return ParsedColumn(name, values, ulps, ncomp, missing, nan, errors, notes)


_NOT_PLAIN = str.maketrans("", "", "0123456789.+- ")


def _fast_numeric(cells: list[str]):
    """Vectorized path for columns of plain decimals (the common case for large tables): every cell made only of
    digits, one sign, one point and spaces. Anything else (nan, inf, exponents, commas, '_', empty cells) takes
    the careful path, so the two paths agree on every cell the fast one accepts."""
    if not cells or "".join(cells).translate(_NOT_PLAIN):
        return None
    codes = _Codes()  # each distinct text is parsed once: scores repeat (one decimal: at most 1,000 values in 0-100)
    index = np.fromiter(map(codes.__getitem__, cells), np.intp, len(cells))
    distinct = list(codes)
    try:
        values = np.fromiter(map(float, distinct), np.float64, len(distinct))
    except ValueError:  # '', '1.2.3', '+-1', '1 2'
        return None
    if not np.isfinite(values).all():  # a 310-digit integer overflows: the careful path refuses it
        return None
    return values[index], (0.5 * 10.0 ** -_decimals(distinct))[index]


class _Codes(dict):
    """text -> its number in order of first appearance."""

    def __missing__(self, text: str) -> int:
        code = self[text] = len(self)
        return code


def _decimals(cells: list[str]) -> np.ndarray:
    """Digits after the point in each plain-decimal cell, computed on the joined bytes (no per-cell Python)."""
    joined = "\n".join(cells)
    if " " in joined:
        joined = "\n".join(c.strip() for c in cells)
    b = np.frombuffer(joined.encode("ascii"), np.uint8)
    ends = np.append(np.flatnonzero(b == 10), len(b))
    dots = np.flatnonzero(b == 46)
    out = np.zeros(len(cells))
    cell = np.searchsorted(ends, dots)
    out[cell] = ends[cell] - dots - 1
    return out


# -- reading ---------------------------------------------------------------------------------------------------
def read_source(path: str | os.PathLike) -> Source:
    """The bytes of a leaderboard: a file, ``-`` (stdin), a URL or ``hf://`` path; gzip/bz2/xz/zip decompressed
    (detected by magic bytes). See :mod:`auditkit.sources`."""
    from .sources import open_source

    return Source(*open_source(path))


def pick_reader(source: Source, fmt: str | None = None):
    """The reader for ``source``: by ``fmt`` name, else by file suffix, else by sniffing the content."""
    from .errors import unknown_name
    from .registry import get_registry

    readers = get_registry().records("readers")
    if fmt:
        if fmt not in readers:
            raise unknown_name("format", fmt, readers)
        return readers[fmt]
    for reader in readers.values():
        if source.suffix and source.suffix in reader.suffixes:
            return reader
    for reader in readers.values():
        if reader.sniff is not None and reader.sniff(source):
            return reader
    names = sorted({s for r in readers.values() for s in r.suffixes})
    raise InputError(f"{source.name}: cannot tell the file format; use one of the suffixes {', '.join(names)} "
                     "or pass --input-format")


def read_leaderboard(data, *, format: str | None = None, system_column: str | None = None) -> Leaderboard:
    """Read a leaderboard from a path, ``"-"`` (stdin) or a pandas DataFrame.

    Wide tables (systems x columns) and long tables (system, task[, metric][, instance], value) are both accepted;
    a long table is pivoted to wide, composite cells joining the metrics of a task in order of appearance.
    """
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        return _from_dataframe(data, system_column)
    source = read_source(data)
    reader = pick_reader(source, format)
    table = reader.read(source)
    return from_table(table, source=source.name, sha256=source.sha256, format=reader.name,
                      system_column=system_column)


def from_table(table: RawTable, *, source: str, sha256: str | None = None, format: str = "",
               system_column: str | None = None) -> Leaderboard:
    long = _long_layout(table.header)
    if long is not None and system_column is None:
        return _pivot_long(table, long, source=source, sha256=sha256, format=format)
    if not table.rows:
        raise InputError(f"{source}: the table has a header but no rows")
    return Leaderboard(table.header, table.rows, source=source, sha256=sha256, lines=table.lines,
                       notes=table.notes, system_column=system_column, format=format,
                       header_line=table.header_line)


def _from_dataframe(df, system_column: str | None) -> Leaderboard:
    def text(v):
        if v is None or (isinstance(v, float) and v != v):
            return ""
        return repr(v) if isinstance(v, float) else str(v)
    columns = [str(c) for c in df.columns]
    rows = [[text(v) for v in row] for row in df.itertuples(index=False, name=None)]
    table = RawTable(columns, rows, list(range(2, len(rows) + 2)))
    return from_table(table, source=df.attrs.get("source", "<DataFrame>"), format="dataframe",
                      system_column=system_column)


def _long_layout(header: list[str]) -> dict[str, int] | None:
    keys = [normalize(h) for h in header]
    def find(names):
        return next((keys.index(n) for n in names if n in keys), None)
    task, value = find(LONG_TASK_NAMES), find(LONG_VALUE_NAMES)
    system = find(SYSTEM_COLUMN_NAMES[:-1])
    if task is None or value is None or system is None:
        return None
    return {"system": system, "task": task, "value": value, "metric": find(LONG_METRIC_NAMES),
            "instance": find(LONG_INSTANCE_NAMES)}


def _pivot_long(table: RawTable, lay: dict[str, int | None], *, source: str, sha256: str | None,
                format: str) -> Leaderboard:
    """Long (system, task, [metric], [instance], value) -> wide. Duplicates are an error, never a silent overwrite;
    with an instance column, the task value is the mean over instances and the records are kept for resampling."""
    h = table.header
    used = {i for i in lay.values() if i is not None}
    attrs = [i for i in range(len(h)) if i not in used]
    systems: dict[str, dict] = {}
    tasks: list[str] = []
    metrics: dict[str, list[str]] = {}
    seen: dict[tuple, int] = {}
    records = []
    respaced: list[tuple[str, str]] = []
    for row, line in zip(table.rows, table.lines):
        sysname, task = clean_name(row[lay["system"]]), row[lay["task"]].strip()
        if sysname != row[lay["system"]] and re.sub(r"\s+", " ", row[lay["system"]]).strip() == sysname:
            respaced.append((row[lay["system"]], sysname))
        metric = row[lay["metric"]].strip() if lay["metric"] is not None else ""
        inst = row[lay["instance"]].strip() if lay["instance"] is not None else ""
        key = (sysname, task, metric, inst)
        if key in seen:
            raise ParseError(f"duplicate entry for system {sysname!r}, task {task!r}"
                             + (f", metric {metric!r}" if metric else "") + f" (first at line {seen[key]})",
                             source=source, line=line,
                             hint="a long table needs one value per system, task and metric; add an instance "
                                  "column for per-instance results")
        seen[key] = line
        entry = systems.setdefault(sysname, {"line": line, "attrs": [row[i] for i in attrs], "cells": {}})
        if task not in metrics:
            tasks.append(task)
            metrics[task] = []
        if metric not in metrics[task]:
            metrics[task].append(metric)
        entry["cells"].setdefault((task, metric), []).append(row[lay["value"]])
        if inst:
            records.append((sysname, task, metric, inst, row[lay["value"]], line))
    rows, lines = [], []
    partial: list[str] = []
    for sysname, entry in systems.items():
        cells = []
        for task in tasks:
            parts = []
            for metric in metrics[task]:
                vals = entry["cells"].get((task, metric))
                if not vals or (len(vals) == 1 and parse_cell(vals[0]).missing):
                    parts.append("")  # absent, or '-' / 'n/a' for this metric
                elif len(vals) == 1:
                    parts.append(vals[0].strip())
                else:
                    nums = [parse_cell(v) for v in vals]
                    bad = next((v for v, c in zip(vals, nums) if c.error or c.missing or len(c.values) != 1), None)
                    if bad is not None:
                        raise ParseError("per-instance value is not a single number", source=source,
                                         line=entry["line"], column=task, value=bad)
                    parts.append(repr(float(np.mean([c.values[0] for c in nums]))))
            if any(parts) and not all(parts):
                partial.append(f"{sysname} {task}")
            cells.append("/".join(parts) if all(parts) else "")
        rows.append([sysname, *entry["attrs"], *cells])
        lines.append(entry["line"])
    columns = [h[lay["system"]], *(h[i] for i in attrs), *tasks]
    notes = list(table.notes) + [f"long table pivoted to wide: {len(rows)} systems x {len(tasks)} tasks"]
    if respaced:
        notes.append(f"system names: whitespace normalized in {len(respaced)} row(s) (e.g. {respaced[0][0]!r} -> "
                     f"{respaced[0][1]!r}); names that differ only in spacing are the same system")
    if partial:
        notes.append(f"{len(partial)} task cell(s) with a metric missing are treated as missing: "
                     + ", ".join(partial[:8]) + (" ..." if len(partial) > 8 else ""))
    return Leaderboard(columns, rows, source=source, sha256=sha256, lines=lines, notes=notes,
                       system_column=h[lay["system"]], format=format, long_records=records or None)
