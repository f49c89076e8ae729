"""Parsing leaderboard cells as people scrape them.

A cell is missing (``""``, ``-``, ``n/a`` ...), a number, or a composite of numbers separated by ``/``
(``93.9/91.8``, ``NaN/99.8``). Numbers may carry footnote marks (``91.2*``, ``88.0†``, ``[1]``), thousands separators
(``1,234.5``), a percent sign and a Unicode minus. Each parsed number keeps half a unit of its last displayed digit
(``half_ulp``) so that audits can use interval arithmetic: ``91.1`` stands for [91.05, 91.15].
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MISSING_TOKENS = frozenset({"", "-", "--", "–", "—", "n/a", "na", "none", "null", "?", "missing"})
NAN_TOKENS = frozenset({"nan"})
_FOOTNOTE = re.compile(r"(\[[^\]]{1,4}\]|\([a-z0-9]\)|[*†‡§¶#^¹²³⁴⁵⁶⁷⁸⁹⁰])+$|^[*†‡§¶#]+")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Cell:
    """A parsed cell: ``values`` (NaN where the table said NaN), ``half_ulps``, and what was stripped.

    ``missing`` is True for an absent value (``-``); ``error`` is a message when the text is not a number.
    """

    raw: str
    values: tuple[float, ...] = ()
    half_ulps: tuple[float, ...] = ()
    missing: bool = False
    marks: str = ""
    percent: bool = False
    error: str | None = None
    thousands: bool = False  # a thousands separator was removed (``1,234.5``); the column reports it in a note

    @property
    def has_nan(self) -> bool:
        return any(v != v for v in self.values)


def _number(text: str) -> tuple[float, float, str, bool, bool] | str:
    """One component -> (value, half_ulp, marks, percent, thousands) or an error message.

    A number written as a literal but beyond float64 (``1e309``, ``9e308``, a 310-digit integer) is an error, never
    infinity; ``inf`` is not a number either. ``nan`` is the table saying NaN and is kept as NaN."""
    t = text.strip().replace("\u2212", "-").replace("\u00a0", "")
    if t.lower() in NAN_TOKENS:
        return float("nan"), 0.0, "", False, False
    marks = ""
    m = _FOOTNOTE.search(t)
    while m and m.group(0):
        marks += m.group(0)
        t = (t[:m.start()] + t[m.end():]).strip()
        m = _FOOTNOTE.search(t)
    percent = t.endswith("%")
    if percent:
        t = t[:-1].strip()
    thousands = bool(_THOUSANDS.match(t))
    if thousands:
        t = t.replace(",", "")
    if not _NUMBER.match(t):
        return "not a number"
    value = float(t)
    if value in (_INF, -_INF):
        return OVERFLOW
    mantissa, _, exponent = t.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    try:
        half_ulp = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
    except OverflowError:  # 0e400: the value is 0, its displayed precision beyond float64
        half_ulp = _INF
    return value, half_ulp, marks, percent, thousands


_INF = float("inf")
OVERFLOW = ("too large for a float64 number (beyond 1.8e308, it would be read as infinity); "
            "write the value as the table means it, or '-' if it is missing")
NOT_A_NUMBER = "not a number: expected a number, a composite like '93.9/91.8', or '-' for missing"
_WORD = re.compile(r"[A-Za-z]{2}")  # two letters in a row: text (a name, a URL), unless it is 'nan'
_CACHE: dict[str, Cell] = {}


def parse_cell(raw: str) -> Cell:
    """Parse one cell (cached: leaderboards repeat values a lot; text is not cached, so a column of system
    names cannot fill the cache)."""
    cell = _CACHE.get(raw)
    if cell is not None:
        return cell
    text = raw.strip()
    if text.lower() in MISSING_TOKENS:
        cell = Cell(raw, missing=True)
    elif "/" not in text and "[" not in text and _WORD.search(text) and "nan" not in text.lower():
        return Cell(raw, error=NOT_A_NUMBER)  # fast refusal of plain text, e.g. a column of system names
    else:
        parts = text.split("/") if "/" in text else [text]
        values, ulps, marks, percent = [], [], "", False
        error, thousands = None, False
        for part in parts:
            got = _number(part)
            if isinstance(got, str):
                error = (got if got == OVERFLOW else NOT_A_NUMBER) if len(parts) == 1 \
                    else f"component {part.strip()!r} is {got}"
                break
            values.append(got[0])
            ulps.append(got[1])
            marks += got[2]
            percent = percent or got[3]
            thousands = thousands or got[4]
        if error is not None:
            return Cell(raw, error=error)
        cell = Cell(raw, tuple(values), tuple(ulps), marks=marks, percent=percent, thousands=thousands)
    if len(_CACHE) < 200_000:
        _CACHE[raw] = cell
    return cell
