"""One pipeline, one vocabulary: the Ranking stage every command uses, declared parameters, policies that are
printed, records that mean what they say, and the public Python API.

Oracles are independent: ranks computed by hand from the task matrix (numpy and scipy.stats.rankdata), scipy's
means, and the raw CSV read with the csv module.
"""

from __future__ import annotations

import ast
import csv
import inspect
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import auditkit
from auditkit.cli import cli

ROOT = Path(__file__).resolve().parents[1]
GLUE = ROOT / "leaderboards" / "glue" / "glue-2021-vote-and-rank.csv"
SUPERGLUE = ROOT / "leaderboards" / "superglue" / "superglue-2021-vote-and-rank.csv"
XGLUE = ROOT / "leaderboards" / "xglue" / "xglue-understanding-2021-04-28.csv"


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# -- one tie rule everywhere ---------------------------------------------------------------------------------------
TIED = ("system,A,B,C\n"
        "s1,0.1,0.2,0.3\n"      # mean 0.2 summed in one order ...
        "s2,0.3,0.2,0.1\n"      # ... and in another: equal to 12 digits, not always bit for bit
        "s3,0.25,0.25,0.05\n"   # 0.18333...
        "s4,0.9,0.9,0.9\n"
        "s5,0.2,0.2,0.2\n")     # ties s1 and s2 exactly in exact arithmetic


def test_every_path_ranks_a_tied_table_identically(tmp_path):
    path = tmp_path / "tied.csv"
    path.write_text(TIED)
    expected = {"s4": 1, "s1": 2, "s2": 2, "s5": 2, "s3": 5}     # competition ranking "1224", by hand
    rr = auditkit.rerank(str(path), "arithmetic")
    assert dict(zip(rr.task_scores.systems, rr.ranks["arithmetic"].astype(int).tolist())) == expected
    rep = auditkit.compare(str(path), ["arithmetic"])
    assert {s: r["arithmetic"] for s, r in rep.summary["ranks"].items()} == expected
    from auditkit_plugins.stats.bootstrap import bootstrap_ranks, competition_ranks

    ts = rr.task_scores
    boot = bootstrap_ranks(ts.values, ts.weights, "arithmetic", n_resamples=10, seed=0)
    assert dict(zip(ts.systems, boot.point_ranks.astype(int).tolist())) == expected
    import array_api_compat.numpy as xpn

    batch = competition_ranks(xpn, ts.values.mean(axis=1)[None, :])[0]
    assert dict(zip(ts.systems, batch.tolist())) == expected
    sig = auditkit.significance(str(path), "s1", "s2", rule="arithmetic", n_resamples=50, n_permutations=50)
    assert sig.summary["difference"] == pytest.approx(0.0, abs=1e-15)


def test_tie_key_is_the_one_tie_rule():
    a = np.array([0.1 + 0.2 + 0.3, 0.3 + 0.2 + 0.1, 0.6])
    assert a[0] != a[1]                                      # float sums in two orders differ ...
    assert auditkit.competition_rank(a).tolist() == [1, 1, 1]  # ... but tie under the one rule
    assert auditkit.competition_rank([3, 1, 3, 2, np.nan]).tolist()[:4] == [1, 4, 1, 3]
    assert auditkit.competition_rank([3, 1, 3, 2], higher_is_better=False).tolist() == [3, 1, 3, 2]


# -- declared parameters, one syntax ---------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_non_finite_p_is_refused_with_the_value_and_the_range(value):
    for args in (["--mean", f"power:p={value}"], ["--mean", "power", "--p", value]):
        res = CliRunner().invoke(cli, ["rerank", str(GLUE), *args])
        assert res.exit_code == 2, res.output
        assert "not finite" in res.output and "a finite number in [-1e+06, 1e+06]" in res.output


