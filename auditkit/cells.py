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

    @property
    def has_nan(self) -> bool:
        return any(v != v for v in self.values)


def _number(text: str) -> tuple[float, float, str, bool] | str:
    """One component -> (value, half_ulp, marks, percent) or an error message."""
    t = text.strip().replace("\u2212", "-").replace("\u00a0", "")
    if t.lower() in NAN_TOKENS:
        return float("nan"), 0.0, "", False
    marks = ""
    m = _FOOTNOTE.search(t)
    while m and m.group(0):
        marks += m.group(0)
        t = (t[:m.start()] + t[m.end():]).strip()
        m = _FOOTNOTE.search(t)
    percent = t.endswith("%")
    if percent:
        t = t[:-1].strip()
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    if not _NUMBER.match(t):
        return "not a number"
    mantissa, _, exponent = t.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    half_ulp = 0.5 * 10.0 ** (int(exponent or 0) - decimals)
    return float(t), half_ulp, marks, percent


_CACHE: dict[str, Cell] = {}


def parse_cell(raw: str) -> Cell:
    """Parse one cell (cached: leaderboards repeat values a lot)."""
    cell = _CACHE.get(raw)
    if cell is not None:
        return cell
    text = raw.strip()
    if text.lower() in MISSING_TOKENS:
        cell = Cell(raw, missing=True)
    else:
        parts = text.split("/") if "/" in text else [text]
        values, ulps, marks, percent = [], [], "", False
        error = None
        for part in parts:
            got = _number(part)
            if isinstance(got, str):
                error = (f"{got}: expected a number, a composite like '93.9/91.8', or '-' for missing"
                         if len(parts) == 1 else f"component {part.strip()!r} is {got}")
                break
            values.append(got[0])
            ulps.append(got[1])
            marks += got[2]
            percent = percent or got[3]
        cell = Cell(raw, tuple(values), tuple(ulps), marks=marks, percent=percent, error=error) if error is None \
            else Cell(raw, error=error)
    if len(_CACHE) < 200_000:
        _CACHE[raw] = cell
    return cell
