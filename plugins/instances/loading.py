"""From paths to one :class:`~.table.InstanceSet`: pick a log reader per path (``--reader`` or each reader's
``sniff``), read, merge; read a published table of aggregates to compare with (``--reported``)."""

from __future__ import annotations

import csv
from pathlib import Path

from auditkit.errors import ParseError, UsageError, unknown_name

from .table import InstanceSet, Reported

# sniff order: the harness formats first (a directory or a JSON that is a harness log), the long format last
ORDER = ("lm-eval", "inspect", "helm", "long")


def log_readers() -> dict:
    import auditkit

    found = dict(auditkit.get_registry().records("log_readers"))
    if not all(n in found for n in ORDER):  # the plugin is disabled or the registry is a test's: use ours
        from . import log_reader_records

        found = {**{r.name: r for r in log_reader_records()}, **found}
    return found


def read_instances(paths, *, reader: str | None = None, **options) -> InstanceSet:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    readers = log_readers()
    if reader is not None and reader not in readers:
        raise unknown_name("log reader", reader, readers)
    out = InstanceSet()
    for path in paths:
        if not Path(path).exists():
            raise UsageError(f"{path}: no such file or directory")
        rec = readers[reader] if reader else _sniff(path, readers)
        out = out.merge(rec.read(path, **options))
    return out


def _sniff(path, readers):
    names = [n for n in ORDER if n in readers] + sorted(n for n in readers if n not in ORDER)
    for name in names:
        rec = readers[name]
        if rec.sniff is not None and rec.sniff(path):
            return rec
    raise ParseError("no log reader recognizes this path", source=str(path),
                     hint=f"give --reader (one of: {', '.join(names)}); long-format files end in .csv, .jsonl or "
                          ".parquet")


def _decimals(text: str) -> int:
    text = text.strip()
    return len(text.split(".", 1)[1]) if "." in text and "e" not in text.lower() else 0


def read_reported(path) -> list[Reported]:
    """A published table of aggregates: CSV with columns system, task, metric, value (long) — the tolerance of each
    value is half a unit of its last printed digit."""
    p = Path(path)
    out = []
    with open(p, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = [c.strip().lower() for c in (reader.fieldnames or [])]
        need = ("system", "task", "metric", "value")
        missing = [c for c in need if c not in cols]
        if missing:
            raise ParseError(f"missing column(s) {', '.join(missing)}", source=str(p), line=1,
                             hint="a reported table has columns system, task, metric, value")
        for row in reader:
            row = {k.strip().lower(): v for k, v in row.items()}
            raw = row["value"]
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise ParseError("not a number", source=str(p), line=reader.line_num, column="value",
                                 value=raw) from None
            tol = 0.5 * 10 ** -_decimals(raw) if _decimals(raw) else 0.5
            out.append(Reported(row["system"], row["task"], row["metric"], value, str(p), tolerance=tol + 1e-12))
    return out