def test_two_power_means_side_by_side_with_labels():
    rr = auditkit.rerank(str(GLUE), ["power:p=-2", "power:p=2"])
    assert rr.means == ["power(p=-2)", "power(p=2)"]
    ts = rr.task_scores
    ok = ts.scorable & (ts.values > 0).all(axis=1)
    from scipy.stats import pmean

    for p in (-2, 2):
        np.testing.assert_allclose(rr.scores[f"power(p={p})"][ok], pmean(ts.values[ok], p, axis=1), rtol=1e-12)
    res = invoke("rerank", GLUE, "--mean", "power:p=-2,power:p=2", "--format", "json")
    doc = json.loads(res.output)["summary"]
    assert [r["label"] for r in doc["rules"]] == ["power(p=-2)", "power(p=2)"]
    assert all(set(row["rules"]) == {"power(p=-2)", "power(p=2)"} for row in doc["rows"])


def test_unknown_parameter_and_duplicate_rule_are_refused():
    res = CliRunner().invoke(cli, ["rerank", str(GLUE), "--mean", "power:q=2"])
    assert res.exit_code == 2 and "takes no parameter 'q'; its parameters: p" in res.output
    res = CliRunner().invoke(cli, ["rerank", str(GLUE), "--mean", "harmonic", "--mean", "hm"])
    assert res.exit_code == 2 and "given twice" in res.output
    res = CliRunner().invoke(cli, ["rerank", str(GLUE), "--mean", "arithmetic", "--p", "2"])
    assert res.exit_code == 2 and "--p is the power mean's exponent" in res.output


def test_rule_token_grammar():
    from auditkit.rules import parse_rule, split_rule_tokens

    assert split_rule_tokens(["arithmetic,power:p=-2,q=1", "geometric"]) == ["arithmetic", "power:p=-2,q=1",
                                                                            "geometric"]
    assert parse_rule("power:p=-2") == ("power", {"p": "-2"})
    with pytest.raises(auditkit.UsageError, match="no rule before it"):
        split_rule_tokens("p=2")


def test_the_same_option_names_on_every_table_command():
    for command in ("rerank", "compare", "significance", "audit"):
        text = invoke(command, "--help").output
        assert "--mean" in text, command
        assert "refuse|rescale|exclude-task|exclude-row" in text.replace(" ", "").replace("\n", ""), command
    for command in ("compare", "significance"):
        text = invoke(command, "--help").output
        assert "--rules" in text and "--rule" in text and "--missing" in text and "--lower-is-better" in text


