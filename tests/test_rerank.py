"""`auditkit rerank` end to end through the real console entry point, the Python API and the error paths."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import auditkit
from auditkit.errors import DomainError

ROOT = Path(__file__).resolve().parents[1]
GLUE = ROOT / "leaderboards" / "glue" / "glue-2021-vote-and-rank.csv"
SUPERGLUE = ROOT / "leaderboards" / "superglue" / "superglue-2021-vote-and-rank.csv"


def run(*args, input=None):
    return subprocess.run(["auditkit", *map(str, args)], capture_output=True, text=True, input=input)


def test_readme_command_harmonic():
    out = run("rerank", GLUE, "--mean", "harmonic")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "benchmark: GLUE (recipe glue 1.0, auto-detected)" in text
    assert "tasks (9): CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE, WNLI" in text
    assert "tie rule: competition ranking" in text
    assert "GLUE Human Baselines (reference)" in text
    assert "not scored: QNLI is missing" in text  # XLNet/ALBERT ensembles listed, not dropped
    assert "zero cells give the limit 0 under harmonic" in text


def test_json_schema_single_mean():
    out = run("rerank", GLUE, "--mean", "harmonic", "--format", "json")
    envelope = json.loads(out.stdout)
    assert envelope["schema"] == "auditkit.report/1"  # one JSON envelope for every command
    doc = envelope["summary"]
    assert doc["schema"] == "auditkit.rerank/2"
    for key in ("benchmark", "recipe_version", "rules", "tasks", "input_sha256", "rows", "tie_rule",
                "policies", "reduction"):
        assert key in doc
    assert set(doc["policies"]) == {"negatives", "missing", "out_of_range", "direction"}
    import hashlib

    assert doc["input_sha256"] == hashlib.sha256(GLUE.read_bytes()).hexdigest()
    rows = doc["rows"]
    assert len(rows) == 100  # every row, scored or not
    for row in rows:
        assert {"system", "reference", "published_score", "published_rank", "rules"} <= set(row)
        assert set(row["rules"]) == {"harmonic"} and set(row["rules"]["harmonic"]) == {"score", "rank",
                                                                                         "rank_change"}
    human = next(r for r in rows if r["reference"])
    assert human["system"] == "GLUE Human Baselines" and human["published_rank"] == 16
    unscored = [r for r in rows if r["status"] == "unscored"]
    assert {r["system"] for r in unscored} == {"XLNet (ensemble)", "ALBERT (Ensemble)"}
    assert all(r["rules"]["harmonic"]["score"] is None and r["reason"] for r in unscored)
    # harmonic scores agree with scipy's hmean on the task matrix (independent oracle)
    from scipy.stats import hmean

    res = auditkit.rerank(str(GLUE), "harmonic")
    ts = res.task_scores
    ok = ts.scorable & (ts.values > 0).all(axis=1)
    np.testing.assert_allclose(res.scores["harmonic"][ok], hmean(ts.values[ok], axis=1), rtol=1e-12)


def test_several_means_side_by_side_with_kendall_tau():
    out = run("rerank", SUPERGLUE, "--mean", "arithmetic", "--mean", "geometric,harmonic", "--format", "json")
    doc = json.loads(out.stdout)["summary"]
    assert [r["label"] for r in doc["rules"]] == ["arithmetic", "geometric", "harmonic"]
    row = doc["rows"][0]
    assert set(row["rules"]["arithmetic"]) == {"score", "rank", "rank_change"}
    from scipy.stats import kendalltau

    a = [r["rules"]["arithmetic"]["score"] for r in doc["rows"] if r["rules"]["arithmetic"]["score"] is not None]
    h = [r["rules"]["harmonic"]["score"] for r in doc["rows"] if r["rules"]["harmonic"]["score"] is not None]
    tau = {(k["a"], k["b"]): k["tau"] for k in doc["kendall_tau"]}
    assert type(tau["arithmetic", "harmonic"]) is float
    assert tau["arithmetic", "harmonic"] == pytest.approx(kendalltau(a, h).statistic, abs=1e-12)


def test_superglue_humans_rank_4_under_am_and_gm_and_5_under_hm():
    # shared/reference/leaderboards.md s4: official task set, ~2021 snapshot
    res = auditkit.rerank(str(SUPERGLUE), ["arithmetic", "geometric", "harmonic"])
    i = res.task_scores.leaderboard.row_of("SuperGLUE Human Baselines")
    assert [res.ranks[m][i] for m in res.means] == [4, 4, 5]


def test_superglue_with_diagnostics_puts_humans_first_unless_ax_b_is_rescaled():
    # reference s4: adding AX-b and AX-g makes humans first under all three means. Some baseline rows have a
    # negative AX-b, so GM/HM need a policy: leaving those rows out reproduces the reference; rescaling AX-b from
    # [-100, 100] to [0, 100] shrinks the humans' AX-b lead and ERNIE 3.0 overtakes them under HM.
    tasks = "BoolQ,CB,COPA,MultiRC,ReCoRD,RTE,WiC,WSC,AX-b,AX-g".split(",")
    means = ["arithmetic", "geometric", "harmonic"]
    res = auditkit.rerank(str(SUPERGLUE), means, tasks=tasks, negatives="exclude-row")
    i = res.task_scores.leaderboard.row_of("SuperGLUE Human Baselines")
    assert [res.ranks[m][i] for m in means] == [1, 1, 1]
    assert res.task_scores.values[i].mean() == pytest.approx((718.3 + 76.6 + 99.5) / 10)
    assert any("negative value in AX-b" in r for r in res.task_scores.reasons.values())
    res = auditkit.rerank(str(SUPERGLUE), means, tasks=tasks, negatives="rescale")
    assert [res.ranks[m][i] for m in means] == [1, 1, 2]
    assert "AX-b [-100, 100] -> [0, 100]" in res.policy


def test_negative_cell_is_refused_with_system_task_value_and_exit_2(tmp_path):
    out = run("rerank", GLUE, "--mean", "geometric", "--tasks",
              "CoLA,SST-2,MRPC,STS-B,QQP,MNLI,QNLI,RTE,WNLI,AX")
    assert out.returncode == 2
    assert "task 'AX'" in out.stderr and "value -" in out.stderr and "--negatives rescale" in out.stderr
    assert out.stdout == ""
    with pytest.raises(DomainError, match="system '"):
        auditkit.rerank(str(GLUE), "geometric", tasks="CoLA SST-2 MRPC STS-B QQP MNLI QNLI RTE WNLI AX".split())


def test_exclude_task_policy_is_printed(tmp_path):
    res = auditkit.rerank(str(GLUE), ["geometric"], tasks="CoLA SST-2 MRPC STS-B QQP MNLI QNLI RTE WNLI AX".split(),
                          negatives="exclude-task")
    assert "AX" not in res.task_scores.tasks
    assert "exclude-task: dropped AX" in res.render("table")


def test_power_mean_needs_p_and_matches_harmonic_at_minus_one():
    out = run("rerank", GLUE, "--mean", "power")
    assert out.returncode == 2 and "needs parameter 'p'" in out.stderr and "power:p=VALUE" in out.stderr
    a = auditkit.rerank(str(GLUE), ["power"], params={"power": {"p": -1}}).scores["power(p=-1)"]
    b = auditkit.rerank(str(GLUE), ["harmonic"]).scores["harmonic"]
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_bad_cell_names_file_line_column_value_and_exits_2(tmp_path):
    bad = tmp_path / "glue_bad.csv"
    lines = GLUE.read_text().splitlines()
    lines[3] = lines[3].replace(",97.5,", ",97.5x,", 1)
    bad.write_text("\n".join(lines) + "\n")
    out = run("rerank", bad, "--mean", "harmonic", "-o", tmp_path / "out.json", "--format", "json")
    assert out.returncode == 2
    assert "line 4" in out.stderr and "'SST-2'" in out.stderr and "97.5x" in out.stderr
    assert not (tmp_path / "out.json").exists(), "no partial output file"


def test_unknown_mean_lists_the_known_ones():
    out = run("rerank", GLUE, "--mean", "quadratic")
    assert out.returncode == 2 and "arithmetic" in out.stderr and "harmonic" in out.stderr


def test_output_formats(tmp_path):
    for fmt in ("csv", "markdown", "html", "table"):
        out = run("rerank", SUPERGLUE, "--mean", "harmonic", "--format", fmt, "-o", tmp_path / f"r.{fmt}")
        assert out.returncode == 0, out.stderr
    assert (tmp_path / "r.csv").read_text().startswith("system,team,reference,line,published_score,published_rank,status,reason,harmonic_score,"
                                                              "harmonic_rank,harmonic_rank_change")
    assert "| rank |" in (tmp_path / "r.markdown").read_text()
    assert "<table>" in (tmp_path / "r.html").read_text()


def test_python_api_to_pandas_and_dataframe_input():
    import pandas as pd

    lb = auditkit.read_leaderboard(str(SUPERGLUE))
    frame = lb.to_pandas()
    assert "system" not in frame.columns and frame["System"].tolist() == lb.systems  # one system column
    parsed = lb.to_pandas("parsed")
    assert parsed["BoolQ"].dtype == np.float64 and parsed["System"].tolist() == lb.systems
    res = auditkit.rerank(frame, ["arithmetic", "harmonic"])
    df = res.to_pandas()
    assert isinstance(df, pd.DataFrame) and len(df) == 24
    assert {"system", "arithmetic_score", "harmonic_rank"} <= set(df.columns)
    assert "<table>" in res._repr_html_()


def test_rerank_imports_no_torch_matplotlib_pandas_or_scipy():
    code = ("import sys; from auditkit.cli import main\n"
            "try:\n    main(['rerank', %r, '--mean', 'harmonic'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'matplotlib', 'pandas', 'scipy') if m in sys.modules]\n"
            "print('HEAVY', heavy)" % str(GLUE))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in out.stdout, out.stdout[-500:] + out.stderr[-2000:]
