"""The ``auditkit`` command line. Core commands: ``plugins`` and ``rerank``; plugins add the rest through
``auditkit_register_commands``. Exit codes: 0 clean, 1 findings at or above ``--fail-on``, 2 usage or input error.
"""

from __future__ import annotations

import sys

import click

from .errors import AuditkitError

class FormatType(click.ParamType):
    """``--format NAME``: any registered renderer (table, csv, json, jsonl, markdown, html, latex, parquet, plugins'
    own). Checked when the option is parsed, against the registry the command loads anyway; the help text lists
    the names without loading anything."""

    name = "format"
    BUILTIN = ("table", "csv", "json", "jsonl", "markdown", "html", "latex", "parquet")

    def get_metavar(self, param, ctx=None):
        return "[" + "|".join(self.BUILTIN) + "|...]"

    def convert(self, value, param, ctx):
        from .report import renderers

        name = str(value).strip().lower()
        found = renderers()
        if name in found or (not found and name in ("table", "csv", "json", "markdown", "html")):
            return name
        names = sorted({r.name for r in found.values()})
        self.fail(f"{value!r} is not a registered format; choose from {', '.join(names)} "
                  "(`auditkit plugins` lists who provides each)", param, ctx)


def _set_digits(ctx, param, value):
    """--digits goes to every renderer of this run (``report.RENDER_OPTIONS``); no --digits clears it."""
    from .report import RENDER_OPTIONS

    if value is None:
        RENDER_OPTIONS.pop("digits", None)
        return value
    if value < 0 or value > 15:
        raise click.BadParameter(f"{value}: give 0 to 15 decimals", ctx=ctx, param=param)
    RENDER_OPTIONS["digits"] = value
    return value


def FORMAT_OPTION(f):  # noqa: N802 - a decorator used as a constant, as the other *_OPTION
    """``--format`` (every registered renderer) and ``--digits N`` (fixed decimals in table, markdown, html and
    latex output; default: the decimals the data show, per column)."""
    f = click.option("--digits", type=int, default=None, expose_value=False, callback=_set_digits,
                     is_eager=False, help="Decimals for every number column of table, markdown, html and latex "
                                          "output (default: as many as the column's values show).")(f)
    return click.option("--format", "fmt", default="table", show_default=True, type=FormatType(),
                        help="Output format: table, csv, json, jsonl, markdown, html, latex, parquet (or a "
                             "plugin's).")(f)
OUTPUT_OPTION = click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
                             help="Write to this file (atomically) instead of standard output.")
FAIL_ON_OPTION = click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error",
                              show_default=True, help="Exit 1 when a finding reaches this severity.")
DATA_OUTPUT_OPTION = click.option("--data-out", "data_out", type=click.Path(dir_okay=False), default=None,
                                  help="Write the transformed data (arrays) to this file; -o is always the report.")


def rule_option(default=("arithmetic",), help_extra: str = ""):
    """``--mean`` (aliases ``--rules``, ``--rule``): repeatable, comma lists allowed, ``NAME:KEY=VALUE,...``."""
    return click.option(
        "--mean", "--rules", "--rule", "means", multiple=True, default=default, show_default=bool(default),
        help="Rule(s): a mean or any aggregator (see `auditkit plugins`), repeatable and comma-separated, with "
             "parameters as NAME:KEY=VALUE (e.g. --mean power:p=-2 --mean power:p=2)." + help_extra)


def _options(*opts):
    def decorate(f):
        for opt in reversed(opts):
            f = opt(f)
        return f
    return decorate


