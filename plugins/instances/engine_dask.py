"""The Dask engine: the same reductions as dask.dataframe graphs, run on a dask.distributed cluster.

The client is the one already active in the process (``distributed.get_client()``), or a cluster at
``AUDITKIT_DASK_SCHEDULER`` (an address), or a ``LocalCluster`` started for the call (2 workers, 1 thread each;
``AUDITKIT_DASK_WORKERS`` to change). Partitioning and scheduling are Dask's: one partition per Parquet row group
/ CSV block. Sums are pandas' Kahan-compensated groupby sums, combined across partitions, so results match the
numpy and DuckDB engines to 1e-12.
"""

from __future__ import annotations

import contextlib
import os


from .stats_record import (CORPUS_FIELDS, GROUP_FIELDS, GROUP_KEYS, PAIR_FIELDS, PAIR_KEYS, Sufficient,
                           block_from_columns)


@contextlib.contextmanager
def client_context():
    import logging

    from auditkit.errors import require

    # p2p shuffles log each start/stop at WARNING; they are routine here
    logging.getLogger("distributed.shuffle._scheduler_plugin").setLevel(logging.ERROR)
    require("dask.dataframe", "the Dask engine (--engine dask)", extra="instances")
    distributed = require("distributed", "the Dask engine (--engine dask)", extra="instances")
    try:
        yield distributed.get_client()
        return
    except ValueError:
        pass
    address = os.environ.get("AUDITKIT_DASK_SCHEDULER")
    if address:
        with distributed.Client(address) as client:
            yield client
        return
    workers = int(os.environ.get("AUDITKIT_DASK_WORKERS", "2"))
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def frame(iset):
    """A dask DataFrame with the canonical columns (instances as strings)."""
    import dask.dataframe as dd

    if iset.in_memory:
        pdf = iset.table.to_pandas()
        nparts = max(1, min(8, len(pdf) // 250_000 + 1))
        df = dd.from_pandas(pdf, npartitions=nparts)
    elif iset.file_format == "parquet":
        df = dd.read_parquet(list(iset.files))
    elif iset.file_format == "csv":
        df = dd.read_csv(list(iset.files), dtype={"system": str, "task": str, "metric": str, "instance": str})
    elif iset.file_format == "jsonl":
        df = dd.read_json(list(iset.files), lines=True, dtype={"system": str, "task": str, "metric": str,
                                                              "instance": str})
    else:
        raise ValueError(f"unknown long-format file format {iset.file_format!r}")
    for c in ("system", "task", "metric"):
        df[c] = df[c].astype(str)
    df["value"] = df["value"].astype("float64")
    return df


def _corpus_partition(pdf):
    import pandas as pd

    from .engine_numpy import corpus_fields

    out = corpus_fields(pdf["prediction"].to_numpy(float), pdf["reference"].to_numpy(float))
    return pd.Series(out)


def reduce(iset, *, pairs: bool = True, progress=None) -> Sufficient:
    import dask
    import pandas as pd

    with client_context():
        df = frame(iset)
        cols = set(df.columns)
        has_sample = "sample" in cols and bool(df["sample"].notnull().any().compute())
        vals = df[df["value"].notnull()]
        if has_sample:
            g = vals.groupby(["system", "task", "metric", "instance"])["value"]
            inst = g.agg(["mean", "count", "var"]).reset_index()
            inst = inst.rename(columns={"mean": "v", "count": "k"})
            inst["w"] = inst["var"].fillna(0.0) / inst["k"]
            inst = inst[["system", "task", "metric", "instance", "v", "k", "w"]]
        else:
            inst = vals[["system", "task", "metric", "instance", "value"]].rename(columns={"value": "v"})
            inst["k"] = 1.0
            inst["w"] = 0.0
        inst["v2"] = inst["v"] * inst["v"]
        agg = inst.groupby(["system", "task", "metric"]).agg(
            {"v": ["count", "sum"], "v2": "sum", "k": "sum", "w": "sum"})
        lazy = {"groups": agg}
        if pairs:
            left = inst[["task", "metric", "instance", "system", "v", "w"]]
            joined = left.merge(left, on=["task", "metric", "instance"], suffixes=("_a", "_b"))
            joined = joined[joined["system_a"] < joined["system_b"]]
            joined["d"] = joined["v_a"] - joined["v_b"]
            joined["d2"] = joined["d"] * joined["d"]
            joined["wd"] = joined["w_a"] + joined["w_b"]
            lazy["pairs"] = joined.groupby(["task", "metric", "system_a", "system_b"]).agg(
                {"d": ["count", "sum"], "d2": "sum", "wd": "sum"})
        if {"prediction", "reference"} <= cols:
            pr = df[df["prediction"].notnull() & df["reference"].notnull()][
                ["system", "task", "metric", "prediction", "reference"]]
            meta = pd.DataFrame({f: pd.Series(dtype=float) for f in CORPUS_FIELDS})
            lazy["corpus"] = pr.groupby(["system", "task", "metric"]).apply(_corpus_partition, meta=meta)
        done = dask.compute(lazy)[0]
        if progress is not None:
            progress(1 + pairs)

    ga = done["groups"].reset_index()
    ga.columns = ["system", "task", "metric", "n", "s", "q", "rows", "w"]
    groups = block_from_columns(GROUP_KEYS, GROUP_FIELDS, {c: ga[c].tolist() for c in ga.columns})
    if "corpus" in done and len(done["corpus"]):
        cp = done["corpus"].reset_index()
        corpus = block_from_columns(GROUP_KEYS, CORPUS_FIELDS, {c: cp[c].tolist() for c in cp.columns})
    else:
        corpus = block_from_columns(GROUP_KEYS, CORPUS_FIELDS, {k: [] for k in (*GROUP_KEYS, *CORPUS_FIELDS)})
    pair_block = None
    if pairs:
        pa_ = done["pairs"].reset_index()
        pa_.columns = ["task", "metric", "system_a", "system_b", "n", "sd", "sd2", "wd"]
        pair_block = block_from_columns(PAIR_KEYS, PAIR_FIELDS, {c: pa_[c].tolist() for c in pa_.columns})
    return Sufficient(groups, corpus, pair_block, "dask", has_sample)
