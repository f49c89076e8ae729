"""``auditkit rescore``: formats, output file, exit codes, the engine footer; the plugin is listed and imports
cheaply."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from auditkit.cli import cli

FIX = Path(__file__).parent / "fixtures" / "instances"


def run(*args):
    return CliRunner().invoke(cli, ["rescore", *map(str, args)], catch_exceptions=False)


def test_rescore_json_reproduces_and_exits_zero():
    res = run(FIX / "lmeval", FIX / "inspect", "--format", "json", "--no-progress")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["schema"] == "auditkit.report/1"
    rows = doc["tables"]["reported vs recomputed"]
    assert len(rows) == 18 and {r["status"] for r in rows} == {"reproduced"}
    assert doc["summary"]["engine"].startswith("numpy (")
    assert len(doc["provenance"]["inputs"]) == 12 + 3


def test_rescore_markdown_to_a_file(tmp_path):
    out = tmp_path / "r.md"
    res = run(FIX / "helm", "--format", "markdown", "-o", out, "--engine", "duckdb")
    assert res.exit_code == 0
    text = out.read_text()
    assert "### paired differences" in text and "**engine**: duckdb (--engine)" in text


def test_unexplained_mismatch_exits_one_and_fail_on_warning(tmp_path):
    root = tmp_path / "lmeval"
    shutil.copytree(FIX / "lmeval", root)
    f = next((root / "gpt2").glob("results_*.json"))
    doc = json.loads(f.read_text())
    doc["results"]["arc_easy"]["acc,none"] = 0.9
    f.write_text(json.dumps(doc))
    assert run(root, "--no-pairs").exit_code == 1
    assert run(FIX / "inspect", "--fail-on", "warning").exit_code == 0


def test_bad_input_exits_two_with_file_line_column(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("system,task,metric,instance,value\nA,t,acc,1,x\n")
    res = CliRunner().invoke(cli, ["rescore", str(p)])
    assert res.exit_code == 2
    assert f"{p}, line 2, column 'value'" in res.output and "'x'" in res.output


def test_plugin_is_listed_with_its_command():
    res = CliRunner().invoke(cli, ["plugins"])
    assert res.exit_code == 0 and "instances" in res.output and "rescore" in res.output


def test_importing_the_plugin_imports_no_engine():
    code = ("import sys, auditkit_plugins.instances as m, auditkit_plugins.instances.command; "
            "heavy = [x for x in ('duckdb', 'dask', 'distributed', 'pandas', 'polars', 'pyarrow', 'torch', 'scipy') "
            "if x in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_api_functions_survive_their_modules_being_imported():
    """A submodule named like an API function would replace it on the package once imported."""
    import importlib

    import auditkit_plugins.instances as pkg

    for name in pkg.__all__:
        for mod in ("rescoring", "resampling", "differences", "pairstats", "loading"):
            importlib.import_module(f"auditkit_plugins.instances.{mod}")
        assert callable(getattr(pkg, name)) and not isinstance(getattr(pkg, name), type(pkg)), name


def test_rescore_bootstrap_table_and_seed():
    res = run(FIX / "inspect", "--bootstrap", "50", "--seed", "3", "--no-pairs", "--format", "json", "--no-progress")
    assert res.exit_code == 0
    doc = json.loads(res.output)
    rows = doc["tables"]["instance bootstrap"]
    assert [r["system"] for r in rows] == ["mockllm/sys-a", "mockllm/sys-b", "mockllm/sys-c"]
    assert rows[0]["rank_low"] == 1 and doc["provenance"]["seed"] == 3
    assert run(FIX / "inspect", "--bootstrap", "50", "--seed", "3", "--no-pairs", "--format", "json",
               "--no-progress").output.split('"provenance"')[0] == res.output.split('"provenance"')[0]
