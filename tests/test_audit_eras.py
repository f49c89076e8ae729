"""Open LLM Leaderboard v1 eras: one recipe record per era, and the ``recipe-era`` check that says which era a row's
published Average matches (issue 17). The snapshots are built from the curated 2024 snapshot: the 7-task table adds
a DROP column and publishes the 7-task mean, the 4-task table keeps ARC, HellaSwag, MMLU and TruthfulQA and
publishes their mean (both computed here with pandas and rounded to 2 decimals as the leaderboard displayed)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

import auditkit
from auditkit.cli import cli

SIX = ["ARC", "HellaSwag", "MMLU", "TruthfulQA", "Winogrande", "GSM8K"]
FOUR = SIX[:4]


@pytest.fixture
def tables(tmp_path, curated_dir):
    df = pd.read_csv(curated_dir / "openllm" / "openllm-v1-2024-benchbench.csv").head(8)
    seven = df.copy()
    seven["DROP"] = [50.1, 12.3, 8.7, 45.0, 9.9, 60.2, 7.7, 33.3]
    seven["Score"] = seven[SIX + ["DROP"]].mean(axis=1).round(2)
    four = df[["System"] + FOUR].copy()
    four["Average"] = four[FOUR].mean(axis=1).round(2)
    mixed = seven.copy()
    mixed.loc[:3, "Score"] = mixed.loc[:3, SIX].mean(axis=1).round(2)   # rows 0-3 from the 6-task era
    paths = {}
    for name, frame in (("seven", seven), ("four", four), ("mixed", mixed)):
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


def _audit(path, *args):
    res = CliRunner().invoke(cli, ["audit", str(path), "--format", "json", *args])
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.output)


def test_era_records_are_registered():
    recipes = auditkit.get_registry().records("recipes")
    assert [t.name for t in recipes["openllm-v1@2023-06"].official_tasks] == FOUR
    assert [t.name for t in recipes["openllm-v1@2023-11"].official_tasks] == SIX + ["DROP"]
    assert [t.name for t in recipes["openllm-v1"].official_tasks] == SIX
    assert recipes["openllm-v1@2023-11"].version == "2023-11"


def test_seven_task_rows_audited_with_their_era_are_clean(tables):
    d = _audit(tables["seven"], "--benchmark", "openllm-v1@2023-11")
    assert not [f for f in d["findings"] if f["check"] == "published-score" and f["severity"] == "error"]
    assert d["summary"]["recipe-era"]["rows_matching"]["openllm-v1@2023-11"] == 8


def test_wrong_era_is_explained(tables):
    d = _audit(tables["seven"], "--benchmark", "openllm-v1")
    era = [f for f in d["findings"] if f["check"] == "recipe-era" and f["severity"] == "warning"]
    assert len(era) == 8
    assert all("openllm-v1@2023-11" in f["message"] and "--benchmark openllm-v1@2023-11" in f["message"]
               for f in era)
    assert d["summary"]["recipe-era"]["rows_matching"] == {"openllm-v1@2023-06": 0, "openllm-v1@2023-11": 8,
                                                           "openllm-v1": 0, "none": 0}


def test_mixed_snapshot_splits_rows_by_era(tables):
    d = _audit(tables["mixed"], "--benchmark", "openllm-v1@2023-11")
    counts = d["summary"]["recipe-era"]["rows_matching"]
    assert counts["openllm-v1"] == 4 and counts["openllm-v1@2023-11"] == 4
    warned = {f["system"] for f in d["findings"] if f["check"] == "recipe-era" and f["severity"] == "warning"}
    assert len(warned) >= 3   # rows 0-3 (two share a name) match the 6-task era, not the applied 7-task one


def test_four_task_era_by_name(tables):
    d = _audit(tables["four"], "--benchmark", "openllm-v1@2023-06")
    assert not [f for f in d["findings"] if f["check"] == "published-score" and f["severity"] == "error"]
    assert d["summary"]["recipe-era"]["rows_matching"]["openllm-v1@2023-06"] == 8


def test_final_snapshot_matches_the_final_era(curated_dir):
    d = _audit(curated_dir / "openllm" / "openllm-v1-2024-benchbench.csv", "--benchmark", "openllm-v1")
    assert d["summary"]["recipe-era"]["rows_matching"]["openllm-v1"] == 100
    assert not [f for f in d["findings"] if f["check"] == "recipe-era" and f["severity"] != "info"]
