"""The machine and review formats: csv, json, jsonl, markdown, parquet.

CSV and Parquet hold one table: a result report's ``records`` (stable columns: ``<rule>_score``, ``<rule>_rank``,
``<rule>_rank_change``), else every table of the report in long form, each row tagged with its ``table`` name
(findings included as ``table == "findings"``); ``table=NAME`` picks one. JSON is the ``auditkit.report/1``
document; JSONL is one object per row of every table with its ``table`` name.
"""

from __future__ import annotations

import json
from typing import Any

from auditkit.report import Report, csv_text, jsonable, markdown_table

from .common import all_tables, finding_columns, findings_by_severity, long_rows, scalar_summary, verdict


def _one_table(report: Report, table: str | None) -> tuple[list[dict], list[str] | None]:
    if table is not None:
        if table == "records" and report.records is not None:
            return jsonable(report.records), None
        if table == "findings":
            rows = [{k: v for k, v in f.as_dict().items() if k != "evidence"} for f in report.findings]
            return rows, ["check", "severity", "system", "column", "message"]
        if table in report.tables:
            return jsonable(report.tables[table]), None
        from auditkit.errors import unknown_name

        raise unknown_name("table", table, ["findings", *(["records"] if report.records is not None else []),
                                            *report.tables])
    if report.records is not None:
        return jsonable(report.records), None
    if not report.tables:  # a findings-only report: its findings, with the classic columns
        return _one_table(report, "findings")
    tables = all_tables(report)
    if "findings" in tables:
        tables["findings"] = [{k: v for k, v in f.items() if k != "evidence"} for f in tables["findings"]]
    rows, cols = long_rows(tables)
    return rows, cols


def render_csv(report: Report, *, table: str | None = None, **_: Any) -> str:
    rows, cols = _one_table(report, table)
    if not rows and cols is None:
        cols = []
    return csv_text(rows, cols or (list(dict.fromkeys(k for r in rows for k in r)) if rows else None))


def render_json(report: Report, **_: Any) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False)


def render_jsonl(report: Report, **_: Any) -> str:
    tables = all_tables(report, records=True)
    lines = []
    for name, rows in tables.items():
        for r in rows:
            lines.append(json.dumps({"table": name, **r}, ensure_ascii=False))
    return "\n".join(lines) + ("\n" if lines else "")


def fixed_markdown_table(rows: list[dict], digits: int | None = None) -> str:
    """A GFM table with one number of decimals per numeric column, those columns right-aligned (``---:``)."""
    from .common import cell_text, column_decimals, numeric_columns

    if not rows:
        return markdown_table(rows)
    cols = list(dict.fromkeys(k for r in rows for k in r))
    numeric = numeric_columns(rows, cols)
    places = column_decimals(rows, cols, digits, numeric)
    text_rows = [{c: (cell_text(r.get(c), places[c]) if numeric[c] else r.get(c)) for c in cols} for r in rows]
    lines = markdown_table(text_rows, cols).split("\n")
    lines[1] = "|" + "|".join("---:" if numeric[c] else "---" for c in cols) + "|"
    return "\n".join(lines)


def render_markdown(report: Report, *, digits: int | None = None, **_: Any) -> str:
    from auditkit.output import markdown_safe, terminal_safe

    esc = lambda s: markdown_safe(terminal_safe(str(s)))  # noqa: E731
    parts = [f"## {esc(report.title)}", ""]
    findings = findings_by_severity(report)
    result_only = bool(report.footer) and not findings
    if not result_only:
        parts += [f"**{esc(verdict(report))}**", ""]
        extra = scalar_summary(report) if not report.footer else {}
        if extra:
            from auditkit.report import format_value

            parts += [*(f"- **{esc(k)}**: {esc(format_value(v))}" for k, v in extra.items()), ""]
        parts += ["### Findings", ""]
        parts += [markdown_table(findings, finding_columns(findings)) if findings else "No findings.", ""]
    for name, rows in report.tables.items():
        parts += [f"### {esc(name)}", "", fixed_markdown_table(rows, digits), ""]
    if report.footer:
        parts += [*(f"- {esc(line)}" for line in report.footer), ""]
    parts += ["<details><summary>Provenance</summary>", "", "```json",
              json.dumps(jsonable(report.provenance), indent=2).replace("```", "`\u200b``"), "```", "</details>"]
    return "\n".join(parts) + "\n"


def render_parquet(report: Report, *, table: str | None = None, **_: Any) -> bytes:
    from auditkit.errors import require

    require("pyarrow", "--format parquet", None)
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows, cols = _one_table(report, table)
    cols = cols or list(dict.fromkeys(k for r in rows for k in r))
    data = {}
    for c in cols:
        vals = [r.get(c) for r in rows]
        kinds = {type(v) for v in vals if v is not None}
        if kinds and kinds <= {int, float} and kinds != {int}:
            vals = [None if v is None else float(v) for v in vals]
        elif len(kinds) > 1 or (kinds and not kinds <= {int, float, bool, str}):
            vals = [None if v is None else (v if isinstance(v, str) else json.dumps(v)) for v in vals]
        data[str(c)] = vals
    tbl = pa.table(data) if cols else pa.table({})
    meta = {b"auditkit.schema": report.SCHEMA.encode(), b"auditkit.title": report.title.encode(),
            b"auditkit.provenance": json.dumps(jsonable(report.provenance)).encode()}
    tbl = tbl.replace_schema_metadata({**(tbl.schema.metadata or {}), **meta})
    buf = io.BytesIO()
    pq.write_table(tbl, buf)
    return buf.getvalue()
