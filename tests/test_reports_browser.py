"""Every report's HTML page in a real headless Chromium (Debian's, no network) at 1400x900: a screenshot of each,
and layout measured in the page itself: nothing wider than the window (wide tables scroll inside their frame),
the verdict above the fold, headers sort, the filter box filters, the charts are drawn.

Marked ``browser``; run with ``python -m pytest -m browser tests/test_reports_browser.py``. Set
``AUDITKIT_SCREENSHOTS=DIR`` to keep the screenshots."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from browser_support import CHROMIUM, coloured_pixels

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
LB = ROOT / "leaderboards"
GLUE = LB / "glue" / "glue-2021-vote-and-rank.csv"
SUPERGLUE = LB / "superglue" / "superglue-2021-vote-and-rank.csv"
LIVEBENCH = (LB / "livebench" / "livebench-2024-07-01.csv", LB / "livebench" / "livebench-2024-08-29.csv")
W, H = 1400, 900

PROBE = """<script>
window.addEventListener('load', function () {
  var r = {vw: innerWidth, vh: innerHeight, sw: document.documentElement.scrollWidth, tables: []};
  var v = document.querySelector('.ak-verdict');
  r.verdict_bottom = v ? v.getBoundingClientRect().bottom : null;
  document.querySelectorAll('table').forEach(function (t) {
    var w = t.closest('.ak-scroll'), b = (w || t).getBoundingClientRect();
    r.tables.push({id: t.parentNode.id, framed: !!w, right: b.right, overflow: w ? getComputedStyle(w).overflowX : null,
                   scrolls: w ? w.scrollWidth > w.clientWidth : false});
  });
  r.svgs = document.querySelectorAll('svg').length;
  r.svg_right = Math.max.apply(null, [0].concat([].map.call(document.querySelectorAll('figure'),
      function (f) { return f.getBoundingClientRect().right; })));
  // sorting: click the first numeric header of the largest table twice (descending), read that column
  var big = [].slice.call(document.querySelectorAll('[data-ak-sortable] > table'))
      .sort(function (a, b) { return b.tBodies[0].rows.length - a.tBodies[0].rows.length; })[0];
  if (big) {
    var heads = [].slice.call(big.tHead.rows[0].cells), k = heads.findIndex(function (h) {
      return h.classList.contains('num'); });
    if (k >= 0) {
      heads[k].click(); heads[k].click();
      r.sorted = [].map.call(big.tBodies[0].rows, function (row) {
        var c = row.cells[k]; return c ? c.getAttribute('data-v') : null; })
        .filter(function (x) { return x !== null; }).map(Number);
      r.sort_state = heads[k].getAttribute('aria-sort');
    }
    var tools = document.querySelector('.ak-tools[data-for="' + big.parentNode.id + '"] input');
    if (tools) {
      var first = big.tBodies[0].rows[0].textContent.trim().slice(0, 6);
      tools.value = 'zzzz-no-such-row'; tools.dispatchEvent(new Event('input'));
      r.hidden_all = [].every.call(big.tBodies[0].rows, function (x) { return x.style.display === 'none'; });
      tools.value = ''; tools.dispatchEvent(new Event('input'));
      r.shown_again = [].every.call(big.tBodies[0].rows, function (x) { return x.style.display !== 'none'; });
    }
  }
  var pre = document.createElement('pre'); pre.id = 'ak-probe'; pre.textContent = JSON.stringify(r);
  document.body.appendChild(pre);
});
</script>"""


def chromium(args: list[str], url: str, tmp: Path) -> subprocess.CompletedProcess:
    """browser_support's flags (no network but localhost), with this file's window size only."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage",
           "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
           f"--user-data-dir={tmp}", f"--window-size={W},{H}", "--virtual-time-budget=10000", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(autouse=True)
def _needs_chromium():
    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium on PATH (apt-get update && apt-get install -y chromium)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from auditkit_plugins.renderers.demo import write_demo

    d = tmp_path_factory.mktemp("demo")
    write_demo(d)
    return d


def _auditkit(*args, cwd=None):
    exe = shutil.which("auditkit") or str(Path(os.sys.executable).with_name("auditkit"))
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)


def _page(tmp: Path, name: str, args, cwd=None) -> Path:
    page = tmp / f"{name}.html"
    out = _auditkit(*args, "--format", "html", "-o", page, cwd=cwd)
    assert out.returncode in (0, 1), out.stderr[-3000:]
    return page


