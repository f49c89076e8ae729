"""auditkit diff on real snapshot pairs: GLUE and SuperGLUE (vote_and_rank ~2021 -> benchbench ~2023, and
-> RankingNLPSystems 2022-02) and LiveBench 2024-07-01 -> 2024-08-29. Facts from ref §3 (leaderboards.md)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.errors import UsageError
from auditkit import diff

RAW = Path(__file__).resolve().parents[2] / "shared" / "leaderboards-raw"
GLUE_VR = RAW / "vote_and_rank" / "leaderboards - GLUE.csv"
GLUE_SF = RAW / "benchbench-socialfoundations" / "glue-leaderboard.tsv"
GLUE_RNS = RAW / "RankingNLPSystems" / "data-glue.data.csv"
SG_VR = RAW / "vote_and_rank" / "leaderboards - SuperGLUE.csv"
SG_SF = RAW / "benchbench-socialfoundations" / "superglue-leaderboard.tsv"
LB1 = RAW / "ibm-benchbench" / "livebench_240701_holistic.csv"
LB2 = RAW / "ibm-benchbench" / "livebench_240829_holistic.csv"


@functools.lru_cache(maxsize=None)
def d(old, new):
    return diff(str(old), str(new))


def of(rep, check):
    return [f for f in rep.findings if f.check == check]


def test_glue_2021_to_2023():
    rep = d(GLUE_VR, GLUE_SF)
    s = rep.summary
    assert (s["old_systems"], s["new_systems"]) == (100, 87)
    assert s["matched"] + s["removed"] == 100 and s["matched"] + s["added"] == 87
    # ref §3.1: human AX 76.6 (vote_and_rank) vs '-' (socialfoundations)
    human_ax = [f for f in of(rep, "diff-edited-cell") if "Human" in f.system and f.column == "AX"]
    assert len(human_ax) == 1 and (human_ax[0].evidence["old"], human_ax[0].evidence["new"]) == ("76.6", "-")
    # ref §3.8: human rank 16 -> 23; top model Turing ULR v6 is new
    (ref,) = of(rep, "diff-reference-rank")
    assert (ref.evidence["old_rank"], ref.evidence["new_rank"]) == (16, 23)
    assert "Turing ULR v6" in {f.system for f in of(rep, "diff-added")}
    # DeBERTa + CLEVER was re-scored (90.8 -> 91.1) with new cells that the recipe reproduces
    pub = {f.system: f for f in of(rep, "diff-published-score")}
    assert pub["DeBERTa + CLEVER"].severity == "info"
    assert (pub["DeBERTa + CLEVER"].evidence["old"], pub["DeBERTa + CLEVER"].evidence["new"]) == (90.8, 91.1)
    assert s["reproduction"]["old"]["unexplained"] == 0 and s["reproduction"]["new"]["unexplained"] == 0


def test_glue_2021_to_2022_ranking_nlp_systems():
    rep = d(GLUE_VR, GLUE_RNS)
    edits = {(f.system.split(" | ")[-1], f.column): f.evidence for f in of(rep, "diff-edited-cell")}
    # PROVENANCE (RankingNLPSystems): MaChAmp 'NaN/99.8' -> '00.0/99.8'; human AX 76.6 -> 0 (ref §3.1)
    assert edits[("MaChAmp (bert-large single task)", "STS-B")]["new"] == "00.0/99.8"
    assert edits[("GLUE Human Baselines", "AX")]["new"] == "0"
    (ref,) = of(rep, "diff-reference-rank")
    assert (ref.evidence["old_rank"], ref.evidence["new_rank"]) == (16, 19)  # ref §3.8
    # the recipe reproduces both, MaChAmp explained in each
    repro = [f for f in of(rep, "diff-reproduction") if "MaChAmp" in (f.system or "")]
    assert {f.evidence["snapshot"] for f in repro} == {"OLD", "NEW"} and all(f.severity == "warning" for f in repro)


def test_superglue_2021_to_2023():
    rep = d(SG_VR, SG_SF)
    assert rep.summary["edited_cells"] == 0 and rep.summary["published_changed"] == 0
    (ref,) = of(rep, "diff-reference-rank")
    assert (ref.evidence["old_rank"], ref.evidence["new_rank"]) == (4, 8)  # ref §3.8 (4 -> 6 -> 8)
    assert "Vega v2" in {f.system for f in of(rep, "diff-added")}  # ref §2: top = Vega v2 91.3
    assert rep.exit_code("error") == 0


def test_livebench_two_dates():
    rep = d(LB1, LB2)
    s = rep.summary
    assert s["benchmark"] == "livebench" and s["matched"] == 70 and s["added"] == s["removed"] == 0
    assert set(s["common_tasks"]) == {"Reasoning", "Coding", "Mathematics", "Data Analysis", "Language", "IF"}
    (col,) = of(rep, "diff-published-column")
    assert (col.evidence["old"], col.evidence["new"]) == ("livebench_240624", "livebench_240725")
    assert s["published_changed"] > 0 and s["rank_flips"] == len(of(rep, "diff-rank-flip")) > 0
    # every changed overall score comes with changed category cells and is reproduced (mean of 6 categories)
    assert all(f.severity == "info" for f in of(rep, "diff-published-score"))
    assert s["reproduction"]["old"]["unexplained"] == 0 and s["reproduction"]["new"]["unexplained"] == 0


def test_identical_snapshot_has_no_changes():
    rep = d(SG_VR, SG_VR)
    assert rep.summary["matched"] == 24 and rep.summary["edited_cells"] == 0 and rep.summary["rank_flips"] == 0
    assert not of(rep, "diff-added") and not of(rep, "diff-removed")


def test_different_benchmarks_refused():
    with pytest.raises(UsageError, match="different benchmarks"):
        diff(str(GLUE_VR), str(SG_VR))


def test_cli_diff_markdown_and_json(tmp_path):
    r = CliRunner().invoke(cli, ["diff", str(SG_VR), str(SG_SF), "--format", "markdown"])
    assert r.exit_code == 0 and r.output.startswith("## auditkit diff") and "diff-reference-rank" in r.output
    out = tmp_path / "d.json"
    r = CliRunner().invoke(cli, ["diff", str(GLUE_VR), str(GLUE_SF), "--format", "json", "-o", str(out),
                                 "--fail-on", "warning"])
    assert r.exit_code == 1  # edited cells are warnings
    data = json.loads(out.read_text())
    assert data["schema"] == "auditkit.report/1" and data["summary"]["edited_cells"] == 13
    r = CliRunner().invoke(cli, ["diff", str(GLUE_VR), str(tmp_path / "nope.csv")])
    assert r.exit_code == 2 and "no such file" in r.output
