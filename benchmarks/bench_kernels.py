"""The kernels against the best baseline we can write and against the hardware limit (issue 19's table).

Every class times auditkit's kernel, the best plain numpy (or pandas/polars/DuckDB) version of the same work, and,
for bandwidth-bound kernels, a memcpy of the same bytes (``np.copyto`` into a preallocated buffer: what the
memory system allows). This is also the suite of ``auditkit bench history --quick``, which sets ``AUDITKIT_BENCH_QUICK=1``: each
class then keeps only its smallest size (``_sizes``), so that a commit takes under 2 minutes with 8+ samples
per benchmark. Classes set ``version`` so that editing a helper does not reset their history.

Inputs are seeded; generated files are cached under the temporary directory (``auditkit-bench/``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

N_TASKS = 64
QUICK = os.environ.get("AUDITKIT_BENCH_QUICK", "").strip() not in ("", "0")


def _sizes(*sizes, quick=None):
    """The parameter list of a class: all ``sizes``, or only ``quick`` (default: the smallest) in quick mode."""
    return [quick if quick is not None else min(sizes)] if QUICK else list(sizes)


def _cache(name: str) -> Path:
    path = Path(tempfile.gettempdir()) / "auditkit-bench" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class Means:
    """AM, GM and HM of systems x 64 tasks: auditkit's registered kernels, numpy one-liners, memcpy of the table."""

    version = "1"
    params = [_sizes(10_000, 100_000)]
    param_names = ["systems"]

    def setup(self, systems):
        import auditkit

        rng = np.random.default_rng(1)
        self.values = np.round(rng.uniform(1.0, 100.0, (systems, N_TASKS)), 1)
        self.weights = np.full(N_TASKS, 1.0 / N_TASKS)
        self.buffer = np.empty_like(self.values)
        reg = auditkit.get_registry()
        self.funcs = [reg.get("aggregators", m).func for m in ("arithmetic", "geometric", "harmonic")]
        self.geometric = self.funcs[1]

    def time_auditkit_three_means(self, systems):
        return [f(self.values, xp=np, weights=self.weights) for f in self.funcs]

    def time_numpy_three_means(self, systems):
        v, w = self.values, self.weights
        return [v @ w, np.exp(np.log(v) @ w), 1.0 / ((1.0 / v) @ w)]

    def time_memcpy_three(self, systems):
        for _ in range(3):
            np.copyto(self.buffer, self.values)

    def time_auditkit_geometric(self, systems):
        return self.geometric(self.values, xp=np, weights=self.weights)

    def time_numpy_geometric(self, systems):
        return np.exp(np.log(self.values) @ self.weights)

    def time_memcpy(self, systems):
        np.copyto(self.buffer, self.values)


def argsort_group_start(scores: np.ndarray) -> np.ndarray:
    """The best plain competition rank: one argsort, group starts carried by a running maximum (no tie key)."""
    key = -scores
    order = np.argsort(key)
    ordered = key[order]
    pos = np.arange(1, key.size + 1, dtype=float)
    pos[1:][ordered[1:] == ordered[:-1]] = 0.0
    np.maximum.accumulate(pos, out=pos)
    out = np.empty(key.size)
    out[order] = pos
    return out


class CompetitionRank:
    version = "1"
    params = [_sizes(100_000, 1_000_000)]
    param_names = ["systems"]

    def setup(self, systems):
        self.scores = np.round(np.random.default_rng(2).uniform(0.0, 100.0, systems), 1)

    def time_auditkit(self, systems):
        from auditkit.ranking import competition_rank

        return competition_rank(self.scores)

    def time_argsort_group_start(self, systems):
        return argsort_group_start(self.scores)


class TaskBootstrap:
    """Task bootstrap rank sets, 1000 systems x 50 tasks: auditkit against the naive numpy loop
    (benchmarks/bench_stats.py's baseline: one argsort per resample)."""

    version = "1"
    params = [_sizes(1000, 10_000, quick=300)]
    param_names = ["resamples"]
    timeout = 600

    def setup(self, resamples):
        from benchmarks.bench_stats import _table

        self.values = _table(1000, 50)
        self.weights = np.full(50, 1.0 / 50)

    def time_auditkit(self, resamples):
        from benchmarks.bench_stats import _vectorized

        return _vectorized(self.values, self.weights, resamples)

    def time_numpy_loop(self, resamples):
        from benchmarks.bench_stats import baseline_task_bootstrap

        return baseline_task_bootstrap(self.values, self.weights, resamples)


