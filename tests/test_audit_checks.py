"""The audit checks on the real GLUE / SuperGLUE / XTREME snapshots and on constructed cases.

Golden facts come from ../shared/reference/leaderboards.md (cited per test as "ref §x"); constructed numbers are
computed in the test from the real ERNIE row of the vote_and_rank GLUE snapshot by the rule named beside them.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from auditkit.errors import UsageError
from auditkit import audit
from auditkit_plugins.audit.context import build_context

RAW = Path(__file__).resolve().parents[2] / "shared" / "leaderboards-raw"
GLUE_VR = RAW / "vote_and_rank" / "leaderboards - GLUE.csv"
GLUE_RNS = RAW / "RankingNLPSystems" / "data-glue.data.csv"
GLUE_SF = RAW / "benchbench-socialfoundations" / "glue-leaderboard.tsv"
SG_VR = RAW / "vote_and_rank" / "leaderboards - SuperGLUE.csv"
SG_RNS = RAW / "RankingNLPSystems" / "data-superglue.data.csv"
SG_SF = RAW / "benchbench-socialfoundations" / "superglue-leaderboard.tsv"
XTREME = RAW / "RankingNLPSystems" / "data-xtrem.data.csv"
VALUE = RAW / "vote_and_rank" / "leaderboards - VALUE.csv"
SNAPSHOTS = [GLUE_VR, GLUE_RNS, GLUE_SF, SG_VR, SG_RNS, SG_SF]

GLUE_HEADER = "Rank,Name,Model,URL,Score,CoLA,SST-2,MRPC,STS-B,QQP,MNLI-m,MNLI-mm,QNLI,RTE,WNLI,AX"
# the real ERNIE row of the vote_and_rank GLUE snapshot, without its Score
ERNIE = ["1", "ERNIE Team - Baidu", "ERNIE", "", None, "75.5", "97.8", "93.9/91.8", "93.0/92.6", "75.2/90.9", "92.3",
         "91.7", "97.3", "92.6", "95.9", "51.7"]


@functools.lru_cache(maxsize=None)
def report(path, checks=None, **kw):
    return audit(str(path), checks=list(checks) if checks else None, **kw)


def of(rep, check, severity=None):
    return [f for f in rep.findings if f.check == check and (severity is None or f.severity == severity)]


def write_glue(tmp_path, score, name="x.csv", extra_rows=()):
    row = list(ERNIE)
    row[4] = score
    lines = [GLUE_HEADER, ",".join(row), *extra_rows]
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def ernie_tasks(first_only=False, split=False, diag=False):
    """ERNIE's task terms by an explicit rule: pairs averaged (or first metric), MNLI merged (or split)."""
    pair = (lambda a, b: a) if first_only else (lambda a, b: (a + b) / 2)
    terms = [75.5, 97.8, pair(93.9, 91.8), pair(93.0, 92.6), pair(75.2, 90.9)]
    terms += [92.3, 91.7] if split else [(92.3 + 91.7) / 2]
    terms += [97.3, 92.6, 95.9] + ([51.7] if diag else [])
    return terms


# -- published-score ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", SNAPSHOTS + [XTREME], ids=lambda p: p.parent.name + "/" + p.name)
def test_no_false_alarm_from_rounding(path):
    # ref §3.9: recomputing from displayed 1-decimal cells is off by up to ~0.06 (GLUE/SuperGLUE), 0.07 (XTREME)
    rep = report(path, ("published-score",))
    stats = rep.summary["published-score"]
    assert stats["unexplained"] == 0
    assert not of(rep, "published-score", "error")
    assert stats["exact"] + stats["rounding"] + stats["explained"] == stats["compared"]
    assert 0.0 < stats["max_abs_difference_when_consistent"] <= 0.07
    # only MaChAmp (GLUE) needs an explanation; SuperGLUE and XTREME need none
    expected_explained = 1 if path in (GLUE_VR, GLUE_RNS) else 0
    assert stats["explained"] == expected_explained


def test_rounding_cases_are_counted_not_reported():
    # ref §1.2: SuperGLUE WARP 48.7 vs recomputed 48.756 is rounding
    rep = report(SG_VR, ("published-score",))
    assert rep.summary["published-score"]["rounding"] >= 1
    assert not of(rep, "published-score")


