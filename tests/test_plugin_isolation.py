"""A plugin cannot take the tool down: BaseException at import or in a hook, a recipe with a broken regex, a plugin
that prints at import, an unknown name in AUDITKIT_DISABLE_PLUGINS.

The import cases use a real distribution: a dist-info with an entry_points.txt on PYTHONPATH, found by
importlib.metadata in a subprocess exactly as an installed third-party plugin is."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

import auditkit
from auditkit.registry import Registry

ROOT = Path(__file__).resolve().parents[1]
GLUE = ROOT / "leaderboards" / "glue" / "glue-2021-vote-and-rank.csv"

BROKEN_MODULES = {
    "ak_exit_plugin": "import sys\nsys.exit(3)\n",
    "ak_kbd_plugin": "raise KeyboardInterrupt('from plugin code')\n",
    "ak_genexit_plugin": "raise GeneratorExit\n",
    "ak_print_plugin": textwrap.dedent("""
        import auditkit
        print("hello from a chatty plugin")

        @auditkit.hookimpl
        def auditkit_register_aggregators():
            print("registering, loudly")
            return []
    """),
    "ak_badregex_plugin": textwrap.dedent("""
        import auditkit

        @auditkit.hookimpl
        def auditkit_register_recipes():
            return [auditkit.Recipe("badregex", "1", "Broken", published_score=("(unclosed",))]
    """),
}


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    for name, code in BROKEN_MODULES.items():
        (site / f"{name}.py").write_text(code)
    dist = site / "ak_broken_plugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ak-broken-plugins\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[auditkit]\n" + "".join(
        f"{n.removeprefix('ak_').removesuffix('_plugin')} = {n}\n" for n in BROKEN_MODULES))
    return site


def run(site, *args, env_extra=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "auditkit.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


def test_rerank_survives_broken_plugins_and_json_stays_clean(plugin_site):
    out = run(plugin_site, "rerank", str(GLUE), "--format", "json")
    assert out.returncode == 0, out.stderr
    json.loads(out.stdout)  # nothing printed by a plugin reached stdout
    assert "chatty" not in out.stdout and "Traceback" not in out.stderr


def test_plugins_lists_each_failure_on_its_plugin(plugin_site):
    out = run(plugin_site, "plugins", "--format", "json")
    assert out.returncode == 0, out.stderr
    infos = {i["name"]: i for i in json.loads(out.stdout)}
    assert "SystemExit" in infos["exit"]["errors"][0] and "failed to import ak_exit_plugin" in infos["exit"]["errors"][0]
    assert "KeyboardInterrupt" in infos["kbd"]["errors"][0]
    assert "GeneratorExit" in infos["genexit"]["errors"][0]
    assert "hello from a chatty plugin" in infos["print"]["output"]
    assert "registering, loudly" in infos["print"]["output"]
    assert not infos["print"]["errors"]
    assert any("not a valid regular expression" in e and "(unclosed" in e for e in infos["badregex"]["errors"])
    assert "recipes" not in infos["badregex"]["provides"]


def test_unknown_disabled_name_is_reported(plugin_site):
    out = run(plugin_site, "plugins", "--format", "json", env_extra={"AUDITKIT_DISABLE_PLUGINS": "meanz,exit"})
    assert out.returncode == 0, out.stderr
    assert "'meanz'" in out.stderr and "did you mean 'means'" in out.stderr
    infos = {i["name"]: i for i in json.loads(out.stdout)}
    assert infos["exit"]["disabled"] and not infos["exit"]["errors"]  # a known name is simply disabled
    assert "no installed plugin has this name" in infos["meanz"]["errors"][0]


@pytest.mark.parametrize("exc", [SystemExit(4), KeyboardInterrupt("plugin"), GeneratorExit(), BaseException("odd")])
def test_base_exceptions_in_a_hook_are_recorded(exc):
    def auditkit_register_aggregators():
        raise exc
    mod = types.ModuleType("ak_hook_raiser")
    mod.auditkit_register_aggregators = auditkit.hookimpl(auditkit_register_aggregators)
    reg = Registry(load_entry_points=False)
    info = reg.register(mod, "raiser")
    assert reg.records("aggregators") == {}
    assert info.errors == [f"auditkit_register_aggregators raised {type(exc).__name__}: {exc}"]


def test_base_exception_in_register_commands_is_recorded():
    import click

    def auditkit_register_commands(cli):
        raise SystemExit(1)
    mod = types.ModuleType("ak_cmd_raiser")
    mod.auditkit_register_commands = auditkit.hookimpl(auditkit_register_commands)
    reg = Registry(load_entry_points=False)
    info = reg.register(mod, "cmdraiser")
    reg.add_commands(click.Group())
    assert info.errors and "SystemExit" in info.errors[0]


def test_the_users_ctrl_c_still_stops_the_tool():
    """A real SIGINT while a plugin hook runs is the user's interrupt: it propagates."""
    def auditkit_register_aggregators():
        os.kill(os.getpid(), signal.SIGINT)
        import time
        time.sleep(5)  # interrupted by the handler
        return []
    mod = types.ModuleType("ak_slow")
    mod.auditkit_register_aggregators = auditkit.hookimpl(auditkit_register_aggregators)
    reg = Registry(load_entry_points=False)
    reg.register(mod, "slow")
    with pytest.raises(KeyboardInterrupt):
        reg.records("aggregators")


@pytest.mark.parametrize("field,value", [("published_score", ("Score", "[bad")), ("reference", "(?P<")])
def test_recipe_with_invalid_regex_is_refused_at_registration(field, value):
    def auditkit_register_recipes():
        return [auditkit.Recipe("brokenrx", "1", "Broken", **{field: value}),
                auditkit.Recipe("finerx", "1", "Fine")]
    mod = types.ModuleType("ak_rx")
    mod.auditkit_register_recipes = auditkit.hookimpl(auditkit_register_recipes)
    reg = Registry(load_entry_points=False)
    info = reg.register(mod, "rx")
    recipes = reg.records("recipes")
    assert "brokenrx" not in recipes and "finerx" in recipes
    assert len(info.errors) == 1 and field in info.errors[0] and "not a valid regular expression" in info.errors[0]


def test_printing_hook_does_not_reach_stdout(capsys):
    def auditkit_register_aggregators():
        print("noise")
        return []
    mod = types.ModuleType("ak_noisy")
    mod.auditkit_register_aggregators = auditkit.hookimpl(auditkit_register_aggregators)
    reg = Registry(load_entry_points=False)
    info = reg.register(mod, "noisy")
    reg.records("aggregators")
    assert capsys.readouterr().out == ""
    assert info.output == "noise\n"