def snapshot_pair(rows: int, seed: int = 0) -> tuple[Path, Path]:
    """Two dated snapshots of a GLUE-format leaderboard with ``rows`` systems: NEW edits 1% of the cells and moves
    5% of the published scores by up to 0.5 points (rank flips among neighbours), drops 1% of the systems and adds
    as many."""
    from benchmarks.bench_core import GLUE_HEADER

    old, new = _cache(f"snapshot-{rows}-seed{seed}-v1-old.csv"), _cache(f"snapshot-{rows}-seed{seed}-v1-new.csv")
    if old.is_file() and new.is_file():
        return old, new
    rng = np.random.default_rng(seed)
    tasks = [t for t in GLUE_HEADER[5:] if t not in ("MRPC", "STS-B", "QQP")]
    header = ["Rank", "Name", "Model", "URL", "Score", *tasks]
    cells = np.round(rng.uniform(40.0, 95.0, (rows + rows // 100, len(tasks))), 1)
    names = [f"system-{i:06d}" for i in range(cells.shape[0])]

    def table(idx, cells, score):
        order = np.argsort(-score, kind="stable")
        lines = [",".join(header)]
        for rank, r in enumerate(order, 1):
            i = idx[r]
            lines.append(",".join([str(rank), f"team {i}", names[i], "", f"{score[r]:.1f}",
                                   *(f"{c:.1f}" for c in cells[r])]))
        return "\n".join(lines) + "\n"

    idx_old = np.arange(rows)
    score_old = np.round(cells[:rows].mean(axis=1), 1)
    keep = np.sort(rng.choice(rows, rows - rows // 100, replace=False))
    idx_new = np.r_[keep, np.arange(rows, cells.shape[0])]
    cells_new = cells[idx_new].copy()
    edit = rng.random(cells_new.shape) < 0.01
    cells_new[edit] = np.round(cells_new[edit] + rng.uniform(-2, 2, edit.sum()), 1)
    score_new = np.round(cells_new.mean(axis=1), 1)
    moved = rng.random(score_new.size) < 0.05
    score_new[moved] = np.round(score_new[moved] + rng.uniform(-0.5, 0.5, moved.sum()), 1)
    _write(old, table(idx_old, cells[:rows], score_old))
    _write(new, table(idx_new, cells_new, score_new))
    return old, new


class Diff:
    """``auditkit.diff`` of two generated snapshots against reading both and applying the recipe (the work every
    diff starts from); ``time_rank_flips`` is the flip count alone on the published scores."""

    version = "1"
    params = [_sizes(2_000, 10_000, quick=300)]
    param_names = ["rows"]
    timeout = 600

    def setup(self, rows):
        import auditkit_plugins.audit.snapshots  # noqa: F401  (warm the import)

        self.old, self.new = (str(p) for p in snapshot_pair(rows))
        rng = np.random.default_rng(3)
        self.x = np.round(rng.uniform(40, 95, rows), 1)
        self.y = np.where(rng.random(rows) < 0.05, np.round(self.x + rng.uniform(-0.5, 0.5, rows), 1), self.x)

    def time_diff(self, rows):
        from auditkit import diff

        return diff(self.old, self.new)

    def time_read_and_recipe_baseline(self, rows):
        from auditkit.leaderboard import read_leaderboard
        from auditkit.loading import resolve_recipe
        from auditkit.taskscores import task_scores

        for p in (self.old, self.new):
            lb = read_leaderboard(p)
            task_scores(lb, resolve_recipe(lb, None)[0])

    def time_rank_flips(self, rows):
        from auditkit_plugins.audit.snapshots import rank_flips

        return rank_flips(self.x, self.y)

    def time_argsort_scores(self, rows):
        return np.argsort(self.x, kind="stable"), np.argsort(self.y, kind="stable")


def long_csv(rows: int, tasks: int = 10, seed: int = 0) -> Path:
    """A long-format score table (system, task, value) with ``rows`` rows."""
    path = _cache(f"long-{rows}-{tasks}-seed{seed}-v1.csv")
    if path.is_file():
        return path
    rng = np.random.default_rng(seed)
    systems = rows // tasks
    vals = np.round(rng.uniform(1.0, 100.0, systems * tasks), 1)
    sys_names = np.repeat(np.char.add("system-", np.arange(systems).astype(str)), tasks)
    task_names = np.tile(np.char.add("task-", np.arange(tasks).astype(str)), systems)
    body = np.char.add(np.char.add(np.char.add(np.char.add(sys_names, ","), task_names), ","), vals.astype(str))
    _write(path, "system,task,value\n" + "\n".join(body.tolist()) + "\n")
    return path


class RerankLong:
    """Harmonic-mean ranking of a 1M-row long CSV (100k systems x 10 tasks): auditkit.rerank against
    pandas, polars and DuckDB doing read + pivot + harmonic mean + rank in process."""

    version = "1"
    params = [_sizes(100_000, 1_000_000, quick=20_000)]
    param_names = ["rows"]
    timeout = 900
    number = 1
    repeat = (1, 3, 60.0)

    def setup(self, rows):
        self.path = str(long_csv(rows))
        import auditkit

        auditkit.get_registry().records("readers")

    def time_auditkit(self, rows):
        from auditkit.reranking import rerank

        return rerank(self.path, ["harmonic"])

    def time_pandas(self, rows):
        import pandas as pd

        df = pd.read_csv(self.path)
        wide = df.pivot(index="system", columns="task", values="value")
        score = 1.0 / (1.0 / wide).mean(axis=1)
        return score.rank(method="min", ascending=False)

    def time_polars(self, rows):
        try:
            import polars as pl
        except ImportError:
            raise NotImplementedError("polars is not installed") from None
        df = pl.read_csv(self.path)
        return (df.group_by("system").agg((1.0 / (1.0 / pl.col("value")).mean()).alias("score"))
                .with_columns(pl.col("score").rank("min", descending=True).alias("rank")))

    def time_duckdb(self, rows):
        try:
            import duckdb
        except ImportError:
            raise NotImplementedError("duckdb is not installed") from None
        return duckdb.sql(f"""
            SELECT system, score, rank() OVER (ORDER BY score DESC) AS rank FROM (
              SELECT system, 1.0 / avg(1.0 / value) AS score FROM read_csv_auto('{self.path}') GROUP BY system)
        """).fetchnumpy()


RATIOS = [
    ("AM+GM+HM 100k x 64: auditkit / numpy one-liners (limit: 3 memcpy of the table)",
     "Means.time_auditkit_three_means", "Means.time_numpy_three_means", {"systems": 100_000},
     {"limit": "Means.time_memcpy_three", "goal": 1.0, "limit_goal": 3.0}),
    ("geometric mean 100k x 64: auditkit / numpy one-liner (limit: memcpy of the table)",
     "Means.time_auditkit_geometric", "Means.time_numpy_geometric", {"systems": 100_000},
     {"limit": "Means.time_memcpy", "limit_goal": 3.0}),
    ("competition rank 100k scores: auditkit / argsort + group start",
     "CompetitionRank.time_auditkit", "CompetitionRank.time_argsort_group_start", {"systems": 100_000},
     {"goal": 1.2}),
    ("task bootstrap 1000 x 50 x 10k resamples: auditkit / naive numpy loop (goal: >= 7x faster)",
     "TaskBootstrap.time_auditkit", "TaskBootstrap.time_numpy_loop", {"resamples": 10_000},
     {"goal": 1 / 7, "repeat": 3}),
    ("diff of two 2k-row snapshots / read + recipe of both (10k: see docs/performance.md)",
     "Diff.time_diff", "Diff.time_read_and_recipe_baseline", {"rows": 2_000}, {"repeat": 3}),
    ("rank flips of 10k systems / two stable argsorts of the scores",
     "Diff.time_rank_flips", "Diff.time_argsort_scores", {"rows": 10_000}),
    ("rerank 1M-row long CSV (harmonic): auditkit / pandas", "RerankLong.time_auditkit", "RerankLong.time_pandas",
     {"rows": 1_000_000}, {"goal": 2.0, "repeat": 3}),
    ("rerank 1M-row long CSV (harmonic): auditkit / polars", "RerankLong.time_auditkit", "RerankLong.time_polars",
     {"rows": 1_000_000}, {"repeat": 3}),
    ("rerank 1M-row long CSV (harmonic): auditkit / DuckDB in process", "RerankLong.time_auditkit",
     "RerankLong.time_duckdb", {"rows": 1_000_000}, {"goal": 2.0, "repeat": 3}),
]


def _paired_ratio(a, b, rounds: int = 7) -> float:
    """Median over interleaved rounds of time(a) / time(b), each side timed in the same round (A B, then B A):
    the history figure that machine load moves least (both sides see the same load)."""
    import statistics
    import time

    ratios = []
    for r in range(rounds):
        t = {}
        for name, fn in ((("a", a), ("b", b)) if r % 2 == 0 else (("b", b), ("a", a))):
            t0 = time.perf_counter()
            fn()
            t[name] = time.perf_counter() - t0
        ratios.append(t["a"] / t["b"])
    return statistics.median(ratios)


class KernelRatios:
    """Ratios measured interleaved in one process (auditkit / its baseline or limit) as asv ``track_`` values:
    a slowdown of auditkit's kernel moves the ratio by the same factor, while machine load, which moves absolute
    times by 20-90% between runs here, largely cancels."""

    version = "1"
    unit = "ratio"

    def setup(self):
        self.means = Means()
        self.means.setup(10_000)
        self.rank = CompetitionRank()
        self.rank.setup(100_000)
        self.boot = TaskBootstrap()
        self.boot.setup(300)

    def track_geometric_over_memcpy(self):
        m = self.means
        return _paired_ratio(lambda: [m.time_auditkit_geometric(0) for _ in range(20)],
                             lambda: [m.time_memcpy(0) for _ in range(20)])

    def track_three_means_over_numpy(self):
        m = self.means
        return _paired_ratio(lambda: [m.time_auditkit_three_means(0) for _ in range(10)],
                             lambda: [m.time_numpy_three_means(0) for _ in range(10)])

    def track_rank_over_argsort_group_start(self):
        r = self.rank
        return _paired_ratio(lambda: r.time_auditkit(0), lambda: r.time_argsort_group_start(0))

    def track_bootstrap_over_numpy_loop(self):
        b = self.boot
        return _paired_ratio(lambda: b.time_auditkit(300), lambda: b.time_numpy_loop(300), rounds=3)
