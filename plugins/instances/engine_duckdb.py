"""The DuckDB engine: Parquet, JSONL and CSV scanned out of core; aggregation and the per-instance self-join pushed
down as SQL. Sums use DuckDB's ``fsum`` (compensated), so results match the numpy engine to 1e-12.

DuckDB runs with ``threads`` = the machine's cores and a ``memory_limit`` (``AUDITKIT_DUCKDB_MEMORY``, default
4GB), spilling to a temporary directory beyond it: peak memory stays flat in the number of rows.
"""

from __future__ import annotations

import os

from .stats_record import (CORPUS_FIELDS, GROUP_FIELDS, GROUP_KEYS, PAIR_FIELDS, PAIR_KEYS, Sufficient,
                           block_from_columns)


def connect():
    from auditkit.errors import require

    duckdb = require("duckdb", "the DuckDB engine (--engine duckdb)", extra="instances")
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    con.execute(f"SET memory_limit = '{os.environ.get('AUDITKIT_DUCKDB_MEMORY', '4GB')}'")
    con.execute("SET preserve_insertion_order = false")
    tmp = os.environ.get("AUDITKIT_DUCKDB_TEMP")
    if tmp:
        con.execute(f"SET temp_directory = '{tmp}'")
    return con


def _quote(path: str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def source_sql(iset, con) -> str:
    """A FROM-clause for the input: a registered Arrow table or a scan of the files."""
    if iset.in_memory:
        con.register("auditkit_instances", iset.table)
        return "auditkit_instances"
    files = "[" + ", ".join(_quote(p) for p in iset.files) + "]"
    fmt = iset.file_format
    if fmt == "parquet":
        return f"read_parquet({files}, union_by_name = true)"
    if fmt == "csv":
        return f"read_csv({files}, header = true, union_by_name = true)"
    if fmt == "jsonl":
        return f"read_json({files}, format = 'newline_delimited', union_by_name = true)"
    raise ValueError(f"unknown long-format file format {fmt!r}")


def base_view(con, iset) -> tuple[set[str], bool]:
    """Create the view ``base`` with canonical columns; returns the optional columns present and has_sample."""
    src = source_sql(iset, con)
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    cols = set(types)

    def cast(c, typ):  # a cast only where the file's type differs (a no-op cast still costs per row)
        return c if types.get(c) == typ else f"CAST({c} AS {typ}) AS {c}"

    select = [cast("system", "VARCHAR"), cast("task", "VARCHAR"), cast("metric", "VARCHAR"), "instance",
              cast("value", "DOUBLE")]
    present = set()
    for c in ("sample", "prediction", "reference"):
        if c in cols:
            present.add(c)
            select.append(c if c == "sample" else cast(c, "DOUBLE"))
    con.execute(f"CREATE OR REPLACE TEMP VIEW base AS SELECT {', '.join(select)} FROM {src}")
    has_sample = "sample" in present and con.execute(
        "SELECT count(*) FROM (SELECT 1 FROM base WHERE sample IS NOT NULL LIMIT 1)").fetchall()[0][0] > 0
    return present, has_sample


GROUPS_SQL = """
SELECT system, task, metric, count(*) AS n, {rows} AS rows, fsum(v) AS s, fsum(v * v) AS q, {w} AS w
FROM inst GROUP BY system, task, metric
"""

PAIRS_SQL = """
SELECT a.task, a.metric, a.system AS system_a, b.system AS system_b, count(*) AS n,
       fsum(a.v - b.v) AS sd, fsum((a.v - b.v) * (a.v - b.v)) AS sd2, {wd} AS wd
FROM inst a JOIN inst b
  ON a.task = b.task AND a.metric = b.metric AND a.instance = b.instance AND a.system < b.system
GROUP BY a.task, a.metric, a.system, b.system
"""

CORPUS_SQL = """
WITH c AS (
  SELECT system, task, metric, prediction AS x, reference AS y,
         rank() OVER (PARTITION BY system, task, metric ORDER BY prediction)
           + (count(*) OVER (PARTITION BY system, task, metric, prediction) - 1) / 2.0 AS rx,
         rank() OVER (PARTITION BY system, task, metric ORDER BY reference)
           + (count(*) OVER (PARTITION BY system, task, metric, reference) - 1) / 2.0 AS ry
  FROM base WHERE prediction IS NOT NULL AND reference IS NOT NULL
)
SELECT system, task, metric, count(*) AS n,
       CAST(bool_and(x IN (0, 1) AND y IN (0, 1)) AS DOUBLE) AS binary,
       count(*) FILTER (WHERE x = 1 AND y = 1) AS tp, count(*) FILTER (WHERE x = 1 AND y <> 1) AS fp,
       count(*) FILTER (WHERE x <> 1 AND y = 1) AS fn, count(*) FILTER (WHERE x <> 1 AND y <> 1) AS tn,
       fsum(x) AS sx, fsum(y) AS sy, fsum(x * x) AS sxx, fsum(y * y) AS syy, fsum(x * y) AS sxy,
       fsum(rx) AS rx, fsum(ry) AS ry, fsum(rx * rx) AS rxx, fsum(ry * ry) AS ryy, fsum(rx * ry) AS rxy
FROM c GROUP BY system, task, metric
"""


def _fetch(con, sql: str) -> dict:
    rel = con.execute(sql)
    names = [d[0] for d in rel.description]
    rows = rel.fetchall()
    return {n: [r[i] for r in rows] for i, n in enumerate(names)}


def reduce(iset, *, pairs: bool = True, progress=None, con=None) -> Sufficient:
    con = con or connect()
    present, has_sample = base_view(con, iset)
    if has_sample:
        con.execute("""CREATE OR REPLACE TEMP TABLE inst AS
            SELECT system, task, metric, instance, avg(value) AS v, count(*) AS k,
                   coalesce(var_samp(value), 0) / count(*) AS w
            FROM base WHERE value IS NOT NULL GROUP BY system, task, metric, instance""")
        rows, w, wd = "sum(k)", "fsum(w)", "fsum(a.w + b.w)"
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW inst AS SELECT system, task, metric, instance, value AS v "
                    "FROM base WHERE value IS NOT NULL")
        rows, w, wd = "count(*)", "0.0", "0.0"
    groups = block_from_columns(GROUP_KEYS, GROUP_FIELDS, _fetch(con, GROUPS_SQL.format(rows=rows, w=w)))
    if progress is not None:
        progress(1)
    if {"prediction", "reference"} <= present:
        corpus = block_from_columns(GROUP_KEYS, CORPUS_FIELDS, _fetch(con, CORPUS_SQL))
    else:
        corpus = block_from_columns(GROUP_KEYS, CORPUS_FIELDS, {k: [] for k in (*GROUP_KEYS, *CORPUS_FIELDS)})
    pair_block = None
    if pairs:
        pair_block = block_from_columns(PAIR_KEYS, PAIR_FIELDS, _fetch(con, PAIRS_SQL.format(wd=wd)))
        if progress is not None:
            progress(1)
    return Sufficient(groups, corpus, pair_block, "duckdb", has_sample)
