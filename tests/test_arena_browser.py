"""The arena HTML report in a real browser (Debian's chromium, headless, no network): the forest plot is drawn."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from browser_support import CHROMIUM, chromium, coloured_pixels, dom

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _needs_chromium():
    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium on PATH (apt-get update && apt-get install -y chromium)")


def test_arena_page_draws_the_forest_plot(tmp_path):
    pytest.importorskip("leaderbot")
    from auditkit_plugins.arena.readers import leaderbot_path

    page = tmp_path / "arena.html"
    exe = shutil.which("auditkit") or str(Path(sys.executable).with_name("auditkit"))
    out = subprocess.run([exe, "arena", leaderbot_path(), "--anchor", "mixtral-8x7b-instruct-v0.1",
                          "--offset", "1114", "--format", "html", "-o", str(page)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    html = dom(page.as_uri(), tmp_path / "ud-dom")
    assert "forest-plot" in html and html.count("class=\"rating\"") == 60  # the top 60 of 129 models
    assert "chatgpt-4o-latest" in html
    shot = tmp_path / "arena.png"
    proc = chromium([f"--screenshot={shot}"], page.as_uri(), tmp_path / "ud-shot")
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    # the intervals and dots are saturated colours; a page whose SVG failed to render shows only grey and black
    assert coloured_pixels(shot, left=300, top=60) > 300
