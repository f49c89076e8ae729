"""The ``auditkit audit`` and ``auditkit diff`` click commands."""

from __future__ import annotations

import sys

import click

from auditkit import NEGATIVE_POLICIES
from auditkit.cli import FAIL_ON_OPTION, FORMAT_OPTION, OUTPUT_OPTION, emit_report, rule_option, split_names
from auditkit.policies import DEFAULT_NEGATIVES


@click.command("audit")
@click.argument("file")
@click.option("--claims", default=None, type=click.Path(dir_okay=False),
              help="A paper's or model card's table: a system column and aggregate columns named by mean "
                   "(AM/GM/HM, arithmetic/geometric/harmonic). Enables task-set-consistency.")
@click.option("--benchmark", default=None, help="Recipe (glue, superglue, xtreme, livebench, ...); auto-detected.")
@click.option("--checks", "checks", multiple=True,
              help="Run only these check ids (comma-separated or repeated); default: every registered check.")
@click.option("--compare-with", "compare_with", multiple=True, type=click.Path(dir_okay=False),
              help="Another snapshot of the same leaderboard (repeatable): values present here but '-' or NaN "
                   "there are reported as imputed.")
@rule_option(default=(), help_extra=" Default: arithmetic, geometric, harmonic for human-baseline; zero or "
                                   "negative cells become warnings only when a geometric or harmonic mean is "
                                   "requested here.")
@click.option("--negatives", type=click.Choice(NEGATIVE_POLICIES), default=DEFAULT_NEGATIVES, show_default=True,
              help="What rules defined for nonnegative values do with negative cells where a check ranks "
                   "(human-baseline): refuse (the check reports it cannot rank), rescale correlation tasks from "
                   "[-100, 100] to [0, 100], exclude-task, or exclude-row (leave such rows unscored).")
@click.option("--system-column", default=None, help="Column that names the systems (auto-detected).")
@click.option("--input-format", default=None, help="Reader to use (csv, json, jsonl, parquet, markdown).")
@FAIL_ON_OPTION
@FORMAT_OPTION
@OUTPUT_OPTION
def audit_command(file, claims, benchmark, checks, compare_with, means, negatives, system_column, input_format,
                  fail_on, fmt, output):
    """Audit a published leaderboard FILE (or - for stdin): recompute the published score, explain every
    mismatch, and check the cells, the reference row and, with --claims, a paper's table.

    \b
    Exit codes: 0 no finding reaches --fail-on; 1 one does; 2 usage or input error.
    Examples:
      auditkit audit leaderboards/glue/glue-2021-vote-and-rank.csv
      auditkit audit leaderboards/glue/glue-2023-benchbench.csv \\
          --compare-with leaderboards/glue/glue-2021-vote-and-rank.csv --format markdown
      auditkit audit leaderboards/glue/glue-2021-vote-and-rank.csv --claims tests/data/claims/glue_paper_like.csv \\
          --checks task-set-consistency --format json
    """
    from .context import audit

    report = audit(file, claims=claims, benchmark=benchmark, checks=split_names(checks) or None,
                   compare_with=list(compare_with), means=list(means) or None, negatives=negatives,
                   system_column=system_column, input_format=input_format,
                   command=" ".join(["auditkit", *sys.argv[1:]]))
    emit_report(report, fmt, output, fail_on)


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--benchmark", default=None, help="Recipe for both snapshots; auto-detected.")
@FAIL_ON_OPTION
@FORMAT_OPTION
@OUTPUT_OPTION
def diff_command(old, new, benchmark, fail_on, fmt, output):
    """Compare two dated snapshots OLD and NEW of one leaderboard: systems added and removed, cells edited
    retroactively, published scores that changed, rank flips, and whether the recipe reproduces both.

    \b
    Exit codes: 0 no finding reaches --fail-on; 1 one does; 2 usage or input error.
    Example:
      auditkit diff leaderboards/livebench/livebench-2024-07-01.csv leaderboards/livebench/livebench-2024-08-29.csv
    """
    from .snapshots import diff

    report = diff(old, new, benchmark=benchmark, command=" ".join(["auditkit", *sys.argv[1:]]))
    emit_report(report, fmt, output, fail_on)