def table_input_options(f):
    """The options every table command shares: recipe, task set, policies for odd cells, the input's shape."""
    from .policies import (DEFAULT_MISSING, DEFAULT_NEGATIVES, DEFAULT_RANGE, MISSING_POLICIES, NEGATIVE_POLICIES,
                           RANGE_POLICIES)

    return _options(
        click.option("--p", type=float, default=None,
                     help="Shorthand for the exponent of the power mean: --mean power --p -2 = --mean power:p=-2."),
        click.option("--benchmark", default=None,
                     help="Recipe (glue, superglue, xtreme, openllm-v1@2023-11, ...); auto-detected."),
        click.option("--tasks", multiple=True, help="Task set to use instead of the official one (comma-separated)."),
        click.option("--exclude", multiple=True, help="Tasks to leave out (comma-separated)."),
        click.option("--negatives", type=click.Choice(NEGATIVE_POLICIES), default=DEFAULT_NEGATIVES,
                     show_default=True, help="What rules defined for nonnegative values (geometric, harmonic, "
                                             "power) do with negative cells."),
        click.option("--missing", type=click.Choice(MISSING_POLICIES), default=DEFAULT_MISSING, show_default=True,
                     help="Missing cells: list the row unscored, refuse, skip (mean over the tasks present, as "
                          "HELM) or score 0."),
        click.option("--out-of-range", "out_of_range", type=click.Choice(RANGE_POLICIES), default=DEFAULT_RANGE,
                     show_default=True, help="A cell outside its task's declared range (755 on a 0-100 task): "
                                             "refuse, or keep it (noted)."),
        click.option("--lower-is-better", "lower_is_better", multiple=True,
                     help="Task columns where lower is better (comma-separated), e.g. latency."),
        click.option("--system-column", default=None, help="Column that names the systems (auto-detected)."),
        click.option("--input-format", default=None, help="Reader to use (csv, json, jsonl, parquet, markdown)."),
    )(f)


def table_input(kw: dict) -> dict:
    """Pop the shared table options from a command's keyword arguments into :func:`auditkit.load_task_scores`'s
    keywords (``rules`` and the ``--p`` shorthand included)."""
    means = kw.pop("means", None)
    p = kw.pop("p", None)
    out = {"benchmark": kw.pop("benchmark"), "tasks": split_names(kw.pop("tasks")),
           "exclude": split_names(kw.pop("exclude")), "negatives": kw.pop("negatives"),
           "missing": kw.pop("missing"), "out_of_range": kw.pop("out_of_range"),
           "lower_is_better": split_names(kw.pop("lower_is_better")),
           "system_column": kw.pop("system_column"), "input_format": kw.pop("input_format")}
    if means is not None:
        from .rules import split_rule_tokens

        rules = split_rule_tokens(means)
        if p is not None and not any(r.split(":")[0].strip().lower() == "power" for r in rules):
            from .errors import UsageError

            raise UsageError("--p is the power mean's exponent; add --mean power (or write --mean power:p=VALUE)")
        out["means"] = rules
        out["params"] = {"power": {"p": p}} if p is not None else None
    return out


def emit(text: str, output: str | None, *, inputs=None, others=()) -> None:
    """Print, or write ``output`` safely (see :mod:`auditkit.output`): atomic for files, straight through for
    devices, FIFOs and ``-``; refused when it is one of ``inputs`` (default: the paths on the command line)."""
    if isinstance(text, bytes):  # a binary format (parquet): a file, a pipe or -, never a terminal
        if output is None:
            stream = click.get_binary_stream("stdout")
            if stream.isatty():
                from .errors import UsageError

                raise UsageError("this format is binary: write it to a file with -o FILE (or pipe it)")
            stream.write(text)
            stream.flush()
            return
        write_atomic(output, text, inputs=inputs, others=others)
        return
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    if "\x1b[" in text:  # colour is for a terminal: a file gets plain text
        import re

        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    write_atomic(output, text.encode("utf-8"), inputs=inputs, others=others)


def write_atomic(path: str, data: bytes, *, inputs=None, others=()) -> None:
    """Write bytes to ``path`` safely (:func:`auditkit.output.write_output`); ``inputs`` defaults to the other
    paths on the running command's line."""
    from .output import command_paths, write_output

    write_output(path, data, inputs=command_paths(path) if inputs is None else inputs, others=others)


def emit_report(report, fmt: str, output: str | None, fail_on: str = "error") -> None:
    """Render a Report and exit with its code (0, or 1 when a finding reaches ``fail_on``)."""
    emit(report.render(fmt, **({"color": False} if output is not None else {})), output)
    sys.exit(report.exit_code(fail_on))


