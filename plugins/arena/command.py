"""``auditkit arena FILE``: ratings with intervals, rank sets, tiers and the audit findings of pairwise battles."""

from __future__ import annotations

import sys

import click

from auditkit.cli import FAIL_ON_OPTION, FORMAT_OPTION, OUTPUT_OPTION, emit


@click.command("arena")
@click.argument("file")
@click.option("--model", "models", multiple=True, default=("bt",), show_default=True,
              help="Rating model NAME[:KEY=VALUE,...]: bt, davidson, rao-kupper, elo, style-bt (repeatable). The "
                   "first table is always Bradley-Terry; others are shown beside it.")
@click.option("--ci", type=click.Choice(["sandwich", "fisher", "bootstrap"]), default="sandwich",
              show_default=True, help="Interval method for the Bradley-Terry ratings.")
@click.option("--bootstrap", "n_boot", type=int, default=0, show_default=True,
              help="Multinomial bootstrap resamples of the pair counts (rank intervals and sets from them).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--level", type=float, default=0.95, show_default=True, help="Confidence level.")
@click.option("--anchor", default=None, help="Model pinned at --offset (default: the mean rating is --offset).")
@click.option("--offset", type=float, default=1000.0, show_default=True, help="Rating of the anchor (or mean).")
@click.option("--ties", type=click.Choice(["half", "drop"]), default="half", show_default=True,
              help="Ties in Bradley-Terry: half a win each (LMArena) or left out.")
@click.option("--model-a", "col_a", default="model_a", show_default=True, help="Column of the first model.")
@click.option("--model-b", "col_b", default="model_b", show_default=True, help="Column of the second model.")
@click.option("--winner", "col_winner", default="winner", show_default=True,
              help="Column of the outcome: model_a, model_b, tie or tie (bothbad).")
@click.option("--category", default=None, help="Column of a category (language, task) for arena.category-flip.")
@click.option("--judge", default=None, help="Column of the judge or user id (kept with the battles).")
@click.option("--timestamp", default=None, help="Column of the battle time (kept with the battles).")
@click.option("--style", "style", multiple=True,
              help="Style feature NAME read from columns NAME_a and NAME_b (repeatable) for style-bt.")
@click.option("--counts", "counts_flag", is_flag=True,
              help="FILE holds pair counts (model_a, model_b, wins_a, wins_b, ties[, bothbad]); detected "
                   "automatically for leaderbot JSON and such headers.")
@click.option("--published", default=None, type=click.Path(dir_okay=False),
              help="A published ratings table (model, rating[, lower, upper | ci]) to recompute (arena.published).")
@click.option("--checks", "check_names", default=None, help="Comma-separated check ids (default: all that apply).")
@click.option("--max-interval", type=float, default=20.0, show_default=True,
              help="arena.few-battles: widest acceptable interval half-width, in rating points.")
@click.option("--top", type=int, default=10, show_default=True, help="Models in the win-probability table.")
@click.option("--backend", type=click.Choice(["numpy", "torch"]), default="numpy", show_default=True,
              help="Array backend of the Bradley-Terry fit and bootstrap.")
@click.option("--device", default="cpu", show_default=True, help="Device of the torch backend (cpu, cuda).")
@FORMAT_OPTION
@OUTPUT_OPTION
@FAIL_ON_OPTION
def arena_command(file, models, ci, n_boot, seed, level, anchor, offset, ties, col_a, col_b, col_winner, category,
                  judge, timestamp, style, counts_flag, published, check_names, max_interval, top, backend, device,
                  fmt, output, fail_on):
    """Rate models from pairwise battles (Chatbot Arena style) and audit the data the ranking rests on.

    FILE is a battle log (one row per battle: model_a, model_b, winner; CSV, TSV, JSONL, JSON or Parquet) or pair
    counts (leaderbot JSON, or a table with wins_a, wins_b, ties, bothbad). Prints Bradley-Terry ratings on
    LMArena's scale with intervals, rank intervals, simultaneous rank sets and tiers, the other models asked for,
    and the findings of the arena.* checks. Exit 0 clean, 1 when a finding reaches --fail-on, 2 for bad input.

    \b
    Example:
      auditkit arena battles.jsonl --model bt --model davidson --bootstrap 1000 --format html -o arena.html
    """
    from .pipeline import analyse
    from .published import read_published
    from .readers import Columns, read_any, read_counts

    if counts_flag:
        pc = read_counts(file, model_a=col_a, model_b=col_b)
    else:
        cols = Columns(col_a, col_b, col_winner, category, judge, timestamp, tuple(style))
        pc = read_any(file, cols, model_a=col_a, model_b=col_b)
    names = [c.strip() for c in check_names.split(",") if c.strip()] if check_names else None
    pub = read_published(published) if published else None
    result = analyse(pc, models=models, ci=ci, bootstrap=n_boot, seed=seed, level=level, anchor=anchor,
                     offset=offset, ties=ties, backend=backend, device=device, checks=names,
                     options={"max_interval": max_interval}, published=pub, published_source=published, top=top)
    text = result.html() if fmt == "html" else result.report.render(fmt)
    emit(text, output)
    sys.exit(result.report.exit_code(fail_on))
