"""The in-memory engine: numpy over an Arrow table, exact (``math.fsum``) grouped sums.

For small inputs (harness logs, files under the size threshold). Duplicate (system, task, metric, instance) rows
without a ``sample`` column are refused with the offending key.
"""

from __future__ import annotations

import math

import numpy as np

from .stats_record import (CORPUS_FIELDS, GROUP_FIELDS, GROUP_KEYS, PAIR_FIELDS, PAIR_KEYS, Sufficient,
                           block_from_columns)


def _codes(column):
    """(codes int64, names list) for a string Arrow column."""
    import pyarrow as pa

    enc = column.combine_chunks().dictionary_encode() if isinstance(column, pa.ChunkedArray) else \
        column.dictionary_encode()
    return np.asarray(enc.indices.to_numpy(zero_copy_only=False), np.int64), enc.dictionary.to_pylist()


def _fsum_groups(order_codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Exact (correctly rounded) sum of ``values`` per group code."""
    order = np.argsort(order_codes, kind="stable")
    sorted_codes = order_codes[order]
    sorted_vals = values[order]
    bounds = np.searchsorted(sorted_codes, np.arange(n_groups + 1))
    return np.array([math.fsum(sorted_vals[bounds[g]:bounds[g + 1]].tolist()) for g in range(n_groups)])


def _average_ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x, method="average")


def reduce(iset, *, pairs: bool = True, progress=None) -> Sufficient:
    iset = iset.materialize()
    t = iset.table
    sysc, systems = _codes(t.column("system"))
    taskc, tasks = _codes(t.column("task"))
    metc, metrics = _codes(t.column("metric"))
    instc, instances = _codes(t.column("instance"))
    value = t.column("value").to_numpy(zero_copy_only=False).astype(float)
    has_value = ~np.isnan(value)
    sample = t.column("sample")
    has_sample = sample.null_count < t.num_rows
    notes = []

    # -- per-instance values (mean over samples) ------------------------------------------------------------------
    S, T, M, I = len(systems), len(tasks), len(metrics), len(instances)
    key = ((sysc * T + taskc) * M + metc) * I + instc
    k = key[has_value]
    v = value[has_value]
    uniq, inv, counts = np.unique(k, return_inverse=True, return_counts=True)
    if not has_sample and counts.size and counts.max() > 1:
        bad = int(uniq[np.argmax(counts > 1)])
        i, rest = bad % I, bad // I
        m, rest = rest % M, rest // M
        ta, s = rest % T, rest // T
        from auditkit.errors import InputError

        raise InputError(f"system {systems[s]!r}, task {tasks[ta]!r}, metric {metrics[m]!r}, instance "
                         f"{instances[i]!r} appears {int(counts.max())} times; add a 'sample' column (epoch / "
                         "repeat index) when a system answered an instance several times, or drop the duplicates")
    inst_sum = _fsum_groups(inv, v, uniq.size) if has_sample else v[np.argsort(k, kind="stable")]
    inst_k = counts.astype(float)
    inst_v = inst_sum / inst_k
    if has_sample:
        dev = v - inst_v[inv]
        ss = _fsum_groups(inv, dev * dev, uniq.size)
        s2 = np.where(inst_k > 1, ss / np.maximum(inst_k - 1, 1), 0.0)
        inst_w = s2 / inst_k
    else:
        inst_w = np.zeros(uniq.size)
    inst_i = uniq % I
    gkey = uniq // I                        # (system, task, metric) code

    # -- groups ----------------------------------------------------------------------------------------------------
    gu, ginv = np.unique(gkey, return_inverse=True)
    G = gu.size
    cols = {"n": np.bincount(ginv, minlength=G).astype(float),
            "rows": np.bincount(ginv, weights=inst_k, minlength=G),
            "s": _fsum_groups(ginv, inst_v, G), "q": _fsum_groups(ginv, inst_v * inst_v, G),
            "w": _fsum_groups(ginv, inst_w, G)}
    m_ = gu % M
    ta_ = (gu // M) % T
    s_ = gu // (M * T)
    cols.update(system=[systems[i] for i in s_], task=[tasks[i] for i in ta_], metric=[metrics[i] for i in m_])
    groups = block_from_columns(GROUP_KEYS, GROUP_FIELDS, cols)

    corpus = _corpus(t, sysc, taskc, metc, systems, tasks, metrics, T, M)

    pair_block = None
    if pairs:
        if progress is not None:
            progress(1)
        pair_block = _pairs(inst_v, inst_w, inst_i, s_[ginv], ta_[ginv], m_[ginv], systems, tasks, metrics, I)
    if progress is not None:
        progress(1)
    return Sufficient(groups, corpus, pair_block, "numpy", bool(has_sample), notes)


def _pairs(inst_v, inst_w, inst_i, inst_s, inst_t, inst_m, systems, tasks, metrics, I):
    cols = {k: [] for k in (*PAIR_KEYS, *PAIR_FIELDS)}
    tm = inst_t * len(metrics) + inst_m
    for code in np.unique(tm):
        sel = tm == code
        s_codes, i_codes = inst_s[sel], inst_i[sel]
        present = np.unique(s_codes)
        if present.size < 2:
            continue
        ilocal, icodes = np.unique(i_codes, return_inverse=True)
        row = np.searchsorted(present, s_codes)
        V = np.full((present.size, ilocal.size), np.nan)
        W = np.zeros((present.size, ilocal.size))
        V[row, icodes] = inst_v[sel]
        W[row, icodes] = inst_w[sel]
        names = [systems[c] for c in present]
        order = np.argsort(names)          # system_a < system_b by name
        V, W, names = V[order], W[order], [names[i] for i in order]
        task, metric = tasks[int(code) // len(metrics)], metrics[int(code) % len(metrics)]
        for a in range(len(names) - 1):
            D = V[a] - V[a + 1:]
            ok = ~np.isnan(D)
            Dz = np.where(ok, D, 0.0)
            Wz = np.where(ok, W[a] + W[a + 1:], 0.0)
            for j in range(D.shape[0]):
                cols["task"].append(task)
                cols["metric"].append(metric)
                cols["system_a"].append(names[a])
                cols["system_b"].append(names[a + 1 + j])
                cols["n"].append(float(ok[j].sum()))
                cols["sd"].append(math.fsum(Dz[j].tolist()))
                cols["sd2"].append(math.fsum((Dz[j] * Dz[j]).tolist()))
                cols["wd"].append(math.fsum(Wz[j].tolist()))
    return block_from_columns(PAIR_KEYS, PAIR_FIELDS, cols)


def corpus_fields(pred: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """The corpus sufficient statistics of one group (shared with the Dask engine's per-group function)."""
    binary = bool(np.isin(pred, (0.0, 1.0)).all() and np.isin(ref, (0.0, 1.0)).all())
    p1, r1 = pred == 1, ref == 1
    rp, rr = _average_ranks(pred), _average_ranks(ref)
    f = math.fsum
    return {"n": float(pred.size), "binary": float(binary),
            "tp": float((p1 & r1).sum()), "fp": float((p1 & ~r1).sum()),
            "fn": float((~p1 & r1).sum()), "tn": float((~p1 & ~r1).sum()),
            "sx": f(pred.tolist()), "sy": f(ref.tolist()), "sxx": f((pred * pred).tolist()),
            "syy": f((ref * ref).tolist()), "sxy": f((pred * ref).tolist()),
            "rx": f(rp.tolist()), "ry": f(rr.tolist()), "rxx": f((rp * rp).tolist()),
            "ryy": f((rr * rr).tolist()), "rxy": f((rp * rr).tolist())}


def _corpus(t, sysc, taskc, metc, systems, tasks, metrics, T, M):
    pred = t.column("prediction").to_numpy(zero_copy_only=False).astype(float)
    ref = t.column("reference").to_numpy(zero_copy_only=False).astype(float)
    ok = ~np.isnan(pred) & ~np.isnan(ref)
    cols = {k: [] for k in (*GROUP_KEYS, *CORPUS_FIELDS)}
    if ok.any():
        g = ((sysc * T + taskc) * M + metc)[ok]
        p, r = pred[ok], ref[ok]
        for code in np.unique(g):
            sel = g == code
            fields = corpus_fields(p[sel], r[sel])
            code = int(code)
            cols["system"].append(systems[code // (T * M)])
            cols["task"].append(tasks[(code // M) % T])
            cols["metric"].append(metrics[code % M])
            for name, val in fields.items():
                cols[name].append(val)
    return block_from_columns(GROUP_KEYS, CORPUS_FIELDS, cols)
