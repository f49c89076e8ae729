"""Planted mismatches between a harness's reported aggregate and its instances, each explained: dropped instances,
a subset, a different filter, a sibling metric, a 0-100 scale; and one that stays unexplained."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from auditkit_plugins.instances import rescore

FIX = Path(__file__).parent / "fixtures" / "instances"
MODEL = "EleutherAI__pythia-160m"
SYSTEM = "EleutherAI/pythia-160m"


@pytest.fixture
def lmeval(tmp_path):
    dest = tmp_path / "lmeval"
    shutil.copytree(FIX / "lmeval", dest)
    return dest


def results_file(root):
    return next((root / MODEL).glob("results_*.json"))


def samples_file(root, task):
    return next((root / MODEL).glob(f"samples_{task}_*.jsonl"))


def edit_results(root, fn):
    f = results_file(root)
    doc = json.loads(f.read_text())
    fn(doc)
    f.write_text(json.dumps(doc))


def finding(result, task, metric):
    hits = [f for f in result.findings if f.system == SYSTEM and f.column == f"{task}/{metric}"
            and f.check == "instances.reported"]
    assert len(hits) == 1, [f.message for f in result.findings]
    return hits[0]


def arc_values(root, metric="acc"):
    return [json.loads(line)[metric] for line in samples_file(root, "arc_easy").open()]


def test_dropped_instances_are_explained_with_the_implied_mean(lmeval):
    f = samples_file(lmeval, "arc_easy")
    lines = f.read_text().splitlines()
    f.write_text("\n".join(lines[:10] + lines[13:]) + "\n")          # drop 3 of 40 instances
    result = rescore(lmeval, progress=False)
    got = finding(result, "arc_easy", "acc")
    assert got.evidence["explanation"] == "missing instances"
    assert got.severity == "error"
    assert got.evidence["missing"] == 3 and got.evidence["n_instances"] == 37
    dropped = [json.loads(x)["acc"] for x in lines[10:13]]
    assert got.evidence["implied_missing_mean"] == pytest.approx(sum(dropped) / 3, abs=1e-12)


def test_subset_reported_is_found_at_the_first_n_instances(lmeval):
    vals = arc_values(lmeval)

    def plant(doc):
        doc["results"]["arc_easy"]["acc,none"] = sum(vals[:25]) / 25
        doc["n-samples"]["arc_easy"]["effective"] = 25

    edit_results(lmeval, plant)
    got = finding(rescore(lmeval, progress=False), "arc_easy", "acc")
    assert got.evidence["explanation"] == "subset evaluated"
    assert got.evidence["subset_n"] == 25


def test_limit_run_is_reproduced_on_a_subset_with_a_warning(lmeval):
    f = samples_file(lmeval, "arc_easy")
    lines = f.read_text().splitlines()[:10]
    f.write_text("\n".join(lines) + "\n")
    vals = [json.loads(x) for x in lines]

    def plant(doc):
        doc["config"]["limit"] = 10
        doc["results"]["arc_easy"]["acc,none"] = sum(v["acc"] for v in vals) / 10
        doc["results"]["arc_easy"]["acc_norm,none"] = sum(v["acc_norm"] for v in vals) / 10
        doc["n-samples"]["arc_easy"]["effective"] = 10

    edit_results(lmeval, plant)
    got = finding(rescore(lmeval, progress=False), "arc_easy", "acc")
    assert got.severity == "warning"
    assert got.evidence["explanation"] == "reproduced on a subset"
    assert "10 of 40" in got.message and "--limit 10" in got.message


def test_wrong_filter_is_named(lmeval):
    def plant(doc):
        r = doc["results"]["gsm8k"]
        r["exact_match,strict-match"] = r["exact_match,flexible-extract"]

    edit_results(lmeval, plant)
    got = finding(rescore(lmeval, progress=False), "gsm8k", "exact_match,strict-match")
    assert got.evidence["explanation"] == "different filter"
    assert got.evidence["matches"] == "exact_match,flexible-extract"


def test_acc_norm_reported_as_acc_is_a_different_metric(lmeval):
    def plant(doc):
        doc["results"]["arc_easy"]["acc,none"] = doc["results"]["arc_easy"]["acc_norm,none"]

    edit_results(lmeval, plant)
    got = finding(rescore(lmeval, progress=False), "arc_easy", "acc")
    assert got.evidence["explanation"] == "different metric"
    assert got.evidence["matches"] == "acc_norm"


def test_published_table_on_a_0_100_scale_with_rounding(lmeval, tmp_path):
    vals = arc_values(lmeval)
    pub = tmp_path / "published.csv"
    pub.write_text("system,task,metric,value\n"
                   f"{SYSTEM},arc_easy,acc,{100 * sum(vals) / len(vals):.1f}\n"
                   f"{SYSTEM},arc_easy,acc_norm,0.99\n")
    result = rescore(lmeval, reported=pub, progress=False)
    rows = [r for r in result.comparison if r["source"] == str(pub)]
    assert [r["status"] for r in rows] == ["normalization", "unexplained"]


def test_an_unexplained_mismatch_is_an_error_and_the_rest_still_reproduce(lmeval):
    edit_results(lmeval, lambda doc: doc["results"]["arc_easy"].__setitem__("acc,none", 0.123456))
    result = rescore(lmeval, progress=False)
    got = finding(result, "arc_easy", "acc")
    assert got.evidence["explanation"] == "unexplained" and got.severity == "error"
    statuses = [r["status"] for r in result.comparison]
    assert statuses.count("reproduced") == len(statuses) - 1
    assert result.report().exit_code("error") == 1


def test_inspect_sample_dropped_from_a_json_log(tmp_path):
    src = json.loads((FIX / "inspect" / "sys-a.json").read_text())
    src["samples"] = [s for s in src["samples"] if s["id"] != "q05"]   # both epochs of one question
    p = tmp_path / "sys-a.json"
    p.write_text(json.dumps(src))
    result = rescore(p, progress=False)
    (row,) = result.comparison
    assert row["status"] == "missing instances"
    assert row["n"] == 11 and row["n_reported"] == 12


def test_inspect_stderr_is_compared(tmp_path):
    # Inspect's stderr for accuracy is sqrt(var/n) over the epoch-reduced sample scores: recomputed, no finding
    result = rescore(FIX / "inspect", progress=False)
    assert not [f for f in result.findings if f.check == "instances.stderr"]
    src = json.loads((FIX / "inspect" / "sys-a.json").read_text())
    src["results"]["scores"][0]["metrics"]["stderr"]["value"] = 0.5
    p = tmp_path / "sys-a.json"
    p.write_text(json.dumps(src))
    (f,) = [f for f in rescore(p, progress=False).findings if f.check == "instances.stderr"]
    assert f.evidence["reported_stderr"] == 0.5


def test_instance_checks_are_records_with_applies_to_instances(lmeval):
    import auditkit
    from auditkit.testing import check_check

    from auditkit_plugins.instances import read_instances
    from auditkit_plugins.instances.checks import InstancesContext

    checks = auditkit.get_registry().records("checks")
    for name in ("instances.reported", "instances.stderr"):
        assert checks[name].applies_to == "instances" and checks[name].default
    edit_results(lmeval, lambda doc: doc["results"]["arc_easy"].__setitem__("acc,none", 0.123456))
    res = rescore(lmeval, progress=False, pairs=False)
    ctx = InstancesContext(read_instances(lmeval), res.scores, res.pairs, res.suff, res.instances.reported)
    got = check_check(checks["instances.reported"], ctx)["findings"]
    assert [f["evidence"]["explanation"] for f in got] == ["unexplained"]
    assert "reported vs recomputed" in ctx.tables
    # only the named checks run
    assert not rescore(lmeval, progress=False, pairs=False, checks=["instances.stderr"]).comparison


def test_a_third_party_instance_check_runs_and_a_crash_is_contained(monkeypatch):
    import auditkit
    from auditkit.registry import Registry

    def few_instances(ctx):
        return [auditkit.Finding("akt.few", "warning", f"{s.task}: only {s.n} instances", system=s.system)
                for s in ctx.scores if s.n < 20]

    def broken(ctx):
        raise RuntimeError("boom")

    class Plugin:
        @auditkit.hookimpl
        def auditkit_register_checks(self):
            return [auditkit.Check("akt.few", few_instances, "tasks with few instances", applies_to="instances"),
                    auditkit.Check("akt.broken", broken, "always raises", applies_to="instances"),
                    auditkit.Check("akt.table", broken, "a table check: not run by rescore")]

    reg = Registry()
    reg.register(Plugin(), "akt-instances")
    monkeypatch.setattr(auditkit, "get_registry", lambda: reg)
    res = rescore(FIX / "inspect", progress=False)
    by_check = {}
    for f in res.findings:
        by_check.setdefault(f.check, []).append(f)
    assert len(by_check["akt.few"]) == 3                       # 12 instances per system
    (crash,) = by_check["akt.broken"]
    assert crash.severity == "error" and "RuntimeError: boom" in crash.message
    assert "akt.table" not in by_check
    assert [r["status"] for r in res.comparison] == ["reproduced"] * 3   # the built-in checks still ran


def test_lmeval_nested_group_rows_and_a_group_missing_a_metric(lmeval):
    f = results_file(lmeval)
    doc = json.loads(f.read_text())
    em = doc["results"]["gsm8k"]["exact_match,strict-match"]
    # "reasoning" = arc_easy + the nested group "math" (= gsm8k); lm-eval lists standalone tasks with []
    doc["group_subtasks"] = {"reasoning": ["arc_easy", "math"], "math": ["gsm8k"], "arc_easy": [], "gsm8k": [],
                             "cola": []}
    doc["groups"] = {"math": {"alias": "math", "exact_match,strict-match": em},
                     "reasoning": {"alias": "reasoning", "acc,none": 0.5}}
    f.write_text(json.dumps(doc))
    result = rescore(lmeval, progress=False, pairs=False)
    rows = {(r["system"], r["task"], r["metric"]): r for r in result.comparison}
    assert rows[(SYSTEM, "math", "exact_match,strict-match")]["status"] == "reproduced"
    assert rows[(SYSTEM, "reasoning", "acc")]["status"] == "no instances"   # gsm8k has no acc


def test_lmeval_size_weighted_group_is_recognized(lmeval):
    f = results_file(lmeval)
    doc = json.loads(f.read_text())
    doc["group_subtasks"] = {"both": ["arc_easy", "gsm8k"], "arc_easy": [], "gsm8k": [], "cola": []}
    a = doc["results"]["arc_easy"]["acc_norm,none"]
    # pretend gsm8k carried acc_norm too: write its samples' exact_match as acc_norm
    sf = samples_file(lmeval, "gsm8k")
    lines = []
    for line in sf.read_text().splitlines():
        rec = json.loads(line)
        if rec["filter"] == "flexible-extract":
            rec["filter"], rec["metrics"], rec["acc_norm"] = "none", ["acc_norm"], rec.pop("exact_match")
        lines.append(json.dumps(rec))
    sf.write_text("\n".join(lines) + "\n")
    g = doc["results"]["gsm8k"]["exact_match,flexible-extract"]
    doc["groups"] = {"both": {"acc_norm,none": (a * 40 + g * 30) / 70}}
    f.write_text(json.dumps(doc))
    rows = {(r["system"], r["task"], r["metric"]): r for r in rescore(lmeval, progress=False).comparison}
    assert rows[(SYSTEM, "both", "acc_norm")]["status"] == "reproduced (size-weighted)"
    doc["groups"]["both"]["acc_norm,none"] = (a + g) / 2
    f.write_text(json.dumps(doc))
    rows = {(r["system"], r["task"], r["metric"]): r for r in rescore(lmeval, progress=False).comparison}
    assert rows[(SYSTEM, "both", "acc_norm")]["status"] == "reproduced"
    doc["groups"]["both"]["acc_norm,none"] = 0.01
    f.write_text(json.dumps(doc))
    res = rescore(lmeval, progress=False)
    rows = {(r["system"], r["task"], r["metric"]): r for r in res.comparison}
    assert rows[(SYSTEM, "both", "acc_norm")]["status"] == "unexplained"
    (fd,) = [x for x in res.findings if x.column == "both/acc_norm"]
    assert fd.evidence["size_weighted"] == pytest.approx((a * 40 + g * 30) / 70)