class AuditkitGroup(click.Group):
    """Loads plugin subcommands lazily, turns AuditkitError into a clear message and exit code 2, and after a
    command names the plugins that failed to load or register in one line on stderr (``AUDITKIT_QUIET_PLUGINS=1``
    silences it; ``auditkit plugins --check`` lists every error)."""

    _plugins_loaded = False

    def _load(self):
        if not self._plugins_loaded:
            AuditkitGroup._plugins_loaded = True
            from .registry import get_registry

            get_registry().add_commands(self)

    def list_commands(self, ctx):
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx, name):
        # a core command (rerank, plugins) needs no plugin's commands: skip calling every plugin's command hook,
        # which imports every plugin's command module (startup of `auditkit rerank`)
        if not self._plugins_loaded and name in getattr(self, "_auditkit_core", ()):
            return super().get_command(ctx, name)
        self._load()
        return super().get_command(ctx, name)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AuditkitError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        finally:
            if ctx.invoked_subcommand not in (None, "plugins", "install"):
                _warn_broken_plugins()


def _warn_broken_plugins() -> None:
    """One line on stderr naming the plugins that failed to load or register (so far: records are collected lazily,
    so a broken hook of a kind the command never used is not seen)."""
    import os

    from . import registry

    if os.environ.get(registry.QUIET_ENV, "").strip() not in ("", "0") or registry._REGISTRY is None:
        return
    reg = registry._REGISTRY
    broken = sorted(i.name for i in reg.plugins.values()
                    if i.errors and not i.disabled and i.name not in reg.unknown_disabled)
    if broken:
        click.echo(f"auditkit: warning: {len(broken)} plugin{'s' if len(broken) != 1 else ''} failed to load or "
                   f"register: {', '.join(broken)} (see `auditkit plugins --check`; {registry.QUIET_ENV}=1 "
                   "silences this)", err=True)


def _plugins_dir_option(ctx, param, value):
    """``--plugins-dir DIR`` (repeatable): add DIR to AUDITKIT_PLUGINS_DIR before any plugin is loaded."""
    if value:
        import os

        from . import registry

        dirs = [d for d in os.environ.get(registry.PLUGINS_DIR_ENV, "").split(os.pathsep) if d]
        os.environ[registry.PLUGINS_DIR_ENV] = os.pathsep.join([*dirs, *value])
        if registry._REGISTRY is not None:
            registry.reset_registry()
            AuditkitGroup._plugins_loaded = False
    return value


@click.group(cls=AuditkitGroup)
@click.version_option(package_name="leaderboard-auditkit")
@click.option("--plugins-dir", "plugins_dir", multiple=True, is_eager=True, expose_value=False,
              callback=_plugins_dir_option, type=click.Path(file_okay=False),
              help="Load every .py file in DIR as a plugin (repeatable; also AUDITKIT_PLUGINS_DIR, os.pathsep-"
                   "separated).")
def cli():
    """Audit benchmark leaderboards and the claims made with them.

    \b
    Plugins: AUDITKIT_DISABLE_PLUGINS=a,b turns plugins off; AUDITKIT_LOAD_PLUGINS=a,b loads only these
    third-party plugins (empty: none); AUDITKIT_QUIET_PLUGINS=1 silences the broken-plugin warning.

    \b
    Examples:
      auditkit rerank leaderboards/glue/glue-2021-vote-and-rank.csv --mean harmonic
      auditkit plugins --check
      auditkit --plugins-dir my_plugins/ rerank table.csv --mean my-mean
    """


@cli.command("plugins")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--check", "check", is_flag=True,
              help="Exit 1 when any plugin failed to load or register, listing each error on stderr.")
