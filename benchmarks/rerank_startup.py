"""Is ``auditkit rerank`` interactive? Its wall time as a ratio to ``python -c "import numpy"``, same run.

    python benchmarks/rerank_startup.py [LEADERBOARD] [--runs 20] [--mean harmonic] [--strict] [--json]

Both commands run ``--runs`` times each, interleaved (rerank, numpy, rerank, numpy, ...) so that machine load
affects both alike, each in a fresh subprocess: the ``auditkit`` console script next to ``sys.executable`` (the
same interpreter) and ``sys.executable -c "import numpy"``. It prints the medians and their ratio; the target is
at most 2x (issue 19). Both commands run with a bytecode cache (``PYTHONPYCACHEPREFIX`` in a temporary directory,
``PYTHONDONTWRITEBYTECODE`` unset), as an installed package has one: an editable install under
``PYTHONDONTWRITEBYTECODE=1`` compiles every auditkit module from source on every run (87 modules, about 0.2 s
here), which numpy, installed with its .pyc files, never pays. ``--no-bytecode-cache`` measures the environment
as it is. It also checks, in a subprocess that runs ``auditkit.cli.main``, that the rerank command imports none
of torch, matplotlib, pandas or scipy (exit 1 if it does). ``--strict`` also exits 1 when the ratio is above the
target. This is a script, not a timed test: tests/test_perf.py runs the import check only.

Default LEADERBOARD: the GLUE snapshot of vote'n'rank (shared/leaderboards-raw/vote_and_rank/"leaderboards -
GLUE.csv" beside the repository), else the curated leaderboards/glue/glue-2021-vote-and-rank.csv.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = 2.0
HEAVY = ("torch", "matplotlib", "pandas", "scipy")
DEFAULT_FILES = [
    REPO.parent / "shared" / "leaderboards-raw" / "vote_and_rank" / "leaderboards - GLUE.csv",
    REPO / "leaderboards" / "glue" / "glue-2021-vote-and-rank.csv",
]

_PROBE = r"""
import atexit, json, sys
HEAVY = {heavy!r}

def _report():
    bad = sorted(m for m in list(sys.modules) if m.split(".")[0] in HEAVY)
    sys.__stderr__.write("AUDITKIT_HEAVY_MODULES=" + json.dumps(bad) + "\n")
    sys.__stderr__.flush()

atexit.register(_report)
{setup}
from auditkit.cli import main
sys.argv = ["auditkit", *{argv!r}]
main({argv!r})
"""


def default_file() -> Path:
    for path in DEFAULT_FILES:
        if path.is_file():
            return path
    raise SystemExit("no GLUE leaderboard found; pass a path: " + " or ".join(str(p) for p in DEFAULT_FILES))


def auditkit_command() -> list[str]:
    """The ``auditkit`` console script beside this interpreter (what a user types), else the module entry."""
    script = Path(sys.executable).with_name("auditkit")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from auditkit.cli import main; sys.argv[0] = 'auditkit'; main()"]


def heavy_imports(argv: list[str], python: str | None = None, setup: str = "") -> tuple[list[str], int, str]:
    """Run ``auditkit <argv>`` through ``auditkit.cli.main`` in a subprocess; return (heavy modules imported,
    exit code, stderr without the probe line). ``setup`` is code run first (the tests use it to show that an
    import is caught)."""
    code = _PROBE.format(heavy=HEAVY, argv=list(argv), setup=setup)
    proc = subprocess.run([python or sys.executable, "-c", code], capture_output=True, text=True)
    bad, rest = None, []
    for line in proc.stderr.splitlines():
        if line.startswith("AUDITKIT_HEAVY_MODULES="):
            bad = json.loads(line.split("=", 1)[1])
        else:
            rest.append(line)
    if bad is None:
        raise RuntimeError(f"the probe did not report (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return bad, proc.returncode, "\n".join(rest)


def _wall(cmd: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def bytecode_env(cache_dir: str) -> dict:
    """The environment with a bytecode cache in ``cache_dir`` (what an installed package has)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache_dir
    return env


