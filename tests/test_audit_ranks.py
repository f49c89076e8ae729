"""Rank audit checks (plugins/audit/checks_ranks.py) on small hand-made tables whose answer is known by
construction, and on the curated SuperGLUE 2021 board."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from auditkit.cli import cli

BOARDS = Path(__file__).resolve().parents[1] / "leaderboards"


def _audit(path):
    res = CliRunner().invoke(cli, ["audit", str(path), "--format", "json"])
    assert res.exit_code in (0, 1), res.output
    return [f for f in json.loads(res.output)["findings"] if f["check"].startswith("rank-")]


def test_tie_broken_by_display_order_is_flagged(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("Rank,Model,Score,A,B\n1,x,80.0,90,70\n2,y,75.0,80,70\n3,z,75.0,70,80\n4,w,60.0,60,60\n")
    ties = [f for f in _audit(p) if f["check"] == "rank-ties"]
    assert len(ties) == 1 and set(ties[0]["evidence"]["systems"]) == {"y", "z"}
    assert ties[0]["evidence"]["published_ranks"] == [2, 3]


def test_no_tie_finding_when_ties_share_a_rank(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("Rank,Model,Score,A,B\n1,x,80.0,90,70\n2,y,75.0,80,70\n2,z,75.0,70,80\n4,w,60.0,60,60\n")
    assert not [f for f in _audit(p) if f["check"] == "rank-ties"]


def test_superglue_published_winner_not_separable():
    found = [f for f in _audit(BOARDS / "superglue/superglue-2021-vote-and-rank.csv") if f["check"] == "rank-support"]
    top = [f for f in found if f["severity"] == "warning"]
    assert len(top) == 1 and "ERNIE 3.0" in top[0]["evidence"]["systems"]
    assert top[0]["evidence"]["shared_rank"] == 1


def test_fully_separated_table_has_no_support_finding(tmp_path):
    # every task orders the systems the same way with large gaps: zero bootstrap variance of each difference
    rows = "\n".join(f"{i + 1},s{i},{90 - 10 * i},{90 - 10 * i},{91 - 10 * i},{89 - 10 * i}" for i in range(5))
    p = tmp_path / "t.csv"
    p.write_text("Rank,Model,Score,A,B,C\n" + rows + "\n")
    assert not [f for f in _audit(p) if f["check"] == "rank-support"]
