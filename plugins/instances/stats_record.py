"""Sufficient statistics: what every engine computes, and the only thing the statistics downstream read.

Each engine (numpy, DuckDB, Dask) reduces an :class:`~.table.InstanceSet` to a :class:`Sufficient`: plain numpy
arrays keyed by name lists, sorted canonically, so the engines can be compared field by field (they agree to 1e-12;
see tests/test_instances_engines.py). Sums are compensated (``math.fsum`` in numpy, DuckDB's ``fsum``, pandas'
Kahan-summed groupby in Dask), so the order in which an engine meets the rows does not move the result.

groups   per (system, task, metric) over per-instance values ``v`` (the mean over samples when there are several):
         ``n`` instances, ``rows`` rows, ``s`` = sum v, ``q`` = sum v^2, ``w`` = sum over instances of s_i^2 / k_i
         (within-instance variance of the mean; 0 without samples).
corpus   per (system, task, metric) over rows with a prediction and a reference: ``n``; confusion counts
         ``tp fp fn tn`` when both are 0/1 (``binary`` = 1); moments ``sx sy sxx syy sxy`` of (prediction,
         reference) and ``rx ry rxx ryy rxy`` of their average ranks (Spearman).
pairs    per (task, metric, system_a < system_b) over the instances both systems have: ``n``, ``sd`` = sum d,
         ``sd2`` = sum d^2 with d = v_a - v_b, ``wd`` = sum (s_ai^2/k_ai + s_bi^2/k_bi).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

GROUP_KEYS = ("system", "task", "metric")
GROUP_FIELDS = ("n", "rows", "s", "q", "w")
CORPUS_FIELDS = ("n", "binary", "tp", "fp", "fn", "tn", "sx", "sy", "sxx", "syy", "sxy",
                 "rx", "ry", "rxx", "ryy", "rxy")
PAIR_KEYS = ("task", "metric", "system_a", "system_b")
PAIR_FIELDS = ("n", "sd", "sd2", "wd")


@dataclass
class Block:
    """Rows keyed by string columns ``keys`` with float64 fields; sorted by the keys."""

    keys: dict[str, list[str]]
    fields: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(next(iter(self.keys.values()))) if self.keys else 0

    def sorted(self) -> "Block":
        names = list(self.keys)
        rows = list(zip(*(self.keys[k] for k in names)))
        order = sorted(range(len(rows)), key=rows.__getitem__)
        return Block({k: [self.keys[k][i] for i in order] for k in names},
                     {f: np.asarray(v, float)[order] for f, v in self.fields.items()})

    def rows(self):
        names = list(self.keys)
        for i in range(len(self)):
            yield tuple(self.keys[k][i] for k in names), {f: float(v[i]) for f, v in self.fields.items()}

    def index(self) -> dict[tuple, int]:
        names = list(self.keys)
        return {tuple(self.keys[k][i] for k in names): i for i in range(len(self))}


def empty_block(keys, fields) -> Block:
    return Block({k: [] for k in keys}, {f: np.zeros(0) for f in fields})


def block_from_columns(keys, fields, columns: dict) -> Block:
    """A sorted Block from a mapping of column name -> sequence (engine output)."""
    return Block({k: [str(x) for x in columns[k]] for k in keys},
                 {f: np.asarray(columns[f], float) for f in fields}).sorted()


@dataclass
class Sufficient:
    groups: Block
    corpus: Block
    pairs: Block | None
    engine: str
    has_sample: bool = False
    notes: list[str] = field(default_factory=list)


def check_pairs_against_groups(suff: Sufficient) -> None:
    """A pair can share at most min(n_a, n_b) instances; more means duplicate (system, task, metric, instance) rows
    without a ``sample`` column (a cheap check every engine gets for free from the join)."""
    from auditkit.errors import InputError

    if suff.pairs is None or not len(suff.pairs):
        return
    g = suff.groups.index()
    n = suff.groups.fields["n"]
    for (task, metric, a, b), f in suff.pairs.rows():
        limit = min(n[g[(a, task, metric)]], n[g[(b, task, metric)]])
        if f["n"] > limit:
            raise InputError(f"task {task!r}, metric {metric!r}: systems {a!r} and {b!r} share {int(f['n'])} "
                             f"instance rows but one of them has only {int(limit)}: some (system, task, metric, "
                             "instance) appears more than once. Add a 'sample' column (epoch / repeat index) when "
                             "a system answered an instance several times, or drop the duplicates")
