"""Third-party plugins, round two, through REAL discovery (entry points in a throwaway dist-info, or plain files in a
plugins folder): what counts as a hook, one-off plugins, the allowlist, replacing a built-in on purpose,
``auditkit plugins --check``, the broken-plugin warning, ``auditkit install``, and plugin errors at use time.

Each throwaway distribution is written by ``tests/test_plugin_system.py``'s ``write_dist`` (a module plus
``<dist>-<version>.dist-info/{METADATA,entry_points.txt}``), which ``importlib.metadata`` discovers exactly as if
pip had installed it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from auditkit.registry import DISABLE_ENV, DISTRIBUTION, LOAD_ENV, PLUGINS_DIR_ENV, QUIET_ENV, Registry

from test_plugin_system import AGG, Discovered

ROOT = Path(__file__).resolve().parents[1]
GLUE = ROOT / "leaderboards" / "glue" / "glue-2023-benchbench.csv"
EXAMPLE = ROOT / "plugins" / "example_plugin"
SWITCHES = (DISABLE_ENV, LOAD_ENV, PLUGINS_DIR_ENV, QUIET_ENV)


def run(*args: str, env: dict[str, str] | None = None, pythonpath: Path | None = None
        ) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in SWITCHES}
    if pythonpath is not None:
        full["PYTHONPATH"] = os.pathsep.join([str(pythonpath), os.environ.get("PYTHONPATH", "")])
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "auditkit.cli", *args], capture_output=True, text=True, env=full,
                          cwd=ROOT, timeout=120)


def listing(out: subprocess.CompletedProcess) -> dict[str, dict]:
    assert out.returncode in (0, 1), out.stderr
    return {p["name"]: p for p in json.loads(out.stdout)}


def summary(out: subprocess.CompletedProcess) -> dict:
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["summary"]


# -- what counts as a hook ------------------------------------------------------------------------------------------
HOOKS = {
    # a package named auditkit_<x>, as the docs recommend, importing its own submodule and keeping helpers named
    # auditkit_*: none of them is a hook
    "auditkit_akt_pkg": ("pkg", ""),
    "akt_unmarked": ("unmarked", f"""
        import auditkit

        def auditkit_register_aggregators():          # no decorator: its name is a hook spec, so it is a hook
            return [auditkit.Aggregator("akt-unmarked", {AGG}, "registered without @hookimpl")]
        """),
    "akt_unmarked_typo": ("unmarked-typo", f"""
        import auditkit

        def auditkit_register_aggregator():           # no decorator, misspelled: still caught
            return [auditkit.Aggregator("akt-never", {AGG}, "never registered")]
        """),
}
PKG_INIT = f"""
import auditkit
import auditkit_akt_pkg.sub                    # binds the name auditkit_akt_pkg in this module
from auditkit_akt_pkg.sub import auditkit_akt_weights

auditkit_akt_version = "1.0"                   # a constant named auditkit_*


def auditkit_akt_helper(values):               # an unmarked helper named auditkit_*
    return values


@auditkit.hookimpl
def auditkit_register_aggregators():
    return [auditkit.Aggregator("akt-pkg-mean", {AGG}, "from a package with auditkit_* helpers")]
