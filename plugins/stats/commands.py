"""Click commands of the stats plugin: ``auditkit compare`` and ``auditkit significance``."""

from __future__ import annotations

import sys

import click

from auditkit.cli import (FAIL_ON_OPTION, FORMAT_OPTION, OUTPUT_OPTION, emit_report, rule_option, table_input,
                          table_input_options)

_COMMON = [
    table_input_options,
    click.option("--seed", type=int, default=0, show_default=True, help="Seed of the resampling (reproducible)."),
    click.option("--unit", type=click.Choice(["task", "instance"]), default="task", show_default=True,
                 help="Resample tasks, or instances (long tables with an instance column)."),
    click.option("--level", type=float, default=0.95, show_default=True, help="Confidence level."),
    click.option("--include-reference", is_flag=True,
                 help="Resample reference rows (humans) as if they were systems."),
    click.option("--backend", default="numpy", show_default=True, help="Array backend: numpy or torch."),
    click.option("--device", default="cpu", show_default=True, help="Device for the backend: cpu or cuda."),
    click.option("--progress/--no-progress", default=None,
                 help="Progress bar on stderr (default: on when stderr is a terminal and tqdm is installed)."),
]


def _common(f):
    for opt in reversed(_COMMON):
        f = opt(f)
    return f


def _has_matplotlib() -> bool:
    # the HTML page draws its own SVG bump chart without matplotlib; the PNG is added when it is installed
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def _command_line() -> str:
    return " ".join(["auditkit", *sys.argv[1:]])


@click.command("compare")
@click.argument("file")
@rule_option(default=("arithmetic,geometric,harmonic,borda,copeland,kemeny",))
@click.option("--bootstrap", "n_boot", type=int, default=0, show_default=True,
              help="Bootstrap resamples for rank intervals, rank probabilities and simultaneous rank sets (0: off).")
@click.option("--plot", "plot_file", type=click.Path(dir_okay=False), default=None,
              help="Write the bump chart of ranks across rules to this PNG or SVG file.")
@_common
@FORMAT_OPTION
@OUTPUT_OPTION
@FAIL_ON_OPTION
def compare_command(file, n_boot, plot_file, seed, unit, level, include_reference, backend, device, progress, fmt,
                    output, fail_on, **kw):
    """Compare the ranking of a leaderboard FILE under several aggregation rules: agreement (Kendall tau, Spearman),
    rank ranges, winners, order flips, the stable top-k, and with --bootstrap N rank intervals and simultaneous
    rank sets.

    \b
    Examples:
      auditkit compare leaderboards/superglue/superglue-2021-vote-and-rank.csv --mean arithmetic,harmonic,borda
      auditkit compare leaderboards/glue/glue-2021-vote-and-rank.csv --mean power:p=-2 --mean power:p=2
      auditkit compare leaderboards/glue/glue-2021-vote-and-rank.csv --bootstrap 2000 --seed 1 --format html \\
          -o glue-compare.html
    """
    from auditkit import UsageError
    from auditkit.output import write_output

    from .compare import compare

    if n_boot < 0:
        raise UsageError(f"--bootstrap must be 0 or a positive number of resamples (got {n_boot})")
    opts = table_input(kw)
    outputs = [o for o in (output, plot_file) if o]
    if plot_file:
        suffix = plot_file.rsplit(".", 1)[-1].lower()
        if suffix not in ("png", "svg"):
            raise UsageError(f"--plot {plot_file!r}: use a .png or .svg file name")
    report = compare(file, opts.pop("means"), **opts, bootstrap=n_boot, seed=seed, unit=unit, level=level,
                     include_reference=include_reference, backend=backend, device=device,
                     command=_command_line(), plot=(fmt == "html" and _has_matplotlib()), progress=progress)
    if plot_file:
        from .plot import bump_chart

        write_output(plot_file, bump_chart(*report.rank_data, fmt=suffix), inputs=[file],
                     others=[o for o in outputs if o != plot_file])
    emit_report(report, fmt, output, fail_on)


@click.command("significance")
@click.argument("file")
@click.argument("systems", nargs=-1)
@rule_option(default=("arithmetic",), help_extra=" One rule per run.")
@click.option("--all-pairs", is_flag=True, help="Test every pair (paired bootstrap, Holm-adjusted).")
@click.option("--resamples", type=int, default=2000, show_default=True, help="Bootstrap resamples.")
@click.option("--permutations", type=int, default=2000, show_default=True, help="Sign-flip permutations.")
@click.option("--adjust", type=click.Choice(["holm", "bonferroni", "bh"]), default="holm", show_default=True,
              help="Multiple-comparison correction for --all-pairs: Holm or Bonferroni (family-wise error), "
                   "Benjamini-Hochberg (false discovery rate).")
@_common
@FORMAT_OPTION
@OUTPUT_OPTION
@FAIL_ON_OPTION
def significance_command(file, systems, all_pairs, resamples, permutations, adjust, seed, unit, level,
                         include_reference, backend, device, progress, fmt, output, fail_on, **kw):
    """Paired significance of the score difference between two systems of FILE under a rule (paired bootstrap and
    sign-flip permutation), or all pairs with Holm control (--all-pairs).

    \b
    Examples:
      auditkit significance leaderboards/superglue/superglue-2021-vote-and-rank.csv "ERNIE 3.0" "T5" --mean arithmetic
      auditkit significance leaderboards/glue/glue-2021-vote-and-rank.csv --all-pairs --mean borda --resamples 500
    """
    from auditkit import UsageError

    from .significance import significance

    if not all_pairs and len(systems) != 2:
        raise UsageError(f"name exactly two systems (got {len(systems)}), or pass --all-pairs")
    if all_pairs and systems:
        raise UsageError("--all-pairs tests every pair; do not name systems")
    if resamples < 1 or permutations < 1:
        raise UsageError("--resamples and --permutations must be positive")
    opts = table_input(kw)
    rules = opts.pop("means")
    if len(rules) != 1:
        raise UsageError(f"significance tests one rule per run (got {', '.join(rules)}); run it once per rule")
    params = (opts.pop("params") or {}).get("power")
    report = significance(file, *(systems or (None, None)), rule=rules[0], params=params, all_pairs=all_pairs,
                          n_resamples=resamples, n_permutations=permutations, seed=seed, unit=unit, level=level,
                          **opts, include_reference=include_reference, backend=backend, device=device,
                          command=_command_line(), progress=progress, adjust=adjust)
    emit_report(report, fmt, output, fail_on)
