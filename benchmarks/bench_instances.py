"""Instance logs at scale: re-scoring and paired SEs over long-format Parquet, auditkit's engines beside the same
aggregation written by hand in DuckDB SQL and in polars; and the streamed instance bootstrap.

Two ways to run it:

* asv classes (``Rescore``, ``Paired``, ``Bootstrap``) and ``RATIOS`` for ``auditkit bench ratios``; the Parquet
  inputs are generated once under the temporary directory (smoke mode takes the smallest size);
* a script that measures rows/s and peak RSS, each method in its own process (peak RSS = the largest sum of RSS
  over the process tree, sampled every 50 ms with psutil, so Dask's worker processes count)::

      python benchmarks/bench_instances.py --rows 1e6 1e7 [1e8] [--dir /tmp/auditkit-bench]
      python benchmarks/bench_instances.py --bootstrap 200 1000000 2000

Data: ``synthetic.make_parquet``: 10 systems x 10 tasks x rows/100 instances, binary scores (as acc /
exact_match logs are), Snappy Parquet in row groups of 10^6 rows. The hand-written baselines compute exactly what
re-scoring needs (count, sum, sum of squares per system x task x metric; for pairs count, sum d, sum d^2 per
task x pair), with plain ``sum`` (``duckdb-sql``) and with the compensated ``fsum`` auditkit uses so that its
engines agree to 1e-12 (``duckdb-sql-fsum``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYSTEMS, TASKS = 10, 10
ROOT = Path(__file__).resolve().parents[1]


def data_file(rows: int, directory: str | None = None) -> Path:
    from auditkit_plugins.instances.synthetic import make_parquet

    d = Path(directory or os.environ.get("AUDITKIT_BENCH_DIR") or Path(tempfile.gettempdir()) / "auditkit-bench")
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"instances-{rows}.parquet"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        make_parquet(tmp, SYSTEMS, TASKS, rows // (SYSTEMS * TASKS), kind="binary", seed=0)
        tmp.rename(path)
    return path


# -- the methods measured ------------------------------------------------------------------------------------------
def auditkit_rescore(path, engine: str, pairs: bool):
    from auditkit_plugins.instances.engines import reduce
    from auditkit_plugins.instances.pairstats import pair_stats
    from auditkit_plugins.instances.read_long import read
    from auditkit_plugins.instances.scoring import task_scores

    iset = read(path, in_memory=engine == "numpy")
    suff = reduce(iset, engine, pairs=pairs)
    return task_scores(suff), pair_stats(suff) if pairs else None


DUCKDB_GROUPS = """SELECT system, task, metric, count(*) AS n, sum(value) AS s, sum(value * value) AS q
FROM read_parquet('{path}') GROUP BY system, task, metric"""
DUCKDB_PAIRS = """SELECT a.task, a.metric, a.system, b.system, count(*) AS n, sum(a.value - b.value) AS sd,
       sum((a.value - b.value) * (a.value - b.value)) AS sd2
FROM read_parquet('{path}') a JOIN read_parquet('{path}') b
  ON a.task = b.task AND a.metric = b.metric AND a.instance = b.instance AND a.system < b.system
