"""auditkit's own HTML renderings load in a real headless browser (Debian's chromium) with no network: the bump
chart embedded by `auditkit compare --format html` is drawn, and the audit and rerank pages show their tables.

Marked ``browser`` (left out of the default run); run with ``python -m pytest -m browser -q``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from browser_support import CHROMIUM, chromium, coloured_pixels, dom

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SUPERGLUE = ROOT / "leaderboards" / "superglue" / "superglue-2021-vote-and-rank.csv"
GLUE = ROOT / "leaderboards" / "glue" / "glue-2021-vote-and-rank.csv"


@pytest.fixture(autouse=True)
def _needs_chromium():
    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium on PATH (apt-get update && apt-get install -y chromium)")


def _auditkit(*args):
    return subprocess.run(["auditkit", *map(str, args)], capture_output=True, text=True)


def test_compare_page_draws_the_bump_chart(tmp_path):
    page = tmp_path / "compare.html"
    out = _auditkit("compare", SUPERGLUE, "--rules", "arithmetic,harmonic,borda", "--format", "html", "-o", page)
    assert out.returncode in (0, 1), out.stderr
    html = dom(page.as_uri(), tmp_path / "ud-dom")
    assert "<img" in html and "bump chart" in html
    shot = tmp_path / "compare.png"
    proc = chromium([f"--screenshot={shot}"], page.as_uri(), tmp_path / "ud-shot")
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    # the chart's coloured lines; a page whose image failed to decode shows only grey text and tables
    assert coloured_pixels(shot, left=0, top=60) > 300


def test_audit_and_rerank_pages_show_their_tables(tmp_path):
    audit = tmp_path / "audit.html"
    out = _auditkit("audit", GLUE, "--format", "html", "-o", audit)
    assert out.returncode in (0, 1), out.stderr
    html = dom(audit.as_uri(), tmp_path / "ud-audit")
    assert "MaChAmp" in html and "class=\"warning\"" in html.replace("'", '"')
    rerank = tmp_path / "rerank.html"
    assert _auditkit("rerank", GLUE, "--mean", "harmonic", "--format", "html", "-o", rerank).returncode == 0
    html = dom(rerank.as_uri(), tmp_path / "ud-rerank")
    assert html.count("<tr>") >= 101 and "GLUE Human Baselines (reference)" in html
