"""Delimited text with the delimiter sniffed from the field counts, and header repairs that are always reported."""

from __future__ import annotations

import csv
from collections import Counter

from auditkit.cells import parse_cell
from auditkit.errors import ParseError
from auditkit.leaderboard import RawTable, Source

DELIMITERS = (",", "\t", ";", "|")


def _split(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter, quotechar='"', strict=False)
    rows, lines, end = [], [], 0
    for row in reader:
        start = end + 1
        end = reader.line_num
        if row and any(cell.strip() for cell in row):
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
    header = [h.strip() for h in rows[0]]
    body = [[c.strip() for c in r] for r in rows[1:]]
    body_lines = lines[1:]
    notes = [] if delimiter == "," else [f"delimiter sniffed: {delimiter!r}"]
    header, body, repair = _repair_header(header, body, body_lines, source.name)
    if repair:
        notes.append(repair)
    for row, line in zip(body, body_lines):
        if len(row) != len(header):
            raise ParseError(f"has {len(row)} fields but the header has {len(header)}", source=source.name,
                             line=line, hint="quote fields that contain the delimiter, or fix the row")
    return RawTable(header, body, body_lines, notes)


def _repair_header(header, body, lines, name):
    """Rows one field longer than the header are repaired only when the fix is unambiguous:
    an extra field that is empty in every row is dropped; else, when every row's first field is text and the
    header's first name belongs to a numeric column, the header was missing a name for the first column."""
    widths = {len(r) for r in body}
    if widths != {len(header) + 1}:
        return header, body, None
    for j in range(len(header) + 1):
        if all(not r[j] for r in body):
            fixed = [r[:j] + r[j + 1:] for r in body]
            return header, fixed, (f"the header has {len(header)} fields but every row has {len(header) + 1}; "
                                   f"field {j + 1} is empty in every row and was dropped")
    first_is_text = all(parse_cell(r[0]).error is not None for r in body)
    second_numeric = all(parse_cell(r[1]).error is None for r in body)
    if first_is_text and second_numeric:
        return ["system", *header], body, (f"the header has {len(header)} fields but every row has "
                                           f"{len(header) + 1}; the first column had no name and was named "
                                           "'system'")
    raise ParseError(f"the header has {len(header)} fields but every row has {len(header) + 1}, and no column "
                     "can be identified as the extra one", source=name, line=lines[0],
                     hint="add the missing column name to the header")
