"""The plugin system through REAL entry points: broken plugins are isolated, named and listed; the tool keeps working.

Each throwaway plugin is a module plus a ``<name>-<version>.dist-info`` directory (METADATA + entry_points.txt) in
a temporary directory on ``sys.path`` / ``PYTHONPATH``: that is exactly what ``pip install`` leaves behind, and
``importlib.metadata`` discovers it the same way. Tests build ``auditkit.registry.Registry()`` (real discovery) in
process, and run ``python -m auditkit.cli`` in a subprocess with ``PYTHONPATH`` pointing at the directory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from auditkit.records import RECORD_KINDS
from auditkit.report import Report as auditkit_report
from auditkit.registry import DISABLE_ENV, Registry

ROOT = Path(__file__).resolve().parents[1]
GLUE = ROOT / "leaderboards" / "glue" / "glue-2023-benchbench.csv"

AGG = "lambda v, *, xp, weights: xp.sum(v * weights, axis=1)"

# module name -> (source, entry-point name); every module is its own distribution "akt-<module>"
PLUGINS = {
    "akt_good": ("good", f"""
        import click, auditkit

        @auditkit.hookimpl
        def auditkit_register_aggregators():
            return [auditkit.Aggregator("akt-mean", {AGG}, "a working plugin's mean")]

        @click.command("akt-hello")
        def hello():
            '''Say hello (a command added by a throwaway test plugin).'''
            click.echo("hello from akt-good")

        @auditkit.hookimpl
        def auditkit_register_commands(cli):
            cli.add_command(hello)
        """),
    "akt_import_error": ("import-error", """
        import auditkit
        import akt_dependency_that_is_not_installed  # noqa: F401
        """),
    "akt_typo": ("typo", f"""
        import auditkit

        @auditkit.hookimpl
        def auditkit_register_aggregator():          # missing "s"
            return [auditkit.Aggregator("akt-typo-mean", {AGG}, "never registered")]
        """),
    "akt_wrong_record": ("wrong-record", f"""
        import auditkit

        @auditkit.hookimpl
        def auditkit_register_aggregators():
            return [auditkit.Recipe("not-an-aggregator", "1.0", "oops"),
                    {{"name": "a-dict"}},
                    auditkit.Aggregator("Bad Name", {AGG}, "invalid name"),
                    auditkit.Aggregator("akt-survivor", {AGG}, "the valid record of a partly broken plugin")]
        """),
    "akt_dup_a": ("dup-a", f"""
        import auditkit

        @auditkit.hookimpl
        def auditkit_register_aggregators():
            return [auditkit.Aggregator("akt-dup", {AGG}, "first provider")]
        """),
    "akt_dup_b": ("dup-b", f"""
        import auditkit

        @auditkit.hookimpl
        def auditkit_register_aggregators():
            return [auditkit.Aggregator("akt-dup", {AGG}, "second provider"),
                    auditkit.Aggregator("arithmetic", {AGG}, "clashes with a first-party mean")]
        """),
    "akt_hook_raises": ("hook-raises", """
        import auditkit

        @auditkit.hookimpl
        def auditkit_register_checks():
            raise RuntimeError("the check table is not there")

        @auditkit.hookimpl
        def auditkit_register_commands(cli):
            raise RuntimeError("command setup failed")
        """),
    "akt_bad_signature": ("bad-signature", """
        import auditkit

        @auditkit.hookimpl
        def auditkit_register_recipes(cli):          # the spec takes no argument
            return []
        """),
    "akt_same_ep_name": ("means", """
        import auditkit
        """),
}

# Plugins that currently break the whole registry (see test_registry_bug_*): kept in their own directories.
CRASHERS = {
    "akt_not_a_list": ("not-a-list", f"""
        import auditkit

        @auditkit.hookimpl
        def auditkit_register_aggregators():
            return auditkit.Aggregator("akt-single", {AGG}, "returned without a list")
        """),
    "akt_unprefixed": ("unprefixed", """
        import auditkit

        @auditkit.hookimpl
        def register_aggregators():                  # marked, but no such hook
            return []
        """),
}

# One plugin that implements EVERY hook, so each hook is exercised through a real entry point.
ALL_HOOKS = {"akt_all_hooks": ("all-hooks", f"""
    import click, auditkit
    from auditkit import Finding

    def _run_check(context):
        yield Finding("akt-check", "info", "seen " + str(len(context.leaderboard)) + " rows")

    @auditkit.hookimpl
    def auditkit_register_readers():
        from auditkit.leaderboard import RawTable
        def read(source):
            rows = [line.split("=") for line in source.text().split()]
            return RawTable(["Model", "Score"], rows, list(range(1, len(rows) + 1)))
        return [auditkit.Reader("akt-kv", read, (".aktkv",), None, "model=score lines")]

    @auditkit.hookimpl
    def auditkit_register_recipes():
        return [auditkit.Recipe("akt-recipe", "1.0", "AKT", tasks=(auditkit.TaskSpec("A"), auditkit.TaskSpec("B")))]

    @auditkit.hookimpl
    def auditkit_register_aggregators():
        return [auditkit.Aggregator("akt-all-mean", {AGG}, "mean")]

    @auditkit.hookimpl
    def auditkit_register_checks():
        return [auditkit.Check("akt-check", _run_check, "counts rows")]

    @auditkit.hookimpl
    def auditkit_register_metrics():
        return [auditkit.Metric("akt-metric", lambda a, b: 0.5, "always one half")]

    @auditkit.hookimpl
    def auditkit_register_diagnostics():
        return [auditkit.Diagnostic("akt-diagnostic", lambda: auditkit.Report("akt"), "empty report")]

    @auditkit.hookimpl
    def auditkit_register_techniques():
        claim = auditkit.Claim("akt-claim", "one is one", "arithmetic", lambda: 1.0, expected=1.0)
        return [auditkit.Technique("akt-technique", "a technique with one claim", claims=(claim,))]

    @auditkit.hookimpl
    def auditkit_register_backends():
        import array_api_compat.numpy as xp
        return [auditkit.Backend("akt-backend", lambda device: (xp, "cpu"), lambda: ("cpu",), "numpy again")]

    @auditkit.hookimpl
    def auditkit_register_rating_models():
        return [auditkit.RatingModel("akt-rating", lambda battles: {{}}, "rates nobody")]

    @auditkit.hookimpl
    def auditkit_register_log_readers():
        return [auditkit.LogReader("akt-log", lambda path: [], None, "reads nothing")]

    @auditkit.hookimpl
    def auditkit_register_functions():
        return [auditkit.Function("akt-function", lambda: 42, "the answer")]


    @auditkit.hookimpl
    def auditkit_register_renderers():
        from auditkit.records import Renderer
        return [Renderer("akt-render", lambda report, **options: report.title + "\\n", "text/plain", ".txt",
                         "the title only")]

    @click.group("akt-group")
    def group():
        '''A command group from a plugin.'''

    @group.command("ping")
    def ping():
        '''Print pong.'''
        click.echo("pong")

    @auditkit.hookimpl
    def auditkit_register_commands(cli):
        cli.add_command(group)
    """)}


def write_dist(root: Path, module: str, source: str, ep_name: str, version: str = "0.1.0") -> None:
    """A module and the dist-info pip would write for a distribution providing it through an entry point."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    dist = f"akt-{module[4:].replace('_', '-')}"
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[auditkit]\n{ep_name} = {module}\n")


