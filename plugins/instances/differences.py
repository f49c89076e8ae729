"""Which instances drive the difference between two systems on a task: the instances with the largest |d_i|,
d_i = v_Ai - v_Bi (ties broken by instance id), with their share of the total difference.

For binary scores these are the discordant instances (one system right, the other wrong); the counts of
A-only and B-only wins are returned with them (the sum of d is their difference)."""

from __future__ import annotations

import numpy as np


def drivers(paths, task: str, metric: str, system_a: str, system_b: str, k: int = 10, *, reader=None) -> dict:
    from auditkit.errors import InputError

    from .loading import read_instances
    from .table import InstanceSet

    iset = paths if isinstance(paths, InstanceSet) else read_instances(paths, reader=reader)
    if iset.in_memory:
        va, vb = _values(iset.table, task, metric, system_a), _values(iset.table, task, metric, system_b)
    else:
        va, vb = _values_duckdb(iset, task, metric, system_a), _values_duckdb(iset, task, metric, system_b)
    shared = sorted(set(va) & set(vb))
    if not shared:
        raise InputError(f"systems {system_a!r} and {system_b!r} share no instance of task {task!r}, metric "
                         f"{metric!r}")
    d = np.array([va[i] - vb[i] for i in shared])
    total = float(np.sum(d))
    order = sorted(range(len(shared)), key=lambda j: (-abs(d[j]), shared[j]))[:k]
    rows = [{"instance": shared[j], "a": va[shared[j]], "b": vb[shared[j]], "d": float(d[j]),
             "share": float(d[j] / total) if total else None} for j in order if d[j] != 0]
    return {"task": task, "metric": metric, "system_a": system_a, "system_b": system_b, "n": len(shared),
            "difference": total / len(shared), "a_better": int((d > 0).sum()), "b_better": int((d < 0).sum()),
            "ties": int((d == 0).sum()), "top": rows}


def _values(table, task, metric, system) -> dict:
    import pyarrow.compute as pc

    m = pc.and_(pc.and_(pc.equal(table.column("task"), task), pc.equal(table.column("metric"), metric)),
                pc.equal(table.column("system"), system))
    sub = table.filter(m)
    acc: dict[str, list[float]] = {}
    for i, v in zip(sub.column("instance").to_pylist(), sub.column("value").to_pylist()):
        if v is not None:
            acc.setdefault(str(i), []).append(v)
    return {i: float(np.mean(v)) for i, v in acc.items()}


def _values_duckdb(iset, task, metric, system) -> dict:
    from .engine_duckdb import base_view, connect

    con = connect()
    base_view(con, iset)
    rows = con.execute("SELECT CAST(instance AS VARCHAR), avg(value) FROM base WHERE task = ? AND metric = ? AND "
                       "system = ? AND value IS NOT NULL GROUP BY instance", [task, metric, system]).fetchall()
    return {i: float(v) for i, v in rows}