"""


@pytest.fixture(scope="module")
def hook_site(tmp_path_factory) -> Discovered:
    site = Discovered(tmp_path_factory.mktemp("hooks") / "site", HOOKS)
    (site.root / "auditkit_akt_pkg.py").unlink()
    pkg = site.root / "auditkit_akt_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent(PKG_INIT))
    (pkg / "sub.py").write_text("def auditkit_akt_weights(n):\n    return [1 / n] * n\n")
    site.modules.extend(["auditkit_akt_pkg.sub"])
    return site


def test_helpers_constants_and_submodules_named_auditkit_are_not_hooks(hook_site):
    reg = hook_site.registry()
    info = reg.plugins["pkg"]
    assert info.ok, info.errors
    assert reg.get("aggregators", "akt-pkg-mean").description == "from a package with auditkit_* helpers"


def test_an_unmarked_function_named_like_a_hook_spec_is_a_hook(hook_site):
    reg = hook_site.registry()
    assert reg.plugins["unmarked"].ok, reg.plugins["unmarked"].errors
    assert reg.get("aggregators", "akt-unmarked").description == "registered without @hookimpl"


def test_a_misspelled_hook_is_caught_marked_or_not(hook_site):
    reg = hook_site.registry()
    assert reg.plugins["unmarked-typo"].errors == [
        "implements unknown hook 'auditkit_register_aggregator'; did you mean 'auditkit_register_aggregators'?"]
    assert "akt-never" not in reg.records("aggregators")


# -- one-off plugins: --plugins-dir / AUDITKIT_PLUGINS_DIR -------------------------------------------------------------
@pytest.fixture(scope="module")
def plugins_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("one-off")
    (folder / "best_k.py").write_text((EXAMPLE / "one_off" / "best_k.py").read_text())
    (folder / "broken_file.py").write_text("import auditkit\nraise RuntimeError('no config here')\n")
    (folder / "_private.py").write_text("raise SystemExit('never imported: a leading underscore is skipped')\n")
    (folder / "notes.txt").write_text("not python\n")
    return folder


def test_plugins_dir_loads_plain_files_as_plugins(plugins_dir):
    listed = listing(run("--plugins-dir", str(plugins_dir), "plugins", "--format", "json"))
    best = listed["best_k"]
    assert best["errors"] == [] and best["provides"] == {"aggregators": ["best-k"]}
    assert best["module"] == str(plugins_dir / "best_k.py")
    assert best["distribution"] == f"file:{plugins_dir / 'best_k.py'}"
    assert re.fullmatch(r"sha256:[0-9a-f]{12}", best["version"])
    assert listed["broken_file"]["errors"] == [
        f"failed to import {plugins_dir / 'broken_file.py'}: RuntimeError: no config here"]
    assert "_private" not in listed and "notes" not in listed


def test_a_one_off_plugin_works_with_a_parameter_from_the_cli_and_is_in_the_provenance(plugins_dir):
    out = run("rerank", str(GLUE), "--mean", "best-k:k=3", "--format", "json",
              env={PLUGINS_DIR_ENV: str(plugins_dir), QUIET_ENV: "1"})
    (rule,) = summary(out)["rules"]
    assert rule["label"] == "best-k(k=3)" and rule["params"] == {"k": 3}
    assert rule["provider"].startswith(f"file:{plugins_dir / 'best_k.py'} sha256:")
    assert out.stderr == ""  # silenced: the broken file is not mentioned
    bad = run("rerank", str(GLUE), "--mean", "best-k:k=0", env={PLUGINS_DIR_ENV: str(plugins_dir)})
    assert bad.returncode == 2 and "parameter k='0' is out of range; expected an integer in [1, inf)" in bad.stderr


def test_a_plugins_dir_that_is_not_a_directory_is_an_error(tmp_path):
    listed = listing(run("plugins", "--format", "json", env={PLUGINS_DIR_ENV: str(tmp_path / "nope")}))
    assert listed[str(tmp_path / "nope")]["errors"] == [
        f"{PLUGINS_DIR_ENV} (or --plugins-dir) names {str(tmp_path / 'nope')!r}, which is not a directory"]


# -- AUDITKIT_LOAD_PLUGINS: an allowlist of third-party plugins --------------------------------------------------------
@pytest.fixture(scope="module")
def two(tmp_path_factory) -> Discovered:
    make = lambda name: f"""
        import auditkit

        @auditkit.hookimpl
        def auditkit_register_aggregators():
            return [auditkit.Aggregator("{name}", {AGG}, "{name}")]
        """  # noqa: E731
    return Discovered(tmp_path_factory.mktemp("two") / "site", {"akt_first": ("first", make("akt-first")),
                                                                 "akt_second": ("second", make("akt-second"))})


def test_load_plugins_allowlist(two):
    os.environ[LOAD_ENV] = "second"
    try:
        reg = two.registry()
    finally:
        del os.environ[LOAD_ENV]
    assert reg.plugins["first"].disabled and reg.plugins["first"].disabled_reason == f"not in {LOAD_ENV}"
    assert reg.plugins["second"].ok and "akt-second" in reg.records("aggregators")
    assert "akt-first" not in reg.records("aggregators")
    first_party = [i for i in reg.plugins.values() if i.distribution == DISTRIBUTION]
    assert len(first_party) >= 10 and all(i.ok for i in first_party)  # auditkit's own always load


def test_an_empty_allowlist_loads_no_third_party_plugin(two, plugins_dir):
    listed = listing(run("plugins", "--format", "json", pythonpath=two.root,
                         env={LOAD_ENV: "", PLUGINS_DIR_ENV: str(plugins_dir)}))
    third = {n: p for n, p in listed.items() if p["distribution"] != DISTRIBUTION}
    assert third and all(p["disabled"] and p["disabled_reason"] == f"not in {LOAD_ENV}" for p in third.values())
    assert all(p["errors"] == [] for p in listed.values())
    # and so `plugins --check` is clean: "is it a plugin's fault?" in one switch
    check = run("plugins", "--check", pythonpath=two.root, env={LOAD_ENV: "", PLUGINS_DIR_ENV: str(plugins_dir)})
    assert check.returncode == 0 and "plugins loaded and registered cleanly" in check.stderr


def test_an_allowlisted_name_that_is_not_installed_is_said(two):
    out = run("plugins", "--format", "json", pythonpath=two.root, env={LOAD_ENV: "second,secnd"})
    assert f"'secnd' is named in {LOAD_ENV}, but no installed plugin has this name" in out.stderr
    assert listing(out)["second"]["errors"] == []


# -- replacing a built-in on purpose --------------------------------------------------------------------------------
REPLACE = {
    "akt_fast_harmonic": ("fast-harmonic", """
        import auditkit

        def harmonic(values, *, xp, weights):
            return 1.0 / xp.sum(weights / values, axis=1)

        @auditkit.hookimpl
        def auditkit_register_aggregators():
            return [auditkit.Aggregator("harmonic", harmonic, "harmonic mean, replaced on purpose",
                                        domain="positive", replaces="harmonic")]
        """),
    "akt_replaces_typo": ("replaces-typo", f"""
        import auditkit

        @auditkit.hookimpl
        def auditkit_register_aggregators():
            return [auditkit.Aggregator("akt-geo", {AGG}, "replaces a name that does not exist",
                                        replaces="geometirc")]
        """),
    "akt_second_replacer": ("zz-second-replacer", f"""
        import auditkit

        @auditkit.hookimpl
        def auditkit_register_aggregators():
            return [auditkit.Aggregator("harmonic", {AGG}, "a second replacement", replaces="harmonic")]
        """),
}


@pytest.fixture(scope="module")
def replacing(tmp_path_factory) -> Discovered:
    return Discovered(tmp_path_factory.mktemp("replace") / "site", REPLACE)


def test_a_record_with_replaces_takes_the_name_and_its_aliases_over(replacing):
    reg = replacing.registry()
    new = reg.get("aggregators", "harmonic")
    assert new.description == "harmonic mean, replaced on purpose"
    assert reg.get("aggregators", "hm") is new  # the built-in's alias follows the name
    assert reg.provider("aggregators", "harmonic") == "fast-harmonic"
    assert reg.plugins["fast-harmonic"].ok and reg.plugins["fast-harmonic"].replaces == [
        "aggregator 'harmonic' of plugin 'means'"]
    assert reg.plugins["means"].ok and reg.plugins["means"].replaced == [
        "aggregator 'harmonic' by plugin 'fast-harmonic'"]
    assert reg.plugins["replaces-typo"].errors == [
        "auditkit_register_aggregators: aggregator 'akt-geo' replaces 'geometirc', but no aggregator has that name; "
        "did you mean 'geometric'?"]
    assert reg.plugins["zz-second-replacer"].errors == [
        "duplicate aggregator name 'harmonic': already replaced by plugin 'fast-harmonic'; this one (from "
        "'zz-second-replacer') is ignored"]


def test_auditkit_plugins_shows_the_replacement_and_results_name_its_distribution(replacing):
    out = replacing.cli("plugins")
    assert "    replaces aggregator 'harmonic' of plugin 'means'" in out.stdout
    assert "    replaced: aggregator 'harmonic' by plugin 'fast-harmonic'" in out.stdout
    (rule,) = summary(replacing.cli("rerank", str(GLUE), "--mean", "hm", "--format", "json"))["rules"]
    assert rule["name"] == "harmonic" and rule["provider"] == "akt-fast-harmonic 0.1.0"


# -- plugins --check and the broken-plugin warning -------------------------------------------------------------------
def test_plugins_check_exits_1_and_lists_each_error(replacing):
    out = replacing.cli("plugins", "--check")
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if line.startswith("error: plugin ")]
    assert errors == [
        "error: plugin 'replaces-typo': auditkit_register_aggregators: aggregator 'akt-geo' replaces 'geometirc', "
        "but no aggregator has that name; did you mean 'geometric'?",
        "error: plugin 'zz-second-replacer': duplicate aggregator name 'harmonic': already replaced by plugin "
        "'fast-harmonic'; this one (from 'zz-second-replacer') is ignored"]
    assert re.search(r"^2 of \d+ plugins failed to load or register$", out.stderr, re.M)
    as_json = replacing.cli("plugins", "--check", "--format", "json")
    assert as_json.returncode == 1 and json.loads(as_json.stdout)  # stdout stays one JSON document
    clean = run("plugins", "--check")
    assert clean.returncode == 0, clean.stderr


def test_other_commands_name_broken_plugins_in_one_line_unless_silenced(replacing):
    out = replacing.cli("rerank", str(GLUE), "--mean", "arithmetic", "--format", "json")
    assert out.returncode == 0 and json.loads(out.stdout)
    assert out.stderr.splitlines() == [
        "auditkit: warning: 2 plugins failed to load or register: replaces-typo, zz-second-replacer (see "
        f"`auditkit plugins --check`; {QUIET_ENV}=1 silences this)"]
    quiet = run("rerank", str(GLUE), "--format", "json", pythonpath=replacing.root, env={QUIET_ENV: "1"})
    assert quiet.returncode == 0 and quiet.stderr == ""
    # a usage error still exits 2, and still names the broken plugins after its own message
    bad = replacing.cli("rerank", str(GLUE), "--mean", "nope")
    assert bad.returncode == 2 and bad.stderr.splitlines()[0].startswith("error: unknown aggregator 'nope'")
    assert bad.stderr.splitlines()[-1].startswith("auditkit: warning: 2 plugins failed")


# -- plugin errors at use time: exit 2 naming the plugin and what it returned ----------------------------------------
AT_USE = {"akt_at_use": ("at-use", """
    import auditkit

    def raises(values, *, xp, weights):
        raise ZeroDivisionError("the plugin divided by zero")

    def wrong_shape(values, *, xp, weights):
        return xp.sum(values, axis=0)

    def all_nan(values, *, xp, weights):
        return xp.full((values.shape[0],), float("nan"))

    def infinite(values, *, xp, weights):
        return xp.full((values.shape[0],), float("inf"))

    def not_an_array(values, *, xp, weights):
        return "high"

    def failing_check(context):
        raise KeyError("no such column")
        yield

    @auditkit.hookimpl
    def auditkit_register_aggregators():
        A = auditkit.Aggregator
        return [A("akt-raises", raises, "raises"), A("akt-wrong-shape", wrong_shape, "sums over systems"),
                A("akt-all-nan", all_nan, "NaN for every row"), A("akt-inf", infinite, "inf for every row"),
                A("akt-text", not_an_array, "returns a string")]

    @auditkit.hookimpl
    def auditkit_register_checks():
        return [auditkit.Check("akt-failing-check", failing_check, "raises when run")]
    """)}


@pytest.fixture(scope="module")
def at_use(tmp_path_factory) -> Discovered:
    return Discovered(tmp_path_factory.mktemp("at-use") / "site", AT_USE)


@pytest.mark.parametrize("rule, message", [
    ("akt-raises", "rule 'akt-raises' failed on a 87 x 9 table: ZeroDivisionError: the plugin divided by zero"),
    ("akt-wrong-shape", "rule 'akt-wrong-shape' returned shape (9,) for 87 systems; an aggregator returns one score "
                        "per row"),
    ("akt-all-nan", "rule 'akt-all-nan' returned NaN for system "),
    ("akt-text", "rule 'akt-text' failed on a 87 x 9 table: ValueError: could not convert string to float"),
])
@pytest.mark.parametrize("command", ["rerank", "compare"])
def test_a_rule_that_fails_at_use_time_is_exit_2_naming_it_never_a_traceback(at_use, command, rule, message):
    flag = "--mean" if command == "rerank" else "--rules"
    out = at_use.cli(command, str(GLUE), flag, rule)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stderr.startswith(f"error: {message}"), out.stderr
    assert "Traceback" not in out.stderr


def test_an_infinite_score_for_a_finite_row_is_exit_2(at_use):
    out = at_use.cli("rerank", str(GLUE), "--mean", "akt-inf", "--format", "json")
    assert out.returncode == 2 and out.stderr.startswith("error: rule 'akt-inf' returned")


def test_a_check_that_fails_at_use_time_is_named_never_a_traceback(at_use):
    out = at_use.cli("audit", str(GLUE), "--checks", "akt-failing-check")
    assert "Traceback" not in out.stderr
    assert "check 'akt-failing-check' failed: KeyError: 'no such column'" in out.stderr


def test_a_check_that_fails_at_use_time_is_exit_2(at_use):
    out = at_use.cli("audit", str(GLUE), "--checks", "akt-failing-check")
    assert out.returncode == 2 and "akt-failing-check" in out.stderr


# -- auditkit install ------------------------------------------------------------------------------------------------
def test_install_runs_pip_for_the_python_auditkit_runs_in(monkeypatch):
    from click.testing import CliRunner

    from auditkit.cli import cli

    calls = []
    monkeypatch.setattr(subprocess, "call", lambda argv: calls.append(argv) or 0)
    out = CliRunner().invoke(cli, ["install", "-U", "auditkit-example", "--no-deps"])
    assert out.exit_code == 0, out.output
    assert calls == [[sys.executable, "-m", "pip", "install", "-U", "auditkit-example", "--no-deps"]]
    monkeypatch.setattr(subprocess, "call", lambda argv: 3)
    assert CliRunner().invoke(cli, ["install", "nothing-by-this-name"]).exit_code == 3  # pip's own exit code


def test_install_really_runs_pip_offline(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "akt-dry-run"\nversion = "0.1"\n'
                                             '[build-system]\nrequires = ["setuptools"]\n'
                                             'build-backend = "setuptools.build_meta"\n')
    out = run("install", "--dry-run", "--no-deps", "--no-index", "--no-build-isolation", str(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"running: {sys.executable} -m pip install --dry-run" in out.stderr
    assert "Would install akt-dry-run-0.1" in out.stdout


# -- the distribution's name --------------------------------------------------------------------------------------
def _toml(path: Path) -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import pip._vendor.tomli as tomllib
    return tomllib.loads(path.read_text())


def test_the_example_plugin_depends_on_auditkits_own_distribution():
    from packaging.requirements import Requirement

    ours = _toml(ROOT / "pyproject.toml")["project"]["name"]
    assert ours == DISTRIBUTION == "leaderboard-auditkit"
    deps = [Requirement(d) for d in _toml(EXAMPLE / "pyproject.toml")["project"]["dependencies"]]
    assert [d.name for d in deps] == [DISTRIBUTION]
    assert _toml(EXAMPLE / "pyproject.toml")["project"]["license"] == "Apache-2.0"  # the SPDX string form


def test_the_installed_distribution_is_the_one_the_registry_calls_first_party():
    import importlib.metadata

    dist = importlib.metadata.distribution(DISTRIBUTION)
    assert any(ep.group == "auditkit" and ep.name == "means" for ep in dist.entry_points)
    assert run("--version").stdout.startswith(f"auditkit, version {dist.version}")
    docs = [(ROOT / p).read_text() for p in ("README.md", "docs/writing-plugins.md")]
    assert not any(re.search(r"pip install '?auditkit(\[|\b(?!-))", text) for text in docs)


def test_the_tutorial_check_runs_the_tutorials_command_blocks():
    """scripts/check_tutorial.sh (run by CI; 2-4 minutes) executes every command block marked `<!-- tutorial -->`
    in docs/writing-plugins.md in a fresh venv. Here, cheaply: the script parses, and the blocks it will run cover
    the whole tutorial: install, the one-off plugin, the package, parameters, audit, command, tests, build, fresh venv."""
    assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / "check_tutorial.sh")]).returncode == 0
    text = (ROOT / "docs" / "writing-plugins.md").read_text()
    blocks = re.findall(r"^<!-- tutorial -->\n```bash\n(.*?)^```", text, re.S | re.M)
    commands = "\n".join(blocks)
    for needed in ("pip install leaderboard-auditkit pytest hypothesis", "--plugins-dir one_off",
                   'pip install -e ".[test]"', "plugins --check", "trimmed-mean:trim=0.2", "auditkit audit",
                   "auditkit mteb-weights", "python -m pytest tests", "python -m build", "twine check",
                   "python -m venv ../try"):
        assert needed in commands, needed
    assert len(blocks) == 9
    assert not re.search(r"\.\./shared|leaderboards/", commands)  # the plugin's folder is all a reader has
