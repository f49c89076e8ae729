"""The terminal rendering: verdict and summary first, findings grouped by severity with their line, then the
tables fitted to the width, then the footer and provenance.

Width: ``width=`` option, else the terminal's when standard output is one (``COLUMNS`` overrides it), else
unlimited (a pipe or file gets whole lines). Widths are display widths (East Asian wide characters count two columns,
combining marks none). Cells that do not fit are cut with an ellipsis, messages are wrapped. Numbers get one
number of decimals per column (``digits=`` / ``--digits`` to fix it). Colour (ANSI) only when ``color=True``, or
by default when standard output is a terminal and ``NO_COLOR`` is unset.
"""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from typing import Any, Sequence

from auditkit.output import terminal_safe
from auditkit.report import Report, format_value, jsonable

from .common import (cell_text, column_decimals, delta_sign, finding_columns, findings_by_severity,
                     is_delta_column, numeric_columns, scalar_summary, verdict)

MIN_COLUMN = 6
KEY_COLUMNS = ("system", "model", "name", "systems")
SEVERITY_COLOUR = {"error": "1;31", "warning": "33", "info": "36"}


# -- display width ------------------------------------------------------------------------------------------------
def char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(char_width(c) for c in text)


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` display columns, with an ellipsis when cut."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(width - display_width(text), 0)
    return gap + text if right else text + gap


def wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Greedy word wrap by display width; a word longer than the line is cut."""
    if width <= len(indent) + 2:
        return [indent + text]
    lines, cur = [], ""
    for word in text.split(" "):
        cand = f"{cur} {word}" if cur else word
        if display_width(indent + cand) <= width:
            cur = cand
            continue
        if cur:
            lines.append(indent + cur)
        cur = word if display_width(indent + word) <= width else truncate(word, width - len(indent))
    lines.append(indent + cur)
    return lines


def terminal_width(width: int | None = None, stream=None) -> int | None:
    """``width`` when given; else, when ``stream`` (standard output) is a terminal, its width (``COLUMNS``
    overrides it, as :func:`shutil.get_terminal_size` reads it); else None: a pipe or a file gets whole lines, so
    ``grep`` and scripts see every character whatever ``COLUMNS`` a parent process exported."""
    if width:
        return width
    stream = stream or sys.stdout
    try:
        if stream.isatty():
            import shutil

            return shutil.get_terminal_size((100, 24)).columns
    except (AttributeError, ValueError, OSError):
        pass
    return None


def use_colour(color: bool | None = None, stream=None) -> bool:
    if color is not None:
        return color
    if "NO_COLOR" in os.environ and os.environ["NO_COLOR"] != "":
        return False
    stream = stream or sys.stdout
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class _Style:
    def __init__(self, on: bool):
        self.on = on

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.on and text.strip() else text


# -- tables -------------------------------------------------------------------------------------------------------
def fit_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, *, width: int | None = None,
              digits: int | None = None, color: bool = False) -> str:
    """A fixed-width table: numbers right-aligned with fixed decimals per column, text cut to fit ``width``."""
    if not rows:
        return "(no rows)"
    columns = list(columns or list(dict.fromkeys(k for r in rows for k in r)))
    numeric = numeric_columns(rows, columns)
    places = column_decimals(rows, columns, digits, numeric)
    head = [terminal_safe(str(c)) for c in columns]
    cells = [[terminal_safe(cell_text(r.get(c), places[c])) for c in columns] for r in rows]
    widths = [max(display_width(h), *(display_width(row[i]) for row in cells)) for i, h in enumerate(head)]
    sep = 2
    head_lines = [[h] for h in head]
    if width and sum(widths) + sep * (len(widths) - 1) > width:
        # first let multi-word headers take two or more lines ("harmonic" over "score")
        for i, h in enumerate(head):
            data = max((display_width(row[i]) for row in cells), default=0)
            words = max((display_width(w) for w in h.split(" ")), default=0)
            if display_width(h) > data and " " in h:
                widths[i] = max(data, words)
                head_lines[i] = [x.strip() for x in wrap(h, widths[i])]
    if width:
        # shrink the widest text columns until the table fits (numbers are never cut)
        while sum(widths) + sep * (len(widths) - 1) > width:
            text_cols = [i for i, c in enumerate(columns) if not numeric[c] and widths[i] > MIN_COLUMN]
            if not text_cols:
                break
            # the name column (system, model, the first text column) is cut last, and only to 24 columns
            key = next((i for i, c in enumerate(columns) if str(c).lower() in KEY_COLUMNS),
                       next((i for i, c in enumerate(columns) if not numeric[c]), None))
            rest = [i for i in text_cols if i != key]
            text_cols = rest or [i for i in text_cols if widths[i] > 24] or text_cols
            i = max(text_cols, key=lambda k: widths[k])
            widths[i] -= 1
    style = _Style(color)

    def line(vals, header=False):
        out = []
        for c, v, w in zip(columns, vals, widths):
            right = numeric[c]
            text = pad(truncate(v, w), w, right)
            if not header and color and is_delta_column(str(c)):
                s = delta_sign(v)
                text = style(text, "32" if s > 0 else "31") if s else text
            out.append(text)
        return (" " * sep).join(out).rstrip()

    rule = (" " * sep).join("─" * w for w in widths) if color else (" " * sep).join("-" * w for w in widths)
    depth = max(len(h) for h in head_lines)
    headers = [line([h[k - depth + len(h)] if k - depth + len(h) >= 0 else "" for h in head_lines], header=True)
               for k in range(depth)]  # bottom-aligned: the last header line sits on the rule
    return "\n".join([*(style(h, "1") for h in headers), rule, *(line(r) for r in cells)])


def render_findings(rows: list[dict[str, Any]], width: int | None, color: bool) -> list[str]:
    """Findings grouped under ERROR / WARNING / INFO headings; each on its own lines, message wrapped."""
    style = _Style(color)
    out: list[str] = []
    current = None
    for f in rows:
        if f["severity"] != current:
            current = f["severity"]
            n = sum(1 for g in rows if g["severity"] == current)
            out += ["", style(f"{current.upper()} ({n})", SEVERITY_COLOUR[current])]
        where = " · ".join(terminal_safe(str(x)) for x in (
            f["system"], f["column"], f"line {f['line']}" if f.get("line") is not None else None) if x)
        head = f"  {terminal_safe(f['check'])}" + (f"  {where}" if where else "")
        out.append(truncate(head, width) if width else head)
        msg = terminal_safe(f["message"])
        out += wrap(msg, width, "      ") if width else ["      " + msg]
    return out


def render_table(report: Report, *, width: int | None = None, digits: int | None = None,
                 color: bool | None = None, **_: Any) -> str:
    width = terminal_width(width)
    colour = use_colour(color)
    style = _Style(colour)
    title = terminal_safe(report.title)
    parts = [style(title, "1"), "=" * min(display_width(title), width or 10 ** 6)]
    findings = findings_by_severity(report)
    result_only = bool(report.footer) and not findings
    if not result_only:
        counts = report.counts()
        v = verdict(report)
        worst = next((s for s in ("error", "warning", "info") if counts[s]), None)
        parts += ["", style(v, SEVERITY_COLOUR[worst]) if worst else v]
        extra = scalar_summary(report) if not report.footer else {}
        for k, val in extra.items():
            text = f"{terminal_safe(str(k))}: {terminal_safe(format_value(val))}"
            parts += wrap(text, width, "") if width else [text]
        parts += render_findings(findings, width, colour)
    for name, rows in report.tables.items():
        parts += ["", style(terminal_safe(str(name)), "1"), fit_table(rows, width=width, digits=digits,
                                                                    color=colour)]
    if report.footer:
        parts.append("")
        for line in report.footer:
            text = terminal_safe(line)
            parts += wrap(text, width, "") if width else [text]
    if report.provenance:
        parts += ["", "Provenance:"]
        for k, v in report.provenance.items():
            text = f"  {k}: {json.dumps(jsonable(v), ensure_ascii=False) if isinstance(v, (dict, list)) else v}"
            text = terminal_safe(text)
            parts.append(truncate(text, width) if width else text)
    return "\n".join(parts).rstrip() + "\n"
