"""``auditkit bench``: the ratio table, benchmark history over commits, the offline dashboard."""

from __future__ import annotations

import sys

import click

from auditkit.cli import emit


@click.group("bench")
def bench():
    """Performance: ratio table against baselines, asv history over commits, offline dashboard.

    \b
    Examples:
      auditkit bench ratios --quick --format markdown
      auditkit bench history --commits 10        # benchmark the last 10 commits of main, then publish
      auditkit bench serve                        # open the dashboard at http://127.0.0.1:8080/
    See docs/performance.md.
    """


@bench.command("ratios")
@click.option("--quick", is_flag=True, help="5 rounds of short samples (>= 0.05 s) instead of 9 of >= 0.2 s.")
@click.option("--rounds", type=click.IntRange(1, 1000), default=None,
              help="Interleaved rounds per entry (default 9, 5 with --quick).")
@click.option("--threads", type=click.IntRange(1, 1024), default=None,
              help="Cap BLAS/OpenMP (threadpoolctl) and torch threads for the run; the settings are recorded.")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json"]), default="table",
              show_default=True)
@click.option("--benchmarks", "bench_dir", type=click.Path(file_okay=False), default=None,
              help="Directory of bench_*.py modules (default: benchmarks/ of the checkout).")
@click.option("--match", default=None, help="Only entries whose module, label or methods match this regex.")
@click.option("--from-asv", is_flag=True, help="Read the newest asv results instead of timing now.")
@click.option("--machine", default=None, help="With --from-asv: the asv machine name (default: any, newest).")
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on standard error.")
@click.option("-v", "--verbose", is_flag=True, help="Print tracebacks of entries that fail.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (atomically) instead of standard output.")
def ratios_command(quick, rounds, threads, fmt, bench_dir, match, from_asv, machine, quiet, verbose, output):
    """Time each benchmark module's RATIOS pairs (auditkit vs baseline, and the limit where one is named) in
    interleaved rounds and print a / b: minima, and the median and IQR of the per-round ratios, with the thread
    settings. Progress goes to standard error, one line per entry.

    Modules that fail to import are listed with their error; the run goes on.
    """
    from . import ratios

    err = lambda m: click.echo(m, err=True)  # noqa: E731
    if from_asv:
        from .history import find_root

        table = ratios.from_asv(find_root(), machine=machine, bench_dir=bench_dir)
    else:
        table = ratios.measure(bench_dir, quick=quick, match=match, echo=err if verbose else None,
                               progress=None if quiet else err, rounds=rounds, threads=threads)
    emit(table.render(fmt), output)
    if not table.rows:
        raise click.ClickException("no RATIOS entries found")


@bench.command("history")
@click.option("--commits", "n", type=int, default=10, show_default=True,
              help="How many of the last first-parent commits of the branch to benchmark.")
@click.option("--branch", default="main", show_default=True)
@click.option("--quick", is_flag=True, help="The history suite only (benchmarks/bench_kernels.py), 8+ samples per "
                                           "benchmark in 2 rounds: under 2 minutes per commit.")
@click.option("-b", "--bench", "bench_filter", multiple=True, help="Only benchmarks matching this regex (asv -b).")
@click.option("--python", default=None, help="Interpreter whose environment provides the dependencies "
                                             "(default: this one).")
@click.option("--machine", default=None, help="asv machine name (default: the host name).")
@click.option("--skip-existing", is_flag=True, help="Skip commits that already have results.")
@click.option("--no-publish", is_flag=True, help="Only record results; do not publish the dashboard.")
@click.argument("asv_args", nargs=-1, type=click.UNPROCESSED)
def history_command(n, branch, quick, bench_filter, python, machine, skip_existing, no_publish, asv_args):
    """Benchmark the last N commits of BRANCH into asv's results and publish the offline dashboard.

    Needs no network: each commit is extracted with `git archive`, installed with `pip --no-deps --no-index`
    into .asv/history/site/<hash>, and run with `asv run -E existing --set-commit-hash`. Extra arguments after
    `--` go to `asv run` (e.g. `-- -a repeat=3`).
    """
    from . import history

    root = history.find_root()
    commits = history.last_commits(root, n, branch)
    click.echo(f"benchmarking {len(commits)} commit(s) of {branch} in {root}", err=True)
    status = history.run_history(root, commits, python=python, quick=quick, bench=list(bench_filter),
                                 machine=machine, skip_existing=skip_existing, extra=list(asv_args),
                                 echo=lambda m: click.echo(m, err=True))
    bad = [c[:8] for c, code in status.items() if code not in (0, 2)]
    if not no_publish:
        history.publish(root, python=python, echo=lambda m: click.echo(m, err=True))
    failed = [c[:8] for c, code in status.items() if code == 2]
    if failed:
        click.echo(f"some benchmarks failed (gaps in the graphs) at: {', '.join(failed)}", err=True)
    if bad:
        raise click.ClickException(f"could not benchmark: {', '.join(bad)}")


@bench.command("publish")
@click.option("--python", default=None, help="Interpreter to run asv with (default: this one).")
def publish_command(python):
    """Run `asv publish` and make the HTML render offline (vendored JS/CSS, data embedded for file://)."""
    from . import history

    history.publish(history.find_root(), python=python, echo=lambda m: click.echo(m, err=True))


@bench.command("offline")
@click.argument("html_dir", type=click.Path(file_okay=False, exists=True))
def offline_command(html_dir):
    """Make an already published asv HTML_DIR render offline, then check it."""
    from .dashboard import make_offline

    rewritten = make_offline(html_dir)
    click.echo(f"rewrote {', '.join(rewritten) or 'nothing'}; no remote scripts or stylesheets remain")


@bench.command("serve")
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--html-dir", type=click.Path(file_okay=False, exists=True), default=None)
def serve_command(port, html_dir):
    """Serve the published dashboard on http://127.0.0.1:PORT/ (localhost only; Ctrl-C stops)."""
    import functools
    import http.server
    from pathlib import Path

    from . import history

    if html_dir is None:
        root = history.find_root()
        html_dir = root / history.load_config(root).get("html_dir", "html")
    if not (Path(html_dir) / "index.html").is_file():
        raise click.ClickException(f"{html_dir}: no index.html; run `auditkit bench history` or "
                                   "`auditkit bench publish` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html_dir))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        click.echo(f"serving {html_dir} at http://127.0.0.1:{port}/ (Ctrl-C to stop)", err=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            sys.exit(0)