def measure(path: Path, runs: int = 20, mean: str = "harmonic", warmup: int = 2, bytecode_cache: bool = True) -> dict:
    import os
    import tempfile

    rerank = [*auditkit_command(), "rerank", str(path), "--mean", mean]
    numpy = [sys.executable, "-c", "import numpy"]
    with tempfile.TemporaryDirectory(prefix="auditkit-pycache-") as cache:
        env = bytecode_env(cache) if bytecode_cache else None
        for _ in range(max(1, warmup)):  # fill the OS file cache (and the bytecode cache) for both
            _wall(rerank, env)
            _wall(numpy, env)
        t_rerank, t_numpy = [], []
        for _ in range(runs):
            t_rerank.append(_wall(rerank, env))
            t_numpy.append(_wall(numpy, env))
    med_r, med_n = statistics.median(t_rerank), statistics.median(t_numpy)
    paired = sorted(r / n for r, n in zip(t_rerank, t_numpy))
    return {"file": str(path), "runs": runs, "command": rerank, "baseline": numpy,
            "rerank_median_s": med_r, "numpy_median_s": med_n, "ratio": med_r / med_n, "target": TARGET,
            "ratio_of_minima": min(t_rerank) / min(t_numpy), "paired_ratio_median": statistics.median(paired),
            "rerank_min_s": min(t_rerank), "numpy_min_s": min(t_numpy), "python": sys.executable,
            "bytecode_cache": bytecode_cache,
            "environment_writes_bytecode": not os.environ.get("PYTHONDONTWRITEBYTECODE")}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", nargs="?", default=None, help="leaderboard file (default: the GLUE snapshot)")
    ap.add_argument("--runs", type=int, default=20, help="runs of each command (default 20)")
    ap.add_argument("--mean", default="harmonic")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--strict", action="store_true", help=f"exit 1 when the ratio is above {TARGET:g}x")
    ap.add_argument("--no-bytecode-cache", action="store_true",
                    help="run as the environment says (PYTHONDONTWRITEBYTECODE=1 compiles auditkit every run)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    path = Path(args.file) if args.file else default_file()
    if not path.is_file():
        ap.error(f"{path}: no such file")

    bad, code, err = heavy_imports(["rerank", str(path), "--mean", args.mean])
    if code != 0:
        print(f"auditkit rerank failed (exit {code}):\n{err}", file=sys.stderr)
        return 2
    result = measure(path, args.runs, args.mean, args.warmup, bytecode_cache=not args.no_bytecode_cache)
    result["heavy_modules_imported"] = bad
    ok_imports = not bad
    ok_ratio = result["ratio"] <= TARGET
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"leaderboard: {path}")
        print(f"interpreter: {sys.executable}")
        print(f"runs: {args.runs} of each, interleaved, after {args.warmup} warm-up run(s); bytecode cache: "
              + ("yes (PYTHONPYCACHEPREFIX in a temporary directory)" if result["bytecode_cache"] else
                 "as the environment says"))
        print(f"auditkit rerank --mean {args.mean}: median {result['rerank_median_s'] * 1000:.0f} ms "
              f"(min {result['rerank_min_s'] * 1000:.0f} ms)")
        print(f"python -c 'import numpy':       median {result['numpy_median_s'] * 1000:.0f} ms "
              f"(min {result['numpy_min_s'] * 1000:.0f} ms)")
        print(f"ratio (medians): {result['ratio']:.2f}x (of minima {result['ratio_of_minima']:.2f}x, median of paired "
              f"runs {result['paired_ratio_median']:.2f}x)  target <= {TARGET:g}x: {'met' if ok_ratio else 'NOT met'}")
        print("heavy imports (torch, matplotlib, pandas, scipy): "
              + ("none" if ok_imports else "IMPORTED " + ", ".join(bad)))
    if not ok_imports or (args.strict and not ok_ratio):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
