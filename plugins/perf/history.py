"""Benchmark history over commits with no network: one ``asv run -E existing --set-commit-hash`` per commit.

asv's ``existing`` environment benchmarks whatever is importable, so for each commit we extract its tree with
``git archive`` (no change to the working tree or the index), install it with
``pip install --no-deps --no-build-isolation --target .asv/history/site/<hash>`` (dependencies come from the
interpreter's own environment: nothing is downloaded) and run asv with ``ASV_PYTHONPATH`` pointing at that
directory, so the benchmark process imports that commit's ``auditkit`` and its plugins (and their entry points)
ahead of the editable install. The benchmark suites themselves are the current checkout's ``benchmarks/``: one
fixed suite measured across history; a benchmark that an old commit cannot run is recorded as failed (a gap).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from auditkit.errors import UsageError

CONFIG = "asv.conf.json"

# asv settings of the history (docs/performance.md, "Settings chosen for noise"). Every benchmark gets repeated
# samples in PASSES passes over all the commits (one asv round per commit per pass, samples appended), so a burst
# of machine load cannot make a point, and the raw samples are kept: `asv compare` then decides with a
# Mann-Whitney test (8+ samples per side) instead of the ratio alone. The 20% factor is asv compare's --factor 1.2
# (REGRESSION_FACTOR).
QUICK_ASV_ARGS = ["--record-samples", "-a", "rounds=1", "-a", "repeat=(4,8,1.0)", "-a", "warmup_time=0.1",
                  "-a", "sample_time=0.02"]
FULL_ASV_ARGS = ["--record-samples", "-a", "rounds=1", "-a", "repeat=(5,20,20.0)"]
PASSES = 2                 # passes over all the commits, one asv round each (run_history)
# --quick benchmarks the history suite (benchmarks/bench_kernels.py: every kernel at a size that takes 10-200 ms)
# unless -b names others; the full history runs every suite.
QUICK_SUITE = r"^bench_kernels\."
REGRESSION_FACTOR = 1.2


def find_root(start: str | os.PathLike | None = None) -> Path:
    """The directory holding ``asv.conf.json``: from ``start`` (default: cwd) upwards, else the checkout this
    plugin lives in."""
    here = Path(start or os.getcwd()).resolve()
    for d in (here, *here.parents):
        if (d / CONFIG).is_file():
            return d
    fallback = Path(__file__).resolve().parents[2]
    if (fallback / CONFIG).is_file():
        return fallback
    raise UsageError(f"no {CONFIG} in {here} or its parents; run from the auditkit checkout or pass --config")


def load_config(root: Path) -> dict:
    from asv.util import load_json  # asv's loader accepts // comments

    return load_json(str(root / CONFIG), js_comments=True)


def canonical_python(python: str | None = None) -> str:
    """An absolute interpreter path, spelled the same way however it was reached (``.venv/bin/python3`` and
    ``.venv/bin/python`` name one environment; asv would file their results under two names). Symlinks are kept:
    a virtual environment's python is one."""
    path = Path(os.path.abspath(python or sys.executable))
    plain = path.with_name("python")
    if path.name != "python" and plain.exists() and os.path.realpath(plain) == os.path.realpath(path):
        return str(plain)
    return str(path)


def asv_command(python: str | None = None) -> list[str]:
    return [canonical_python(python), "-m", "asv"]


def git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def last_commits(root: Path, n: int, branch: str = "main") -> list[str]:
    """The last ``n`` first-parent commits of ``branch``, oldest first."""
    if n < 1:
        raise UsageError(f"--commits must be at least 1, got {n}")
    try:
        hashes = git(root, "rev-list", "--first-parent", f"--max-count={n}", branch).split()
    except subprocess.CalledProcessError as exc:
        raise UsageError(f"git rev-list {branch} failed in {root}: {exc.stderr.strip()}") from None
    return hashes[::-1]


def extract_commit(root: Path, commit: str, dest: Path) -> Path:
    """Write the tree of ``commit`` to ``dest`` with ``git archive`` (read-only for the repository)."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    data = subprocess.run(["git", "archive", "--format=tar", commit], cwd=root, check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def install_commit(src: Path, site: Path, python: str | None = None) -> None:
    """Install the package at ``src`` into ``site`` without dependencies and without build isolation."""
    if site.exists():
        shutil.rmtree(site)
    cmd = [python or sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
           "--no-compile", "--disable-pip-version-check", "--no-index", "--target", str(site), str(src)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pip could not install {src}: {proc.stderr.strip()[-2000:]}")


def ensure_machine(root: Path, python: str | None = None, machine: str | None = None) -> None:
    """Create asv's machine description non-interactively when it is missing (``asv machine --yes``)."""
    path = Path(os.environ.get("ASV_MACHINE_FILE", Path.home() / ".asv-machine.json"))
    import platform

    name = machine or platform.node()
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    if name in known:
        return
    cmd = [*asv_command(python), "machine", "--yes"] + (["--machine", name] if machine else [])
    subprocess.run(cmd, cwd=root, check=True, capture_output=True, text=True)