def test_machamp_nan_scored_zero_vote_and_rank():
    # ref §1.1: STS-B 'NaN/99.8', Score 67.6 = 608.65/9 with STS-B scored 0; NaN ignored -> (608.65 + 99.8)/9
    rep = report(GLUE_VR, ("published-score",))
    (f,) = of(rep, "published-score")
    assert f.severity == "warning" and "MaChAmp" in f.system and f.column == "STS-B"
    assert f.evidence["classification"] == "explained" and f.evidence["variant"] == "nan-pair-zero"
    assert f.evidence["recomputed"] == pytest.approx(608.65 / 9, abs=1e-9)
    assert f.evidence["if_nan_ignored"] == pytest.approx((608.65 + 99.8) / 9, abs=1e-9)
    assert "NaN" in f.message and "scored as 0" in f.message


def test_machamp_zero_shown_for_nan_ranking_nlp_systems():
    # PROVENANCE (RankingNLPSystems): MaChAmp STS-B '00.0/99.8' where the leaderboard showed 'NaN/99.8'
    rep = report(GLUE_RNS, ("published-score",))
    (f,) = of(rep, "published-score")
    assert f.severity == "warning" and "MaChAmp" in f.system
    assert f.evidence["variant"] == "zero-as-nan-pair-zero"
    assert f.evidence["variant_score"] == pytest.approx(608.65 / 9, abs=1e-9)
    assert f.evidence["recomputed"] == pytest.approx((608.65 + (0.0 + 99.8) / 2) / 9, abs=1e-9)
    assert "NaN shown as 0.0" in f.message


def test_mnli_two_tasks_variant_is_named(tmp_path):
    # ref §1.1: ERNIE 9-task 91.089 -> 91.1 shown; 10 columns (MNLI split) 91.18 -> write 91.2
    ten = np.mean(ernie_tasks(split=True))
    assert ten == pytest.approx(91.18, abs=0.005)
    rep = audit(str(write_glue(tmp_path, f"{ten:.1f}")), checks=["published-score"])
    (f,) = of(rep, "published-score")
    assert f.severity == "warning" and f.evidence["variant"] == "split-columns"
    assert "MNLI counted as 2 tasks" in f.message


def test_diagnostic_included_variant_is_named(tmp_path):
    ten = np.mean(ernie_tasks(diag=True))  # 9 official tasks + AX, /10
    rep = audit(str(write_glue(tmp_path, f"{ten:.2f}")), checks=["published-score"])
    (f,) = of(rep, "published-score")
    assert f.evidence["variant"] == "diagnostics-included" and "diagnostic column included (AX)" in f.message


def test_first_metric_only_variant_is_named(tmp_path):
    v = np.mean(ernie_tasks(first_only=True))
    rep = audit(str(write_glue(tmp_path, f"{v:.2f}")), checks=["published-score"])
    (f,) = of(rep, "published-score")
    assert f.evidence["variant"] == "first-metric-only"


def test_unexplained_mismatch_is_an_error(tmp_path):
    rep = audit(str(write_glue(tmp_path, "92.1")), checks=["published-score"])  # real 91.1, one digit mistyped
    (f,) = of(rep, "published-score")
    assert f.severity == "error" and f.evidence["classification"] == "unexplained"
    assert f.evidence["recomputed"] == pytest.approx(np.mean(ernie_tasks()), abs=1e-9)
    assert rep.exit_code("error") == 1


def test_honest_rounding_at_the_edge_is_not_flagged(tmp_path):
    # the 9-task mean is 91.0889; a displayed 91.1 or 91.0 both lie within the interval overlap (cells +-0.05)
    for shown in ("91.1", "91.0"):
        rep = audit(str(write_glue(tmp_path, shown)), checks=["published-score"])
        assert not of(rep, "published-score"), shown


def test_missing_task_with_published_score_is_reported(tmp_path):
    row = list(ERNIE)
    row[4], row[12] = "91.1", "-"
    p = tmp_path / "m.csv"
    p.write_text(GLUE_HEADER + "\n" + ",".join(row) + "\n", encoding="utf-8")
    rep = audit(str(p), checks=["published-score"])
    (f,) = of(rep, "published-score")
    assert f.severity == "warning" and "QNLI is missing" in f.message


