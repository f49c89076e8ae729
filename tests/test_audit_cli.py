"""The `auditkit audit` command: exit codes, --checks, formats, report schema, third-party checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import auditkit
from auditkit.cli import cli
from auditkit.registry import get_registry
from auditkit.report import Finding

RAW = Path(__file__).resolve().parents[2] / "shared" / "leaderboards-raw"
GLUE_VR = str(RAW / "vote_and_rank" / "leaderboards - GLUE.csv")
SG_SF = str(RAW / "benchbench-socialfoundations" / "superglue-leaderboard.tsv")
BUILTIN = {"published-score", "task-set-consistency", "nonpositive-values", "missing-values", "duplicate-systems",
           "scale-mismatch", "constant-predictor", "human-baseline"}


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_checks_registered():
    checks = get_registry().records("checks")
    assert BUILTIN <= set(checks)
    assert checks["task-set-consistency"].needs_claims and not checks["published-score"].needs_claims


def test_json_report_schema_and_exit_codes():
    r = invoke("audit", GLUE_VR, "--format", "json")
    assert r.exit_code == 0  # warnings only; --fail-on error by default
    d = json.loads(r.output)
    assert set(d) == {"schema", "title", "provenance", "findings", "summary", "tables"}
    assert d["schema"] == "auditkit.report/1"
    assert set(d["findings"][0]) == {"check", "severity", "system", "column", "message", "evidence"}
    s = d["summary"]
    assert BUILTIN - {"task-set-consistency"} <= set(s["checks_run"])  # plus any third-party default check
    assert "task-set-consistency" not in s["checks_run"]  # needs --claims
    assert s["counts"]["error"] == 0 and s["counts"]["warning"] > 0
    assert sum(v["warning"] for v in s["by_check"].values()) == s["counts"]["warning"]
    assert d["provenance"]["recipe"] == "glue 1.0" and GLUE_VR in d["provenance"]["inputs"]
    assert invoke("audit", GLUE_VR, "--fail-on", "warning").exit_code == 1


def test_checks_option_narrows_and_validates():
    r = invoke("audit", SG_SF, "--checks", "duplicate-systems,scale-mismatch", "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.output)["summary"]["checks_run"] == ["duplicate-systems", "scale-mismatch"]
    r = invoke("audit", SG_SF, "--checks", "no-such-check")
    assert r.exit_code == 2 and "unknown check 'no-such-check'" in r.output and "published-score" in r.output
    r = invoke("audit", SG_SF, "--checks", "task-set-consistency")
    assert r.exit_code == 2 and "--claims" in r.output


def test_input_errors_exit_2(tmp_path):
    assert invoke("audit", str(tmp_path / "missing.csv")).exit_code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("Model,Score,CoLA,SST-2,MRPC,STS-B,QQP,MNLI-m,MNLI-mm,QNLI,RTE,WNLI\n"
                   "a,80,50,90,oops,80/80,70/80,80,80,90,70,60\n", encoding="utf-8")
    r = invoke("audit", str(bad))
    assert r.exit_code == 2 and "oops" in r.output
    assert invoke("audit", GLUE_VR, "--mean", "nonsense").exit_code == 2


def test_markdown_and_html_and_output_file(tmp_path):
    r = invoke("audit", GLUE_VR, "--checks", "published-score,duplicate-systems", "--format", "markdown")
    assert r.output.startswith("## auditkit audit") and "| warning | published-score |" in r.output
    assert "<details><summary>Provenance</summary>" in r.output
    out = tmp_path / "r.html"
    r = invoke("audit", GLUE_VR, "--format", "html", "-o", str(out))
    assert r.exit_code == 0 and r.output == ""
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "class='warning'" in html and "human baseline" in html


def test_third_party_check_runs_and_a_crash_is_a_plugin_error():
    class Plugin:
        @auditkit.hookimpl
        def auditkit_register_checks(self):
            def lonely(ctx):
                yield Finding("x-row-count", "warning", f"{len(ctx.leaderboard)} rows", column=ctx.ts.published_column)

            def broken(ctx):
                raise RuntimeError("boom")
                yield  # pragma: no cover

            return [auditkit.Check("x-row-count", lonely, "counts rows"),
                    auditkit.Check("x-broken", broken, "always fails", default=False)]

    reg = get_registry()
    reg.register(Plugin(), "test-audit-thirdparty")
    try:
        r = invoke("audit", SG_SF, "--format", "json", "--checks", "x-row-count,duplicate-systems")
        d = json.loads(r.output)
        msgs = {f["check"]: f for f in d["findings"]}
        assert msgs["x-row-count"]["message"] == "28 rows"
        # a check that raises is a broken plugin, not a finding: exit 2 naming it (issue 18), never a traceback
        r = invoke("audit", SG_SF, "--format", "json", "--checks", "x-row-count,x-broken")
        assert r.exit_code == 2 and "check 'x-broken' failed: RuntimeError: boom" in r.output
        r = invoke("audit", SG_SF, "--format", "json")  # default run: x-row-count (default) yes, x-broken no
        run = json.loads(r.output)["summary"]["checks_run"]
        assert "x-row-count" in run and "x-broken" not in run
    finally:
        reg.pm.unregister(name="test-audit-thirdparty")
        reg.plugins.pop("test-audit-thirdparty", None)
        reg._records.clear()


def test_stdin_and_subprocess_exit_code():
    data = Path(SG_SF).read_bytes()
    p = subprocess.run([sys.executable, "-m", "auditkit.cli", "audit", "-", "--input-format", "csv", "--checks",
                        "published-score", "--format", "json"], input=data, capture_output=True)
    # TSV content through the csv reader (it sniffs the delimiter)
    assert p.returncode == 0, p.stderr.decode()
    assert json.loads(p.stdout)["summary"]["published-score"]["unexplained"] == 0


def test_import_is_cheap():
    code = ("import sys, auditkit_plugins.audit; "
            "print(','.join(m for m in ('torch','matplotlib','pandas','scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_python_api_is_public_and_not_shadowed_by_submodules():
    import importlib
    import inspect

    import auditkit

    for sub in ("context", "snapshots", "claims", "checks_published", "checks_values", "matching", "command"):
        importlib.import_module(f"auditkit_plugins.audit.{sub}")
    assert callable(auditkit.audit) and callable(auditkit.diff)
    assert "checks" in inspect.signature(auditkit.audit).parameters       # the real signature, not (*args, **kw)
    rep = auditkit.diff(SG_SF, SG_SF)
    assert rep.summary["edited_cells"] == 0
