"""Click commands of the stats plugin: ``auditkit compare`` and ``auditkit significance``."""

from __future__ import annotations

import sys

import click

from auditkit.cli import FAIL_ON_OPTION, FORMAT_OPTION, OUTPUT_OPTION, emit_report, split_names

_COMMON = [
    click.option("--benchmark", default=None, help="Recipe to use (glue, superglue, ...); auto-detected."),
    click.option("--tasks", multiple=True, help="Task set to use instead of the official one (comma-separated)."),
    click.option("--exclude", multiple=True, help="Tasks to leave out (comma-separated)."),
    click.option("--negatives", type=click.Choice(["refuse", "rescale", "exclude-task"]), default="refuse",
                 show_default=True, help="What geometric/harmonic/power means do with negative cells."),
    click.option("--p", type=float, default=None, help="Exponent of the power rule, e.g. --p -2."),
    click.option("--seed", type=int, default=0, show_default=True, help="Seed of the resampling (reproducible)."),
    click.option("--unit", type=click.Choice(["task", "instance"]), default="task", show_default=True,
                 help="Resample tasks, or instances (long tables with an instance column)."),
    click.option("--level", type=float, default=0.95, show_default=True, help="Confidence level."),
    click.option("--include-reference", is_flag=True,
                 help="Resample reference rows (humans) as if they were systems."),
    click.option("--system-column", default=None, help="Column that names the systems (auto-detected)."),
    click.option("--input-format", default=None, help="Reader to use (csv, json, jsonl, parquet, markdown)."),
    click.option("--backend", default="numpy", show_default=True, help="Array backend: numpy or torch."),
    click.option("--device", default="cpu", show_default=True, help="Device for the backend: cpu or cuda."),
    click.option("--progress/--no-progress", default=None,
                 help="Progress bar on stderr (default: on when stderr is a terminal and tqdm is installed)."),
]


def _common(f):
    for opt in reversed(_COMMON):
        f = opt(f)
    return f


def _command_line() -> str:
    return " ".join(["auditkit", *sys.argv[1:]])


@click.command("compare")
@click.argument("file")
@click.option("--rules", multiple=True, default=("arithmetic,geometric,harmonic,borda,copeland,kemeny",),
              show_default=True, help="Comma-separated rules: any aggregator (means and social-choice rules).")
@click.option("--bootstrap", "n_boot", type=int, default=0, show_default=True,
              help="Bootstrap resamples for rank intervals, rank probabilities and simultaneous rank sets (0: off).")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False), default=None,
              help="Write the bump chart of ranks across rules to this PNG or SVG file.")
@_common
@FORMAT_OPTION
@OUTPUT_OPTION
@FAIL_ON_OPTION
def compare_command(file, rules, n_boot, plot_file, benchmark, tasks, exclude, negatives, p, seed, unit, level,
                    include_reference, system_column, input_format, backend, device, progress, fmt, output,
                    fail_on):
    """Compare the ranking of a leaderboard FILE under several aggregation rules: agreement (Kendall tau, Spearman),
    rank ranges, winners, order flips, the stable top-k, and with --bootstrap N rank intervals and simultaneous
    rank sets.

    \b
    Examples:
      auditkit compare "leaderboards - SuperGLUE.csv" --rules arithmetic,geometric,harmonic,borda,copeland,kemeny
      auditkit compare glue.csv --bootstrap 2000 --seed 1 --format html -o glue-compare.html
    """
    from auditkit.errors import UsageError

    from .compare import compare

    rule_names = split_names(rules)
    if p is not None and "power" not in rule_names:
        raise UsageError("--p only applies to the power rule")
    if n_boot < 0:
        raise UsageError(f"--bootstrap must be 0 or a positive number of resamples (got {n_boot})")
    report = compare(file, rule_names, benchmark=benchmark, tasks=split_names(tasks), exclude=split_names(exclude),
                     negatives=negatives, params={"power": {"p": p}} if p is not None else None, bootstrap=n_boot,
                     seed=seed, unit=unit, level=level, include_reference=include_reference, backend=backend,
                     device=device, system_column=system_column, input_format=input_format,
                     command=_command_line(), plot=(fmt == "html"), progress=progress)
    if plot_file:
        from auditkit.cli import write_atomic

        from .plot import bump_chart

        suffix = plot_file.rsplit(".", 1)[-1].lower()
        if suffix not in ("png", "svg"):
            raise UsageError(f"--plot {plot_file!r}: use a .png or .svg file name")
        write_atomic(plot_file, bump_chart(*report.rank_data, fmt=suffix))
    emit_report(report, fmt, output, fail_on)


@click.command("significance")
@click.argument("file")
@click.argument("systems", nargs=-1)
@click.option("--rule", default="arithmetic", show_default=True, help="Aggregator whose scores are compared.")
@click.option("--all-pairs", is_flag=True, help="Test every pair (paired bootstrap, Holm-adjusted).")
@click.option("--resamples", type=int, default=2000, show_default=True, help="Bootstrap resamples.")
@click.option("--permutations", type=int, default=2000, show_default=True, help="Sign-flip permutations.")
@_common
@FORMAT_OPTION
@OUTPUT_OPTION
@FAIL_ON_OPTION
def significance_command(file, systems, rule, all_pairs, resamples, permutations, benchmark, tasks, exclude,
                         negatives, p, seed, unit, level, include_reference, system_column, input_format, backend,
                         device, progress, fmt, output, fail_on):
    """Paired significance of the score difference between two systems of FILE under a rule (paired bootstrap and
    sign-flip permutation), or all pairs with Holm control (--all-pairs).

    \b
    Examples:
      auditkit significance "leaderboards - SuperGLUE.csv" "ERNIE 3.0" "T5" --rule arithmetic
      auditkit significance glue.csv --all-pairs --rule borda --resamples 5000
    """
    from auditkit.errors import UsageError

    from .significance import significance

    if not all_pairs and len(systems) != 2:
        raise UsageError(f"name exactly two systems (got {len(systems)}), or pass --all-pairs")
    if all_pairs and systems:
        raise UsageError("--all-pairs tests every pair; do not name systems")
    if resamples < 1 or permutations < 1:
        raise UsageError("--resamples and --permutations must be positive")
    report = significance(file, *(systems or (None, None)), rule=rule,
                          params={"p": p} if p is not None else None, all_pairs=all_pairs, n_resamples=resamples,
                          n_permutations=permutations, seed=seed, unit=unit, level=level, benchmark=benchmark,
                          tasks=split_names(tasks), exclude=split_names(exclude), negatives=negatives,
                          include_reference=include_reference, backend=backend, device=device,
                          system_column=system_column, input_format=input_format, command=_command_line(),
                          progress=progress)
    emit_report(report, fmt, output, fail_on)
