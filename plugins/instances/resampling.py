"""The instance bootstrap, streamed: resample weights, never resampled tables.

For one task and metric, X is the systems x instances matrix of per-instance scores (all systems on the same
instances: a paired bootstrap). A resample is a weight vector w over instances, drawn in batches of B:

* ``multinomial``: w = counts of n draws with replacement (the classical bootstrap; sum w = n);
* ``poisson``: w_i ~ Poisson(1) independently (the Poisson bootstrap; sum w ~ n), which needs no coordination
  between instances and is what a streaming or distributed pass would draw.

Each batch gives the resampled task scores as one matrix product, (X @ W.T) / sum(W, axis=1): S x B numbers per
batch, so memory is X plus B x n weights, whatever the number of resamples. X is float32 when every value is an
integer and n < 2^24 (sums of integer counts are then exact in float32), float64 otherwise.

The result: per system the bootstrap SE and percentile interval of its score, rank intervals (competition ranks
per resample, :func:`auditkit.tie_key` ties), and per pair the bootstrap SE of the difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class BootstrapResult:
    systems: list[str]
    task: str
    metric: str
    scores: np.ndarray        # (S,) point estimates
    se: np.ndarray            # (S,)
    low: np.ndarray           # percentile interval
    high: np.ndarray
    rank_low: np.ndarray
    rank_high: np.ndarray
    pair_se: np.ndarray       # (S, S) bootstrap SE of score_i - score_j
    n_resamples: int
    method: str
    seed: int | None
    level: float

    def rows(self) -> list[dict]:
        return [{"system": s, "score": float(self.scores[i]), "se": float(self.se[i]), "low": float(self.low[i]),
                 "high": float(self.high[i]), "rank_low": int(self.rank_low[i]), "rank_high": int(self.rank_high[i])}
                for i, s in enumerate(self.systems)]


def dense_matrix(iset, task: str, metric: str):
    """(systems, X) for one task and metric: per-instance means, every system on every instance."""
    from auditkit.errors import InputError

    sub = _task_rows(iset, task, metric)
    if sub.num_rows == 0:
        raise InputError(f"no instances for task {task!r}, metric {metric!r}")
    from .engine_numpy import _codes

    sc, systems = _codes(sub.column("system"))
    ic, _ = _codes(sub.column("instance"))
    v = sub.column("value").to_numpy(zero_copy_only=False).astype(float)
    S, n = len(systems), int(ic.max()) + 1
    sums = np.zeros((S, n))
    counts = np.zeros((S, n))
    np.add.at(sums, (sc, ic), v)
    np.add.at(counts, (sc, ic), 1.0)
    if (counts == 0).any():
        s, i = map(int, np.argwhere(counts == 0)[0])
        raise InputError(f"task {task!r}: system {systems[s]!r} has no value for an instance the others have; the "
                         "instance bootstrap is paired and needs every system on every instance")
    order = np.argsort(systems)
    return [systems[i] for i in order], (sums / counts)[order]


def _task_rows(iset, task: str, metric: str):
    """Arrow table (system, instance, value) of one task and metric: filtered in memory, or pushed down to DuckDB
    for files on disk (only this task's rows are read)."""
    import pyarrow.compute as pc

    if iset.in_memory:
        t = iset.table
        sub = t.filter(pc.and_(pc.equal(t.column("task"), task), pc.equal(t.column("metric"), metric)))
        return sub.filter(pc.is_valid(sub.column("value"))).select(["system", "instance", "value"])
    from .engine_duckdb import base_view, connect

    con = connect()
    base_view(con, iset)
    return con.sql("SELECT system, CAST(instance AS VARCHAR) AS instance, value FROM base WHERE task = $task AND "
                   "metric = $metric AND value IS NOT NULL", params={"task": task, "metric": metric}).to_arrow_table()


def bootstrap_matrix(X, *, n_resamples: int = 2000, method: str = "multinomial", seed: int | None = 0,
                     batch: int | None = None, level: float = 0.95, progress=None, systems=None, task="",
                     metric="", blas_threads: int | None = 1) -> BootstrapResult:
    """Bootstrap the rows of ``X`` (systems x instances). ``blas_threads`` caps BLAS threads for the products
    (1 by default: measured fastest on a shared 2-core machine, where OpenBLAS threads contend; None: leave it)."""
    import contextlib

    limit = contextlib.nullcontext()
    if blas_threads is not None:
        try:
            from threadpoolctl import threadpool_limits

            limit = threadpool_limits(blas_threads, user_api="blas")
        except ImportError:
            pass
    with limit:
        return _bootstrap_matrix(X, n_resamples, method, seed, batch, level, progress, systems, task, metric)


def _bootstrap_matrix(X, n_resamples, method, seed, batch, level, progress, systems, task, metric):
    from auditkit.errors import UsageError, unknown_name
    from auditkit.ranking import tie_key

    if method not in ("multinomial", "poisson"):
        raise unknown_name("bootstrap method", method, ("multinomial", "poisson"))
    if n_resamples < 2:
        raise UsageError(f"n_resamples must be at least 2 (got {n_resamples})")
    X = np.asarray(X, float)
    S, n = X.shape
    exact32 = n < 2 ** 24 and bool(np.all(X == np.round(X))) and np.abs(X).max() < 2 ** 7
    dtype = np.float32 if exact32 else np.float64
    Xd = X.astype(dtype)
    B = batch or max(1, min(64, 32_000_000 // max(n, 1)))
    rng = np.random.default_rng(seed)
    out = np.empty((n_resamples, S))
    done = 0
    while done < n_resamples:
        b = min(B, n_resamples - done)
        if method == "multinomial":
            W = np.empty((b, n), dtype)
            for r in range(b):
                W[r] = np.bincount(rng.integers(0, n, n), minlength=n)
        else:
            W = rng.poisson(1.0, (b, n)).astype(dtype)
        tot = W.sum(axis=1, dtype=np.float64)
        tot[tot == 0] = np.nan
        out[done:done + b] = (W @ Xd.T).astype(np.float64) / tot[:, None]
        done += b
        if progress is not None:
            progress(b)
    alpha = 1.0 - level
    key = -tie_key(out)
    # rank of system j = 1 + the systems whose key (minus the score) is smaller: competition ranking "1224"
    ranks = 1 + (key[:, :, None] < key[:, None, :]).sum(axis=1) if S <= 400 else _ranks(key)
    diffs_var = np.var(out[:, :, None] - out[:, None, :], axis=0, ddof=1) if S <= 400 else np.full((S, S), np.nan)
    return BootstrapResult(list(systems) if systems is not None else [str(i) for i in range(S)], task, metric,
                           X.mean(axis=1), out.std(axis=0, ddof=1), np.quantile(out, alpha / 2, axis=0),
                           np.quantile(out, 1 - alpha / 2, axis=0), np.quantile(ranks, alpha / 2, axis=0),
                           np.quantile(ranks, 1 - alpha / 2, axis=0), np.sqrt(diffs_var), n_resamples, method, seed,
                           level)


def _ranks(key):
    from auditkit.ranking import competition_rank

    return np.array([competition_rank(-k) for k in key])


def bootstrap(paths, *, task: str, metric: str, n_resamples: int = 2000, method: str = "multinomial",
              seed: int | None = 0, batch: int | None = None, level: float = 0.95, progress: bool | None = None,
              reader: str | None = None) -> BootstrapResult:
    """Bootstrap one task's scores and ranks from instance logs (``paths`` or an InstanceSet)."""
    from .loading import read_instances
    from .progress import bar
    from .table import InstanceSet

    iset = paths if isinstance(paths, InstanceSet) else read_instances(paths, reader=reader)
    systems, X = dense_matrix(iset, task, metric)
    with bar(progress, total=n_resamples, desc="bootstrap") as tick:
        return bootstrap_matrix(X, n_resamples=n_resamples, method=method, seed=seed, batch=batch, level=level,
                                progress=tick, systems=systems, task=task, metric=metric)


def instance_matrices(iset, tasks):
    """Per (task, metric) in ``tasks``, the systems x instances matrix of per-instance scores, for the stats plugin's
    instance bootstrap: returns (systems, task labels, matrices, instance ids), the systems in one order for all
    (only systems present on every task), the fields of ``auditkit_plugins.stats.bootstrap.InstanceData``."""
    per = [dense_matrix(iset, task, metric) for task, metric in tasks]
    common = sorted(set.intersection(*(set(s) for s, _ in per))) if per else []
    mats = []
    for systems, X in per:
        idx = [systems.index(s) for s in common]
        mats.append(X[idx])
    ids = [instance_ids(iset, task, metric) for task, metric in tasks]
    return common, [f"{t}" for t, _ in tasks], mats, ids


def instance_ids(iset, task, metric) -> list[str]:
    """The instance ids of :func:`dense_matrix`'s columns, in the same order."""
    import pyarrow.compute as pc

    from .engine_numpy import _codes

    t = iset.materialize().table
    sub = t.filter(pc.and_(pc.equal(t.column("task"), task), pc.equal(t.column("metric"), metric)))
    sub = sub.filter(pc.is_valid(sub.column("value")))
    _, names = _codes(sub.column("instance"))
    return names
