"""numpy, DuckDB and Dask (a real distributed LocalCluster) give the same sufficient statistics, scores, paired
statistics and corpus metrics to 1e-12, on harness logs and on generated Parquet (10^6 rows here; 10^7 and 10^8 in
benchmarks/bench_instances.py, which take longer than the test budget on a 2-core machine)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from auditkit_plugins.instances import rescore
from auditkit_plugins.instances.engines import choose, reduce
from auditkit_plugins.instances.read_long import read
from auditkit_plugins.instances.synthetic import make_parquet

FIX = Path(__file__).parent / "fixtures" / "instances"
TOL = 1e-12


@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        yield client


@pytest.fixture(scope="module")
def parquet_float(tmp_path_factory):
    """10^6 rows: 10 systems x 4 tasks x 25,000 instances, non-integer values (float sums are not exact)."""
    p = tmp_path_factory.mktemp("inst") / "float.parquet"
    assert make_parquet(p, 10, 4, 25_000, kind="float", seed=1) == 1_000_000
    return p


@pytest.fixture(scope="module")
def parquet_samples(tmp_path_factory):
    p = tmp_path_factory.mktemp("inst") / "samples.parquet"
    make_parquet(p, 6, 2, 1_500, samples=4, kind="binary", seed=2)
    return p


def assert_same(a, b):
    for name in ("groups", "corpus", "pairs"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.keys == y.keys, name
        for f in x.fields:
            np.testing.assert_allclose(y.fields[f], x.fields[f], rtol=0, atol=TOL * max(1.0, np.abs(
                x.fields[f]).max(initial=0) * 1e-3), err_msg=f"{name}.{f}")


def assert_same_results(a, b):
    for s, t in zip(a.scores, b.scores, strict=True):
        assert (s.system, s.task, s.metric, s.n, s.kind) == (t.system, t.task, t.metric, t.n, t.kind)
        for f in ("score", "se", "se_data", "se_prediction"):
            u, v = getattr(s, f), getattr(t, f)
            assert (math.isnan(u) and math.isnan(v)) or abs(u - v) <= TOL, (f, u, v)
    for p, q in zip(a.pairs, b.pairs, strict=True):
        assert (p.task, p.metric, p.system_a, p.system_b, p.n) == (q.task, q.metric, q.system_a, q.system_b, q.n)
        for f in ("difference", "se_paired", "se_unpaired", "mde80", "p", "p_holm", "p_bh", "se_data",
                  "se_prediction"):
            u, v = getattr(p, f), getattr(q, f)
            assert (math.isnan(u) and math.isnan(v)) or abs(u - v) <= TOL, (f, u, v)


@pytest.mark.parametrize("fixture", ["lmeval", "inspect", "helm"])
def test_engines_agree_on_harness_logs(fixture, dask_client):
    results = {e: rescore(FIX / fixture, engine=e, progress=False) for e in ("numpy", "duckdb", "dask")}
    for e in ("duckdb", "dask"):
        assert_same(results["numpy"].suff, results[e].suff)
        assert_same_results(results["numpy"], results[e])
        assert results[e].comparison == results["numpy"].comparison


def test_engines_agree_on_a_million_float_rows(parquet_float, dask_client):
    in_memory = read(parquet_float, in_memory=True)
    on_disk = read(parquet_float, in_memory=False)
    assert not on_disk.in_memory
    a = rescore(in_memory, engine="numpy", progress=False)
    b = rescore(on_disk, engine="duckdb", progress=False)
    c = rescore(on_disk, engine="dask", progress=False)
    assert sum(s.rows for s in a.scores) == 1_000_000
    assert_same(a.suff, b.suff)
    assert_same(a.suff, c.suff)
    assert_same_results(a, b)
    assert_same_results(a, c)
    assert len(a.pairs) == 4 * 45


def test_engines_agree_with_several_samples_per_instance(parquet_samples, dask_client):
    iset = read(parquet_samples, in_memory=True)
    runs = [rescore(iset, engine=e, progress=False) for e in ("numpy", "duckdb", "dask")]
    assert all(r.suff.has_sample for r in runs)
    for r in runs[1:]:
        assert_same(runs[0].suff, r.suff)
        assert_same_results(runs[0], r)
    s = runs[0].scores[0]
    assert s.rows == 4 * s.n and s.se_prediction > 0


def test_numpy_sums_are_exact_where_plain_float_sums_are_not():
    """The numpy engine's grouped sums are math.fsum (correctly rounded): a sum np.sum gets wrong comes out
    exact (the reason the engines can agree to 1e-12 on non-integer data)."""
    import pyarrow as pa

    from auditkit_plugins.instances.table import InstanceSet, conform

    vals = [1e16, 1.0, -1e16, 1.0] * 3
    assert float(np.sum(vals)) != math.fsum(vals)
    t = conform(pa.table({"system": ["A"] * 12, "task": ["t"] * 12, "metric": ["m"] * 12,
                          "instance": [str(i) for i in range(12)], "value": vals}))
    suff = reduce(InstanceSet(t, nbytes=1), "numpy", pairs=False)
    assert suff.groups.fields["s"][0] == math.fsum(vals) == 6.0


def test_default_engine_is_chosen_by_size_and_printed(parquet_float):
    small = rescore(FIX / "inspect", progress=False)
    assert small.engine == "numpy"
    big = read(parquet_float, in_memory=False)
    assert choose(big, None)[0] == "duckdb"
    rep = rescore(big, progress=False, pairs=False).report().render("table")
    assert "engine: duckdb (input" in rep


def test_unknown_engine_lists_the_choices():
    from auditkit.errors import UsageError

    with pytest.raises(UsageError, match="dask, duckdb, numpy"):
        rescore(FIX / "inspect", engine="spark", progress=False)


def test_duckdb_bad_cell_in_a_scanned_csv_names_the_file(tmp_path):
    from auditkit.errors import InputError

    p = tmp_path / "big.csv"
    p.write_text("system,task,metric,instance,value\n" + "A,t,acc,1,1\n" * 3 + "A,t,acc,2,oops\n")
    with pytest.raises(InputError, match=str(p)):
        rescore(read(p, in_memory=False), engine="duckdb", progress=False)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_engines_agree_on_csv_and_jsonl_scanned_from_disk(tmp_path, suffix, dask_client):
    import json

    rng = np.random.default_rng(12)
    rows = [(f"s{s}", f"t{t}", "f1" if t == 2 else "acc", i, float(rng.random()), int(rng.integers(0, 2)),
             int(rng.integers(0, 2))) for s in range(4) for t in range(3) for i in range(200)]
    p = tmp_path / f"long{suffix}"
    names = ("system", "task", "metric", "instance", "value", "prediction", "reference")
    if suffix == ".csv":
        p.write_text(",".join(names) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    else:
        p.write_text("".join(json.dumps(dict(zip(names, r))) + "\n" for r in rows))
    a = rescore(read(p, in_memory=True), engine="numpy", progress=False)
    for e in ("duckdb", "dask"):
        b = rescore(read(p, in_memory=False), engine=e, progress=False)
        assert_same(a.suff, b.suff)
        assert_same_results(a, b)
    kinds = {(s.task, s.kind) for s in a.scores}
    assert ("t2", "f1") in kinds and ("t0", "mean") in kinds   # acc with values: the mean, not pair accuracy


@pytest.mark.slow
def test_duckdb_engine_on_ten_million_parquet_rows_against_polars(tmp_path):
    """10^7 rows re-scored by the DuckDB engine out of core, checked against the same aggregation in polars (binary
    scores: integer sums, exact in any order). Dask and the paired self-join at 10^7 are in the benchmark (they
    take longer than this suite's budget on a 2-core machine)."""
    pl = pytest.importorskip("polars")
    p = tmp_path / "ten-million.parquet"
    assert make_parquet(p, 10, 10, 100_000, kind="binary", seed=3) == 10_000_000
    res = rescore(read(p), pairs=False, progress=False)
    assert res.engine == "duckdb"
    expected = pl.scan_parquet(p).group_by(["system", "task", "metric"]).agg(
        n=pl.len(), s=pl.col("value").sum(), q=(pl.col("value") ** 2).sum()).collect()
    exp = {(r["system"], r["task"], r["metric"]): r for r in expected.iter_rows(named=True)}
    assert len(res.scores) == len(exp) == 100
    for s in res.scores:
        e = exp[(s.system, s.task, s.metric)]
        assert s.n == e["n"] == 100_000
        assert s.score == e["s"] / e["n"]
        assert s.se == pytest.approx(math.sqrt((e["q"] - e["s"] ** 2 / e["n"]) / (e["n"] - 1) / e["n"]), abs=1e-15)


def test_a_scanned_file_is_described_after_the_scan(parquet_samples):
    res = rescore(read(parquet_samples, in_memory=False), engine="duckdb", pairs=False, progress=False)
    (found,) = res.instances.found
    assert found.systems == tuple(f"sys-{i:04d}" for i in range(6)) and found.tasks == ("task-000", "task-001")
    assert (found.rows, found.instances) == (6 * 2 * 1500 * 4, 2 * 1500)


def test_large_in_memory_tables_go_to_duckdb_unless_it_is_missing(monkeypatch):
    import pyarrow as pa

    from auditkit_plugins.instances import engines
    from auditkit_plugins.instances.table import InstanceSet, conform

    n = engines.AUTO_NUMPY_ROWS + 1
    t = conform(pa.table({"system": pa.array(["A"] * n), "task": pa.array(["t"] * n), "metric": pa.array(["m"] * n),
                          "instance": pa.array([str(i) for i in range(n)]), "value": np.zeros(n)}))
    big = InstanceSet(t, nbytes=1)
    assert choose(big, None)[0] == "duckdb"
    monkeypatch.setattr(engines, "_have", lambda module: False)
    name, reason = choose(big, None)
    assert name == "numpy" and "duckdb is not installed" in reason


def test_bootstrap_matrix_of_a_file_on_disk_is_read_through_duckdb(parquet_samples):
    from auditkit_plugins.instances.resampling import dense_matrix

    s1, X1 = dense_matrix(read(parquet_samples, in_memory=True), "task-001", "acc")
    s2, X2 = dense_matrix(read(parquet_samples, in_memory=False), "task-001", "acc")
    assert s1 == s2 and X1.shape == (6, 1500)
    np.testing.assert_allclose(np.sort(X1, axis=1), np.sort(X2, axis=1), atol=1e-15)
    np.testing.assert_allclose(X1.mean(axis=1), X2.mean(axis=1), atol=1e-15)
