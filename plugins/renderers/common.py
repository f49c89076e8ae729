"""What every renderer shares: the report's tables in one order, findings sorted by severity, numeric columns
with one number of decimals each, and which columns are rank changes (Δ)."""

from __future__ import annotations

import math
import re
from typing import Any, Sequence

from auditkit.report import SEVERITIES, FINDING_COLUMNS, Report, jsonable

DELTA_COLUMN = re.compile(r"(^|\s)(Δ|delta)$|rank[_ ]change$", re.I)
SIGNED = re.compile(r"^[+-]?\d+$")
MAX_DECIMALS = 4


def findings_by_severity(report: Report) -> list[dict[str, Any]]:
    """Findings as dicts, errors first, then warnings, then infos; the check order kept within a severity. A
    ``line`` from the evidence is added so identical messages about different rows can be told apart."""
    rows = []
    for f in report.findings:
        d = f.as_dict()
        line = (f.evidence or {}).get("line")
        d["line"] = line if isinstance(line, int) else None
        rows.append(d)
    order = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    return sorted(rows, key=lambda d: order[d["severity"]])


def finding_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    cols = [c for c in FINDING_COLUMNS if c not in ("system", "column") or any(r.get(c) for r in rows)]
    if any(r.get("line") is not None for r in rows):
        cols.insert(cols.index("message"), "line")
    return cols


def all_tables(report: Report, *, findings: bool = True, records: bool = False) -> dict[str, list[dict]]:
    """Every table of the report by name (JSON-safe values): its named tables, then ``records`` (a result
    report's machine rows) when asked, then ``findings``."""
    out = {name: jsonable(rows) for name, rows in report.tables.items()}
    if records and report.records is not None:
        out["records"] = jsonable(report.records)
    if findings and report.findings:
        out["findings"] = [{k: (v if k != "evidence" else jsonable(v)) for k, v in f.as_dict().items()}
                           for f in report.findings]
    return out


def long_rows(tables: dict[str, list[dict]]) -> tuple[list[dict], list[str]]:
    """Every table's rows in one list, each with its ``table`` name first; the union of the columns, in order."""
    cols: dict[str, None] = {"table": None}
    rows = []
    for name, table in tables.items():
        for r in table:
            flat = {k: (_flat(v)) for k, v in r.items()}
            cols.update(dict.fromkeys(flat))
            rows.append({"table": name, **flat})
    return rows, list(cols)


def _flat(v):
    if isinstance(v, (dict, list)):
        import json

        return json.dumps(v, ensure_ascii=False)
    return v


def columns_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r))


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def numeric_columns(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> dict[str, bool]:
    """A column is numeric when every non-empty cell is a number (or a signed integer text such as ``+3``)."""
    out = {}
    for c in columns:
        vals = [r.get(c) for r in rows if r.get(c) is not None]
        out[c] = bool(vals) and all(is_number(v) or (isinstance(v, str) and bool(SIGNED.match(v))) for v in vals)
    return out


def decimals(value: float) -> int:
    """Decimals a float shows when printed shortest (``90.8`` -> 1, ``91.0`` -> 0), capped at MAX_DECIMALS."""
    if not math.isfinite(value) or value == int(value):
        return 0
    text = repr(float(value))
    if "e" in text:
        return MAX_DECIMALS
    return min(len(text.split(".")[1]), MAX_DECIMALS)


def column_decimals(rows: Sequence[dict[str, Any]], columns: Sequence[str], digits: int | None = None,
                    numeric: dict[str, bool] | None = None) -> dict[str, int | None]:
    """One number of decimals per numeric column: ``digits`` when given, else the most any float in it shows
    (capped); None for columns of integers only (and text columns)."""
    numeric = numeric or numeric_columns(rows, columns)
    out: dict[str, int | None] = {}
    for c in columns:
        vals = [r.get(c) for r in rows if is_number(r.get(c))]
        if not numeric.get(c) or not any(isinstance(v, float) for v in vals):
            out[c] = None
            continue
        out[c] = digits if digits is not None else max(decimals(v) for v in vals)
    return out


def cell_text(v: Any, places: int | None) -> str:
    """A cell as text; floats with the column's fixed decimals (large or tiny magnitudes in scientific form)."""
    from auditkit.report import format_value

    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if places is not None:
            if v != 0 and (abs(v) >= 1e9 or abs(v) < 1e-4):
                return f"{v:.{max(places, 1)}e}"
            return f"{v:.{places}f}"
    if isinstance(v, int) and not isinstance(v, bool) and places:
        return f"{v:.{places}f}"
    return format_value(v)


def is_delta_column(name: str) -> bool:
    return bool(DELTA_COLUMN.search(name))


def delta_sign(v: Any) -> int:
    """+1 for a rise (a positive rank change), -1 for a fall, 0 otherwise."""
    if isinstance(v, str) and SIGNED.match(v.strip()):
        v = int(v)
    if is_number(v) and math.isfinite(v):
        return (v > 0) - (v < 0)
    return 0


def scalar_summary(report: Report) -> dict[str, Any]:
    """The summary entries a person reads (scalars), without the schema tag and counts."""
    return {k: v for k, v in report.summary.items()
            if not isinstance(v, (list, dict)) and k not in ("schema", "counts")}


def headline(report: Report) -> str:
    """A result report's first line: how many rows were ranked under which rules (from its table and footer)."""
    rows = next(iter(report.tables.values()), [])
    rules = next((line.split(":", 1)[1].strip() for line in report.footer if line.startswith(("means:", "rules:"))),
                 None)
    ranked = sum(1 for r in rows if not r.get("note"))
    parts = [f"{ranked} of {len(rows)} rows ranked" if rows else "result"]
    if rules:
        parts.append(f"under {rules}")
    bench = next((line.split(":", 1)[1].strip() for line in report.footer if line.startswith("benchmark:")), None)
    if bench:
        parts.append(f"· {bench}")
    return " ".join(parts)


def verdict(report: Report) -> str:
    """One line: the finding counts and, for a result report, that it is a result."""
    c = report.counts()
    if not report.findings:
        return "no findings" if not report.footer else "result (no findings)"
    parts = [f"{c[s]} {s}{'s' if c[s] != 1 else ''}" for s in reversed(SEVERITIES) if c[s]]
    worst = next(s for s in reversed(SEVERITIES) if c[s])
    return f"{worst.upper()}: " + ", ".join(parts)
