"""The perf plugin: `auditkit bench`, the asv configuration, the benchmark suites' baselines, the offline dashboard
rewrite, and the rule that `auditkit rerank` stays light (no torch, matplotlib, pandas or scipy).

No timing assertions: timings are printed by `auditkit bench ratios` and benchmarks/rerank_startup.py.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from auditkit.cli import cli

REPO = Path(__file__).resolve().parents[1]
GLUE = REPO.parent / "shared" / "leaderboards-raw" / "vote_and_rank" / "leaderboards - GLUE.csv"


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def startup():
    return _load(REPO / "benchmarks" / "rerank_startup.py", "_rerank_startup")


@pytest.fixture(scope="module")
def core():
    sys.path.insert(0, str(REPO))
    try:
        import benchmarks.bench_core as mod
    finally:
        sys.path.remove(str(REPO))
    return mod


# -- the interactive path stays light ------------------------------------------------------------------------------
def test_rerank_imports_no_heavy_module(startup):
    bad, code, err = startup.heavy_imports(["rerank", str(GLUE), "--mean", "harmonic"])
    assert code == 0, err
    assert bad == [], f"auditkit rerank imported {bad}"


def test_heavy_import_probe_catches_an_import(startup):
    # the probe is not vacuous: a pandas import before the command shows up
    bad, code, _ = startup.heavy_imports(["rerank", str(GLUE), "--mean", "harmonic"], setup="import pandas")
    assert code == 0
    assert "pandas" in bad


def test_help_imports_no_torch_or_matplotlib(startup):
    bad, code, err = startup.heavy_imports(["--help"])
    assert code == 0, err
    assert not [m for m in bad if m.split(".")[0] in ("torch", "matplotlib")]


def test_rerank_startup_script_defaults_to_glue(startup):
    assert startup.default_file() == GLUE
    cmd = startup.auditkit_command()
    assert Path(cmd[0]).parent == Path(sys.executable).parent or cmd[0] == sys.executable


# -- configuration and registration ---------------------------------------------------------------------------------
def test_asv_conf():
    conf = json.loads((REPO / "asv.conf.json").read_text())
    assert conf["version"] == 1 and conf["repo"] == "." and conf["branches"] == ["main"]
    assert conf["benchmark_dir"] == "benchmarks" and conf["environment_type"] == "existing"
    for key in ("env_dir", "results_dir", "html_dir"):
        assert conf[key].startswith(".asv/")
    assert ".asv/" in (REPO / ".gitignore").read_text().split()


def test_bench_command_registered():
    res = CliRunner().invoke(cli, ["bench", "--help"])
    assert res.exit_code == 0, res.output
    for sub in ("ratios", "history", "publish", "offline", "serve"):
        assert sub in res.output
    res = CliRunner().invoke(cli, ["plugins", "--format", "json"])
    perf = [p for p in json.loads(res.output) if p["name"] == "perf"]
    assert perf and not perf[0]["errors"] and "bench" in perf[0]["commands"]


def test_asv_check_passes():
    proc = subprocess.run([sys.executable, "-m", "asv", "check", "-E", "existing"], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No problems found" in proc.stdout


# -- the core suites compute the same thing as their baselines ------------------------------------------------------
@pytest.mark.parametrize("mean", ["arithmetic", "geometric", "harmonic"])
def test_aggregate_matches_scipy_and_pandas(core, mean):
    # independent computations: scipy.stats pmean/gmean/hmean + rankdata, and pandas reductions + rank
    b = core.Aggregate()
    b.setup(mean, 1000)
    scores, ranks = b.time_auditkit(mean, 1000)
    s_scipy, r_scipy = b.time_scipy(mean, 1000)
    s_pd, r_pd = b.time_pandas(mean, 1000)
    np.testing.assert_allclose(scores, s_scipy, rtol=1e-12)
    np.testing.assert_allclose(scores, s_pd.to_numpy(), rtol=1e-12)
    # ranks agree wherever the scores are not tied to within rounding (auditkit ties at 12 significant digits)
    gaps = np.abs(scores[:, None] - scores[None, :])
    close = gaps < 1e-9 * np.abs(scores)[:, None]
    np.fill_diagonal(close, False)
    near_tie = close.any(axis=1)
    assert near_tie.mean() < 0.5
    assert (ranks[~near_tie] == r_scipy[~near_tie]).all()
    assert (ranks[~near_tie] == r_pd.to_numpy()[~near_tie]).all()


def test_rank_matches_scipy_rankdata_min(core):
    b = core.Rank()
    b.setup(1000)
    assert len(np.unique(b.scores)) < 1000  # the input has ties
    np.testing.assert_array_equal(b.time_competition_rank(1000), b.time_scipy_rankdata(1000))
    np.testing.assert_array_equal(b.time_competition_rank(1000), b.time_pandas_rank(1000).to_numpy())


def test_read_and_parse_matches_pandas_pipeline(core):
    b = core.ReadLeaderboard()
    b.setup(1000)
    parsed = b.time_read_and_parse(1000)
    frame = b.time_pandas_pipeline(1000)
    for col, pc in zip(core.GLUE_HEADER[5:], parsed):
        k = pc.n_components
        ours = np.nansum(pc.values, axis=1) / k
        np.testing.assert_allclose(ours, frame[col].to_numpy(), rtol=1e-12, err_msg=col)


def test_every_ratio_entry_names_existing_methods(core):
    for label, a, b, params in core.RATIOS:
        for target in (a, b):
            cls_name, meth = target.split(".")
            cls = getattr(core, cls_name)
            assert callable(getattr(cls, meth)), target
            names = getattr(cls, "param_names", [])
            assert sorted(params or {}) == sorted(names), (label, target)
            for name, value in (params or {}).items():
                assert value in cls.params[names.index(name)], (label, name, value)


# -- the ratio table ------------------------------------------------------------------------------------------------
TOY_BENCH = '''
class Pair:
    params = [[3, 5], ["x", "y"]]
    param_names = ["n", "tag"]

    def setup(self, n, tag):
        self.n, self.tag = n, tag

    def time_a(self, n, tag):
        assert (self.n, self.tag) == (5, "y"), "setup did not get the RATIOS parameters"
        return sum(range(200))

    def time_b(self, n, tag):
        return sum(range(100))


class NeedsDevice:
    def setup(self):
        raise NotImplementedError("needs a CUDA device")

    def time_a(self):
        pass

    def time_b(self):
        pass


RATIOS = [
    ("toy pair", "Pair.time_a", "Pair.time_b", {"n": 5, "tag": "y"}),
    ("toy device", "NeedsDevice.time_a", "NeedsDevice.time_b", None),
    ("toy typo", "Pair.time_a", "Pair.time_missing", {"n": 5, "tag": "y"}),
]
'''


def test_ratios_command_on_toy_suites(tmp_path):
    bench = tmp_path / "toybench"
    bench.mkdir()
    (bench / "__init__.py").write_text("")
    (bench / "bench_toy.py").write_text(TOY_BENCH)
    (bench / "bench_broken.py").write_text("import no_such_module_for_auditkit_tests\n")
    res = CliRunner().invoke(cli, ["bench", "ratios", "--quick", "--rounds", "3", "--benchmarks", str(bench),
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    rows = {r["label"]: r for r in data["rows"]}
    pair = rows["toy pair"]
    assert pair["status"] == "ok", pair["message"]
    assert pair["time_a_s"] > 0 and pair["time_b_s"] > 0
    assert pair["ratio"] == pytest.approx(pair["time_a_s"] / pair["time_b_s"])
    # interleaved rounds: one sample per side per round, min and the median of the paired ratios reported
    assert pair["rounds"] == 3 and len(pair["samples_a_s"]) == len(pair["samples_b_s"]) == 3
    assert pair["time_a_s"] == min(pair["samples_a_s"])
    paired = sorted(a / b for a, b in zip(pair["samples_a_s"], pair["samples_b_s"]))
    assert pair["ratio_median"] == pytest.approx(paired[1])
    assert pair["ratio_iqr"][0] <= pair["ratio_median"] <= pair["ratio_iqr"][1]
    # thread settings recorded with the table and with the row
    assert data["threads"] and pair["threads"] == data["threads"]
    # progress on stderr, one line as each entry starts and one as it ends
    assert "[1/3] bench_toy: toy pair ..." in res.stderr and "over 3 rounds" in res.stderr
    assert rows["toy device"]["status"] == "skipped" and "CUDA" in rows["toy device"]["message"]
    assert rows["toy typo"]["status"] == "error" and "time_missing" in rows["toy typo"]["message"]
    assert "no_such_module_for_auditkit_tests" in data["import_errors"]["bench_broken"]

    res = CliRunner().invoke(cli, ["bench", "ratios", "--quick", "--benchmarks", str(bench), "--format", "markdown",
                                   "--match", "toy pair"])
    assert res.exit_code == 0, res.output
    assert "| bench_toy | toy pair |" in res.stdout.replace("  ", " ")
    assert "not imported: bench_broken" in res.stdout
    assert "threads: " in res.stdout


def test_time_interleaved_alternates_the_sides():
    from auditkit_plugins.perf.ratios import time_interleaved

    calls = []
    fns = [lambda: calls.append("a"), lambda: calls.append("b"), lambda: calls.append("l")]
    times = time_interleaved(fns, rounds=3, min_time=0.0)
    assert [len(t) for t in times] == [3, 3, 3]
    assert calls[3:] == ["a", "b", "l", "b", "l", "a", "l", "a", "b"]   # after one calibration call each


LIMIT_BENCH = '''
import numpy as np


class Copy:
    def setup(self):
        self.x = np.ones(10000)
        self.out = np.empty(10000)

    def time_work(self):
        np.exp(self.x, out=self.out)

    def time_baseline(self):
        np.exp(self.x)

    def time_memcpy(self):
        np.copyto(self.out, self.x)


RATIOS = [("exp / exp", "Copy.time_work", "Copy.time_baseline", None,
           {"limit": "Copy.time_memcpy", "goal": 1000.0, "limit_goal": 1e9})]
'''


def test_ratios_limit_and_goal(tmp_path):
    bench = tmp_path / "limbench"
    bench.mkdir()
    (bench / "bench_lim.py").write_text(LIMIT_BENCH)
    res = CliRunner().invoke(cli, ["bench", "ratios", "--quick", "--rounds", "2", "--threads", "1", "--benchmarks",
                                   str(bench), "--format", "json", "--quiet"])
    assert res.exit_code == 0, res.output
    assert res.stderr == ""
    row = json.loads(res.stdout)["rows"][0]
    assert row["limit"] == "Copy.time_memcpy" and len(row["samples_limit_s"]) == 2
    assert row["limit_ratio"] == pytest.approx(row["time_a_s"] / row["time_limit_s"])
    assert row["goal_met"] is True
    assert all(v == 1 for k, v in row["threads"].items() if k.startswith(("blas", "openmp")))
    res = CliRunner().invoke(cli, ["bench", "ratios", "--quick", "--rounds", "2", "--benchmarks", str(bench),
                                   "--format", "markdown", "--quiet"])
    assert "a/limit" in res.stdout and "goal" in res.stdout and ": met" in res.stdout


def test_trim_params(core):
    sys.path.insert(0, str(REPO))
    try:
        from benchmarks import trim_params
    finally:
        sys.path.remove(str(REPO))
    mod = types.ModuleType("fake_bench")

    class Two:
        params = [[100_000, 1_000, 10_000], ["cpu", "cuda"]]
        param_names = ["n", "device"]

    class One:
        params = [64, 8]
        param_names = ["d"]

    Two.__module__ = One.__module__ = "fake_bench"
    mod.Two, mod.One = Two, One
    trim_params(mod)
    assert Two.params == [[1_000], ["cpu"]]
    assert One.params == [8]


# -- offline dashboard ----------------------------------------------------------------------------------------------
def _asv_www(tmp_path) -> Path:
    import asv

    html = tmp_path / "html"
    shutil.copytree(Path(asv.__file__).with_name("www"), html)
    (html / "index.json").write_text(json.dumps({"project": "toy"}))
    (html / "graphs").mkdir()
    (html / "graphs" / "one.json").write_text("[[1, 2.0]]")
    return html


def test_make_offline_removes_every_cdn_reference(tmp_path):
    from auditkit_plugins.perf.dashboard import check_offline, make_offline

    html = _asv_www(tmp_path)
    before = check_offline(html)
    assert any("code.jquery.com" in p for p in before)  # asv 0.6 really loads from CDNs
    make_offline(html)
    assert check_offline(html) == []
    text = (html / "index.html").read_text()
    assert "cdn" not in text.lower().replace("asv-offline", "")
    assert 'src="vendor/jquery-3.3.1.min.js"' in text
    data = (html / "vendor" / "asv-offline-data.js").read_text()
    payload = json.loads(data[data.index("=") + 1:].strip().rstrip(";"))
    assert payload["index.json"] == {"project": "toy"} and payload["graphs/one.json"] == [[1, 2.0]]


def test_make_offline_names_an_unknown_cdn_file(tmp_path):
    from auditkit_plugins.perf.dashboard import OfflineError, make_offline

    html = _asv_www(tmp_path)
    page = html / "index.html"
    page.write_text(page.read_text().replace(
        "</head>", '<script src="https://cdn.example.org/new-lib.js"></script></head>'))
    with pytest.raises(OfflineError, match="cdn.example.org/new-lib.js"):
        make_offline(html)


def test_vendored_assets_match_their_published_hashes():
    # SRI hashes copied from asv 0.6.6's www/index.html (the CDN files these copies replace)
    import base64
    import hashlib

    from auditkit_plugins.perf.dashboard import WWW

    sri = {
        "jquery-3.3.1.min.js": "sha256-FgpCb/KJQlLNfOu91ta32o/NMZxltwRo8QtmkMRdAu8=",
        "jquery.flot.orderBars-1.0.0.js": "sha256-OXNbT0b5b/TgglckAfR8VaJ2ezZv0dHoIeRKjYMKEr8=",
        "bootstrap-3.1.1.min.js": "sha256-iY0FoX8s/FEg3c26R6iFw3jAtGbzDwcA5QJ1fiS0A6E=",
        "bootstrap-3.1.1.min.css": "sha256-6VA0SGkrc43SYPvX98q/LhHwm2APqX5us6Vuulsafps=",
    }
    for name, want in sri.items():
        digest = base64.b64encode(hashlib.sha256((WWW / name).read_bytes()).digest()).decode()
        assert f"sha256-{digest}" == want, name


# -- history helpers on a throwaway repository ----------------------------------------------------------------------
def test_last_commits_and_extract(tmp_path):
    from auditkit_plugins.perf import history

    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                       capture_output=True)

    git("init", "-q", "-b", "main")
    for i in range(3):
        (repo / "v.txt").write_text(str(i))
        git("add", "v.txt")
        git("commit", "-q", "-m", f"c{i}")
    commits = history.last_commits(repo, 2)
    assert len(commits) == 2
    assert history.git(repo, "log", "-1", "--format=%s", commits[0]) == "c1"  # oldest first
    out = history.extract_commit(repo, commits[0], tmp_path / "x")
    assert (out / "v.txt").read_text() == "1"
    assert (repo / "v.txt").read_text() == "2"  # the working tree is untouched


# -- smoke and history modes of benchmarks/__init__.py -------------------------------------------------------------
BAD_SUITE = "import auditkit_plugins.no_such_plugin_for_tests\n\nclass Never:\n    def time_x(self):\n        pass\n"
PARAM_SUITE = "class P:\n    params = [[100, 10], ['cpu', 'cuda']]\n    param_names = ['n', 'device']\n\n" \
              "    def time_x(self, n, device):\n        pass\n"


def _suite_dir(tmp_path) -> Path:
    pkg = tmp_path / "benchmarks"
    pkg.mkdir(parents=True)
    shutil.copyfile(REPO / "benchmarks" / "__init__.py", pkg / "__init__.py")
    (pkg / "bench_bad.py").write_text(BAD_SUITE)
    (pkg / "bench_param.py").write_text(PARAM_SUITE)
    return tmp_path


def _probe(tmp_path, code: str, **env) -> subprocess.CompletedProcess:
    import os

    full = {k: v for k, v in os.environ.items() if k not in ("AUDITKIT_BENCH_SMOKE", "AUDITKIT_BENCH_TOLERANT")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=_suite_dir(tmp_path), env=full, capture_output=True,
                          text=True, timeout=60)


def test_tolerant_mode_leaves_a_failing_suite_empty(tmp_path):
    code = "import benchmarks.bench_bad as m; print(sorted(k for k in vars(m) if not k.startswith('__')))"
    strict = _probe(tmp_path / "a", code)
    assert strict.returncode != 0 and "no_such_plugin_for_tests" in strict.stderr
    tolerant = _probe(tmp_path / "b", code, AUDITKIT_BENCH_TOLERANT="1")
    assert tolerant.returncode == 0, tolerant.stderr
    assert tolerant.stdout.strip() == "[]"
    assert "bench_bad left empty" in tolerant.stderr


def test_smoke_mode_trims_every_suite(tmp_path):
    code = "import benchmarks.bench_param as m; print(m.P.params)"
    assert _probe(tmp_path / "a", code).stdout.strip() == "[[100, 10], ['cpu', 'cuda']]"
    assert _probe(tmp_path / "b", code, AUDITKIT_BENCH_SMOKE="1").stdout.strip() == "[[10], ['cpu']]"
