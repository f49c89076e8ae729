"""The example plugin's own tests: what a plugin author writes, using auditkit's conformance kit.

Run with ``python -m pytest tests -q`` from the plugin's folder after ``pip install -e ".[test]"``.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import auditkit
from auditkit.testing import aggregator_checks, check_aggregator, check_check, check_plugin, check_recipe

import auditkit_example

HERE = Path(__file__).resolve().parent
MTEB_FILE = HERE / "data" / "mteb-leaderboard.tsv"  # the benchbench MTEB snapshot, 83 rows


def test_the_plugin_registers_cleanly():
    provided = check_plugin(auditkit_example)
    assert provided == {"aggregators": ["trimmed-mean"], "recipes": ["mteb"], "checks": ["mteb-dataset-count"],
                        "commands": ["mteb-weights"]}


def test_trimmed_mean_honours_the_aggregator_contract():
    agg = auditkit.get_registry().get("aggregators", "trimmed-mean")
    check_aggregator(agg, bad_params={"trim": 0.7}, strict_nan=True)
    check_aggregator(agg, params={"trim": 0.0})


@pytest.mark.parametrize("check", list(aggregator_checks()))
def test_trimmed_mean_check_by_check(check):
    # one test per named check: a failure names the contract item in the test id
    agg = auditkit.get_registry().get("aggregators", "trimmed-mean")
    check_aggregator(agg, only=[check], params={"trim": 0.2})


def test_trimmed_mean_cuts_whole_tasks_when_it_can():
    # 10 tasks, trim 0.1: drop the lowest and the highest, average the other 8 (as scipy.stats.trim_mean does)
    row = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 100.0]])
    out = auditkit_example.trimmed_mean(row, xp=np, weights=np.full(10, 0.1), trim=0.1)
    assert out.tolist() == [pytest.approx(5.5, rel=1e-15, abs=0)]


def test_mteb_recipe_reproduces_the_published_average():
    recipe = auditkit.get_registry().get("recipes", "mteb")
    facts = check_recipe(recipe, MTEB_FILE, reproduces_published=True)
    assert (facts["rows_compared"], facts["rows_reproduced"]) == (83, 83)


def test_dataset_count_check_honours_the_check_contract():
    check = auditkit.get_registry().get("checks", "mteb-dataset-count")
    check_check(check)
    assert check_check(check, auditkit.testing.make_context(MTEB_FILE))["findings"] == []


@pytest.mark.parametrize("trim", [-0.1, 0.5, 2])
def test_bad_trim_is_refused_with_its_value(trim):
    with pytest.raises(auditkit.UsageError, match=f"trim must be in \\[0, 0.5\\), got {trim:g}"):
        auditkit_example.trimmed_mean(np.ones((2, 3)), xp=np, weights=np.full(3, 1 / 3), trim=trim)


def test_the_parameter_from_the_command_line():
    def auditkit_cli(*args):
        return subprocess.run([sys.executable, "-m", "auditkit.cli", *args], capture_output=True, text=True)

    ok = auditkit_cli("rerank", str(MTEB_FILE), "--mean", "trimmed-mean:trim=0.2", "--format", "json")
    assert ok.returncode == 0, ok.stderr
    assert '"label": "trimmed-mean(trim=0.2)"' in ok.stdout
    bad = auditkit_cli("rerank", str(MTEB_FILE), "--mean", "trimmed-mean:trim=0.7")
    assert bad.returncode == 2 and "trim=" in bad.stderr and "[0, 0.5)" in bad.stderr
