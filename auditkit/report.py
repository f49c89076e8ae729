"""Findings, reports, provenance and their renderings (table, csv, json, markdown, html).

Every command that reports findings (``audit``, ``contrastive diagnose``, ``wgan evaluate``, ``claims``) returns a
:class:`Report`; they all print, serialize and gate CI the same way. The JSON schema is documented in
``docs/report-schema.md`` and versioned by ``Report.SCHEMA``.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

SEVERITIES = ("info", "warning", "error")
FORMATS = ("table", "csv", "json", "markdown", "html")


def severity_rank(severity: str) -> int:
    from .errors import unknown_name

    if severity not in SEVERITIES:
        raise unknown_name("severity", severity, SEVERITIES)
    return SEVERITIES.index(severity)


@dataclass
class Finding:
    """One observation of a check: which check, how serious, about which system and column, and the evidence."""

    check: str
    severity: str
    message: str
    system: str | None = None
    column: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        severity_rank(self.severity)

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "severity": self.severity, "system": self.system, "column": self.column,
                "message": self.message, "evidence": jsonable(self.evidence)}


def provenance(*, command: str | None = None, inputs: dict[str, str] | None = None, **extra) -> dict[str, Any]:
    """The provenance block every output carries: auditkit version, command line, input sha256s, and extras
    (recipe and version, aggregator and parameters, seed, backend...)."""
    from . import __version__

    prov = {"auditkit_version": __version__,
            "command": command if command is not None else " ".join(["auditkit", *sys.argv[1:]]),
            "inputs": inputs or {}}
    prov.update({k: v for k, v in extra.items() if v is not None})
    return prov


@dataclass
class Report:
    """Findings + provenance + a summary + optional named tables (lists of row dicts) and images.

    ``images`` maps a caption to PNG/SVG bytes (embedded into the HTML rendering). A result report (``rerank``)
    also has ``footer`` lines (the facts behind the result, printed under its tables) and ``records``: its
    machine-readable rows with stable columns, which the CSV rendering and ``to_pandas("records")`` give.
    """

    SCHEMA = "auditkit.report/1"

    title: str
    findings: list[Finding] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    images: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    footer: list[str] = field(default_factory=list)
    records: list[dict[str, Any]] | None = None

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def counts(self) -> dict[str, int]:
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}

    def exit_code(self, fail_on: str = "error") -> int:
        """0 when no finding reaches ``fail_on``, else 1 (input and usage errors exit 2 elsewhere)."""
        threshold = severity_rank(fail_on)
        return int(any(severity_rank(f.severity) >= threshold for f in self.findings))

    def as_dict(self) -> dict[str, Any]:
        summary = {"counts": self.counts(), **self.summary}
        out = {"schema": self.SCHEMA, "title": self.title, "provenance": jsonable(self.provenance),
               "findings": [f.as_dict() for f in self.findings], "summary": jsonable(summary),
               "tables": jsonable(self.tables)}
        if self.footer:
            out["footer"] = list(self.footer)
        return out

    def to_pandas(self, table: str | None = None):
        """One table as a DataFrame: ``"findings"``, ``"records"`` (a result report's rows) or a table's name;
        without a name, the records of a result report, else the findings."""
        import pandas as pd

        if table is None:
            table = "records" if self.records is not None else "findings"
        if table == "findings":
            return pd.DataFrame([f.as_dict() for f in self.findings],
                                columns=["check", "severity", "system", "column", "message", "evidence"])
        if table == "records" and self.records is not None:
            return pd.DataFrame(jsonable(self.records))
        if table not in self.tables:
            from .errors import unknown_name

            raise unknown_name("table", table, ["findings", *(["records"] if self.records is not None else []),
                                                *self.tables])
        return pd.DataFrame(jsonable(self.tables[table]))

    def render(self, fmt: str = "table", **options) -> str | bytes:
        """The report in format ``fmt`` (a registered :class:`auditkit.records.Renderer`: table, csv, json,
        jsonl, markdown, html, latex, parquet, ...); ``options`` go to the renderer (``digits``, ``width``,
        ``color``, ``table``). Binary formats (parquet) return bytes."""
        return render(self, fmt, **options)

    def _repr_html_(self) -> str:  # Jupyter: a fragment with scoped CSS, long tables cut like pandas
        try:
            return render(self, "html", fragment=True, max_rows=REPR_MAX_ROWS)
        except Exception:  # noqa: BLE001 - a notebook repr must never raise; fall back to the plain page body
            return render_report(self, "html")


def jsonable(value: Any) -> Any:
    """Plain JSON types: numpy scalars and arrays become Python numbers and lists, NaN and inf become None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return jsonable(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


# -- renderers ---------------------------------------------------------------------------------------------------
# defaults every renderer receives (the CLI's --digits sets "digits"); explicit options win
RENDER_OPTIONS: dict[str, Any] = {}
REPR_MAX_ROWS = 20  # Jupyter: more rows than this show the first and last 10 and a count, as pandas does


def renderers() -> dict[str, Any]:
    """The registered output formats by name (:class:`auditkit.records.Renderer`)."""
    from .registry import get_registry

    return get_registry().records("renderers")


def render(report: "Report", fmt: str = "table", **options) -> str | bytes:
    """Render ``report`` with the renderer registered as ``fmt``; with no renderer plugin loaded (disabled),
    the core's own table/csv/json/markdown/html (:func:`render_report`)."""
    from .errors import unknown_name

    found = renderers()
    key = fmt.strip().lower()
    if key in found:
        return found[key].render(report, **{**RENDER_OPTIONS, **options})
    if not found and key in FORMATS:
        return render_report(report, key)
    raise unknown_name("format", fmt, sorted({r.name for r in found.values()}) or FORMATS)


def format_value(v: Any, digits: int = 4) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-3):
            return f"{v:.{digits}g}"
        return f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return str(v)


def text_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain fixed-width table; numbers right-aligned; escape sequences and control characters in the data are
    removed so a cell cannot drive the terminal."""
    from .output import terminal_safe

    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())
    cells = [[terminal_safe(format_value(r.get(c))) for c in columns] for r in rows]
    widths = [max(len(terminal_safe(c)), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    numeric = [all(isinstance(r.get(c), (int, float)) or r.get(c) is None for r in rows) for c in columns]
    def line(vals):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(vals, widths, numeric)).rstrip()
    return "\n".join([line([terminal_safe(c) for c in columns]), line(["-" * w for w in widths]),
                      *(line(r) for r in cells)])


def markdown_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A GFM pipe table; cell text is HTML-escaped (``<script>`` shows as text) and pipes are escaped."""
    from .output import markdown_safe, terminal_safe

    if not rows:
        return "_(no rows)_"
    columns = list(columns or rows[0].keys())
    esc = lambda s: markdown_safe(terminal_safe(format_value(s)))  # noqa: E731
    out = ["| " + " | ".join(esc(c) for c in columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    out += ["| " + " | ".join(esc(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(out)


def html_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "<p><em>(no rows)</em></p>"
    columns = list(columns or rows[0].keys())
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(format_value(r.get(c)))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """RFC 4180 CSV; text cells that a spreadsheet would run as a formula are neutralized with a leading single
    quote (OWASP; see :func:`auditkit.output.csv_safe` and docs/reliability.md)."""
    from .output import csv_safe

    buf = io.StringIO()
    columns = list(columns or (rows[0].keys() if rows else []))
    w = csv.writer(buf, lineterminator="\n")

    def cell(v: str) -> str:  # the csv module does not quote a lone '\r' under this line terminator: make it '\n'
        v = csv_safe(v)
        return v.replace("\r\n", "\n").replace("\r", "\n") if "\r" in v else v
    w.writerow([cell(str(c)) for c in columns])
    for r in rows:
        w.writerow([cell(v) if isinstance(v, str) else ("" if v is None else v) for v in map(r.get, columns)])
    return buf.getvalue()


FINDING_COLUMNS = ("severity", "check", "system", "column", "message")

HTML_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f3f3f3}.error{color:#b00020}.warning{color:#a15c00}.info{color:#2b5c8a}
code{background:#f6f6f6;padding:0 .2em}"""


def html_page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{HTML_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>")


def render_report(report: Report, fmt: str) -> str:
    from .errors import unknown_name

    if fmt not in FORMATS:
        raise unknown_name("format", fmt, FORMATS)
    findings = [f.as_dict() for f in report.findings]
    counts = report.counts()
    if fmt == "json":
        return json.dumps(report.as_dict(), indent=2, ensure_ascii=False)
    if fmt == "csv":
        if report.records is not None:
            return csv_text(report.records)
        return csv_text(findings, ("check", "severity", "system", "column", "message"))
    summary_line = ", ".join(f"{n} {s}" for s, n in counts.items())
    # a result report (footer, no checks) states its facts in the footer; the summary dict is for machines
    result_only = bool(report.footer) and not findings
    extra = {} if report.footer else {k: v for k, v in report.summary.items() if not isinstance(v, (list, dict))}
    if fmt == "table":
        parts = [report.title, "=" * len(report.title)]
        for name, rows in report.tables.items():
            parts += ["", name, text_table(rows)]
        if report.footer:
            parts += ["", *report.footer]
        if not result_only:
            parts += ["", f"Findings ({summary_line})",
                      text_table(findings, FINDING_COLUMNS) if findings else "(none)"]
        parts += ["", *(f"{k}: {format_value(v)}" for k, v in extra.items())]
        parts += _provenance_lines(report.provenance)
        return "\n".join(parts).rstrip() + "\n"
    if fmt == "markdown":
        parts = [f"## {report.title}", ""]
        for name, rows in report.tables.items():
            parts += [f"### {name}", "", markdown_table(rows), ""]
        if report.footer:
            parts += [*(f"- {line}" for line in report.footer), ""]
        if not result_only:
            parts += [f"### Findings ({summary_line})", ""]
            parts += [markdown_table(findings, FINDING_COLUMNS) if findings else "No findings.", ""]
        if extra:
            parts += [*(f"- **{k}**: {format_value(v)}" for k, v in extra.items()), ""]
        parts += ["<details><summary>Provenance</summary>", "", "```json",
                  json.dumps(jsonable(report.provenance), indent=2), "```", "</details>"]
        return "\n".join(parts) + "\n"
    # html
    import base64

    body = []
    for caption, (mime, data) in report.images.items():
        body.append(f"<figure><img alt='{html.escape(caption)}' src='data:{mime};base64,"
                    f"{base64.b64encode(data).decode()}'><figcaption>{html.escape(caption)}</figcaption></figure>")
    for name, rows in report.tables.items():
        body.append(f"<h2>{html.escape(name)}</h2>{html_table(rows)}")
    if report.footer:
        body.append("<ul class='footer'>" + "".join(f"<li>{html.escape(x)}</li>" for x in report.footer) + "</ul>")
    if not result_only:
        body.append(f"<h2>Findings ({html.escape(summary_line)})</h2>")
    if result_only:
        pass
    elif findings:
        rows = "".join(f"<tr class='{f['severity']}'>" + "".join(
            f"<td>{html.escape(format_value(f[c]))}</td>" for c in FINDING_COLUMNS) + "</tr>" for f in findings)
        body.append("<table><thead><tr>" + "".join(f"<th>{c}</th>" for c in FINDING_COLUMNS)
                    + f"</tr></thead><tbody>{rows}</tbody></table>")
    else:
        body.append("<p>No findings.</p>")
    if extra:
        body.append("<ul>" + "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(format_value(v))}</li>"
                                     for k, v in extra.items()) + "</ul>")
    body.append("<h2>Provenance</h2><pre>" + html.escape(json.dumps(jsonable(report.provenance), indent=2))
                + "</pre>")
    return html_page(report.title, "".join(body))


def _provenance_lines(prov: dict[str, Any]) -> list[str]:
    if not prov:
        return []
    lines = ["", "Provenance:"]
    for k, v in prov.items():
        lines.append(f"  {k}: {json.dumps(jsonable(v)) if isinstance(v, (dict, list)) else v}")
    return lines


