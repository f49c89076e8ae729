"""Engine choice: ``numpy`` (in memory) for small inputs, ``duckdb`` for larger ones, ``dask`` on request.

The default is chosen by input size: in-memory tables up to ``AUTO_NUMPY_ROWS`` rows (harness logs, small files)
go to numpy; larger in-memory tables and anything scanned from disk go to DuckDB (numpy when DuckDB is not
installed). Dask is never picked automatically (it pays a cluster start-up
and shuffles the self-join); ask for it with ``--engine dask``. The choice and its reason are printed in the footer.
"""

from __future__ import annotations

from auditkit.errors import unknown_name

ENGINES = ("numpy", "duckdb", "dask")
AUTO_NUMPY_BYTES = 32 * 1024 * 1024
AUTO_NUMPY_ROWS = 250_000      # above this DuckDB is faster on an in-memory Arrow table too (zero-copy scan)


def choose(iset, engine: str | None) -> tuple[str, str]:
    """(engine, reason)."""
    if engine not in (None, "auto") and engine not in ENGINES:
        raise unknown_name("engine", engine, ENGINES)
    if engine not in (None, "auto"):
        return engine, "--engine"
    size = iset.nbytes
    if iset.in_memory:
        rows = iset.table.num_rows
        if rows <= AUTO_NUMPY_ROWS and size < AUTO_NUMPY_BYTES:
            return "numpy", f"{rows} rows in memory"
        if not _have("duckdb"):
            return "numpy", f"{rows} rows in memory; duckdb is not installed (pip install 'leaderboard-auditkit[instances]')"
        return "duckdb", f"{rows} rows in memory > {AUTO_NUMPY_ROWS}"
    return "duckdb", f"input {size / 2**20:.1f} MiB on disk"


def _have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def reduce(iset, engine: str, *, pairs: bool = True, progress=None):
    if engine == "numpy":
        from .engine_numpy import reduce as run
    elif engine == "duckdb":
        from .engine_duckdb import reduce as run
    elif engine == "dask":
        from .engine_dask import reduce as run
    else:
        raise unknown_name("engine", engine, ENGINES)
    try:
        suff = run(iset, pairs=pairs, progress=progress)
    except Exception as exc:
        _wrap(exc, iset, engine)
        raise
    from .stats_record import check_pairs_against_groups

    check_pairs_against_groups(suff)
    # a sample column with one sample per instance carries no prediction noise to estimate
    suff.has_sample = bool(suff.has_sample and (suff.groups.fields["rows"] > suff.groups.fields["n"]).any())
    return suff


def _wrap(exc, iset, engine):
    """Engine errors about the input (a bad cell in a scanned file) become InputError naming the files."""
    from auditkit.errors import AuditkitError, InputError

    if isinstance(exc, AuditkitError):
        return
    mod = type(exc).__module__
    if "duckdb" in mod or mod.startswith("pyarrow") or "ParserError" in type(exc).__name__:
        where = ", ".join(iset.files) or "the instance table"
        raise InputError(f"{where}: the {engine} engine could not read the input: {exc}") from exc
