"""Synthetic long-format instance data (for tests and benchmarks): systems of graded skill on instances of graded
difficulty, written to Parquet in row groups so 10^8 rows never sit in memory.

``make_parquet(path, systems, tasks, instances, samples=1, kind="binary"|"float", seed=0)`` writes
``systems x tasks x instances x samples`` rows with columns system, task, metric, instance (int64), value
[, sample]. Binary values are Bernoulli(sigmoid(skill - difficulty)); float values add uniform noise to that
probability (non-integer values exercise the engines' compensated sums).
"""

from __future__ import annotations

import numpy as np


def _probabilities(rng, systems, instances):
    skill = np.linspace(-1.0, 1.0, systems)[:, None]
    difficulty = rng.normal(0.0, 1.5, instances)[None, :]
    return 1.0 / (1.0 + np.exp(-(skill - difficulty)))


def make_matrix(systems: int, instances: int, *, seed: int = 0, kind: str = "binary") -> np.ndarray:
    """A systems x instances matrix of per-instance scores (float64)."""
    rng = np.random.default_rng(seed)
    p = _probabilities(rng, systems, instances)
    if kind == "binary":
        return (rng.random(p.shape) < p).astype(float)
    return np.clip(p + rng.uniform(-0.25, 0.25, p.shape), 0.0, 1.0)


def make_parquet(path, systems: int, tasks: int, instances: int, *, samples: int = 1, kind: str = "binary",
                 seed: int = 0, row_group: int = 1_000_000, metric: str = "acc") -> int:
    """Write the table; returns the number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    names = [f"sys-{i:04d}" for i in range(systems)]
    schema = [("system", pa.string()), ("task", pa.string()), ("metric", pa.string()), ("instance", pa.int64()),
              ("value", pa.float64())] + ([("sample", pa.int64())] if samples > 1 else [])
    writer = pq.ParquetWriter(str(path), pa.schema(schema), compression="snappy")
    total = 0
    per_system = instances * samples
    block = max(1, row_group // per_system)           # systems per write
    try:
        for t in range(tasks):
            task = f"task-{t:03d}"
            p = _probabilities(rng, systems, instances)
            for s0 in range(0, systems, block):
                s1 = min(systems, s0 + block)
                pp = np.repeat(p[s0:s1], samples, axis=1)
                if kind == "binary":
                    v = (rng.random(pp.shape) < pp).astype(float)
                else:
                    v = np.clip(pp + rng.uniform(-0.25, 0.25, pp.shape), 0.0, 1.0)
                n = v.size
                cols = {
                    "system": pa.DictionaryArray.from_arrays(
                        pa.array(np.repeat(np.arange(s0, s1, dtype=np.int32), per_system)),
                        pa.array(names)).cast(pa.string()),
                    "task": pa.array([task] * 1, pa.string()).take(pa.array(np.zeros(n, np.int32))),
                    "metric": pa.array([metric], pa.string()).take(pa.array(np.zeros(n, np.int32))),
                    "instance": pa.array(np.tile(np.repeat(np.arange(instances, dtype=np.int64), samples), s1 - s0)),
                    "value": pa.array(v.ravel()),
                }
                if samples > 1:
                    cols["sample"] = pa.array(np.tile(np.arange(samples, dtype=np.int64), (s1 - s0) * instances))
                writer.write_table(pa.table(cols), row_group_size=row_group)
                total += n
    finally:
        writer.close()
    return total
