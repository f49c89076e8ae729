"""Instance-level evaluation logs: read what eval harnesses write, re-score it, pair the systems, at any size.

Readers (``auditkit_register_log_readers``): ``lm-eval`` (lm-evaluation-harness output directories), ``inspect``
(Inspect ``.json`` / ``.eval`` logs), ``helm`` (HELM run directories), ``long`` (``system, task, instance, metric,
value`` in CSV / JSONL / Parquet). Engines: numpy (in memory), DuckDB (out of core, SQL pushdown), Dask
(dask.distributed). Command: ``auditkit rescore``. See docs/instances.md.

Importing this module imports no engine, no pandas and no pyarrow: everything heavy is imported by the functions
that use it.
"""

from __future__ import annotations

import auditkit


def _lazy(module: str, name: str):
    def call(*args, **kwargs):
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{module}"), name)(*args, **kwargs)

    call.__name__ = name
    call.__qualname__ = name
    return call


def log_reader_records() -> list:
    return [
        auditkit.LogReader("lm-eval", _lazy("read_lmeval", "read"), _lazy("read_lmeval", "sniff"),
                           "lm-evaluation-harness output directory (results_*.json + samples_<task>_*.jsonl)"),
        auditkit.LogReader("inspect", _lazy("read_inspect", "read"), _lazy("read_inspect", "sniff"),
                           "Inspect eval logs (.json log format, .eval zip archives)"),
        auditkit.LogReader("helm", _lazy("read_helm", "read"), _lazy("read_helm", "sniff"),
                           "HELM run directories (run_spec.json + per_instance_stats.json + stats.json)"),
        auditkit.LogReader("long", _lazy("read_long", "read"), _lazy("read_long", "sniff"),
                           "long table system, task, instance, metric, value (CSV, JSONL, Parquet)"),
    ]


@auditkit.hookimpl
def auditkit_register_log_readers():
    return log_reader_records()


@auditkit.hookimpl
def auditkit_register_checks():
    from .checks import check_records

    return check_records()


@auditkit.hookimpl
def auditkit_register_commands(cli):
    from .command import rescore_command

    cli.add_command(rescore_command)


def rescore(paths, **kwargs):
    """Re-score instance logs; returns a :class:`~.rescoring.RescoreResult` (``.scores``, ``.pairs``,
    ``.findings``, ``.report()``, ``.matrix()``, ``.ranking(rule)``). See :func:`.rescoring.rescore`."""
    from .rescoring import rescore as _rescore

    return _rescore(paths, **kwargs)


def paired(paths, **kwargs):
    """Paired statistics for every pair of systems per task and metric (list of :class:`~.pairstats.PairStat`)."""
    from .rescoring import paired as _paired

    return _paired(paths, **kwargs)


def read_instances(paths, **kwargs):
    """Read logs into an :class:`~.table.InstanceSet` (reader per path by sniffing, or ``reader=``)."""
    from .loading import read_instances as _read

    return _read(paths, **kwargs)


def bootstrap(paths, **kwargs):
    """Streaming instance bootstrap of task scores and ranks; see :func:`.resampling.bootstrap`."""
    from .resampling import bootstrap as _bootstrap

    return _bootstrap(paths, **kwargs)


def drivers(paths, task: str, metric: str, system_a: str, system_b: str, k: int = 10, **kwargs):
    """The instances that drive the difference between two systems on a task; see :func:`.differences.drivers`."""
    from .differences import drivers as _drivers

    return _drivers(paths, task, metric, system_a, system_b, k, **kwargs)


__all__ = ["rescore", "paired", "read_instances", "bootstrap", "drivers"]
