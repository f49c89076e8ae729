"""task-set-consistency on claims tables built from the real vote_and_rank snapshots (tests/data/claims).

Every number in the fixtures is computed by tests/data/claims/make_claims.py from the snapshot cells (rule in
tests/data/claims/README.md); test_fixtures_follow_their_stated_rule regenerates them and compares byte for byte.
The "paper-like" tables reproduce the inconsistency Su Jianlin reverse-engineered in "How not to Lie with a
Benchmark" (ref §4): GLUE AM over 10 columns, human GM/HM over 10 columns, model GM/HM over 11 (AX added);
SuperGLUE AM over 8 tasks and GM/HM over 10 (AX-b, AX-g added).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.errors import InputError
from auditkit import audit

HERE = Path(__file__).resolve().parent
CLAIMS = HERE / "data" / "claims"
RAW = Path(__file__).resolve().parents[2] / "shared" / "leaderboards-raw" / "vote_and_rank"
GLUE = RAW / "leaderboards - GLUE.csv"
SG = RAW / "leaderboards - SuperGLUE.csv"


def run(board, claims):
    return audit(str(board), claims=str(claims), checks=["task-set-consistency"])


def test_fixtures_follow_their_stated_rule(tmp_path):
    spec = importlib.util.spec_from_file_location("make_claims", CLAIMS / "make_claims.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(str(tmp_path))
    for name in ("glue_paper_like", "glue_consistent", "superglue_paper_like", "superglue_consistent"):
        assert (tmp_path / f"{name}.csv").read_bytes() == (CLAIMS / f"{name}.csv").read_bytes(), name


def test_glue_paper_like_is_caught():
    rep = run(GLUE, CLAIMS / "glue_paper_like.csv")
    errors = [f for f in rep.findings if f.severity == "error"]
    columns = {f.column for f in errors if f.system is None}
    assert columns == {"GM", "HM"}  # rows of one column need different task sets
    gm = next(f for f in errors if f.column == "GM")
    groups = {g["task_set"]: g["rows"] for g in gm.evidence["groups"]}
    assert groups["official + AX (MNLI split into columns) [11 terms]"][0] == "ERNIE"
    assert groups["official (MNLI split into columns) [10 terms]"] == ["GLUE Human Baselines"]
    # and the means of every model row use different task sets (AM on 10 columns, GM/HM on 11)
    rows = {f.system for f in errors if f.system is not None}
    assert "ERNIE" in rows and "GLUE Human Baselines" not in rows and len(rows) == 8
    assert rep.exit_code("error") == 1
    assert rep.summary["task-set-consistency"]["consistent"] is False


def test_glue_consistent_is_not_flagged():
    rep = run(GLUE, CLAIMS / "glue_consistent.csv")
    assert [f.severity for f in rep.findings] == ["info"]
    assert "10 terms" in rep.findings[0].message
    assert rep.summary["task-set-consistency"]["reproduced"] == 27
    assert rep.exit_code("warning") == 0


def test_superglue_paper_like_means_of_a_row_differ():
    rep = run(SG, CLAIMS / "superglue_paper_like.csv")
    errors = [f for f in rep.findings if f.severity == "error"]
    assert len(errors) == 9 and all(f.system for f in errors)  # every row: AM on 8, GM/HM on 10
    human = next(f for f in errors if "Human" in f.system)
    assert human.evidence["per_mean"]["GM"][0].startswith("official + AX-b + AX-g|")
    assert human.evidence["per_mean"]["AM"][0].startswith("official|")


def test_superglue_consistent_is_not_flagged():
    rep = run(SG, CLAIMS / "superglue_consistent.csv")
    assert [f.severity for f in rep.findings] == ["info"] and "[8 terms]" in rep.findings[0].message


def test_names_matched_robustly_and_unmatched_reported(tmp_path):
    # ERNIE's 10-column AM 91.18 (glue_consistent.csv); names in other case/spacing/punctuation
    p = tmp_path / "c.csv"
    p.write_text("System,arithmetic\n  ernie ,91.18\nGLUE-human baselines,87.59\nNo Such Model,80.00\n",
                 encoding="utf-8")
    rep = run(GLUE, p)
    unmatched = [f for f in rep.findings if "matches no system" in f.message]
    assert [f.system for f in unmatched] == ["No Such Model"]
    assert rep.summary["task-set-consistency"]["unmatched_names"] == ["No Such Model"]
    assert rep.summary["task-set-consistency"]["reproduced"] == 2


def test_unreproducible_number_is_a_warning(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("Model,AM\nERNIE,95.00\n", encoding="utf-8")
    rep = run(GLUE, p)
    (f,) = [f for f in rep.findings if f.check == "task-set-consistency"]
    assert f.severity == "warning" and "reproduced by no candidate" in f.message


def test_claims_without_mean_columns_is_an_input_error(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("Model,Params\nERNIE,340\n", encoding="utf-8")
    with pytest.raises(InputError, match="names a mean"):
        run(GLUE, p)
    res = CliRunner().invoke(cli, ["audit", str(GLUE), "--claims", str(p)])
    assert res.exit_code == 2 and "AM/GM/HM" in res.output


def test_cli_claims_json(tmp_path):
    res = CliRunner().invoke(cli, ["audit", str(GLUE), "--claims", str(CLAIMS / "glue_paper_like.csv"),
                                   "--checks", "task-set-consistency", "--format", "json"])
    assert res.exit_code == 1
    d = json.loads(res.output)
    assert d["summary"]["by_check"]["task-set-consistency"]["error"] == 10
    assert any(k.endswith("glue_paper_like.csv") for k in d["provenance"]["inputs"])