def measure(page: Path, tmp: Path) -> dict:
    probe = tmp / (page.stem + "-probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    proc = chromium(["--dump-dom"], probe.as_uri(), tmp / f"ud-{page.stem}-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = re.search(r"<pre id=\"ak-probe\">(.*?)</pre>", proc.stdout, re.S)
    assert found, "the probe did not run"
    import html

    return json.loads(html.unescape(found.group(1)))


def screenshot(page: Path, tmp: Path) -> Path:
    shot = tmp / f"{page.stem}.png"
    proc = chromium([f"--screenshot={shot}"], page.as_uri(), tmp / f"ud-{page.stem}")
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    from PIL import Image

    assert Image.open(shot).size == (W, H)
    keep = os.environ.get("AUDITKIT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)
    return shot


def check_layout(m: dict, *, verdict=True) -> None:
    assert m["vw"] == W and m["vh"] <= H  # --dump-dom's viewport is the window less its frame (757 of 900)
    assert m["sw"] <= m["vw"], f"the page is {m['sw']} px wide in a {m['vw']} px window: something is clipped"
    for t in m["tables"]:
        assert t["framed"] and t["overflow"] == "auto", t  # every table in a scrolling frame
        assert t["right"] <= m["vw"], t
    assert m["svg_right"] <= m["vw"]
    if verdict:
        assert m["verdict_bottom"] is not None and m["verdict_bottom"] < 0.5 * m["vh"], "the verdict is not at the top"
    if "sorted" in m:
        assert m["sort_state"] == "descending" and m["sorted"] == sorted(m["sorted"], reverse=True)
    if "hidden_all" in m:
        assert m["hidden_all"] and m["shown_again"]


def test_rerank_page(tmp_path):
    page = _page(tmp_path, "rerank", ["rerank", GLUE, "--mean", "harmonic", "--mean", "arithmetic"])
    m = measure(page, tmp_path)
    check_layout(m)
    assert m["svgs"] >= 1 and len(m["sorted"]) >= 98  # the bump/scatter chart; every ranked row sorted
    assert coloured_pixels(screenshot(page, tmp_path), left=0, top=60) > 300


def test_audit_page_verdict_above_the_fold(tmp_path):
    page = _page(tmp_path, "audit", ["audit", GLUE])
    m = measure(page, tmp_path)
    check_layout(m)
    text = page.read_text()
    assert text.index("WARNING:") < text.index("Findings") and "ak-badge warning" in text
    screenshot(page, tmp_path)


def test_compare_page_draws_bump_chart_and_forest_plots(tmp_path):
    page = _page(tmp_path, "compare", ["compare", SUPERGLUE, "--rules", "arithmetic,geometric,harmonic,borda",
                                       "--bootstrap", "200", "--seed", "0"])
    m = measure(page, tmp_path)
    check_layout(m)
    html = page.read_text()
    # the bump chart: compare's PNG (matplotlib) or, without one, the inline SVG; one forest plot per rule
    assert ("ak-bump" in html or "bump chart" in html) and html.count("ak-forest'") == 4
    assert coloured_pixels(screenshot(page, tmp_path), left=0, top=60) > 300


def test_diff_page(tmp_path):
    page = _page(tmp_path, "diff", ["diff", *LIVEBENCH])
    check_layout(measure(page, tmp_path))
    screenshot(page, tmp_path)


def test_arena_page(tmp_path, demo):
    page = _page(tmp_path, "arena", ["arena", demo / "battles.jsonl", "--model", "bt", "--model", "davidson"])
    check_layout(measure(page, tmp_path))
    screenshot(page, tmp_path)


def test_contrastive_page_tables_scroll_instead_of_clipping(tmp_path, demo):
    pytest.importorskip("torch")
    page = _page(tmp_path, "contrastive", ["contrastive", "diagnose", demo / "scores.npy", "--positive-index", "0",
                                           "--dtypes", "float16,bfloat16,float32"])
    m = measure(page, tmp_path)
    check_layout(m)
    screenshot(page, tmp_path)


def test_significance_page(tmp_path):
    page = _page(tmp_path, "significance", ["significance", SUPERGLUE, "--all-pairs", "--resamples", "200"])
    check_layout(measure(page, tmp_path))
    screenshot(page, tmp_path)


def test_a_wide_table_scrolls_inside_its_frame(tmp_path):
    from auditkit.report import Report

    row = {f"a rather long column name {i}": 1000.123 + i for i in range(40)}
    page = tmp_path / "wide.html"
    page.write_text(Report("wide", tables={"wide": [row, row]}).render("html"))
    m = measure(page, tmp_path)
    check_layout(m, verdict=True)
    assert m["tables"][0]["scrolls"]  # wider than the window, and scrolling, not clipped
