"""First-party output renderers (``--format NAME``): table, csv, json, jsonl, markdown, html, latex, parquet.

Each is an :class:`auditkit.records.Renderer` whose ``render`` imports its module (and any heavy dependency, such
as pyarrow for Parquet) only when called, so listing the formats costs nothing at startup. The plugin also adds
``auditkit demo-data DIR``, which writes the sample files the README and docs examples use.
"""

from __future__ import annotations

import auditkit
from auditkit.records import Renderer


def _lazy(module: str, func: str):
    def render(report, **options):
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{module}"), func)(report, **options)

    render.__name__ = func
    render.__qualname__ = func
    return render


@auditkit.hookimpl
def auditkit_register_renderers():
    return [
        Renderer("table", _lazy("terminal", "render_table"), "text/plain", ".txt",
                 "for a terminal: fits its width (COLUMNS), display-width aware, summary and findings by "
                 "severity first, fixed decimals per column (--digits), colour on a TTY unless NO_COLOR"),
        Renderer("csv", _lazy("formats", "render_csv"), "text/csv", ".csv",
                 "the records of a result report; else every table in long form with a 'table' column "
                 "(findings included); formula cells neutralized"),
        Renderer("json", _lazy("formats", "render_json"), "application/json", ".json",
                 "the auditkit.report/1 document (schemas in auditkit/schemas/)"),
        Renderer("jsonl", _lazy("formats", "render_jsonl"), "application/x-ndjson", ".jsonl",
                 "one JSON object per row of every table, each with its 'table' name (pandas.read_json(..., "
                 "lines=True))"),
        Renderer("markdown", _lazy("formats", "render_markdown"), "text/markdown", ".md",
                 "GFM: summary, findings by severity, every table, provenance folded"),
        Renderer("html", _lazy("htmlpage", "render_html"), "text/html", ".html",
                 "one self-contained offline page: sortable, filterable tables, coloured deltas, forest plots "
                 "and bump charts as inline SVG"),
        Renderer("latex", _lazy("latex", "render_latex"), "application/x-latex", ".tex",
                 "booktabs tables for a paper: best per column in bold, rank changes as arrows"),
        Renderer("parquet", _lazy("formats", "render_parquet"), "application/vnd.apache.parquet", ".parquet",
                 "the records (or every table in long form) as Parquet (pyarrow)", binary=True),
    ]


@auditkit.hookimpl
def auditkit_register_commands(cli):
    import click

    @click.command("demo-data")
    @click.argument("directory", type=click.Path(file_okay=False))
    @click.option("--force", is_flag=True, help="Overwrite files that exist.")
    def demo_data_command(directory, force):
        """Write the sample files that the README and docs examples use into DIRECTORY (scores.npy, real.npy,
        fake.npy, mycritics.py, critic.pt, some-table.tsv, SuperGLUE.csv, dev_probs.npy, battles.jsonl, ...).

        \b
        Examples:
          auditkit demo-data demo && cd demo && auditkit contrastive diagnose scores.npy --positive-index 0
        """
        from .demo import write_demo  # numpy and the generators only when the command runs

        for path in write_demo(directory, force=force):
            click.echo(str(path))

    cli.add_command(demo_data_command)