# -- nonpositive-values -------------------------------------------------------------------------------------------
def test_nonpositive_values_glue():
    # ref §3.2: AX has -10.3 and 0.0; CoLA has 0.0 for CBOW, Skip-Thought and several low submissions
    rep = report(GLUE_VR, ("nonpositive-values",))
    fs = of(rep, "nonpositive-values")
    ax_neg = [f for f in fs if f.evidence["task"] == "AX" and f.evidence["kind"] == "negative"]
    assert len(ax_neg) == 3 and all(f.system == "RefBERT" for f in ax_neg)
    cola = {f.system for f in fs if f.evidence["task"] == "CoLA"}
    assert {"CBOW", "Skip-Thought"} <= cola and len(cola) == 10
    assert all(f.severity == "info" for f in fs)  # no geometric/harmonic mean requested


def test_nonpositive_values_warn_when_gm_requested():
    rep = report(GLUE_VR, ("nonpositive-values",), means=("geometric",))
    fs = of(rep, "nonpositive-values")
    assert all(f.severity == "warning" for f in fs if f.evidence.get("task") == "CoLA")
    # AX is a diagnostic outside the official set: stays info
    assert all(f.severity == "info" for f in fs if f.evidence.get("task") == "AX")


def test_nonpositive_values_superglue_axb():
    # ref §3.2: AX-b has -0.4 (ADAPET, CBoW, WARP in the vote_and_rank snapshot)
    rep = report(SG_VR, ("nonpositive-values",))
    neg = {f.system for f in of(rep, "nonpositive-values") if f.evidence["task"] == "AX-b"
           and f.evidence["kind"] == "negative"}
    assert {"CBoW", "ADAPET (ALBERT) - few-shot", "WARP (ALBERT-XXL-V2) - Few-Shot (32 Examples)"} == neg


# -- missing-values -----------------------------------------------------------------------------------------------
def test_human_ax_copied_from_superglue():
    # ref §3.1: vote_and_rank shows 76.6 (= SuperGLUE human AX-b, probably copied); the leaderboard shows '-'
    rep = report(GLUE_VR, ("missing-values",))
    (f,) = [f for f in of(rep, "missing-values") if f.evidence.get("kind") == "imputed"]
    assert f.severity == "warning" and f.system == "GLUE Human Baselines" and f.column == "AX"
    assert "76.6" in f.message and "SuperGLUE human AX-b" in f.message


def test_human_ax_zero_imputed_and_machamp_with_compare_with():
    # ref §3.1: RankingNLPSystems human AX = 0; PROVENANCE: MaChAmp '00.0/99.8' vs leaderboard 'NaN/99.8'
    rep = audit(str(GLUE_RNS), checks=["missing-values"], compare_with=[str(GLUE_VR), str(GLUE_SF)])
    imputed = {f.evidence["task"]: f for f in of(rep, "missing-values") if f.evidence.get("kind") == "imputed"}
    assert set(imputed) == {"AX", "STS-B"}
    ax = imputed["AX"]
    assert "Human" in ax.system and "a 0 standing for a missing value" in ax.message
    assert any(s.get("snapshot", "").endswith("glue-leaderboard.tsv") and s["shows"] == "'-'"
               for s in ax.evidence["sources"])
    sts = imputed["STS-B"]
    assert "MaChAmp" in sts.system and sts.evidence["sources"][0]["raw"] == "NaN/99.8"


def test_missing_values_no_imputation_on_socialfoundations():
    rep = report(GLUE_SF, ("missing-values",))
    assert not [f for f in of(rep, "missing-values") if f.evidence.get("kind") == "imputed"]


def test_missing_tasks_without_score_and_unranked_rows():
    # ref §3.5: XLNet/ALBERT ensembles have QNLI '-' and no Score; ref §3.4: GLUE-paper baselines without Rank
    rep = report(GLUE_VR, ("missing-values",))
    qnli = {f.system for f in of(rep, "missing-values") if f.evidence.get("missing_tasks") == ["QNLI"]}
    assert qnli == {"XLNet (ensemble)", "ALBERT (Ensemble)"}
    unranked = [f for f in of(rep, "missing-values") if f.message.startswith("not ranked")]
    assert {"CBOW", "Skip-Thought", "BiLSTM"} <= {f.system for f in unranked}
    nan = [f for f in of(rep, "missing-values") if "NaN" in f.message]
    assert len(nan) == 1 and "MaChAmp" in nan[0].system


