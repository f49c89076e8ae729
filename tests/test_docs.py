"""Tests that keep the docs honest: every hook documented and exercised, every CLI command documented, every record
field documented, the tutorial's code identical to the example plugin, every relative link resolving."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import click
import pytest

import auditkit
from auditkit import hookspecs
from auditkit.records import RECORD_KINDS, Parameter, Recipe, TaskSpec

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TESTS = ROOT / "tests"
HOOKS = sorted(n for n in dir(hookspecs) if n.startswith("auditkit_"))
INTERNAL_DOCS = {"HELPER_CONTRACT.md"}  # deleted before release


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def cli_commands() -> list[str]:
    """Every command path, plugin commands included (loaded through the real entry points)."""
    from auditkit.cli import cli

    found = []

    def walk(group: click.Group, prefix: str) -> None:
        ctx = click.Context(group, info_name=prefix)
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            found.append(f"{prefix} {name}")
            if isinstance(cmd, click.Group):
                walk(cmd, f"{prefix} {name}")

    walk(cli, "auditkit")
    return found


# -- hooks ----------------------------------------------------------------------------------------------------------
def test_hookspecs_are_what_this_file_expects():
    assert len(HOOKS) >= 9 and "auditkit_register_commands" in HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_section_in_hooks_md(hook):
    assert re.search(rf"^## {hook}$", read("hooks.md"), re.M), f"docs/hooks.md needs a section '## {hook}'"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_exercised_by_a_test(hook):
    users = [p.name for p in TESTS.glob("test_*.py")
             if p.name != "test_docs.py" and re.search(rf"def {hook}\(", p.read_text(encoding="utf-8"))]
    assert users, f"no test implements {hook}; add it to a throwaway plugin in tests/test_plugin_system.py"


def test_every_record_field_is_in_hooks_md():
    text = read("hooks.md")
    kinds = [t for t in RECORD_KINDS.values() if t is not Recipe]  # Recipe: see recipe-format.md
    missing = [f"{t.__name__}.{f.name}" for t in [*kinds, auditkit.Claim, Parameter]
               for f in dataclasses.fields(t) if f"`{f.name}`" not in text]
    assert not missing, f"docs/hooks.md does not mention these record fields: {', '.join(missing)}"


# -- the CLI --------------------------------------------------------------------------------------------------------
def test_every_cli_command_is_in_cli_md():
    text = read("cli.md")
    commands = cli_commands()
    assert "auditkit rerank" in commands and "auditkit plugins" in commands
    missing = [c for c in commands if f"`{c}`" not in text]
    assert not missing, ("docs/cli.md lacks a section for these commands (add '### `<command>`' with what it does "
                         f"and a real example): {', '.join(missing)}")


def test_cli_md_documents_no_command_that_does_not_exist():
    commands = set(cli_commands())
    documented = re.findall(r"^#+ `(auditkit [a-z0-9 -]+)`$", read("cli.md"), re.M)
    example = {"auditkit mteb-weights"}  # present only when the example plugin is installed
    stale = [c for c in documented if c not in commands and c not in example]
    assert not stale, f"docs/cli.md documents commands that do not exist: {', '.join(stale)}"


def test_core_command_options_are_in_cli_md():
    from auditkit.cli import cli

    text = read("cli.md")
    for name in ("plugins", "rerank"):
        for param in cli.commands[name].params:
            for opt in param.opts:
                if opt.startswith("--"):
                    assert f"`{opt}" in text, f"docs/cli.md: option {opt} of `auditkit {name}` is not documented"


# -- recipes and the kit --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("record_type", [Recipe, TaskSpec])
def test_every_recipe_field_is_in_recipe_format_md(record_type):
    text = read("recipe-format.md")
    missing = [f.name for f in dataclasses.fields(record_type) if f"| `{f.name}` |" not in text]
    assert not missing, f"docs/recipe-format.md lacks rows for {record_type.__name__} fields: {missing}"


def test_recipe_format_example_builds_the_example_plugins_recipe():
    block = re.search(r"## A complete example.*?```python\n(.*?)```", read("recipe-format.md"), re.S)[1]
    namespace: dict = {}
    exec(compile(block, "recipe-format.md", "exec"), namespace)
    documented = namespace["MTEB"]
    try:
        from auditkit_example.mteb import MTEB
    except ImportError:  # the example plugin is not installed: import it from its source tree
        import sys

        sys.path.insert(0, str(ROOT / "plugins" / "example_plugin" / "src"))
        try:
            from auditkit_example.mteb import MTEB
        finally:
            sys.path.pop(0)

    assert documented.published_score == MTEB.published_score
    assert [(t.name, t.aliases, t.weight) for t in documented.tasks] == \
        [(t.name, t.aliases, t.weight) for t in MTEB.tasks]


def test_every_public_name_of_the_kit_is_in_testing_plugins_md():
    import auditkit.testing as kit

    text = read("testing-plugins.md")
    missing = [n for n in kit.__all__ if f"`{n}" not in text]
    assert not missing, f"docs/testing-plugins.md does not document: {', '.join(missing)}"


# -- the tutorial ---------------------------------------------------------------------------------------------------
def test_the_tutorials_code_is_the_example_plugins_code():
    text = read("writing-plugins.md")
    blocks = re.findall(r"<!-- from: (\S+) -->\n```\w*\n(.*?)\n```", text, re.S)
    assert len(blocks) >= 6
    kinds = set()
    for path, code in blocks:
        source = (ROOT / path).read_text(encoding="utf-8")
        assert code in source, f"docs/writing-plugins.md: the block marked 'from: {path}' no longer matches that file"
        kinds.update(re.findall(r"def (auditkit_register_\w+)\(", code))
    # the tutorial shows the four common hooks
    assert {"auditkit_register_aggregators", "auditkit_register_recipes", "auditkit_register_checks",
            "auditkit_register_commands"} <= kinds


# -- links ----------------------------------------------------------------------------------------------------------
def test_index_links_every_page():
    linked = set(re.findall(r"\]\(([\w.-]+\.md)\)", read("index.md")))
    pages = {p.name for p in DOCS.glob("*.md")} - INTERNAL_DOCS - {"index.md"}
    assert not pages - linked, f"docs/index.md does not link: {', '.join(sorted(pages - linked))}"


@pytest.mark.parametrize("page", ["index.md", "writing-plugins.md", "hooks.md", "testing-plugins.md",
                                  "recipe-format.md", "cli.md"])
def test_relative_links_resolve(page):
    for target in re.findall(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)", read(page)):
        assert (DOCS / target).resolve().is_file(), f"docs/{page} links to a missing page {target}"