class Discovered:
    """A directory of throwaway distributions, put on sys.path while a Registry is built."""

    def __init__(self, root: Path, plugins: dict[str, tuple[str, str]]):
        self.root = root
        self.modules = list(plugins)
        root.mkdir(parents=True)
        for module, (ep_name, source) in plugins.items():
            write_dist(root, module, source, ep_name)

    def registry(self, disable: str | None = None) -> Registry:
        old_env = os.environ.get(DISABLE_ENV)
        sys.path.insert(0, str(self.root))
        try:
            if disable is None:
                os.environ.pop(DISABLE_ENV, None)
            else:
                os.environ[DISABLE_ENV] = disable
            return Registry()
        finally:
            sys.path.remove(str(self.root))
            sys.path_importer_cache.pop(str(self.root), None)
            for module in self.modules:
                sys.modules.pop(module, None)
            if old_env is None:
                os.environ.pop(DISABLE_ENV, None)
            else:
                os.environ[DISABLE_ENV] = old_env

    def cli(self, *args: str, disable: str | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(self.root), os.environ.get("PYTHONPATH", "")])}
        env.pop(DISABLE_ENV, None)
        if disable is not None:
            env[DISABLE_ENV] = disable
        return subprocess.run([sys.executable, "-m", "auditkit.cli", *args], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=120)


