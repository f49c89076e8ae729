"""The instance table: what every log reader returns and every engine reduces.

Canonical columns (one row per system x task x metric x instance [x sample]):

    system     str      the model / system evaluated
    task       str      the task (benchmark sub-task)
    metric     str      the per-instance metric (``acc``, ``exact_match,strict-match`` for lm-eval filter variants)
    instance   str      the instance id, shared across systems (pairing key)
    value      float64  the per-instance score (null for rows that only carry a prediction/reference pair)
    sample     int64    optional: the sample / epoch index when a system answered an instance several times
    prediction float64  optional: the system's prediction (corpus-level metrics: F1, MCC, Pearson, Spearman)
    reference  float64  optional: the gold label or value

An :class:`InstanceSet` holds either an in-memory Arrow table (harness logs, small files) or the paths of long-format
files that an engine scans out of core; plus the aggregates the harness reported (:class:`Reported`) and what each
reader found (:class:`Found`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COLUMNS = ("system", "task", "metric", "instance", "value")
OPTIONAL = ("sample", "prediction", "reference")


@dataclass(frozen=True)
class Reported:
    """An aggregate a harness (or a published table) reported for one system, task and metric.

    ``n_expected``: instances the harness says it scored (lm-eval ``n-samples.effective``, Inspect
    ``completed_samples / epochs``); ``n_original``: instances in the dataset (lm-eval ``n-samples.original``,
    Inspect ``dataset.samples``); ``limit``: the harness's ``--limit`` when one was set. ``tolerance`` is the largest
    difference that still counts as reproduced (rounding of a published table; 1e-9 for values a harness wrote).
    ``components`` names the subtasks of a group row (lm-eval ``groups`` / ``group_subtasks``); its recomputed score
    is the mean of theirs, unweighted or weighted by instances (lm-eval's ``weight_by_size``), groups nesting.
    """

    system: str
    task: str
    metric: str
    value: float
    source: str
    stderr: float | None = None
    n_expected: int | None = None
    n_original: int | None = None
    limit: float | None = None
    tolerance: float = 1e-9
    components: tuple[str, ...] = ()   # a group row (lm-eval ``groups``): the subtasks it aggregates


@dataclass(frozen=True)
class Found:
    """What a reader found in one source: models, tasks, instances, metrics, rows."""

    source: str
    reader: str
    systems: tuple[str, ...]
    tasks: tuple[str, ...]
    metrics: tuple[str, ...]
    instances: int
    rows: int
    notes: tuple[str, ...] = ()

    def as_row(self) -> dict[str, Any]:
        return {"source": self.source, "reader": self.reader, "systems": ", ".join(self.systems),
                "tasks": ", ".join(self.tasks), "metrics": ", ".join(self.metrics), "instances": self.instances,
                "rows": self.rows}


@dataclass
class InstanceSet:
    """Instances from one or more sources.

    ``table`` is a ``pyarrow.Table`` with the canonical columns (in memory), or None when ``files`` (long-format
    CSV / JSONL / Parquet, all of ``file_format``) are scanned by the engine. ``nbytes`` is the input size used to
    choose the default engine. ``order`` maps (system, task, metric) to instance ids in the order the log lists
    them (used to explain a reported aggregate computed on the first N instances).
    """

    table: Any = None
    files: tuple[str, ...] = ()
    file_format: str | None = None
    reported: list[Reported] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)
    nbytes: int = 0
    has_sample: bool = False
    has_corpus: bool = False

    @property
    def in_memory(self) -> bool:
        return self.table is not None

    def merge(self, other: "InstanceSet") -> "InstanceSet":
        """Both sets in one (in-memory tables are concatenated; file sets must share a format)."""
        import pyarrow as pa

        if self.table is None and not self.files:
            return other
        if other.table is None and not other.files:
            return self
        if self.in_memory != other.in_memory:
            left = self if self.in_memory else other.materialize()
            right = other if other.in_memory else other.materialize()
            return left.merge(right) if left is self else right.merge(left)
        if self.in_memory:
            table = pa.concat_tables([conform(self.table), conform(other.table)], promote_options="default")
            files, fmt = (), None
        else:
            if self.file_format != other.file_format:
                return self.materialize().merge(other.materialize())
            table, files, fmt = None, self.files + other.files, self.file_format
        return InstanceSet(table, files, fmt, self.reported + other.reported, self.found + other.found,
                           {**self.inputs, **other.inputs}, self.nbytes + other.nbytes,
                           self.has_sample or other.has_sample, self.has_corpus or other.has_corpus)

    def materialize(self) -> "InstanceSet":
        """The same set with its files read into memory (pyarrow)."""
        if self.in_memory or not self.files:
            return self
        from .read_long import read_arrow

        import pyarrow as pa

        table = pa.concat_tables([read_arrow(p, self.file_format) for p in self.files], promote_options="default")
        return InstanceSet(conform(table), (), None, self.reported, self.found, self.inputs, self.nbytes,
                           self.has_sample, self.has_corpus)


def conform(table):
    """The table with canonical column types (strings for keys, float64 values, int64 sample), all optional columns
    present (null when absent) so tables from several readers concatenate."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    cols = {}
    for name in ("system", "task", "metric", "instance"):
        col = table.column(name)
        cols[name] = col if pa.types.is_string(col.type) else pc.cast(col, pa.string())
    for name, typ in (("value", pa.float64()), ("sample", pa.int64()), ("prediction", pa.float64()),
                      ("reference", pa.float64())):
        if name in table.column_names:
            col = table.column(name)
            cols[name] = col if col.type == typ else pc.cast(col, typ)
        else:
            cols[name] = pa.nulls(n, typ)
    return pa.table(cols)


class TableBuilder:
    """Collects rows as Python lists and builds a conformed Arrow table (for the harness readers)."""

    def __init__(self):
        self.cols: dict[str, list] = {c: [] for c in (*COLUMNS, *OPTIONAL)}

    def add(self, system, task, metric, instance, value, sample=None, prediction=None, reference=None) -> None:
        c = self.cols
        c["system"].append(system)
        c["task"].append(task)
        c["metric"].append(metric)
        c["instance"].append(str(instance))
        c["value"].append(value)
        c["sample"].append(sample)
        c["prediction"].append(prediction)
        c["reference"].append(reference)

    def __len__(self) -> int:
        return len(self.cols["system"])

    def table(self):
        import pyarrow as pa

        types = {"value": pa.float64(), "sample": pa.int64(), "prediction": pa.float64(), "reference": pa.float64()}
        return pa.table({k: pa.array(v, type=types.get(k, pa.string())) for k, v in self.cols.items()})

    def found(self, source: str, reader: str, notes=()) -> Found:
        c = self.cols
        keys = {(t, i) for t, i in zip(c["task"], c["instance"])}
        return Found(source, reader, tuple(sorted(set(c["system"]))), tuple(sorted(set(c["task"]))),
                     tuple(sorted(set(c["metric"]))), len(keys), len(self), tuple(notes))


def sha256_file(path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
