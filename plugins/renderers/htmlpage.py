"""The HTML rendering: one self-contained page per report (no network: CSS, JavaScript and charts inline).

Top of the page: the title, the verdict (worst severity and counts) with severity badges, and the summary
numbers. Then the charts (inline SVG: a bump chart of ranks across rules, forest plots of estimates with their
intervals), the findings grouped by severity, and every table: sortable (click a header), filterable (the box
above it), numbers right-aligned with fixed decimals per column, rank changes coloured, wide tables scrolling
inside their frame instead of being clipped. A ``ranking`` table is joined with a ``task scores`` table (per-task
cells beside the aggregate, shaded by value). ``fragment=True`` gives a ``<div>`` with CSS scoped to it (Jupyter),
``max_rows`` cuts long tables to their first and last rows as pandas does.
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import math
from typing import Any, Sequence

from auditkit.report import SEVERITIES, Report, format_value, jsonable

from . import charts
from .common import (cell_text, column_decimals, delta_sign, finding_columns, findings_by_severity,
                     headline, is_delta_column, is_number, numeric_columns, scalar_summary, verdict)

_ids = itertools.count(1)
TASK_TABLE = "task scores"
LABEL_COLUMNS = ("system", "model", "name")
ESTIMATE_COLUMNS = ("rating", "score", "estimate", "mean", "value", "rank")

CSS = """
.ak-report{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f}
.ak-report h1{font-size:1.45em;margin:.2em 0 .3em}
.ak-report h2{font-size:1.12em;margin:1.4em 0 .4em;border-bottom:1px solid #e3e3e3;padding-bottom:.2em}
.ak-report .ak-verdict{display:flex;flex-wrap:wrap;gap:.5em;align-items:center;margin:.4em 0 .8em}
.ak-report .ak-verdict-text{font-weight:600;font-size:1.05em;padding:.25em .7em;border-radius:4px;
 background:#eef3f8;border-left:4px solid #2b5c8a}
.ak-report .ak-verdict-text.sev-error{background:#fdecee;border-color:#b00020;color:#7a0016}
.ak-report .ak-verdict-text.sev-warning{background:#fff4e0;border-color:#c77700;color:#6b3f00}
.ak-report .ak-verdict-text.sev-ok{background:#e9f6ec;border-color:#2e7d32;color:#1b4d1f}
.ak-report .ak-badge{display:inline-block;padding:.1em .6em;border-radius:999px;font-size:.9em;font-weight:600;
 border:1px solid currentColor}
.ak-report .ak-badge.error{color:#b00020}.ak-report .ak-badge.warning{color:#a15c00}
.ak-report .ak-badge.info{color:#2b5c8a}.ak-report .ak-badge.zero{color:#999;font-weight:400}
.ak-report dl.ak-summary{display:grid;grid-template-columns:repeat(3,max-content minmax(6em,max-content));gap:.1em 1em;margin:.3em 0 .6em}
.ak-report dl.ak-summary dt{color:#555}.ak-report dl.ak-summary dd{margin:0 2.2em 0 0;max-width:34em}
.ak-report ul.ak-footer{columns:2 28em;color:#333;padding-left:1.2em;margin:.4em 0}
.ak-report .ak-scroll{overflow:auto;max-width:100%;max-height:75vh;border:1px solid #e3e3e3;border-radius:4px}
.ak-report table{border-collapse:collapse;font-size:13px;width:max-content;min-width:100%}
.ak-report th,.ak-report td{padding:.22em .6em;border-bottom:1px solid #eee;text-align:left;vertical-align:top;
 white-space:nowrap}
.ak-report td.ak-wrap{white-space:normal;min-width:16em;max-width:46em}
.ak-report thead th{position:sticky;top:0;background:#f5f6f7;border-bottom:2px solid #d5d5d5;cursor:pointer;
 user-select:none;z-index:1}
.ak-report thead th.num,.ak-report td.num{text-align:right;font-variant-numeric:tabular-nums}
.ak-report thead th[aria-sort=ascending]::after{content:" \\25B2";font-size:.75em}
.ak-report thead th[aria-sort=descending]::after{content:" \\25BC";font-size:.75em}
.ak-report thead th.ak-task{background:#eef4fa}
.ak-report tbody tr:hover{background:#f7fafc}
.ak-report td.up{color:#1b7a2e;font-weight:600}.ak-report td.down{color:#b00020;font-weight:600}
.ak-report tr.error td.sev{color:#b00020;font-weight:600}.ak-report tr.warning td.sev{color:#a15c00;font-weight:600}
.ak-report tr.info td.sev{color:#2b5c8a}
.ak-report tr.ak-more td{color:#777;text-align:center;font-style:italic}
.ak-report .ak-tools{display:flex;gap:.6em;align-items:center;margin:.3em 0;color:#555;font-size:.9em}
.ak-report .ak-tools input,.ak-report .ak-tools select{font:inherit;padding:.15em .4em;border:1px solid #ccc;
 border-radius:3px}
.ak-report figure{margin:.6em 0;overflow-x:auto}.ak-report figcaption{color:#555;font-size:.9em}
.ak-report .ak-charts{display:flex;flex-wrap:wrap;gap:1.2em;align-items:flex-start}
.ak-report details{margin:.8em 0}.ak-report pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:12px}
.ak-report nav.ak-toc{font-size:.9em;color:#555;margin:.2em 0 .6em}.ak-report nav.ak-toc a{margin-right:.9em}
"""

PAGE_CSS = "body{margin:1.2em 2em;max-width:none}"

JS = """(function(root){
function key(td){var v=td.getAttribute('data-v');return v===null?td.textContent.trim():v;}
root.querySelectorAll('[data-ak-sortable] > table').forEach(function(t){
 var heads=t.tHead.rows[0].cells;
 Array.prototype.forEach.call(heads,function(th,ci){
  th.tabIndex=0;th.title='sort';
  function go(){
   var asc=th.getAttribute('aria-sort')!=='ascending';
   Array.prototype.forEach.call(heads,function(h){h.removeAttribute('aria-sort');});
   th.setAttribute('aria-sort',asc?'ascending':'descending');
   var num=th.classList.contains('num'),tb=t.tBodies[0];
   var rows=Array.prototype.slice.call(tb.rows).filter(function(r){return !r.classList.contains('ak-more');});
   rows.sort(function(a,b){
    var x=key(a.cells[ci]),y=key(b.cells[ci]);
    if(x===''||y===''){return (x==='')-(y==='');}
    var c=num?(parseFloat(x)-parseFloat(y)):x.localeCompare(y,undefined,{numeric:true});
    return asc?c:-c;});
   rows.forEach(function(r){tb.appendChild(r);});
  }
  th.addEventListener('click',go);
  th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();go();}});
 });
});
root.querySelectorAll('.ak-tools').forEach(function(tools){
 var w=root.querySelector('#'+tools.getAttribute('data-for')),t=w&&w.querySelector('table');if(!t)return;
 var box=tools.querySelector('input'),sev=tools.querySelector('select'),count=tools.querySelector('.ak-count');
 function apply(){
  var q=(box&&box.value||'').toLowerCase(),s=sev?sev.value:'',n=0;
  Array.prototype.forEach.call(t.tBodies[0].rows,function(r){
   var ok=(!q||r.textContent.toLowerCase().indexOf(q)>=0)&&(!s||r.classList.contains(s));
   r.style.display=ok?'':'none';if(ok)n++;});
  if(count)count.textContent=n+' of '+t.tBodies[0].rows.length+' rows';
 }
 if(box)box.addEventListener('input',apply);if(sev)sev.addEventListener('change',apply);
});
})(document.currentScript?document.currentScript.parentNode:document);"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _slug(name: str, uid: int) -> str:
    import re

    return f"ak{uid}-" + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "t")


def _norm(name: Any) -> str:
    s = str(name)
    return s[: -len(" (reference)")] if s.endswith(" (reference)") else s


# -- tables -------------------------------------------------------------------------------------------------------
def table_html(rows: Sequence[dict[str, Any]], tid: str, *, columns: Sequence[str] | None = None,
               digits: int | None = None, max_rows: int | None = None, task_columns: Sequence[str] = (),
               row_class=None, wrap_columns: Sequence[str] = ()) -> str:
    """A sortable table: numbers right-aligned with one number of decimals per column (``data-v`` keeps the
    exact value for sorting), Δ cells coloured, per-task cells shaded by value."""
    if not rows:
        return "<p><em>(no rows)</em></p>"
    columns = list(columns or dict.fromkeys(k for r in rows for k in r))
    numeric = numeric_columns(rows, columns)
    places = column_decimals(rows, columns, digits, numeric)
    shade = {}
    for c in task_columns:
        vals = [r.get(c) for r in rows if is_number(r.get(c)) and math.isfinite(r.get(c))]
        if vals:
            shade[c] = (min(vals), max(vals))
    head = "".join(
        f"<th scope='col' class='{'num' if numeric[c] else ''}{' ak-task' if c in shade else ''}'>{_e(c)}</th>"
        for c in columns)
    shown: list[Any] = list(rows)
    if max_rows is not None and len(rows) > max_rows:
        half = max(max_rows // 2, 1)
        shown = [*rows[:half], None, *rows[-half:]]
    body = []
    for r in shown:
        if r is None:
            body.append(f"<tr class='ak-more'><td colspan='{len(columns)}'>… {len(rows) - 2 * half} more rows "
                        f"({len(rows)} rows × {len(columns)} columns) …</td></tr>")
            continue
        cls = row_class(r) if row_class else ""
        cells = []
        for c in columns:
            v = r.get(c)
            text = cell_text(v, places[c]) if numeric[c] else format_value(v)
            klass = []
            attrs = ""
            if numeric[c]:
                klass.append("num")
                num = int(v) if isinstance(v, str) and v.strip().lstrip("+-").isdigit() else v
                if is_number(num) and math.isfinite(num):
                    attrs = f" data-v='{num!r}'"
            if is_delta_column(str(c)):
                s = delta_sign(v)
                if s:
                    klass.append("up" if s > 0 else "down")
                    text = ("▲ " if s > 0 else "▼ ") + text.lstrip("+-")
            if c in wrap_columns:
                klass.append("ak-wrap")
            if c in shade and is_number(v) and math.isfinite(v):
                lo, hi = shade[c]
                a = 0.06 + 0.42 * ((v - lo) / (hi - lo) if hi > lo else 1)
                attrs += f" style='background:rgba(31,119,180,{a:.2f})'"
            if c == "severity":
                klass.append("sev")
            cells.append(f"<td class='{' '.join(klass)}'{attrs}>{_e(text)}</td>" if klass
                         else f"<td{attrs}>{_e(text)}</td>")
        body.append(f"<tr class='{_e(cls)}'>" + "".join(cells) + "</tr>" if cls else "<tr>" + "".join(cells) + "</tr>")
    return (f"<div class='ak-scroll' id='{tid}' data-ak-sortable='1'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _tools(tid: str, n: int, severities: bool = False) -> str:
    sev = ""
    if severities:
        sev = ("<select aria-label='severity'><option value=''>all severities</option>"
               + "".join(f"<option value='{s}'>{s}</option>" for s in reversed(SEVERITIES)) + "</select>")
    return (f"<div class='ak-tools' data-for='{tid}'><input type='search' placeholder='filter rows…' "
            f"aria-label='filter rows'>{sev}<span class='ak-count'>{n} rows</span></div>")


def _join_tasks(report: Report) -> tuple[dict[str, list[dict]], dict[str, list[str]]]:
    """The tables to show; ``ranking`` gains the ``task scores`` columns (matched by system) when both exist."""
    tables = dict(report.tables)
    task_cols: dict[str, list[str]] = {}
    tasks = tables.get(TASK_TABLE)
    if tasks and "ranking" in tables:
        by = {_norm(r.get("system")): r for r in tasks}
        cols = [c for c in dict.fromkeys(k for r in tasks for k in r) if c != "system"]
        ranking = tables["ranking"]
        if all(_norm(r.get("system")) in by for r in ranking):
            tables["ranking"] = [{**r, **{c: by[_norm(r.get("system"))].get(c) for c in cols}} for r in ranking]
            task_cols["ranking"] = cols
            del tables[TASK_TABLE]
    return tables, task_cols


# -- charts -------------------------------------------------------------------------------------------------------
def _bump(report: Report) -> str:
    data = getattr(report, "rank_data", None)
    if data:
        systems, ranks, rules = data
        return charts.bump_svg(systems, ranks, rules)
    ranking = report.tables.get("ranking")
    if ranking:  # a result report's display table: "pub rank" and one "<rule> rank" (or "rank") per rule
        cols = list(ranking[0])
        rank_cols = [c for c in cols if c == "pub rank"] + [c for c in cols if c == "rank" or
                                                            (c.endswith(" rank") and c != "pub rank")]
        if len(rank_cols) >= 2 and "system" in cols:
            labels = ["published" if c == "pub rank" else (c[:-5] if c.endswith(" rank") else "rank")
                      for c in rank_cols]
            if labels[1:] == ["rank"]:
                labels[1] = "rerank"
            keep = [r for r in ranking if all(isinstance(r.get(c), int) for c in rank_cols)]
            if keep:
                return charts.bump_svg([str(r["system"]) for r in keep], [[r[c] for c in rank_cols] for r in keep],
                                       labels, title="Ranks: published and under each rule")
    rows = report.summary.get("rows") if isinstance(report.summary.get("rows"), list) else None
    rules = [r.get("label") for r in report.summary.get("rules", []) if isinstance(r, dict)]
    if rows and rules and all(isinstance(r, dict) and "rules" in r for r in rows):
        use_pub = any(r.get("published_rank") is not None for r in rows)
        cols = (["published"] if use_pub else []) + rules
        if len(cols) < 2:
            return ""
        systems, ranks = [], []
        for r in rows:
            rs = ([r.get("published_rank")] if use_pub else []) + [r["rules"][k]["rank"] for k in rules]
            if all(isinstance(x, int) for x in rs):
                systems.append(r["system"])
                ranks.append(rs)
        if systems:
            return charts.bump_svg(systems, ranks, cols, title="Ranks: published and under each rule")
    return ""


def _forests(report: Report, tables: bool = False) -> list[str]:
    """Forest plots: compare's bootstrap rank intervals (from the summary) and, with ``tables=True`` (renderer
    option ``forest_tables``), every table with ``lower``/``upper`` columns beside an estimate (arena's
    ratings draw their own forest, so this is off by default)."""
    out = []
    boot = report.summary.get("bootstrap")
    if isinstance(boot, dict) and isinstance(boot.get("rank_intervals"), dict):
        level = boot.get("level")
        for rule, per in boot["rank_intervals"].items():
            names = list(per)
            svg = charts.forest_svg(names, [per[n]["rank"] for n in names], [per[n]["interval"][0] for n in names],
                                    [per[n]["interval"][1] for n in names], lower_is_better=True,
                                    title=f"{rule}: bootstrap rank intervals"
                                          + (f" ({level:.0%})" if isinstance(level, float) else ""),
                                    xlabel="rank (1 = best)")
            if svg:
                out.append(svg)
    for name, rows in (report.tables.items() if tables else ()):
        if not rows:
            continue
        cols = set(rows[0])
        if not {"lower", "upper"} <= cols:
            continue
        est = next((c for c in ESTIMATE_COLUMNS if c in cols), None)
        label = next((c for c in LABEL_COLUMNS if c in cols), None)
        if est and label:
            svg = charts.forest_svg([r.get(label) for r in rows], [r.get(est) for r in rows],
                                    [r.get("lower") for r in rows], [r.get("upper") for r in rows],
                                    title=f"{name}: {est} with interval", xlabel=est,
                                    lower_is_better=est == "rank")
            if svg:
                out.append(svg)
    return out


def change_matrices(report: Report, minimum: int = 6) -> dict[str, list[dict[str, Any]]]:
    """Findings of one check about (system, column) cells with ``old``/``new`` evidence, pivoted into a system x
    column matrix of ``old → new`` cells: 136 edited cells on one screen instead of 136 sentences."""
    groups: dict[str, list] = {}
    for f in report.findings:
        ev = f.evidence or {}
        if f.system and f.column and "old" in ev and "new" in ev and not isinstance(ev["old"], (list, dict)):
            groups.setdefault(f.check, []).append(f)
    out = {}
    for check, fs in groups.items():
        columns = list(dict.fromkeys(f.column for f in fs))
        if len(fs) < minimum or len(columns) < 2:
            continue
        rows: dict[str, dict[str, Any]] = {}
        for f in fs:
            rows.setdefault(f.system, {"system": f.system})[f.column] = f"{f.evidence['old']} → {f.evidence['new']}"
        out[f"{check}: system × column ({len(fs)} cells)"] = [{"system": r["system"], **{c: r.get(c) for c in columns}}
                                                              for r in rows.values()]
    return out


def _change_cell(text: Any) -> tuple[str, str]:
    """The class of an ``old → new`` cell: up (the number grew), down, or none."""
    if not isinstance(text, str) or " → " not in text:
        return "", ""
    a, b = text.split(" → ", 1)
    try:
        d = float(b) - float(a)
    except ValueError:
        return "", ""
    return ("up" if d > 0 else "down" if d < 0 else ""), f"{d:+.4g}"


def matrix_html(rows: list[dict[str, Any]], tid: str) -> str:
    cols = list(rows[0])
    head = "".join(f"<th scope='col'>{_e(c)}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            cls, delta = _change_cell(v)
            title = f" title='{_e(delta)}'" if delta else ""
            cells.append(f"<td class='num {cls}'{title}>{_e(v)}</td>" if cls or delta
                         else f"<td>{_e('' if v is None else v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<div class='ak-scroll ak-matrix' id='{tid}' data-ak-sortable='1'><table><thead><tr>{head}</tr>"
            f"</thead><tbody>{''.join(body)}</tbody></table></div>")


# -- the page -----------------------------------------------------------------------------------------------------
def render_html(report: Report, *, fragment: bool = False, max_rows: int | None = None, digits: int | None = None,
                forest_tables: bool = False, **_: Any) -> str:
    uid = next(_ids)
    counts = report.counts()
    findings = findings_by_severity(report)
    result_only = bool(report.footer) and not findings
    worst = next((s for s in reversed(SEVERITIES) if counts[s]), None)
    parts = [f"<h1>{_e(report.title)}</h1>"]
    vclass = "sev-ok" if worst in (None, "info") else f"sev-{worst}"
    badges = "".join(f"<span class='ak-badge {s if counts[s] else 'zero'}'>{counts[s]} {s}</span>"
                     for s in reversed(SEVERITIES))
    head = headline(report) if result_only else verdict(report)
    parts.append(f"<div class='ak-verdict' id='ak{uid}-verdict'><span class='ak-verdict-text {vclass}'>"
                 f"{_e(head)}</span>{'' if result_only else badges}</div>")
    extra = scalar_summary(report) if not report.footer else {}
    if extra:
        parts.append("<dl class='ak-summary'>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(format_value(v))}</dd>"
                                                         for k, v in extra.items()) + "</dl>")
    tables, task_cols = _join_tasks(report)
    toc = [("findings", "Findings")] if findings else []
    toc += [(_slug(n, uid), n) for n in tables]
    if len(toc) > 2 and not fragment:
        parts.append("<nav class='ak-toc'>" + "".join(f"<a href='#{_e(a if a != 'findings' else f'ak{uid}-findings')}'>"
                                                      f"{_e(t)}</a>" for a, t in toc) + "</nav>")
    has_bump_image = any("bump" in caption for caption in report.images)  # the command drew its own
    figures = [s for s in [None if has_bump_image else _bump(report), *_forests(report, forest_tables)] if s]
    for caption, (mime, data) in report.images.items():
        if data:
            figures.append(f"<figure><img alt='{_e(caption)}' src='data:{_e(mime)};base64,"
                           f"{base64.b64encode(data).decode()}'><figcaption>{_e(caption)}</figcaption></figure>")
    if figures:
        parts.append("<div class='ak-charts'>" + "".join(
            f if f.startswith("<figure") else f"<figure>{f}</figure>" for f in figures) + "</div>")
    for k, (name, rows) in enumerate(change_matrices(report).items()):
        parts.append(f"<h2>{_e(name)}</h2>" + matrix_html(rows, f"ak{uid}-matrix{k}"))
    if not result_only:
        tid = f"ak{uid}-findings"
        parts.append(f"<h2 id='ak{uid}-findings-h'>Findings</h2>")
        if findings:
            cols = finding_columns(findings)
            parts.append(_tools(tid, len(findings), severities=True))
            parts.append(table_html(findings, tid, columns=cols, max_rows=max_rows, wrap_columns=("message",),
                                    row_class=lambda r: r["severity"]))
        else:
            parts.append("<p>No findings.</p>")
    for name, rows in tables.items():
        tid = _slug(name, uid)
        parts.append(f"<h2>{_e(name)}</h2>")
        if rows and len(rows) > 8:
            parts.append(_tools(tid, len(rows)))
        parts.append(table_html(jsonable(rows), tid, digits=digits, max_rows=max_rows,
                                task_columns=task_cols.get(name, ()),
                                wrap_columns=[c for c in ("message", "note", "reason") if rows and c in rows[0]]))
    if report.footer:
        parts.append("<ul class='ak-footer'>" + "".join(f"<li>{_e(x)}</li>" for x in report.footer) + "</ul>")
    nested = {k: v for k, v in report.summary.items() if isinstance(v, (list, dict)) and k != "rows"}
    if nested and not fragment:
        parts.append("<details><summary>Summary (machine-readable)</summary><pre>"
                     + _e(json.dumps(jsonable(nested), indent=2, ensure_ascii=False)[:200000]) + "</pre></details>")
    parts.append("<details><summary>Provenance</summary><pre>"
                 + _e(json.dumps(jsonable(report.provenance), indent=2, ensure_ascii=False)) + "</pre></details>")
    body = "".join(parts)
    if fragment:
        return (f"<div class='ak-report' id='ak{uid}'><style>{CSS}</style>{body}<script>{JS}</script></div>")
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(report.title)}</title><style>{PAGE_CSS}{CSS}</style></head>"
            f"<body><main class='ak-report'>{body}<script>{JS}</script></main></body></html>")