def plugins_command(fmt, check):
    """List plugins: distribution, version, what each provides or replaces, and its errors.

    \b
    Examples:
      auditkit plugins
      auditkit plugins --check          # in CI: exit 1 if a plugin is broken
    """
    import json

    from .diagnostics import missing_requirements
    from .registry import get_registry

    reg = get_registry()
    reg.collect_all()
    if not AuditkitGroup._plugins_loaded:
        cli._load()
    infos = sorted(reg.plugins.values(), key=lambda i: i.name)
    if fmt == "json":
        click.echo(json.dumps([i.as_dict() for i in infos], indent=2))
    for info in infos if fmt != "json" else ():
        status = "disabled" if info.disabled else ("ERROR" if info.errors else "ok")
        if info.disabled and getattr(info, "disabled_reason", ""):
            status = f"disabled: {info.disabled_reason}"
        click.echo(f"{info.name}  [{status}]  {info.distribution or '-'} {info.version or ''}  ({info.module})")
        for kind, names in sorted(info.provides.items()):
            click.echo(f"    {kind}: {', '.join(names)}")
        for text in getattr(info, "replaces", ()):
            click.echo(f"    replaces {text}")
        for text in getattr(info, "replaced", ()):
            click.echo(f"    replaced: {text}")
        for name in info.provides.get("diagnostics", []):
            missing = missing_requirements(reg.get("diagnostics", name))
            if missing:
                click.echo(f"    diagnostic {name} needs {', '.join(missing)} (not installed)")
        if info.commands:
            click.echo(f"    commands: {', '.join(info.commands)}")
        for err in info.errors:
            click.echo(f"    error: {err}")
    if check:
        broken = [i for i in infos if i.errors and not i.disabled]
        for info in broken:
            for err in info.errors:
                click.echo(f"error: plugin {info.name!r}: {err}", err=True)
        if broken:
            click.echo(f"{len(broken)} of {len(infos)} plugins failed to load or register", err=True)
            sys.exit(1)
        click.echo(f"all {len(infos)} plugins loaded and registered cleanly", err=True)


@cli.command("install", context_settings={"ignore_unknown_options": True})
@click.argument("packages", nargs=-1, required=True, type=click.UNPROCESSED)
def install_command(packages):
    """Install plugins (or anything pip installs) into the environment auditkit runs in: runs
    `python -m pip install PACKAGES...` with this auditkit's own Python, passing every option on to pip.

    \b
    Examples:
      auditkit install auditkit-example
      auditkit install -e ./plugins/example_plugin
      auditkit install --upgrade auditkit-example
    """
    import subprocess

    argv = [sys.executable, "-m", "pip", "install", *packages]
    click.echo(f"running: {' '.join(argv)}", err=True)
    code = subprocess.call(argv)
    if code == 0:
        from .registry import reset_registry

        reset_registry()
        click.echo("installed; `auditkit plugins --check` lists what is loaded", err=True)
    sys.exit(code)


def split_names(values) -> list[str]:
    """``--tasks a,b --tasks c`` -> [a, b, c]."""
    return [n.strip() for v in values for n in v.split(",") if n.strip()]


@cli.command("rerank")
@click.argument("file")
@rule_option()
@table_input_options
@click.option("--backend", default="numpy", show_default=True, help="Array backend: numpy or torch.")
@click.option("--device", default="cpu", show_default=True, help="Device for the backend: cpu or cuda.")
@FORMAT_OPTION
@OUTPUT_OPTION
def rerank_command(file, backend, device, fmt, output, **kw):
    """Re-aggregate a leaderboard FILE (or - for stdin) under one or more rules and show how the ranking moves.

    \b
    Examples:
      auditkit rerank leaderboards/glue/glue-2021-vote-and-rank.csv --mean harmonic
      auditkit rerank leaderboards/superglue/superglue-2023-benchbench.csv --mean arithmetic,geometric
      auditkit rerank leaderboards/glue/glue-2021-vote-and-rank.csv --mean power:p=-2 --mean power:p=2
      auditkit rerank leaderboards/glue/glue-2021-vote-and-rank.csv --mean geometric \\
          --tasks CoLA,SST-2,MRPC,STS-B,QQP,MNLI,QNLI,RTE,WNLI,AX --negatives rescale --format json
    """
    from .reranking import rerank

    opts = table_input(kw)
    result = rerank(file, opts.pop("means"), **opts, backend=backend, device=device,
                    command=" ".join(["auditkit", *sys.argv[1:]]))
    emit(result.render(fmt), output)


cli._auditkit_core = ("rerank", "install")  # commands that run without loading plugins' commands


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="auditkit", standalone_mode=True)
    except AuditkitError as exc:  # raised outside a command's invoke (e.g. while loading)
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