@pytest.fixture(scope="session")
def broken(tmp_path_factory) -> Discovered:
    return Discovered(tmp_path_factory.mktemp("plugins") / "site", PLUGINS)


@pytest.fixture(scope="session")
def broken_registry(broken) -> Registry:
    reg = broken.registry()
    reg.collect_all()
    reg.add_commands(click.Group("auditkit-test"))
    return reg


@pytest.fixture(scope="session")
def plugins_json(broken) -> dict[str, dict]:
    """``auditkit plugins --format json`` by name; a second plugin with a taken name as "name (distribution)"."""
    out = broken.cli("plugins", "--format", "json")
    assert out.returncode == 0, out.stderr
    listed: dict[str, dict] = {}
    for p in json.loads(out.stdout):
        listed[p["name"] if p["name"] not in listed else f"{p['name']} ({p['distribution']})"] = p
    return listed


# -- in-process discovery -------------------------------------------------------------------------------------------
def test_a_working_third_party_plugin_is_discovered_with_its_distribution(broken_registry):
    info = broken_registry.plugins["good"]
    assert info.ok, info.errors
    assert (info.distribution, info.version, info.module) == ("akt-good", "0.1.0", "akt_good")
    assert info.provides == {"aggregators": ["akt-mean"]}
    assert info.commands == ["akt-hello"]
    assert broken_registry.get("aggregators", "akt-mean").description == "a working plugin's mean"


def test_import_error_is_kept_on_the_plugin_and_names_the_missing_module(broken_registry):
    errors = broken_registry.plugins["import-error"].errors
    assert len(errors) == 1
    assert errors[0].startswith("failed to import akt_import_error: ModuleNotFoundError")
    assert "akt_dependency_that_is_not_installed" in errors[0]


def test_hook_typo_is_reported_with_a_suggestion_and_the_plugin_is_not_used(broken_registry):
    errors = broken_registry.plugins["typo"].errors
    assert errors == ["implements unknown hook 'auditkit_register_aggregator'; did you mean "
                      "'auditkit_register_aggregators'?"]
    assert "akt-typo-mean" not in broken_registry.records("aggregators")


def test_wrong_record_types_and_invalid_names_are_refused_one_by_one(broken_registry):
    info = broken_registry.plugins["wrong-record"]
    text = "\n".join(info.errors)
    assert "returned Recipe" in text and "expected an auditkit.Aggregator record" in text
    assert "returned dict" in text
    assert "invalid name 'Bad Name'" in text
    assert len(info.errors) == 3
    # the plugin's one valid record still works
    assert info.provides == {"aggregators": ["akt-survivor"]}
    assert "akt-survivor" in broken_registry.records("aggregators")


def test_duplicate_record_names_name_both_providers(broken_registry):
    # whichever provider loses, its error names the winner and itself (which one wins: see the bug test below)
    errors = {name: "\n".join(broken_registry.plugins[name].errors) for name in ("dup-a", "dup-b", "means")}
    dup = next(e for e in "\n".join(errors.values()).splitlines() if "'akt-dup'" in e)
    assert dup.startswith("duplicate aggregator name 'akt-dup': already registered by plugin ")
    assert {"'dup-a'", "'dup-b'"} <= {w for w in ("'dup-a'", "'dup-b'") if w in dup}
    clash = next(e for e in "\n".join(errors.values()).splitlines() if "'arithmetic'" in e)
    assert "'means'" in clash and "'dup-b'" in clash
    assert broken_registry.get("aggregators", "akt-dup").description in ("first provider", "second provider")


def test_registry_bug_first_registered_provider_wins(broken_registry):
    assert broken_registry.provider("aggregators", "arithmetic") == "means"
    assert broken_registry.get("aggregators", "akt-dup").description == "first provider"
    assert broken_registry.plugins["means"].ok
    assert any("already registered by plugin 'means'" in e for e in broken_registry.plugins["dup-b"].errors)


