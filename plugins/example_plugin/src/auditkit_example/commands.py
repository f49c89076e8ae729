"""``auditkit mteb-weights FILE``: the task weights an MTEB table declares, and how well they reproduce it."""

from __future__ import annotations

import json

import click

import auditkit


@click.command("mteb-weights")
@click.argument("file")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="Output format.")
def mteb_weights(file, fmt):
    """Read the dataset counts from an MTEB leaderboard FILE's column names and check that the count-weighted
    mean of the category averages reproduces the published Average, within the rounding of the displayed values.

    \b
    Example:
      auditkit mteb-weights tests/data/mteb-leaderboard.tsv      (from the plugin's folder)
    """
    import numpy as np

    from .mteb import category_columns

    lb = auditkit.read_leaderboard(file)
    cats, published = category_columns(lb.columns)
    if published is None or not cats:
        raise auditkit.InputError(f"{file}: no MTEB-style columns ('<Category> Average (<n> datasets)' and "
                                  f"'Average (<n> datasets)'); columns are: {', '.join(lb.columns)}")
    counts = np.array([n for _, _, n in cats], float)
    weights = counts / counts.sum()
    values = np.column_stack([lb.numeric(c).values[:, 0] for c, _, _ in cats])
    ulps = np.column_stack([lb.numeric(c).half_ulps[:, 0] for c, _, _ in cats])
    pub = lb.numeric(published[0])
    ok = np.isfinite(values).all(axis=1) & ~pub.missing
    recomputed = values @ weights
    diff = np.abs(recomputed - pub.values[:, 0])
    tight = ok & (diff <= pub.half_ulps[:, 0] + 1e-9)
    # the worst case of rounding: the published value's half unit plus the weighted half units of the categories
    bound = pub.half_ulps[:, 0] + ulps @ weights
    loose = ok & (diff <= bound + 1e-9)
    summary = {
        "input": lb.source, "input_sha256": lb.sha256, "published_column": published[0],
        "published_count": published[1], "count_sum": int(counts.sum()),
        "weights": {c: n for _, c, n in cats},
        "rows": int(len(lb)), "rows_scored": int(ok.sum()),
        "rows_within_published_rounding": int(tight.sum()),
        "rows_within_rounding_bound": int(loose.sum()),
        "max_abs_difference": float(diff[ok].max()) if ok.any() else None,
        "outside_bound": [lb.systems[i] for i in np.flatnonzero(ok & ~loose)],
    }
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2))
        return
    width = max(len(c) for _, c, _ in cats)
    for _, c, n in cats:
        click.echo(f"{c:<{width}}  {n:>3} dataset{'s' if n != 1 else ' '} weight {n / counts.sum():.4f}")
    click.echo(f"sum {int(counts.sum())} datasets; published column {published[0]!r} says {published[1]}")
    click.echo(f"rows: {summary['rows']}, scored {summary['rows_scored']}; the weighted mean reproduces the "
               f"published value within its rounding (half a unit of its last digit) for "
               f"{summary['rows_within_published_rounding']}, and within the rounding of all displayed values for "
               f"{summary['rows_within_rounding_bound']}; largest difference {summary['max_abs_difference']:.4g}")
    if summary["outside_bound"]:
        click.echo("outside the rounding bound: " + ", ".join(summary["outside_bound"]))
