"""Delimited text with the delimiter sniffed from the field counts, and header repairs that are always reported."""

from __future__ import annotations

import csv
import re
from collections import Counter

from auditkit.cells import parse_cell
from auditkit.errors import ParseError
from auditkit.leaderboard import RawTable, Source

DELIMITERS = (",", "\t", ";", "|")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


class _Cells(dict):
    """raw cell -> stripped cell, one string object per distinct value: a 10^7-cell table of scores holds a few
    thousand distinct strings, not 10^7. Capped, so a table of free text does not keep a second index of itself."""

    LIMIT = 1_000_000

    def __missing__(self, raw: str) -> str:
        cell = raw.strip()
        if len(self) < self.LIMIT:
            self[raw] = cell
        return cell


def _split(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """Rows of stripped cells (blank rows left out) and the line each starts on."""
    if len(text) >= csv.field_size_limit():  # no field limit below the file's own size
        csv.field_size_limit(len(text) + 1)
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter, quotechar='"', strict=False)
    cell = _Cells().__getitem__
    rows, lines, end = [], [], 0
    for row in reader:
        start = end + 1
        end = reader.line_num
        row = list(map(cell, row))
        if row and any(row):
            rows.append(row)
            lines.append(start)
    return rows, lines


def _consistency(rows: list[list[str]]) -> tuple[float, int]:
    """Share of data rows whose field count equals the header's (or is one more), and the header width."""
    if len(rows) < 2:
        return (1.0 if rows and len(rows[0]) > 1 else 0.0), len(rows[0]) if rows else 0
    width = len(rows[0])
    counts = Counter(len(r) for r in rows[1:])
    modal, n_modal = counts.most_common(1)[0]
    ok = n_modal / (len(rows) - 1) if modal in (width, width + 1) else 0.0
    return ok, width


def sniff_delimited(source: Source) -> bool:
    return True  # the fallback for text on stdin


def choose_delimiter(text: str, suffix: str) -> str:
    preferred = "\t" if suffix in (".tsv", ".tab") else ","
    best, best_key = preferred, (-1.0, 0, False)
    for d in DELIMITERS:
        rows, _ = _split(text[:200_000], d)
        ok, width = _consistency(rows)
        if width < 2:
            continue
        key = (ok, width if ok > 0 else 0, d == preferred)
        if key > best_key:
            best, best_key = d, key
    return best


def read_delimited(source: Source) -> RawTable:
    text = source.text()
    delimiter = choose_delimiter(text, source.suffix)
    rows, lines = _split(text, delimiter)
    if not rows:
        raise ParseError("the file is empty", source=source.name)
    header, body, body_lines = rows[0], rows[1:], lines[1:]
    notes = [] if delimiter == "," else [f"delimiter sniffed: {delimiter!r}"]
    if delimiter == ";":
        _refuse_decimal_commas(header, body, body_lines, source.name)
    header, body, repair = _repair_header(header, body, body_lines, source.name)
    if repair:
        notes.append(repair)
    for row, line in zip(body, body_lines):
        if len(row) != len(header):
            raise ParseError(f"has {len(row)} fields but the header has {len(header)}", source=source.name,
                             line=line, hint="quote fields that contain the delimiter, or fix the row")
    return RawTable(header, body, body_lines, notes, header_line=lines[0])


def _refuse_decimal_commas(header, body, lines, name):
    """A ';'-separated file usually comes from a locale that writes a decimal comma: '60,500' may be 60.5 or
    60500. auditkit does not guess."""
    for row, line in zip(body, lines):
        for j, cell in enumerate(row):
            if "," in cell and _DECIMAL_COMMA.match(cell):
                raise ParseError("a number with a comma in a ';'-separated file is ambiguous (a decimal comma or a "
                                 "thousands separator?)", source=name, line=line,
                                 column=header[j] if j < len(header) else f"#{j + 1}", value=cell,
                                 hint="export the table with '.' as the decimal point and no thousands separator")


def _repair_header(header, body, lines, name):
    """Rows one field longer than the header are repaired only when the fix is unambiguous:
    the field that is empty in every row is dropped: the trailing one when it is (a delimiter at the end of each
    line), else the only such field; several empty fields, none trailing, are ambiguous and refused. Else, when
    every row's first field is text and the second a number, the header was missing a name for the first column."""
    widths = {len(r) for r in body}
    if widths != {len(header) + 1}:
        return header, body, None
    empty = [j for j in range(len(header) + 1) if all(not r[j] for r in body)]
    if len(header) in empty or len(empty) == 1:
        j = len(header) if len(header) in empty else empty[0]
        fixed = [r[:j] + r[j + 1:] for r in body]
        where = "the trailing field" if j == len(header) else "field"
        return header, fixed, (f"the header has {len(header)} fields but every row has {len(header) + 1}; "
                               f"{where} {j + 1} is empty in every row and was dropped")
    if empty:
        raise ParseError(f"the header has {len(header)} fields but every row has {len(header) + 1}, and fields "
                         f"{', '.join(str(j + 1) for j in empty)} are all empty: which one is padding cannot be told",
                         source=name, line=lines[0], hint="add the missing column name to the header")
    first_is_text = all(parse_cell(r[0]).error is not None for r in body)
    second_numeric = all(parse_cell(r[1]).error is None for r in body)
    if first_is_text and second_numeric:
        return ["system", *header], body, (f"the header has {len(header)} fields but every row has "
                                           f"{len(header) + 1}; the first column had no name and was named "
                                           "'system'")
    raise ParseError(f"the header has {len(header)} fields but every row has {len(header) + 1}, and no column "
                     "can be identified as the extra one", source=name, line=lines[0],
                     hint="add the missing column name to the header")