def test_duplicate_plugin_names_name_both_distributions(broken_registry):
    dup = broken_registry.plugins["means (akt-same-ep-name)"]
    assert dup.errors == ["duplicate plugin name 'means': already provided by leaderboard-auditkit; ignored"]
    assert broken_registry.plugins["means"].distribution == "leaderboard-auditkit"
    assert broken_registry.plugins["means"].module == "auditkit_plugins.means"
    assert "geometric" in broken_registry.plugins["means"].provides["aggregators"]


def test_a_hook_that_raises_is_isolated(broken_registry):
    errors = broken_registry.plugins["hook-raises"].errors
    assert "auditkit_register_checks raised RuntimeError: the check table is not there" in errors
    assert "auditkit_register_commands raised RuntimeError: command setup failed" in errors


def test_a_hook_with_a_wrong_signature_is_refused_at_registration(broken_registry):
    (error,) = broken_registry.plugins["bad-signature"].errors
    assert error.startswith("cannot register:") and "{'cli'}" in error


def test_first_party_plugins_keep_working_beside_broken_ones(broken_registry):
    assert {"arithmetic", "geometric", "harmonic"} <= set(broken_registry.records("aggregators"))
    assert "glue" in broken_registry.records("recipes")
    assert all(broken_registry.plugins[n].ok for n in ("recipes", "readers", "backends"))
    assert broken_registry.get("aggregators", "geometric").description.startswith("weighted geometric mean")


def test_disable_plugins_env_turns_plugins_off_by_name(broken):
    reg = broken.registry(disable="good, dup-a")
    assert reg.plugins["good"].disabled and reg.plugins["dup-a"].disabled
    assert not reg.plugins["good"].ok
    assert "akt-mean" not in reg.records("aggregators")
    # with dup-a off, dup-b is the only provider of akt-dup and nobody reports a clash on it
    assert reg.get("aggregators", "akt-dup").description == "second provider"
    assert "akt-dup" in reg.plugins["dup-b"].provides["aggregators"]
    assert not any("'akt-dup'" in e for e in reg.plugins["dup-b"].errors)


def test_every_hook_is_called_through_a_real_entry_point(tmp_path):
    reg = Discovered(tmp_path / "all", ALL_HOOKS).registry()
    reg.collect_all()
    group = click.Group("auditkit-test")
    reg.add_commands(group)
    info = reg.plugins["all-hooks"]
    assert info.ok, info.errors
    expected = {"readers": ["akt-kv"], "recipes": ["akt-recipe"], "aggregators": ["akt-all-mean"],
                "checks": ["akt-check"], "metrics": ["akt-metric"], "diagnostics": ["akt-diagnostic"],
                "techniques": ["akt-technique"], "backends": ["akt-backend"], "rating_models": ["akt-rating"],
                "log_readers": ["akt-log"], "functions": ["akt-function"], "renderers": ["akt-render"]}
    assert info.provides == expected
    assert set(expected) == set(RECORD_KINDS)  # a new record kind needs a line here
    assert info.commands == ["akt-group"]
    assert CliRunner().invoke(group, ["akt-group", "ping"]).output == "pong\n"
    agg = reg.get("aggregators", "akt-all-mean")
    xp = reg.get("backends", "akt-backend").namespace("cpu")[0]
    assert agg.func(np.array([[1.0, 3.0]]), xp=xp, weights=np.array([0.5, 0.5])).tolist() == [2.0]
    assert reg.get("metrics", "akt-metric").func([1], [2]) == 0.5
    assert reg.get("techniques", "akt-technique").claims[0].measure() == 1.0
    assert reg.get("diagnostics", "akt-diagnostic").run().title == "akt"
    assert reg.get("functions", "akt-function").func() == 42
    assert reg.get("renderers", "akt-render").render(auditkit_report("akt")) == "akt\n"
    from auditkit.leaderboard import Source, from_table

    table = reg.get("readers", "akt-kv").read(Source("x.aktkv", b"a=1 b=2"))
    lb = from_table(table, source="x.aktkv")
    (finding,) = list(reg.get("checks", "akt-check").run(type("Ctx", (), {"leaderboard": lb})()))
    assert finding.message == "seen 2 rows"


