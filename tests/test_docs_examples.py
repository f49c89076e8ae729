"""Every example command in the fenced bash blocks of README.md and docs/*.md runs as written, in a scratch
directory prepared like a checkout (``leaderboards/``, ``tests/`` ... linked, ``../shared`` beside it) after
``auditkit demo-data .`` wrote the sample files the examples name (scores.npy, real.npy, some-table.tsv, ...).

An example passes when it exits 0 or 1 (1: findings at --fail-on, as documented). Only the files in CHECKED are
enforced; the others are collected and skipped until their owners make them pass (run them all with
``AUDITKIT_DOCS_ALL=1``). Examples that take minutes (SLOW) run only with ``AUDITKIT_DOCS_SLOW=1``. Set-up lines
(``pip install``, ``python3 -m venv``) and non-auditkit tools (``xdg-open``) are not examples."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
# every doc's examples are enforced here, except the plugin tutorial: its commands run from the example plugin's
# folder in a fresh venv, word for word, in CI (scripts/check_tutorial.sh; tests/test_plugins_round_two.py checks the
# script covers every step)
CHECKED = {"README.md", *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))} - {"docs/writing-plugins.md"}
SLOW = (r"auditkit bench ratios", r"auditkit claims --run", r"auditkit wgan study", r"asv_history")
LINKED = ("leaderboards", "tests", "benchmarks", "scripts", "plugins", "docs", "asv.conf.json")
BLOCK = re.compile(r"^```(?:bash|sh|shell|console)\s*\n(.*?)^```", re.S | re.M)
NOT_EXAMPLES = re.compile(r"pip install|python3? -m venv|^xdg-open|^open |^\.ci/")


@dataclass(frozen=True)
class Example:
    doc: str
    line: int
    command: str
    prelude: tuple[str, ...]  # the block's earlier variable assignments (F=$(...))

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def examples() -> list[Example]:
    out = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for block in BLOCK.finditer(text):
            start = text.count("\n", 0, block.start(1)) + 1
            prelude: list[str] = []
            lines = block.group(1).split("\n")
            k = 0
            while k < len(lines):
                first = k
                cmd = lines[k]
                while cmd.rstrip().endswith("\\") and k + 1 < len(lines):
                    k += 1
                    cmd = cmd.rstrip()[:-1] + " " + lines[k].strip()
                k += 1
                cmd = cmd.strip()
                if cmd.startswith("$ "):
                    cmd = cmd[2:]
                if not cmd or cmd.startswith("#") or NOT_EXAMPLES.search(cmd):
                    continue
                if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", cmd):
                    prelude.append(cmd)
                    continue
                if re.search(r"(^|[|&;]\s*)auditkit\b", cmd) or cmd.startswith(("python benchmarks/", "scripts/")):
                    out.append(Example(path.relative_to(ROOT).as_posix(), start + first, cmd, tuple(prelude)))
    return out


EXAMPLES = examples()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    base = tmp_path_factory.mktemp("docs-examples")
    work = base / "work"
    work.mkdir()
    for name in LINKED:
        if (ROOT / name).exists():
            (work / name).symlink_to(ROOT / name)
    if SHARED.exists():
        (base / "shared").symlink_to(SHARED)
    from auditkit_plugins.renderers.demo import write_demo

    write_demo(work)
    return work


def test_the_examples_are_found():
    docs = {e.doc for e in EXAMPLES}
    assert "README.md" in docs and len([e for e in EXAMPLES if e.doc == "README.md"]) >= 15
    assert all("pip install" not in e.command for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example_runs_as_written(example, workdir):
    if example.doc not in CHECKED and not os.environ.get("AUDITKIT_DOCS_ALL"):
        pytest.skip(f"{example.doc} runs word for word in CI through scripts/check_tutorial.sh "
                    "(AUDITKIT_DOCS_ALL=1 runs it here too)")
    if any(re.search(p, example.command) for p in SLOW) and not os.environ.get("AUDITKIT_DOCS_SLOW"):
        pytest.skip("takes minutes; AUDITKIT_DOCS_SLOW=1 runs it")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
               MPLBACKEND="Agg", NO_COLOR="1")
    script = "\n".join([*example.prelude, example.command])
    proc = subprocess.run(["bash", "-c", script], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode in (0, 1), (f"{example.id}: `{example.command}` exited {proc.returncode}\n"
                                       f"{proc.stderr[-3000:]}{proc.stdout[-1500:]}")
