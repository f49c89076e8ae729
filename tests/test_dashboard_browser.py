"""The published asv dashboard renders offline in a real headless browser (Debian's chromium).

Marked ``browser``: the default run leaves it out (pyproject addopts ``-m 'not browser'``). Run it with

    apt-get update && apt-get install -y chromium      # once
    python -m pytest tests/test_dashboard_browser.py -m browser -q

It builds a throwaway git repository with a toy package (3 commits, the later ones slower), benchmarks every
commit with the same code path as ``auditkit bench history`` (git archive -> pip --no-deps --no-index --target ->
``asv run -E existing --set-commit-hash``), publishes, makes the HTML offline, and loads it with all host names
unresolvable: over file:// and over a localhost http server the graph canvas is drawn with one legend entry per
series, and the screenshot has plotted (coloured) pixels in the plot area. As a control, the page as asv publishes
it (CDN scripts) does not draw the graph with the network blocked.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from browser_support import CHROMIUM, chromium as _chromium, coloured_pixels, dom as _dom

pytestmark = pytest.mark.browser

TOY_MODULE = '''
def work(n):
    total = 0
    for _ in range({loops}):
        total += sum(range(n))
    return total
'''

TOY_BENCH = '''
import toy


class Work:
    params = [[1000, 20000]]
    param_names = ["n"]

    def time_work(self, n):
        toy.work(n)
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "toy-auditkit-dashboard"
version = "0.0.1"

[tool.setuptools]
py-modules = ["toy"]
'''

CONF = '''{
    "version": 1, "project": "toy", "project_url": "", "repo": ".", "dvcs": "git", "branches": ["main"],
    "environment_type": "existing", "benchmark_dir": "benchmarks", "env_dir": ".asv/env",
    "results_dir": ".asv/results", "html_dir": ".asv/html", "show_commit_url": ""
}'''


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium on PATH (apt-get update && apt-get install -y chromium)")
    from auditkit_plugins.perf import dashboard, history

    tmp = tmp_path_factory.mktemp("dash")
    home = tmp / "home"
    home.mkdir()
    repo = tmp / "toy"
    (repo / "benchmarks").mkdir(parents=True)
    (repo / "benchmarks" / "__init__.py").write_text("")
    (repo / "benchmarks" / "bench_toy.py").write_text(TOY_BENCH)
    (repo / "pyproject.toml").write_text(PYPROJECT)
    (repo / "asv.conf.json").write_text(CONF)
    (repo / ".gitignore").write_text(".asv/\n")

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                       capture_output=True)

    git("init", "-q", "-b", "main")
    for i, loops in enumerate((1, 2, 4)):
        (repo / "toy.py").write_text(TOY_MODULE.format(loops=loops))
        git("add", "-A")
        git("commit", "-q", "-m", f"toy {i}: {loops} loop(s)")

    mp = pytest.MonkeyPatch()
    mp.setenv("HOME", str(home))  # asv's machine file goes to the throwaway home
    try:
        commits = history.last_commits(repo, 3)
        # the toy repository has its own suite (quick history otherwise selects auditkit's kernel suite)
        status = history.run_history(repo, commits, python=sys.executable, quick=True, bench=["bench_toy"],
                                     echo=lambda m: None)
        assert status == {c: 0 for c in commits}
        subprocess.run([sys.executable, "-m", "asv", "publish"], cwd=repo, check=True, capture_output=True)
    finally:
        mp.undo()
    html = repo / ".asv" / "html"
    raw = tmp / "html-as-published"
    shutil.copytree(html, raw)
    dashboard.make_offline(html)
    return {"html": html, "raw": raw, "tmp": tmp, "commits": commits}


def test_results_recorded_for_every_commit(dashboard):
    results = list((dashboard["html"].parents[0] / "results").glob("*/*.json"))
    names = {p.name[:8] for p in results if p.name != "machine.json"}
    assert {c[:8] for c in dashboard["commits"]} <= names


def test_graph_renders_offline_from_file_url(dashboard):
    html, tmp = dashboard["html"], dashboard["tmp"]
    url = (html / "index.html").as_uri() + "#bench_toy.Work.time_work"
    dom = _dom(url, tmp / "ud-file")
    assert 'class="flot-base"' in dom, "the graph canvas was not drawn"
    for series in ("n-1000", "n-20000"):
        assert f'legendLabel">{series}<' in dom, f"legend entry {series} missing"
    shot = tmp / "graph-file.png"
    proc = _chromium([f"--screenshot={shot}"], url, tmp / "ud-shot")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    assert coloured_pixels(shot) > 200, f"no plotted series visible in {shot}"


def test_graph_renders_offline_over_localhost_http(dashboard):
    html, tmp = dashboard["html"], dashboard["tmp"]
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html#bench_toy.Work.time_work"
        dom = _dom(url, tmp / "ud-http")
    finally:
        server.shutdown()
        server.server_close()
    assert 'class="flot-base"' in dom
    assert 'legendLabel">n-20000<' in dom


def test_control_page_as_published_by_asv_needs_the_network(dashboard):
    raw, tmp = dashboard["raw"], dashboard["tmp"]
    assert "cdnjs.cloudflare.com" in (raw / "index.html").read_text()
    dom = _dom((raw / "index.html").as_uri() + "#bench_toy.Work.time_work", tmp / "ud-raw")
    assert 'class="flot-base"' not in dom
