"""Hook specifications. Every hook is prefixed ``auditkit_``; registration hooks return a list of typed records.

A plugin implements any subset of these with ``@auditkit.hookimpl``. A misspelled ``auditkit_*`` hook in a plugin is
reported by the registry (``check_pending``) instead of being silently ignored.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("auditkit")


@hookspec
def auditkit_register_readers():
    """Return a list of :class:`auditkit.Reader` records: file formats that load into a leaderboard."""


@hookspec
def auditkit_register_recipes():
    """Return a list of :class:`auditkit.Recipe` records: benchmark definitions (task columns, reductions, reference row)."""


@hookspec
def auditkit_register_aggregators():
    """Return a list of :class:`auditkit.Aggregator` records: rules that turn a systems x tasks matrix into scores."""


@hookspec
def auditkit_register_checks():
    """Return a list of :class:`auditkit.Check` records: audit checks with stable ids that yield findings."""


@hookspec
def auditkit_register_metrics():
    """Return a list of :class:`auditkit.Metric` records: agreement metrics between two rankings."""


@hookspec
def auditkit_register_diagnostics():
    """Return a list of :class:`auditkit.Diagnostic` records: tensor-side diagnostics that produce a Report."""


@hookspec
def auditkit_register_techniques():
    """Return a list of :class:`auditkit.Technique` records, each carrying executable :class:`auditkit.Claim` s."""


@hookspec
def auditkit_register_backends():
    """Return a list of :class:`auditkit.Backend` records: array namespaces (numpy, torch) and their devices."""


@hookspec
def auditkit_register_rating_models():
    """Return a list of :class:`auditkit.RatingModel` records: models that rate systems from pairwise battles."""


@hookspec
def auditkit_register_log_readers():
    """Return a list of :class:`auditkit.LogReader` records: readers of per-instance evaluation logs."""


@hookspec
def auditkit_register_functions():
    """Return a list of :class:`auditkit.Function` records: Python entry points re-exported as ``auditkit.<name>``
    (``auditkit.audit``, ``auditkit.compare``, ...)."""


@hookspec
def auditkit_register_renderers():
    """Return a list of :class:`auditkit.Renderer` records: output formats for a Report (``--format NAME``:
    table, csv, json, jsonl, markdown, html, latex, parquet, ...). ``render(report, **options)`` returns str or
    bytes."""


@hookspec
def auditkit_register_commands(cli):
    """Add subcommands to the ``auditkit`` click group ``cli`` (``cli.add_command(...)``). Import heavy modules
    inside the command function, not at module level, so ``auditkit --help`` stays fast."""


@hookspec(firstresult=True)
def auditkit_make_check_context(data, benchmark, options):
    """Return the context object that audit checks receive (``Check.run(context)``) for ``data`` (a path, DataFrame
    or Leaderboard), recipe ``benchmark`` (None: auto-detect) and extra ``options`` (a dict); or None to let
    another plugin answer. The first non-None result is used; the audit plugin provides it, and
    :func:`auditkit.testing.make_context` uses it so a third-party check is tested against the real context."""