# -- the CLI, in a fresh process --------------------------------------------------------------------------------
def test_auditkit_plugins_lists_every_broken_plugin_with_its_error(plugins_json):
    assert plugins_json["good"]["errors"] == [] and plugins_json["good"]["commands"] == ["akt-hello"]
    assert "ModuleNotFoundError" in plugins_json["import-error"]["errors"][0]
    assert "did you mean 'auditkit_register_aggregators'" in plugins_json["typo"]["errors"][0]
    assert any("expected an auditkit.Aggregator" in e for e in plugins_json["wrong-record"]["errors"])
    dup = [e for n in ("dup-a", "dup-b") for e in plugins_json[n]["errors"] if "'akt-dup'" in e]
    assert len(dup) == 1 and "already registered by plugin 'dup-" in dup[0]
    assert plugins_json["means (akt-same-ep-name)"]["name"] == "means"  # listed under its own name, twice
    assert plugins_json["means (akt-same-ep-name)"]["errors"] == [
        "duplicate plugin name 'means': already provided by leaderboard-auditkit; ignored"]
    assert plugins_json["means"]["distribution"] == "leaderboard-auditkit"


def test_auditkit_plugins_table_shows_errors(broken):
    out = broken.cli("plugins")
    assert out.returncode == 0, out.stderr
    assert "import-error  [ERROR]  akt-import-error 0.1.0  (akt_import_error)" in out.stdout
    assert "    error: implements unknown hook 'auditkit_register_aggregator'" in out.stdout
    assert "good  [ok]  akt-good 0.1.0  (akt_good)" in out.stdout


def test_the_rest_of_the_tool_keeps_working_beside_broken_plugins(broken):
    out = broken.cli("rerank", str(GLUE), "--mean", "harmonic", "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)["summary"]
    assert doc["benchmark"] == "glue" and len(doc["rows"]) == 87
    hello = broken.cli("akt-hello")
    assert (hello.returncode, hello.stdout) == (0, "hello from akt-good\n")
    mine = broken.cli("rerank", str(GLUE), "--mean", "akt-mean", "--format", "json")
    assert mine.returncode == 0, mine.stderr
    # akt-mean is a weighted arithmetic mean, so it ranks exactly like the first-party one
    arith = broken.cli("rerank", str(GLUE), "--mean", "arithmetic", "--format", "json")
    ranks = [[next(iter(r["rules"].values()))["rank"] for r in json.loads(o.stdout)["summary"]["rows"]]
             for o in (mine, arith)]
    assert ranks[0] == ranks[1]


def test_disabled_plugin_is_listed_as_disabled_and_its_command_is_gone(broken):
    out = broken.cli("plugins", "--format", "json", disable="good")
    good = {p["name"]: p for p in json.loads(out.stdout)}["good"]
    assert good["disabled"] is True and good["provides"] == {} and good["commands"] == []
    gone = broken.cli("akt-hello", disable="good")
    assert gone.returncode == 2 and "No such command 'akt-hello'" in gone.stderr


def test_unknown_aggregator_error_lists_plugin_aggregators(broken):
    out = broken.cli("rerank", str(GLUE), "--mean", "akt-nope")
    assert out.returncode == 2
    assert "unknown aggregator 'akt-nope'" in out.stderr and "akt-mean" in out.stderr


# -- known registry bugs (see the helper's report for the exact fixes) -----------------------------------------------
def test_registry_bug_hook_returning_a_record_instead_of_a_list(tmp_path):
    reg = Discovered(tmp_path / "not-a-list", {"akt_not_a_list": CRASHERS["akt_not_a_list"]}).registry()
    records = reg.records("aggregators")
    assert "arithmetic" in records
    assert any("list" in e for e in reg.plugins["not-a-list"].errors)


def test_registry_bug_hookimpl_on_an_unknown_name(tmp_path):
    reg = Discovered(tmp_path / "unprefixed", {"akt_unprefixed": CRASHERS["akt_unprefixed"]}).registry()
    assert any("register_aggregators" in e for e in reg.plugins["unprefixed"].errors)
    assert "arithmetic" in reg.records("aggregators")


def test_registry_bug_plugin_command_replacing_a_core_command(tmp_path):
    shadow = {"akt_shadow": ("shadow", """
        import click, auditkit

        @click.command("plugins")
        def fake():
            '''Shadows the core command.'''
            click.echo("shadowed")

        @auditkit.hookimpl
        def auditkit_register_commands(cli):
            cli.add_command(fake)
        """)}
    out = Discovered(tmp_path / "shadow", shadow).cli("plugins")
    assert "shadowed" not in out.stdout
    assert "already provided" in out.stdout