def test_superglue_snorkel_and_outside_best():
    # ref §3.4-3.5: 'Outside Best' (unranked, no Score) and Snorkel (Rank '-', BoolQ '-')
    rep = report(SG_VR, ("missing-values",))
    by = {}
    for f in of(rep, "missing-values"):
        by.setdefault(f.system, []).append(f.message)
    assert any("not ranked" in m for m in by["Snorkel [SuperGLUE v1.9]"])
    assert any(m.startswith("BoolQ") for m in by["Snorkel [SuperGLUE v1.9]"])
    assert any("not ranked" in m for m in by["Outside Best"])


# -- duplicate-systems --------------------------------------------------------------------------------------------
def test_duplicates_refbert_and_force_sem():
    # ref §3.4: 4 RefBERT rows, force_SEM x3
    rep = report(GLUE_VR, ("duplicate-systems",))
    groups = {f.system: f for f in of(rep, "duplicate-systems")}
    assert len(groups["RefBERT"].evidence["lines"]) == 4
    assert len(groups["force_SEM"].evidence["lines"]) == 3
    assert set(groups["RefBERT"].evidence["differing_tasks"]) == {"CoLA", "QQP", "AX"}
    assert all(f.severity == "warning" for f in groups.values())


def test_duplicates_numbered_names_ranking_nlp_systems():
    # RankingNLPSystems numbers repeated names ('Haiqin Yang | RefBERT | 2'); '1' alone is another model
    rep = report(GLUE_RNS, ("duplicate-systems",))
    refbert = [f for f in of(rep, "duplicate-systems") if "RefBERT" in f.system]
    assert len(refbert) == 1 and len(refbert[0].evidence["lines"]) == 4
    assert not [f for f in of(rep, "duplicate-systems") if "gao jie" in f.system]


def test_identical_results_under_different_names(tmp_path):
    row2 = list(ERNIE)
    row2[1], row2[2], row2[4] = "Other team", "ERNIE copy", "91.1"
    p = write_glue(tmp_path, "91.1", extra_rows=[",".join(row2)])
    rep = audit(str(p), checks=["duplicate-systems"])
    (f,) = of(rep, "duplicate-systems")
    assert "identical results" in f.message


# -- constant-predictor -------------------------------------------------------------------------------------------
def test_constant_predictor_superglue():
    # ref §3.3: AX-g 100.0/50.0, AX-b -0.4, MultiRC 0.0/0.5, ReCoRD 14.0/13.6
    rep = report(SG_VR, ("constant-predictor",))
    by = {f.system: {s["task"] for s in f.evidence["signatures"]} for f in of(rep, "constant-predictor")}
    assert by["CBoW"] == {"AX-g", "AX-b", "MultiRC", "ReCoRD"}
    assert by["WARP (ALBERT-XXL-V2) - Few-Shot (32 Examples)"] == {"AX-g", "AX-b", "MultiRC", "ReCoRD"}
    assert by["Most Frequent Class"] == {"AX-g"}
    assert "ERNIE 3.0" not in by


def test_constant_predictor_glue_placeholders():
    # ref §3.3: STS-B 61.2/58.7, QQP 51.4/79.1, QNLI 50.4, MNLI 56/56.4
    rep = report(GLUE_VR, ("constant-predictor",))
    by = {f.system: {s["task"] for s in f.evidence["signatures"]} for f in of(rep, "constant-predictor")}
    assert by["wonker"] == {"STS-B", "QQP", "QNLI", "MNLI"}
    assert "ERNIE" not in by and all(f.severity == "warning" for f in of(rep, "constant-predictor"))


# -- scale-mismatch -----------------------------------------------------------------------------------------------
def test_scale_mismatch_value_cider():
    # ref §1.3: VALUE mixes CIDEr (YC2C up to 143.17) with 0-100 metrics
    rep = report(VALUE, ("scale-mismatch",))
    (f,) = of(rep, "scale-mismatch")
    assert f.column == "YC2C" and f.evidence["max"] == pytest.approx(143.17)


def test_scale_mismatch_none_on_glue_superglue():
    for path in SNAPSHOTS:
        assert not of(report(path, ("scale-mismatch",)), "scale-mismatch"), path