def test_compare_and_significance_accept_rule_parameters():
    rep = auditkit.compare(str(GLUE), ["power:p=-2", "power:p=2", "borda"])
    assert rep.summary["rules"] == ["power(p=-2)", "power(p=2)", "borda"]
    res = CliRunner().invoke(cli, ["compare", str(GLUE), "--rules", "power:p=nan"])
    assert res.exit_code == 2 and "not finite" in res.output
    res = CliRunner().invoke(cli, ["significance", str(SUPERGLUE), "ERNIE 3.0", "T5", "--rule", "power:p=2",
                                   "--resamples", "50", "--permutations", "20", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["summary"]["rule_params"] == {"p": 2.0}


# -- policies, printed and recorded ------------------------------------------------------------------------------------
def _partial_table(tmp_path):
    path = tmp_path / "partial.csv"
    path.write_text("model,A,B,C\nm1,80,70,60\nm2,90,,50\nm3,10,20,30\nm4,,,\n")
    return path


def test_missing_skip_is_the_mean_over_the_tasks_present(tmp_path):
    path = _partial_table(tmp_path)
    rr = auditkit.rerank(str(path), "arithmetic", missing="skip")
    got = dict(zip(rr.task_scores.systems, rr.scores["arithmetic"]))
    assert got["m1"] == pytest.approx(70.0) and got["m2"] == pytest.approx(70.0)  # (90 + 50) / 2
    assert got["m3"] == pytest.approx(20.0)
    assert np.isnan(got["m4"])                          # nothing present: still listed, not scored
    assert rr.policies["missing"].startswith("skip: 1 row(s)")
    assert "missing cells: skip" in rr.render("table")
    with pytest.raises(auditkit.UsageError, match="--missing skip cannot be used with borda"):
        auditkit.rerank(str(path), "borda", missing="skip")


def test_missing_zero_refuse_and_default(tmp_path):
    path = _partial_table(tmp_path)
    rr = auditkit.rerank(str(path), "arithmetic", missing="zero")
    got = dict(zip(rr.task_scores.systems, rr.scores["arithmetic"]))
    assert got["m2"] == pytest.approx(140 / 3) and got["m4"] == pytest.approx(0.0)
    res = CliRunner().invoke(cli, ["rerank", str(path), "--missing", "refuse"])
    assert res.exit_code == 2 and "line 3" in res.output and "'m2'" in res.output and "'B'" in res.output
    rr = auditkit.rerank(str(path), "arithmetic")
    assert np.isnan(rr.scores["arithmetic"][1]) and "B is missing" in rr.task_scores.reasons[1]


def test_negative_footer_tells_the_truth():
    tasks = "CoLA,SST-2,MRPC,STS-B,QQP,MNLI,QNLI,RTE,WNLI,AX".split(",")
    rr = auditkit.rerank(str(GLUE), "arithmetic", tasks=tasks)
    assert "negative cell(s) kept as they are" in rr.policies["negatives"]   # was "refused (none present)"
    assert "none present" not in rr.render("table")


def test_every_command_records_its_policies():
    rr = json.loads(invoke("rerank", GLUE, "--format", "json").output)
    cmp = json.loads(invoke("compare", GLUE, "--mean", "arithmetic", "--format", "json").output)
    for doc in (rr["provenance"], cmp["provenance"], cmp["summary"]):
        assert set(doc["policies"]) == {"negatives", "missing", "out_of_range", "direction"}


# -- direction ----------------------------------------------------------------------------------------------------------
def _error_rate_recipe():
    return auditkit.Recipe("akt-error", "1.0", "Error rates", tasks=(auditkit.TaskSpec("E1"),
                                                                     auditkit.TaskSpec("E2")),
                           published_score=(), higher_is_better=False, detect=("E1", "E2"))


def test_a_lower_is_better_recipe_ranks_the_best_system_first(tmp_path, restore_registry):
    path = tmp_path / "errors.csv"
    path.write_text("model,E1,E2\ngood,5,7\nbad,40,45\nmid,20,10\n")

    class Plugin:
        @auditkit.hookimpl
        def auditkit_register_recipes(self):
            return [_error_rate_recipe()]

    auditkit.get_registry().register(Plugin(), "akt-error-plugin")
    rr = auditkit.rerank(str(path), ["arithmetic", "borda"])
    assert rr.benchmark == "akt-error"            # `detect` columns present: chosen by auto-detection
    ranks = {m: dict(zip(rr.task_scores.systems, rr.ranks[m].astype(int).tolist())) for m in rr.means}
    assert ranks["arithmetic"] == {"good": 1, "mid": 2, "bad": 3}
    assert ranks["borda"] == {"good": 1, "mid": 2, "bad": 3}
    assert not rr.rankings[0].higher_is_better and "ranked ascending" in " ".join(rr.all_notes())


def test_mixed_directions_accuracy_and_latency(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("model,accuracy,latency\nfast,70,10\nslow,90,500\nmid,80,100\n")
    with pytest.raises(auditkit.UsageError, match="lower-is-better and has no declared range"):
        auditkit.rerank(str(path), "arithmetic", lower_is_better=["latency"])
    rr = auditkit.rerank(str(path), ["borda"], lower_is_better=["latency"])
    # Borda by hand: accuracy slow 2, mid 1, fast 0; latency (lower better) fast 2, mid 1, slow 0
    assert dict(zip(rr.task_scores.systems, rr.scores["borda"])) == {"fast": 1.0, "slow": 1.0, "mid": 1.0}
    assert rr.policies["direction"] == "lower is better on latency"
    res = CliRunner().invoke(cli, ["rerank", str(path), "--mean", "winrate", "--lower-is-better", "latency",
                                   "--format", "json"])
    assert res.exit_code == 0 and "latency" in json.loads(res.output)["summary"]["policies"]["direction"]
    res = CliRunner().invoke(cli, ["rerank", str(path), "--lower-is-better", "speed"])
    assert res.exit_code == 2 and "speed" in res.output and "latency" in res.output


def test_recipe_choice_among_several_matches_is_deterministic_and_printed(tmp_path, restore_registry):
    glue_tasks = auditkit.get_registry().get("recipes", "glue").tasks

    class Plugin:
        @auditkit.hookimpl
        def auditkit_register_recipes(self):
            return [auditkit.Recipe("akt-glue-twin", "1.0", "GLUE twin", tasks=glue_tasks)]

    auditkit.get_registry().register(Plugin(), "akt-twin")
    rr = auditkit.rerank(str(GLUE), "arithmetic")
    # equal keys (no detect columns, published score present, 9 tasks): the name decides, and the note says so
    assert rr.benchmark == "akt-glue-twin"
    assert any("chosen over glue" in n for n in rr.all_notes())


# -- bugs from the same root ------------------------------------------------------------------------------------------
def test_xglue_pos_task_is_not_a_rank_column():
    rr = auditkit.rerank(str(XGLUE), "arithmetic")
    assert "POS" in rr.task_scores.tasks
    with open(XGLUE, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert "Rank" not in rows[0] or True
    pub = rr.task_scores.published_rank[np.isfinite(rr.task_scores.published_rank)]
    assert pub.max() <= len(rows)                         # was 81 / 79: POS accuracies read as ranks
    changes = [e["rank_change"] for row in rr.rows() for e in row["rules"].values() if e["rank_change"] is not None]
    assert max(abs(c) for c in changes) < len(rows)


def test_rank_and_score_columns_are_not_tasks():
    for col in ("Rank", "Score"):
        res = CliRunner().invoke(cli, ["rerank", str(GLUE), "--tasks", f"{col},CoLA"])
        assert res.exit_code == 2 and "not a task" in res.output, res.output


def test_help_examples_name_files_that_exist():
    import re

    group_help = invoke("--help").output
    commands = [c for c in ("rerank", "audit", "diff", "compare", "significance") if c in group_help]
    for name in commands:
        text = invoke(name, "--help").output
        for path in re.findall(r"(?:leaderboards|tests)/[\w./-]+\.(?:csv|tsv)", text):
            assert (ROOT / path).exists(), f"auditkit {name} --help names {path}, which does not exist"


# -- the public API -----------------------------------------------------------------------------------------------------
def test_public_api_functions_have_real_signatures():
    for name, param in (("rerank", "means"), ("audit", "checks"), ("diff", "new"), ("compare", "bootstrap"),
                        ("significance", "all_pairs")):
        func = getattr(auditkit, name)
        assert inspect.isfunction(func), name
        assert param in inspect.signature(func).parameters, name
    assert inspect.signature(auditkit.rerank).parameters["missing"].default == "exclude-row"


def test_report_and_task_scores_to_pandas():
    import pandas as pd

    rr = auditkit.rerank(str(SUPERGLUE), ["arithmetic", "harmonic"])
    frame = rr.task_scores.to_pandas()
    assert list(frame.columns[:len(rr.task_scores.tasks)]) == rr.task_scores.tasks
    assert all(frame[t].dtype == np.float64 for t in rr.task_scores.tasks)
    assert frame.index.name == "system" and "System" not in frame.columns
    report = rr.to_report()
    records = report.to_pandas()
    assert {"system", "arithmetic_score", "harmonic_rank"} <= set(records.columns) and len(records) == 24
    findings = auditkit.audit(str(GLUE)).to_pandas("findings")
    assert isinstance(findings, pd.DataFrame) and {"check", "severity"} <= set(findings.columns)
    cmp = auditkit.compare(str(SUPERGLUE), ["arithmetic", "borda"])
    assert len(cmp.to_pandas("ranks by rule")) == cmp.summary["n_systems"]
    with pytest.raises(auditkit.UsageError, match="unknown table"):
        cmp.to_pandas("no such table")


def test_rerank_renders_through_report_in_every_format():
    rr = auditkit.rerank(str(SUPERGLUE), "harmonic")
    csv_rows = list(csv.DictReader(io.StringIO(rr.render("csv"))))
    assert len(csv_rows) == 24 and "harmonic_rank" in csv_rows[0]
    assert json.loads(rr.render("json"))["schema"] == auditkit.Report.SCHEMA
    assert "<table>" in rr.render("html") and "| rank |" in rr.render("markdown")


def test_plugins_import_only_public_names_from_auditkit():
    offenders = []
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "auditkit":
                offenders += [f"{path.relative_to(ROOT)}: {alias.name}" for alias in node.names
                              if alias.name.startswith("_")]
                if any(part.startswith("_") for part in node.module.split(".")):
                    offenders.append(f"{path.relative_to(ROOT)}: module {node.module}")
    assert offenders == []


def test_planted_private_import_is_caught(tmp_path):
    # the scan above must be able to fail: the same walk over a planted file finds the private name
    planted = tmp_path / "bad.py"
    planted.write_text("from auditkit.taskscores import _components\n")
    node = next(n for n in ast.walk(ast.parse(planted.read_text())) if isinstance(n, ast.ImportFrom))
    assert [a.name for a in node.names if a.name.startswith("_")] == ["_components"]


def test_stats_does_not_import_another_plugin_by_module():
    for path in (ROOT / "plugins" / "stats").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "auditkit_plugins.social_choice" not in text, path


def test_rerank_still_imports_nothing_heavy():
    code = ("import sys; from auditkit.cli import main\n"
            "try:\n    main(['rerank', sys.argv[1], '--mean', 'power:p=-2'])\nexcept SystemExit:\n    pass\n"
            "bad = [m for m in ('torch', 'matplotlib', 'pandas', 'scipy', 'duckdb', 'dask') if m in sys.modules]\n"
            "assert not bad, bad")
    out = subprocess.run([sys.executable, "-c", code, str(GLUE)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


# -- hooks with a consumer ---------------------------------------------------------------------------------------------
def test_a_registered_metric_appears_in_compare(restore_registry):
    class Plugin:
        @auditkit.hookimpl
        def auditkit_register_metrics(self):
            # top-1 agreement: 1 when both rules put the same system first
            return [auditkit.Metric("akt-top1", lambda a, b: float(np.nanargmax(a) == np.nanargmax(b)),
                                    "same winner", label="same winner")]

    auditkit.get_registry().register(Plugin(), "akt-metric-plugin")
    rep = auditkit.compare(str(SUPERGLUE), ["arithmetic", "harmonic", "borda"])
    table = {row["rule"]: row for row in rep.tables["agreement (same winner)"]}
    # independent: the winners printed by the same report
    winners = rep.summary["winners"]
    for a in ("arithmetic", "harmonic", "borda"):
        for b in ("arithmetic", "harmonic", "borda"):
            assert table[a][b] == float(winners[a][0] == winners[b][0])   # nanargmax: the first of tied
    assert "agreement (Kendall tau-b)" in rep.tables and "akt-top1" in rep.summary["agreement"]


def test_run_diagnostic_checks_requires_first(restore_registry):
    calls = []

    class Plugin:
        @auditkit.hookimpl
        def auditkit_register_diagnostics(self):
            return [auditkit.Diagnostic("akt-needs-nothing", lambda: calls.append(1) or auditkit.Report("ok")),
                    auditkit.Diagnostic("akt-needs-missing", lambda: calls.append(2),
                                        requires=("akt_no_such_module_xyz",))]

    auditkit.get_registry().register(Plugin(), "akt-diag-plugin")
    assert auditkit.run_diagnostic("akt-needs-nothing").title == "ok"
    with pytest.raises(auditkit.MissingDependencyError, match="akt_no_such_module_xyz"):
        auditkit.run_diagnostic("akt-needs-missing")
    assert calls == [1]                       # the diagnostic with a missing requirement never ran


def test_a_broken_rule_is_a_plugin_error_not_a_traceback(restore_registry):
    def wrong_shape(values, *, xp, weights):
        return values[:, 0][:-1]

    def raises(values, *, xp, weights):
        raise ZeroDivisionError("oops")

    def nan_out(values, *, xp, weights):
        return values[:, 0] * np.nan

    class Plugin:
        @auditkit.hookimpl
        def auditkit_register_aggregators(self):
            return [auditkit.Aggregator("akt-shape", wrong_shape), auditkit.Aggregator("akt-raise", raises),
                    auditkit.Aggregator("akt-nan", nan_out)]

    auditkit.get_registry().register(Plugin(), "akt-broken-rules")
    for name, text in (("akt-shape", "returned shape"), ("akt-raise", "ZeroDivisionError: oops"),
                       ("akt-nan", "returned NaN")):
        res = CliRunner().invoke(cli, ["rerank", str(GLUE), "--mean", name])
        assert res.exit_code == 2 and f"rule {name!r}" in res.output and text in res.output, res.output


# -- task scores that lose nothing silently (the reliability issue's bullets for this stage) -------------------------
def _glue_variant(tmp_path, edit):
    rows = list(csv.reader(GLUE.read_text(encoding="utf-8").splitlines()))
    edit(rows)
    path = tmp_path / "variant.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_an_all_missing_composite_column_lists_every_row_instead_of_crashing(tmp_path):
    def edit(rows):
        j = rows[0].index("MRPC")
        for r in rows[1:]:
            r[j] = "-"
    res = CliRunner().invoke(cli, ["rerank", str(_glue_variant(tmp_path, edit)), "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)["summary"]["rows"]
    assert len(rows) == 100 and all(r["status"] == "unscored" and "MRPC is missing" in r["reason"] for r in rows)


def test_a_text_cell_among_published_scores_is_reported_not_dropped(tmp_path):
    def edit(rows):
        rows[3][rows[0].index("Score")] = "abc"
    res = CliRunner().invoke(cli, ["rerank", str(_glue_variant(tmp_path, edit))])
    assert res.exit_code == 2 and "line 4" in res.output and "'Score'" in res.output and "'abc'" in res.output


def test_generic_columns_leave_the_task_set_only_with_a_note(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("ID,model,A,B,C\n1,m1,80,x,1\n2,m2,70,y,2\n3,m3,60,3,3\n4,m4,50,z,4\n")
    rr = auditkit.rerank(str(path), "arithmetic")
    assert rr.task_scores.tasks == ["A", "C"]          # the numeric ID column is not averaged in
    note = next(n for n in rr.all_notes() if n.startswith("columns not used as tasks"))
    assert "ID (a name, id or metadata column)" in note and "B (3 of 4 cells are text, e.g. 'x' on line 2)" in note


def test_a_cell_outside_the_declared_range_is_refused_or_kept_with_a_note(tmp_path):
    def edit(rows):
        rows[3][rows[0].index("SST-2")] = "975"        # 97.5 written without its decimal point
    path = _glue_variant(tmp_path, edit)
    for command in ("rerank", "compare"):
        res = CliRunner().invoke(cli, [command, str(path), "--mean", "arithmetic"])
        assert res.exit_code == 2 and "line 4" in res.output and "'975'" in res.output \
            and "[0, 100]" in res.output and "--out-of-range keep" in res.output, (command, res.output)
    rr = auditkit.rerank(str(path), "arithmetic", out_of_range="keep")
    assert rr.policies["out_of_range"].startswith("keep: 1 cell(s)") and "SST-2='975'" in rr.policies["out_of_range"]
    i = rr.task_scores.leaderboard.row_of("DeBERTa / TuringNLRv4")
    assert rr.task_scores.values[i, rr.task_scores.tasks.index("SST-2")] == 975.0
