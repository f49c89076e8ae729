#!/usr/bin/env python
"""Run-to-run spread of the asv history settings: benchmark one commit twice, compare the two runs.

    .venv/bin/python scripts/asv_spread.py [--commit HEAD] [--full] [-b REGEX]

Both runs use the code of COMMIT and the settings of `auditkit bench history` (--quick by default: the history suite
with QUICK_ASV_ARGS; --full: every suite with FULL_ASV_ARGS), recorded under two asv machine names
(`<host>-spread-a`, `<host>-spread-b`) so they do not mix with the real history. It prints, per benchmark, the
ratio of the two runs' results (asv's value: the median of the samples) and a summary: the median and the largest
|ratio - 1|. A threshold for `asv compare --factor` must sit well above the largest of these (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _results(root: Path, machine: str, commit: str) -> dict[str, float]:
    from asv.results import Results

    from auditkit_plugins.perf.history import load_config

    folder = root / load_config(root).get("results_dir", "results") / machine
    files = [p for p in folder.glob(f"{commit[:8]}*.json")]
    if not files:
        raise SystemExit(f"no results for {commit[:8]} under {folder}")
    res = Results.load(str(max(files, key=lambda p: p.stat().st_mtime)))
    out = {}
    for key in res.get_all_result_keys():
        values = res.get_result_value(key, res.get_result_params(key))
        for i, v in enumerate(values):
            if v is not None and v == v:
                out[f"{key}[{i}]" if len(values) > 1 else key] = float(v)
    return out


def main(argv=None) -> int:
    from auditkit_plugins.perf import history

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--commit", default="HEAD")
    ap.add_argument("--full", action="store_true", help="every suite with the full settings (slow)")
    ap.add_argument("-b", "--bench", action="append", default=[], help="benchmark regex (asv -b)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", args.commit], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    runs = {}
    for tag in ("a", "b"):
        machine = f"{platform.node()}-spread-{tag}"
        status = history.run_history(ROOT, [commit], quick=not args.full, bench=args.bench, machine=machine,
                                     echo=lambda m: print(m, file=sys.stderr))
        if status[commit] not in (0, 2):
            raise SystemExit(f"asv run failed for run {tag}")
        runs[tag] = _results(ROOT, machine, commit)
    common = sorted(set(runs["a"]) & set(runs["b"]))
    ratios = {k: runs["b"][k] / runs["a"][k] for k in common if runs["a"][k] > 0}
    dev = [abs(r - 1) for r in ratios.values()]
    summary = {"commit": commit, "benchmarks": len(ratios), "median_abs_change": statistics.median(dev),
               "max_abs_change": max(dev), "ratios": ratios,
               "log_sd": statistics.pstdev([math.log(r) for r in ratios.values()])}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for k, r in ratios.items():
            print(f"{r:6.3f}  {k}")
        print(f"{len(ratios)} benchmarks: run b / run a, median |change| {summary['median_abs_change']:.1%}, "
              f"largest {summary['max_abs_change']:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