def test_scale_mismatch_constructed(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("model,acc,f1,rate,loss\na,81.0,75.0,0.8,2.1\nb,70.5,66.0,0.7,2.9\n", encoding="utf-8")
    rep = audit(str(p), checks=["scale-mismatch"])
    msgs = [f.message for f in of(rep, "scale-mismatch")]
    assert any("0-1 scale" in m and m.startswith("rate") for m in msgs)
    assert any("mixed directions" in m and "loss" in m for m in msgs)


# -- human-baseline -----------------------------------------------------------------------------------------------
def _ranks(rep):
    return {(r["task_set"], r["mean"]): r["rank"] for r in rep.tables["human baseline"]}


def test_human_baseline_glue_official():
    # ref §4: official task set, vote_and_rank: humans 16th on GLUE under AM/GM/HM (AX has negative cells: GM/HM
    # over it need a policy)
    rep = report(GLUE_VR, ("human-baseline",), negatives="exclude-row")
    r = _ranks(rep)
    assert [r[("official", m)] for m in ("arithmetic", "geometric", "harmonic")] == [16, 16, 16]
    # with AX the human row uses the copied 76.6 (ref §3.1): every such row says so
    diag = [row for row in rep.tables["human baseline"] if row["task_set"] == "official+diagnostics"]
    assert len(diag) == 3 and all("AX 76.6" in row["note"] for row in diag)


def test_human_baseline_superglue():
    # ref §4: SuperGLUE 4th (AM, GM), 5th (HM); with the diagnostics humans are 1st under all three means when the
    # rows with a negative AX-b are left out (the reference's reading)
    rep = report(SG_VR, ("human-baseline",), negatives="exclude-row")
    r = _ranks(rep)
    assert [r[("official", m)] for m in ("arithmetic", "geometric", "harmonic")] == [4, 4, 5]
    assert [r[("official+diagnostics", m)] for m in ("arithmetic", "geometric", "harmonic")] == [1, 1, 1]
    (w,) = of(rep, "human-baseline", "warning")
    assert "depends on the choice of columns" in w.message
    infos = [f for f in of(rep, "human-baseline", "info") if f.evidence["task_set"][-1] == "AX-g"]
    assert all("'humans still first' holds" in f.message for f in infos)


def test_human_baseline_refuses_negatives_by_default_like_every_command():
    # one --negatives vocabulary and default (refuse): GM/HM over AX-b (negative cells) are not computed, and the
    # finding says which policy would compute them; AM needs no policy and is computed
    rep = report(SG_VR, ("human-baseline",))
    rows = {(r["task_set"], r["mean"]): r for r in rep.tables["human baseline"]}
    assert rows[("official+diagnostics", "arithmetic")]["rank"] == 1
    for mean in ("geometric", "harmonic"):
        row = rows[("official+diagnostics", mean)]
        assert row["rank"] is None and "--negatives rescale" in row["note"] and "AX-b" in row["note"]


def test_human_baseline_negative_policy_is_stated():
    # with AX-b rescaled from [-100, 100] to [0, 100] the human lead shrinks: ERNIE 3.0 passes under HM
    rep = report(SG_VR, ("human-baseline",), negatives="rescale")
    row = next(r for r in rep.tables["human baseline"]
               if r["task_set"] == "official+diagnostics" and r["mean"] == "harmonic")
    assert row["rank"] == 2 and "rescale" in row["note"]
    assert rep.provenance["negatives"] == "rescale"


def test_anshuman_is_not_a_human_baseline():
    ctx = build_context(str(GLUE_VR))
    assert any("Anshuman" in (t or "") for t in ctx.leaderboard.teams())  # three rows by 'Anshuman Singh'
    assert [ctx.systems[i] for i in np.flatnonzero(ctx.reference_rows())] == ["GLUE Human Baselines"]


def test_bad_negative_policy():
    with pytest.raises(UsageError, match="negative-value policy"):
        build_context(str(GLUE_VR), negatives="clip")


def test_bert_plus_plus_is_not_a_duplicate_of_bert():
    # SuperGLUE vote_and_rank lists 'BERT++' (rank 18) and the unranked baseline 'BERT': two systems
    assert not of(report(SG_VR, ("duplicate-systems",)), "duplicate-systems")