def has_results(root: Path, commit: str, config: dict, machine: str | None = None) -> bool:
    import platform

    results = root / config.get("results_dir", "results") / (machine or platform.node())
    return results.is_dir() and any(p.name.startswith(commit[:8]) and p.name != "machine.json"
                                    for p in results.glob("*.json"))


def asv_run_command(python: str | None, commit: str, *, quick: bool = False, bench: list[str] | None = None,
                    machine: str | None = None, extra: list[str] | None = None) -> list[str]:
    """The ``asv run`` line for one commit with the documented settings (QUICK_ASV_ARGS / FULL_ASV_ARGS); with
    ``quick`` and no ``bench`` regex, only the history suite (QUICK_SUITE). ``extra`` comes last (it overrides)."""
    python = canonical_python(python)
    cmd = [*asv_command(python), "run", "--environment", f"existing:{python}", "--set-commit-hash", commit,
           "--show-stderr", *(QUICK_ASV_ARGS if quick else FULL_ASV_ARGS)]
    for b in bench or ([QUICK_SUITE] if quick else []):
        cmd += ["--bench", b]
    if machine:
        cmd += ["--machine", machine]
    return cmd + list(extra or ())


def run_history(root: Path, commits: list[str], *, python: str | None = None, quick: bool = False,
                bench: list[str] | None = None, machine: str | None = None, skip_existing: bool = False,
                extra: list[str] | None = None, passes: int = PASSES, echo=print) -> dict[str, int]:
    """Benchmark each commit (oldest first) into asv's results; returns {commit: asv exit code}.

    Every commit is installed once, then benchmarked in ``passes`` passes over all the commits (one asv round per
    commit per pass; the first records samples, the next append to them): a stretch of machine load then lands on
    every commit, not on the one that happened to run during it."""
    config = load_config(root)
    python = canonical_python(python)
    work = root / ".asv" / "history"
    ensure_machine(root, python, machine)
    status: dict[str, int] = {}
    sites: dict[str, Path] = {}
    t_all = time.monotonic()
    try:
        for i, commit in enumerate(commits, 1):
            short = commit[:8]
            if skip_existing and has_results(root, commit, config, machine):
                echo(f"[{i}/{len(commits)}] {short}: results exist, skipped")
                status[commit] = 0
                continue
            echo(f"[{i}/{len(commits)}] {short}: installing: {git(root, 'log', '-1', '--format=%s', commit)}")
            src, site = work / "src" / commit, work / "site" / commit
            try:
                extract_commit(root, commit, src)
                install_commit(src, site, python)
                sites[commit] = site
            except (RuntimeError, subprocess.CalledProcessError) as exc:
                echo(f"    cannot install {short}: {exc}")
                status[commit] = -1
            finally:
                shutil.rmtree(src, ignore_errors=True)
        for p in range(1, passes + 1):
            for i, (commit, site) in enumerate(sites.items(), 1):
                started = time.monotonic()
                echo(f"[pass {p}/{passes}, {i}/{len(sites)}] {commit[:8]}: asv run")
                env = dict(os.environ, ASV_PYTHONPATH=str(site), AUDITKIT_BENCH_TOLERANT="1")
                if quick:
                    env["AUDITKIT_BENCH_QUICK"] = "1"     # the history suite at its smallest sizes
                cmd = asv_run_command(python, commit, quick=quick, bench=bench, machine=machine,
                                      extra=["--append-samples"] + list(extra or ()) if p > 1 else extra)
                code = subprocess.run(cmd, cwd=root, env=env).returncode
                status[commit] = max(status.get(commit, 0), code)
                echo(f"    asv run exit {code}" + (" (some benchmarks failed)" if code == 2 else "")
                     + f"; {time.monotonic() - started:.0f} s for this commit in this pass, "
                     f"{time.monotonic() - t_all:.0f} s so far")
    finally:
        for site in sites.values():
            shutil.rmtree(site, ignore_errors=True)
    return status


def publish(root: Path, python: str | None = None, echo=print) -> Path:
    """``asv publish`` then make the HTML render offline; returns the html directory."""
    from .dashboard import make_offline

    config = load_config(root)
    subprocess.run([*asv_command(python), "publish"], cwd=root, check=True)
    html = root / config.get("html_dir", "html")
    rewritten = make_offline(html)
    echo(f"dashboard: {html / 'index.html'} (offline: rewrote {', '.join(rewritten) or 'nothing'})")
    return html
