"""The asv history detects a real regression with the documented settings.

A throwaway git repository holds a tiny package and an asv suite; its second commit makes the benchmarked function
do its work 4 times (a redundant loop: a planted 4x slowdown, far beyond the 20% threshold and beyond what load
on a shared machine does to a ratio of medians). The history code that `auditkit bench history --quick` runs (git
archive, pip install --no-deps --no-index --target, `asv run -E existing --set-commit-hash` with QUICK_ASV_ARGS,
two passes over the commits with the samples appended) records both; `asv compare --factor 1.2` must list the benchmark as worse from the first to the second and as
improved the other way. No timing is asserted: the verdicts are asv's (a no-change pair is not asserted clean:
a 20% swing of load between two runs can happen on a shared machine, and that is not what this test is about).
Bounded: 2 installs + 4 asv runs of one benchmark, about 20 s here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("asv")

WORK = """
def work():
    total = 0
    for _ in range({reps}):
        for i in range(40_000):
            total += i * i
    return total
"""

SUITE = """
import tinypkg


class Tiny:
    version = "1"

    def time_work(self):
        tinypkg.work()
"""


def _git(repo, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false", *args],
                   cwd=repo, check=True, capture_output=True)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()


def _commit(repo, reps, message):
    (repo / "tinypkg" / "__init__.py").write_text(WORK.format(reps=reps))
    _git(repo, "add", "-A")
    return _git(repo, "commit", "-q", "-m", message)


def _compare(python, repo, a, b, machine):
    proc = subprocess.run([python, "-m", "asv", "compare", "--factor", "1.2", "--split", "--machine", machine, a, b],
                          cwd=repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_planted_slowdown_is_flagged_by_asv_compare(tmp_path, monkeypatch):
    from auditkit_plugins.perf import history

    repo = tmp_path / "repo"
    (repo / "tinypkg").mkdir(parents=True)
    (repo / "benchmarks").mkdir()
    (repo / "benchmarks" / "__init__.py").write_text("")
    (repo / "benchmarks" / "bench_kernels.py").write_text(SUITE)
    (repo / "pyproject.toml").write_text(textwrap.dedent("""
        [build-system]
        requires = ["setuptools"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "tinypkg"
        version = "0"

        [tool.setuptools]
        packages = ["tinypkg"]
    """))
    (repo / "asv.conf.json").write_text(json.dumps({
        "version": 1, "project": "tinypkg", "repo": ".", "dvcs": "git", "branches": ["main"],
        "environment_type": "existing", "benchmark_dir": "benchmarks", "env_dir": ".asv/env",
        "results_dir": ".asv/results", "html_dir": ".asv/html"}))
    (repo / ".gitignore").write_text(".asv/\n")
    _git(repo, "init", "-q", "-b", "main")
    fast = _commit(repo, 1, "fast")
    slow = _commit(repo, 4, "slow: the work done 4 times")

    machine = "auditkit-regression-test"
    monkeypatch.setenv("ASV_MACHINE_FILE", str(tmp_path / "asv-machine.json"))
    subprocess.run([sys.executable, "-m", "asv", "machine", "--yes", "--machine", machine], cwd=repo, check=True,
                   capture_output=True, timeout=120)
    lines = []
    status = history.run_history(repo, [fast, slow], python=sys.executable, quick=True, machine=machine,
                                 echo=lines.append)
    assert status == {fast: 0, slow: 0}, "\n".join(lines)
    assert any("s for this commit" in line for line in lines)           # progress with timings

    # both passes landed in one result per commit: 2 passes x 4+ samples, enough for asv's Mann-Whitney test
    from asv.results import Results

    for commit in (fast, slow):
        (path,) = (repo / ".asv" / "results" / machine).glob(f"{commit[:8]}-*.json")
        samples = Results.load(str(path)).get_result_samples("bench_kernels.Tiny.time_work", [])[0]
        assert len(samples) >= 8, samples

    worse = _compare(sys.executable, repo, fast, slow, machine)
    assert "Benchmarks that have got worse" in worse, worse
    flagged = worse.split("Benchmarks that have got worse", 1)[1]
    assert "bench_kernels.Tiny.time_work" in flagged, worse

    print(worse)

    better = _compare(sys.executable, repo, slow, fast, machine)
    assert "Benchmarks that have improved" in better, better
    assert "bench_kernels.Tiny.time_work" in better.split("Benchmarks that have improved", 1)[1], better
