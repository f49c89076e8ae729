"""Scale of ``auditkit rerank`` on wide numeric tables: CPU time and peak RSS per size, and the scaling exponent.

Each size runs ``auditkit rerank FILE --format csv -o /dev/null``-like (output to a temporary file) in its own
subprocess; CPU time (user + system) and peak RSS come from ``resource.getrusage(RUSAGE_CHILDREN)``, which is
per-child here because each measurement forks a fresh process via a wrapper. The exponent is the slope of
log(CPU) against log(rows), fitted by least squares.

    python benchmarks/bench_scale.py                         # 25k, 50k, 100k, 200k rows x 50 tasks
    python benchmarks/bench_scale.py --rows 25000,50000 --cols 50
    python benchmarks/bench_scale.py --big                   # adds the ~200 MB CSV (780k x 50)
    python benchmarks/bench_scale.py --profile 200000        # cProfile of one run, top functions by cumulative time

Synthetic tables use a fixed seed; cells are written with one decimal (like leaderboards), system names are
unique (``system-000123``), so the parse cache and the name handling are both exercised.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

WRAPPER = r"""
import resource, subprocess, sys, json
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": p.returncode, "cpu_s": u.ru_utime + u.ru_stime, "peak_rss_mb": u.ru_maxrss / 1024,
                  "stderr": p.stderr.decode()[-500:]}))
"""


def make_table(path: str, rows: int, cols: int, seed: int = 0) -> int:
    """Write a rows x cols numeric leaderboard (plus a System column); returns its size in bytes."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as fh:
        fh.write("System," + ",".join(f"task{j:03d}" for j in range(cols)) + "\n")
        block = 20_000
        for start in range(0, rows, block):
            n = min(block, rows - start)
            vals = np.round(rng.uniform(1, 99.9, size=(n, cols)), 1)
            body = np.char.mod("%.1f", vals)
            lines = [f"system-{start + i:07d}," + ",".join(r) for i, r in enumerate(body)]
            fh.write("\n".join(lines) + "\n")
    return os.path.getsize(path)


def measure(path: str, out: str) -> dict:
    cmd = [sys.executable, "-m", "auditkit.cli", "rerank", path, "--format", "csv", "-o", out]
    res = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], capture_output=True, text=True, check=True)
    return json.loads(res.stdout)


def exponent(sizes, times) -> float:
    x, y = np.log(np.asarray(sizes, float)), np.log(np.asarray(times, float))
    return float(np.polyfit(x, y, 1)[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="25000,50000,100000,200000")
    ap.add_argument("--cols", type=int, default=50)
    ap.add_argument("--big", action="store_true", help="also the ~200 MB CSV (780k x 50)")
    ap.add_argument("--profile", type=int, default=None, metavar="ROWS")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.profile:
            path = os.path.join(tmp, "t.csv")
            make_table(path, args.profile, args.cols)
            prof = os.path.join(tmp, "p.prof")
            subprocess.run([sys.executable, "-m", "cProfile", "-o", prof, "-m", "auditkit.cli", "rerank", path,
                            "--format", "csv", "-o", os.path.join(tmp, "o.csv")], check=True)
            import pstats

            pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
            return 0
        rows = [int(r) for r in args.rows.split(",")]
        if args.big:
            rows.append(780_000)
        results = []
        for n in rows:
            path = os.path.join(tmp, f"t{n}.csv")
            size = make_table(path, n, args.cols)
            m = measure(path, os.path.join(tmp, "out.csv"))
            os.unlink(path)
            m.update(rows=n, cols=args.cols, mb=size / 1e6)
            results.append(m)
            print(f"{n:>8} x {args.cols}  {size / 1e6:7.1f} MB  cpu {m['cpu_s']:7.2f} s  peak RSS "
                  f"{m['peak_rss_mb']:7.0f} MB  rc {m['rc']}" + (f"  {m['stderr'].strip()[-200:]}" if m["rc"] else ""),
                  flush=True)
        ok = [r for r in results if r["rc"] == 0]
        if len(ok) >= 2:
            k = exponent([r["rows"] for r in ok], [r["cpu_s"] for r in ok])
            km = exponent([r["rows"] for r in ok], [r["peak_rss_mb"] for r in ok])
            print(f"scaling exponent: CPU ~ rows^{k:.2f}, peak RSS ~ rows^{km:.2f}")
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
