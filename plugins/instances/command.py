"""``auditkit rescore``: re-score instance logs, compare with the reported aggregates, pair the systems."""

from __future__ import annotations

import click

from auditkit.cli import FAIL_ON_OPTION, FORMAT_OPTION, OUTPUT_OPTION, emit_report


@click.command("rescore")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--engine", type=click.Choice(["auto", "numpy", "duckdb", "dask"]), default="auto", show_default=True,
              help="Where the reductions run: numpy in memory, DuckDB out of core, Dask on a cluster "
                   "(auto: by input size; printed in the footer).")
@click.option("--reader", default=None, help="Log format (lm-eval, inspect, helm, long); default: detected per path.")
@click.option("--reported", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A published table (CSV: system, task, metric, value) to compare the recomputed scores with.")
@click.option("--checks", default=None, help="Comma-separated instance checks to run (default: every default one).")
@click.option("--pairs/--no-pairs", default=True, show_default=True,
              help="Paired differences, SEs, MDE and adjusted p-values for every pair of systems.")
@click.option("--bootstrap", "n_boot", type=click.IntRange(min=0), default=0, show_default=True,
              help="Instance-bootstrap resamples per task (0: none): score SEs, percentile and rank intervals.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: on a terminal).")
@FORMAT_OPTION
@OUTPUT_OPTION
@FAIL_ON_OPTION
def rescore_command(paths, engine, reader, reported, checks, pairs, n_boot, seed, progress, fmt, output, fail_on):
    """Re-score per-instance evaluation logs (lm-evaluation-harness, Inspect, HELM, long tables) and explain every
    difference from the aggregates the harness reported.

    \b
    Examples:
      auditkit rescore lm-eval-output/ --format markdown
      auditkit rescore logs/*.eval --no-pairs
      auditkit rescore instances.parquet --engine duckdb --reported published.csv -o rescore.json --format json
      auditkit rescore logs/ --bootstrap 2000 --seed 0
    """
    from .rescoring import rescore

    result = rescore(list(paths), engine=None if engine == "auto" else engine, reader=reader, reported=reported,
                     pairs=pairs, progress=progress,
                     checks=[c.strip() for c in checks.split(",") if c.strip()] if checks else None)
    report = result.report()
    if n_boot:
        report.tables["instance bootstrap"] = result.bootstrap_rows(n_boot, seed=seed, progress=progress)
        report.provenance["seed"] = seed
    emit_report(report, fmt, output, fail_on)