GROUP BY a.task, a.metric, a.system, b.system"""


def duckdb_sql(path, pairs: bool, fsum: bool = False):
    from auditkit_plugins.instances.engine_duckdb import connect

    con = connect()   # the same settings as the engine: threads = cores, the same memory limit
    groups, join = DUCKDB_GROUPS, DUCKDB_PAIRS
    if fsum:          # the same exactness as auditkit's engine: compensated sums
        groups, join = groups.replace("sum(", "fsum("), join.replace("sum(", "fsum(")
    out = con.execute(groups.format(path=path)).fetchall()
    if pairs:
        out = con.execute(join.format(path=path)).fetchall()
    return out


def polars_lazy(path, pairs: bool):
    import polars as pl

    lf = pl.scan_parquet(str(path))
    out = lf.group_by(["system", "task", "metric"]).agg(
        n=pl.len(), s=pl.col("value").sum(), q=(pl.col("value") ** 2).sum()).collect(engine="streaming")
    if pairs:
        left = lf.select("task", "metric", "instance", "system", "value")
        j = left.join(left, on=["task", "metric", "instance"], suffix="_b").filter(
            pl.col("system") < pl.col("system_b")).with_columns(d=pl.col("value") - pl.col("value_b"))
        out = j.group_by(["task", "metric", "system", "system_b"]).agg(
            n=pl.len(), sd=pl.col("d").sum(), sd2=(pl.col("d") ** 2).sum()).collect(engine="streaming")
    return out


METHODS = {
    "auditkit-duckdb": lambda p, pairs: auditkit_rescore(p, "duckdb", pairs),
    "auditkit-numpy": lambda p, pairs: auditkit_rescore(p, "numpy", pairs),
    "auditkit-dask": lambda p, pairs: auditkit_rescore(p, "dask", pairs),
    "duckdb-sql": duckdb_sql,
    "duckdb-sql-fsum": lambda p, pairs: duckdb_sql(p, pairs, fsum=True),
    "polars": polars_lazy,
}


# -- asv ------------------------------------------------------------------------------------------------------------
class Rescore:
    """Re-scoring (per system x task x metric: n, mean, SE) from Parquet."""

    params = [[10 ** 5, 10 ** 6, 10 ** 7]]
    param_names = ["rows"]
    timeout = 600

    def setup(self, rows):
        self.path = data_file(rows)

    def time_auditkit_duckdb(self, rows):
        auditkit_rescore(self.path, "duckdb", False)

    def time_duckdb_sql(self, rows):
        duckdb_sql(self.path, False)

    def time_polars(self, rows):
        polars_lazy(self.path, False)

    def peakmem_auditkit_duckdb(self, rows):
        auditkit_rescore(self.path, "duckdb", False)


class Paired:
    """Paired differences for every pair of systems per task: the per-instance self-join."""

    params = [[10 ** 5, 10 ** 6]]
    param_names = ["rows"]
    timeout = 600

    def setup(self, rows):
        self.path = data_file(rows)

    def time_auditkit_duckdb(self, rows):
        auditkit_rescore(self.path, "duckdb", True)

    def time_duckdb_sql(self, rows):
        duckdb_sql(self.path, True)

    def time_polars(self, rows):
        polars_lazy(self.path, True)


class Bootstrap:
    """The streamed instance bootstrap: resampled scores of S systems over n instances."""

    params = [[20, 200], [10 ** 4, 10 ** 5]]
    param_names = ["systems", "instances"]
    timeout = 600

    def setup(self, systems, instances):
        from auditkit_plugins.instances.synthetic import make_matrix

        self.X = make_matrix(systems, instances, seed=0)

    def time_bootstrap_200_resamples(self, systems, instances):
        from auditkit_plugins.instances.resampling import bootstrap_matrix

        bootstrap_matrix(self.X, n_resamples=200, seed=0)


RATIOS = [
    ("rescore 10^6 Parquet rows: auditkit duckdb engine / hand-written DuckDB SQL", "Rescore.time_auditkit_duckdb",
     "Rescore.time_duckdb_sql", {"rows": 10 ** 6}),
    ("rescore 10^6 Parquet rows: auditkit duckdb engine / polars lazy", "Rescore.time_auditkit_duckdb",
     "Rescore.time_polars", {"rows": 10 ** 6}),
    ("paired SEs 10^6 Parquet rows: auditkit duckdb engine / hand-written DuckDB SQL", "Paired.time_auditkit_duckdb",
     "Paired.time_duckdb_sql", {"rows": 10 ** 6}),
]


# -- the script: rows/s and peak RSS, one process per measurement --------------------------------------------------
def _child(method: str, path: str, pairs: bool) -> None:
    t0 = time.perf_counter()
    METHODS[method](path, pairs)
    print(json.dumps({"seconds": time.perf_counter() - t0}))


def _child_bootstrap(systems: int, instances: int, resamples: int) -> None:
    from auditkit_plugins.instances.resampling import bootstrap_matrix
    from auditkit_plugins.instances.synthetic import make_matrix

    X = make_matrix(systems, instances, seed=0)
    t0 = time.perf_counter()
    bootstrap_matrix(X, n_resamples=resamples, seed=0)
    print(json.dumps({"seconds": time.perf_counter() - t0}))


def measure(args: list[str], timeout: float = 3600) -> dict:
    """Run this file with ``args`` in a child process; wall time reported by the child, peak tree RSS sampled."""
    import psutil

    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    ps = psutil.Process(proc.pid)
    peak = 0
    t0 = time.perf_counter()
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        if time.perf_counter() - t0 > timeout:
            proc.kill()
            return {"error": "timeout"}
        time.sleep(0.05)
    out, err = proc.communicate()
    if proc.returncode != 0:
        return {"error": err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"}
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_rss_mb"] = peak / 2 ** 20
    return res


def main(argv=None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", nargs="*", type=float, default=[])
    ap.add_argument("--methods", default="duckdb-sql,duckdb-sql-fsum,auditkit-duckdb,polars,auditkit-dask,auditkit-numpy")
    ap.add_argument("--pairs", choices=["no", "yes", "both"], default="both")
    ap.add_argument("--max-numpy-rows", type=float, default=1e7)
    ap.add_argument("--max-dask-pair-rows", type=float, default=1e7)
    ap.add_argument("--max-dask-rows", type=float, default=1e8)
    ap.add_argument("--max-polars-pair-rows", type=float, default=1e8)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--bootstrap", nargs=3, type=int, metavar=("SYSTEMS", "INSTANCES", "RESAMPLES"))
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--child-bootstrap", nargs=3, type=int, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        return _child(a.child[0], a.child[1], a.child[2] == "1")
    if a.child_bootstrap:
        return _child_bootstrap(*a.child_bootstrap)
    if a.bootstrap:
        s, n, r = a.bootstrap
        res = measure(["--child-bootstrap", str(s), str(n), str(r)])
        print(f"bootstrap {r} resamples x {s} systems x {n} instances: {res}")
        return
    modes = {"no": [False], "yes": [True], "both": [False, True]}[a.pairs]
    print("| rows | work | method | seconds | rows/s | peak RSS (MB) | / duckdb-sql |")
    print("|---:|---|---|---:|---:|---:|---:|")
    for rows in map(int, a.rows):
        path = data_file(rows, a.dir)
        for pairs in modes:
            base = None
            for method in a.methods.split(","):
                if method == "auditkit-numpy" and rows > a.max_numpy_rows:
                    continue
                if method == "auditkit-dask" and (rows > a.max_dask_rows or pairs and rows > a.max_dask_pair_rows):
                    continue
                if method == "polars" and pairs and rows > a.max_polars_pair_rows:
                    continue
                res = measure(["--child", method, str(path), "1" if pairs else "0"])
                work = "rescore + paired" if pairs else "rescore"
                if "error" in res:
                    print(f"| {rows:.0e} | {work} | {method} | {res['error']} | | | |", flush=True)
                    continue
                if method == "duckdb-sql":
                    base = res["seconds"]
                ratio = f"{res['seconds'] / base:.2f}" if base else ""
                print(f"| {rows:.0e} | {work} | {method} | {res['seconds']:.2f} | {rows / res['seconds']:.3g} | "
                      f"{res['peak_rss_mb']:.0f} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
