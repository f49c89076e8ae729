"""Tests of the stats plugin: bootstrap kernels, rank sets, paired tests, `auditkit compare` and `significance`."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.ranking import competition_rank
from auditkit_plugins.stats import bootstrap as B
from auditkit_plugins.stats.significance import bootstrap_pvalues, paired_permutation

RAW = Path(__file__).resolve().parents[2] / "shared" / "leaderboards-raw"
SUPERGLUE = RAW / "vote_and_rank" / "leaderboards - SuperGLUE.csv"
GLUE = RAW / "benchbench-socialfoundations" / "glue-leaderboard.tsv"


def _sim(seed, n=8, k=30, spread=1.4):
    rng = np.random.default_rng(seed)
    mu = np.linspace(0, spread, n)
    values = mu[:, None] + rng.normal(size=(1, k)) + rng.normal(size=(n, k))
    return values, np.full(k, 1.0 / k), mu


# -- kernels ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_competition_ranks_match_core_tie_rule(backend):
    from auditkit.backend import get_backend

    ctx = get_backend(backend, "cpu")
    rng = np.random.default_rng(0)
    s = rng.integers(0, 6, size=(50, 12)).astype(float)
    got = np.asarray(ctx.to_numpy(B.competition_ranks(ctx.xp, ctx.asarray(s))))
    want = np.stack([competition_rank(row) for row in s])
    assert (got == want).all()


def test_seeded_and_reproducible():
    v, w, _ = _sim(1)
    a = B.bootstrap_ranks(v, w, "arithmetic", n_resamples=200, seed=5)
    b = B.bootstrap_ranks(v, w, "arithmetic", n_resamples=200, seed=5, batch=7)   # batching does not matter
    c = B.bootstrap_ranks(v, w, "arithmetic", n_resamples=200, seed=6)
    assert (a.rank_counts == b.rank_counts).all() and np.allclose(a.score_cov, b.score_cov)
    assert (a.rank_counts != c.rank_counts).any()
    assert (a.rank_counts.sum(axis=1) == 200).all() and (a.rank_counts.sum(axis=0) == 200).all()


@pytest.mark.parametrize("rule,params", [("arithmetic", {}), ("geometric", {}), ("harmonic", {}),
                                         ("power", {"p": -2.0}), ("borda", {}), ("dowdall", {}),
                                         ("winrate", {})])
def test_linear_path_equals_generic_path(rule, params):
    v, _, _ = _sim(2)
    v = np.abs(v) + 0.05
    v[0, 3] = 0.0                                   # a zero: geometric/harmonic give the limit 0
    w = np.random.default_rng(2).uniform(size=v.shape[1])
    w /= w.sum()
    fast = B.bootstrap_ranks(v, w, rule, params=params, n_resamples=150, seed=3)
    slow = B.bootstrap_ranks(v, w, rule, params=params, n_resamples=150, seed=3, force_generic=True)
    assert fast.path == "linear" and slow.path == "generic"
    assert (fast.rank_counts == slow.rank_counts).all()
    assert np.allclose(fast.score_cov, slow.score_cov, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("rule", ["arithmetic", "harmonic", "borda", "copeland", "kemeny"])
def test_torch_cpu_parity(rule):
    pytest.importorskip("torch")
    v, w, _ = _sim(3)
    v = np.abs(v) + 0.05
    a = B.bootstrap_ranks(v, w, rule, n_resamples=60, seed=4)
    b = B.bootstrap_ranks(v, w, rule, n_resamples=60, seed=4, backend="torch", device="cpu")
    # tolerance: identical resamples, so ranks are identical and moments agree to float64 rounding
    assert (a.rank_counts == b.rank_counts).all()
    assert np.allclose(a.score_cov, b.score_cov, rtol=1e-10, atol=1e-12)
    assert np.allclose(a.point_scores, b.point_scores, rtol=1e-12, atol=1e-12)


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("rule", ["arithmetic", "borda", "kemeny"])
def test_cuda_parity(rule):  # pragma: no cover - needs a GPU
    v, w, _ = _sim(3)
    a = B.bootstrap_ranks(v, w, rule, n_resamples=60, seed=4)
    b = B.bootstrap_ranks(v, w, rule, n_resamples=60, seed=4, backend="torch", device="cuda")
    assert (a.rank_counts == b.rank_counts).all()
    assert np.allclose(a.score_cov, b.score_cov, rtol=1e-9, atol=1e-12)


def test_task_counts_are_multinomial_resamples():
    counts = B.task_counts(np.random.default_rng(0), 4000, 5)
    assert (counts.sum(axis=1) == 5).all()
    assert counts.mean(axis=0) == pytest.approx(np.ones(5), abs=0.05)     # E[c_j] = 1
    assert counts.var(axis=0) == pytest.approx(np.full(5, 0.8), abs=0.06)  # Var = k p (1 - p) = 0.8


def test_intervals_and_probabilities():
    v, w, _ = _sim(4, spread=8.0)   # the last system dominates
    res = B.bootstrap_ranks(v, w, "arithmetic", n_resamples=300, seed=1)
    assert np.allclose(res.rank_probabilities.sum(axis=1), 1.0)
    ci = res.rank_intervals()
    top = int(np.argmax(res.point_scores))
    assert tuple(ci[top]) == (1, 1)
    assert res.rank_probabilities[top, 0] == 1.0
    assert (ci[:, 0] <= res.point_ranks).all() and (res.point_ranks <= ci[:, 1]).all()
    sets, _ = res.simultaneous_rank_sets()
    assert (sets[:, 0] <= res.point_ranks).all() and (res.point_ranks <= sets[:, 1]).all()


def test_holm_adjust_textbook_example():
    # hand computation of Holm's step-down: sorted p 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, running max
    assert np.allclose(B.holm_adjust(np.array([0.01, 0.04, 0.03, 0.005])), [0.03, 0.06, 0.06, 0.02])
    p = np.array([[1, 0.01, 0.04], [0.01, 1, 0.03], [0.04, 0.03, 1]])
    reject = B.holm(p, 0.05)
    # thresholds 0.05/3, 0.05/2, 0.05/1: 0.01 <= 0.0167 yes, 0.03 <= 0.025 no -> stop
    assert reject[0, 1] and reject[1, 0] and not reject[1, 2] and not reject[0, 2]


def test_simultaneous_rank_sets_keep_coverage_on_simulated_data():
    # true means known; a replication covers when every true rank lies in its set simultaneously
    n, reps, level = 6, 40, 0.9
    covered, widths = 0, []
    for rep in range(reps):
        rng = np.random.default_rng(1000 + rep)
        mu = np.linspace(0, 1.0, n)
        v = mu[:, None] + rng.normal(size=(n, 40))
        res = B.bootstrap_ranks(v, np.full(40, 1 / 40), "arithmetic", n_resamples=300, seed=rep, level=level)
        sets, _ = res.simultaneous_rank_sets()
        true_rank = competition_rank(mu)
        covered += bool(((sets[:, 0] <= true_rank) & (true_rank <= sets[:, 1])).all())
        widths.append((sets[:, 1] - sets[:, 0]).mean())
    assert covered / reps >= level - 0.1          # nominal 0.9; Monte Carlo slack for 40 replications
    assert np.mean(widths) < n - 1.5              # and the sets are informative, not [1, n]


# -- paired tests ----------------------------------------------------------------------------------------------------
def test_permutation_pvalue_matches_exact_enumeration():
    import array_api_compat.numpy as xpn

    from auditkit_plugins.means import arithmetic

    rng = np.random.default_rng(9)
    v = rng.normal(size=(3, 6)) + np.array([[0.8], [0.0], [0.3]])
    w = np.full(6, 1 / 6)
    d = v[0] - v[1]
    observed = (d * w).sum()
    exact = np.mean([abs((np.array(s) * d * w).sum()) >= abs(observed) - 1e-12
                     for s in itertools.product([1, -1], repeat=6)])          # all 64 sign flips
    obs, p = paired_permutation(v, w, arithmetic, 0, 1, n_permutations=3000, seed=1)
    assert obs == pytest.approx(observed)
    assert p == pytest.approx(exact, abs=0.03)
    # identical systems: every permutation reaches the observed difference 0, p = 1
    v[1] = v[0]
    assert paired_permutation(v, w, arithmetic, 0, 1, n_permutations=200, seed=1)[1] == 1.0


def test_bootstrap_pvalues_shift_method():
    boot = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [0.5, 0.0]])
    point = np.array([1.0, 0.0])
    # d = 1; d* - d = 0, 1, 2, -0.5; |.| >= 1 for 2 of 4 -> (1 + 2) / (1 + 4)
    assert bootstrap_pvalues(boot, point)[0, 1] == pytest.approx(3 / 5)


# -- instance-level bootstrap on a long table ---------------------------------------------------------------------------
def _long_fixture(path: Path, n_inst=120):
    """SIMULATED per-instance 0/1 correctness for 4 systems on two tasks (long format with an instance id)."""
    rng = np.random.default_rng(21)
    acc = {"sys-a": 0.9, "sys-b": 0.8, "sys-c": 0.78, "sys-d": 0.5}
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["system", "task", "instance", "value"])
        for task in ("qa", "nli"):
            difficulty = rng.uniform(-0.15, 0.15, n_inst)
            for s, a in acc.items():
                correct = rng.random(n_inst) < np.clip(a + difficulty, 0, 1)
                for i in range(n_inst):
                    w.writerow([s, task, f"{task}-{i}", int(correct[i])])
    return path


def test_instance_bootstrap_matches_direct_resampling(tmp_path):
    from auditkit.leaderboard import read_leaderboard
    from auditkit.loading import resolve_recipe
    from auditkit.taskscores import task_scores

    lb = read_leaderboard(str(_long_fixture(tmp_path / "long.csv")))
    assert lb.long_records
    ts = task_scores(lb, resolve_recipe(lb, None)[0])
    rows = np.arange(len(lb))
    inst = B.instance_data(ts, rows)
    res = B.bootstrap_ranks(ts.values, ts.weights, "arithmetic", n_resamples=50, seed=8, unit="instance",
                            instances=inst, keep_scores=True)
    # independent computation: draw the same indices and average the resampled 0/1 matrices directly
    rng = np.random.default_rng(8)
    batch = res.extra["batch"]
    first = []
    for m in inst.matrices:
        idx = rng.integers(0, m.shape[1], size=(batch, m.shape[1]))[0]
        first.append(m[:, idx].mean(axis=1))
    assert np.allclose(res.extra["scores"][0], np.mean(first, axis=0))
    slow = B.bootstrap_ranks(ts.values, ts.weights, "arithmetic", n_resamples=50, seed=8, unit="instance",
                             instances=inst, force_generic=True)
    assert (slow.rank_counts == res.rank_counts).all()
    # Borda inside the instance bootstrap re-ranks every resampled task matrix (generic path)
    g = B.bootstrap_ranks(ts.values, ts.weights, "borda", n_resamples=30, seed=8, unit="instance", instances=inst)
    assert g.path == "generic" and (g.rank_counts.sum(axis=1) == 30).all()


def test_compare_instance_unit_cli(tmp_path):
    f = _long_fixture(tmp_path / "long.csv")
    res = CliRunner().invoke(cli, ["compare", str(f), "--rules", "arithmetic,borda", "--bootstrap", "200",
                                   "--unit", "instance", "--format", "json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)["summary"]
    assert s["bootstrap"]["unit"] == "instance"
    ri = s["bootstrap"]["rank_intervals"]["arithmetic"]
    assert ri["sys-a"]["rank"] == 1 and ri["sys-d"]["interval"] == [4, 4]


def test_instance_unit_needs_long_table():
    res = CliRunner().invoke(cli, ["compare", str(SUPERGLUE), "--bootstrap", "10", "--unit", "instance"])
    assert res.exit_code == 2
    assert "instance column" in res.output


# -- compare on real leaderboards ----------------------------------------------------------------------------------------
def test_compare_superglue_real():
    res = CliRunner().invoke(cli, ["compare", str(SUPERGLUE), "--rules",
                                   "arithmetic,geometric,harmonic,borda,copeland,kemeny", "--bootstrap", "200",
                                   "--seed", "1", "--format", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    s = d["summary"]
    assert s["schema"] == "auditkit.compare/1"
    human = "SuperGLUE Human Baselines (reference)"
    # shared/reference/leaderboards.md section 4: on this snapshot humans are 4th under AM and GM, 5th under HM
    assert s["ranks"][human]["arithmetic"] == 4 and s["ranks"][human]["geometric"] == 4
    assert s["ranks"][human]["harmonic"] == 5
    # published leaderboard: ERNIE 3.0 first (Score 90.6)
    assert s["winners"]["arithmetic"] == ["ERNIE 3.0"]
    # Kendall tau-b AM vs HM equals the core rerank's value for the same rows
    from auditkit.reranking import rerank

    rr = rerank(str(SUPERGLUE), ["arithmetic", "harmonic"])
    (k,) = rr.kendall()
    assert s["kendall_tau"]["arithmetic"]["harmonic"] == pytest.approx(k["tau"])
    assert s["kendall_tau"]["borda"]["borda"] == pytest.approx(1.0)
    assert s["rank_range"][human] == [min(s["ranks"][human].values()), max(s["ranks"][human].values())]
    assert set(s["winners_any_rule"]) >= {"ERNIE 3.0", human}
    assert [human, "T5"] in s["flips"] or ["T5", human] in s["flips"]   # AM 4 vs 5, HM 5 vs 4
    assert s["kemeny"]["certified_optimal"]
    boot = s["bootstrap"]
    assert boot["n_resamples"] == 200 and human not in boot["rank_intervals"]["arithmetic"]
    ernie = boot["rank_intervals"]["arithmetic"]["ERNIE 3.0"]
    assert ernie["interval"][0] == 1 and ernie["simultaneous"][0] == 1 and 0 < ernie["p_first"] <= 1
    assert d["provenance"]["seed"] == 1
    table_names = set(d["tables"])
    assert {"ranks by rule", "agreement (Kendall tau-b)", "order flips", "rank intervals"} <= table_names


def test_compare_glue_real_and_reproducible():
    args = ["compare", str(GLUE), "--rules", "arithmetic,harmonic,borda", "--bootstrap", "100", "--seed", "3",
            "--format", "json"]
    a = json.loads(CliRunner().invoke(cli, args).output)["summary"]
    b = json.loads(CliRunner().invoke(cli, args).output)["summary"]
    assert a["bootstrap"] == b["bootstrap"]
    assert a["n_systems"] == 87
    assert a["winners"]["arithmetic"] == ["Turing ULR v6"]   # published top of this snapshot (Score 91.3)
    assert 0.8 < a["kendall_tau"]["arithmetic"]["harmonic"] < 1


def test_compare_plot_and_html(tmp_path):
    png = tmp_path / "bump.png"
    out = tmp_path / "report.html"
    res = CliRunner().invoke(cli, ["compare", str(SUPERGLUE), "--rules", "arithmetic,borda", "--plot", str(png),
                                   "--format", "html", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "data:image/png;base64," in out.read_text()
    svg = tmp_path / "bump.svg"
    res = CliRunner().invoke(cli, ["compare", str(SUPERGLUE), "--rules", "arithmetic,borda", "--plot", str(svg)])
    assert res.exit_code == 0 and svg.read_text().lstrip().startswith("<?xml")


def test_compare_bad_input():
    r = CliRunner().invoke(cli, ["compare", str(SUPERGLUE), "--rules", "arithmetic,nonsense"])
    assert r.exit_code == 2 and "nonsense" in r.output and "borda" in r.output
    r = CliRunner().invoke(cli, ["compare", str(SUPERGLUE), "--bootstrap", "-5"])
    assert r.exit_code == 2
    r = CliRunner().invoke(cli, ["compare", str(SUPERGLUE), "--plot", "x.jpg"])
    assert r.exit_code == 2 and ".png" in r.output


def test_significance_cli_pair_and_all_pairs():
    r = CliRunner().invoke(cli, ["significance", str(SUPERGLUE), "ERNIE 3.0", "CBoW", "--resamples", "500",
                                 "--permutations", "300", "--format", "json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)["summary"]
    # ERNIE beats CBoW on all 8 tasks: only flips of (nearly) no task reach the observed difference
    assert s["difference"] > 40 and s["p_permutation"] < 0.05 and s["p_bootstrap"] < 0.05
    r = CliRunner().invoke(cli, ["significance", str(SUPERGLUE), "ERNIE 3.0", "nobody"])
    assert r.exit_code == 2 and "nobody" in r.output
    r = CliRunner().invoke(cli, ["significance", str(SUPERGLUE), "--all-pairs", "--resamples", "300",
                                 "--format", "json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["summary"]["n_pairs"] == 21 * 20 // 2
    assert any(f["check"] == "significance.resolution" for f in d["findings"])   # 300 resamples are too few
    p = [row["p (Holm)"] for row in d["summary"]["pairs"]]
    assert p == sorted(p) and all(0 < x <= 1 for x in p)


def test_exact_bootstrap_covariance_matches_monte_carlo():
    # arithmetic/Borda with equal task weights use the ideal-bootstrap covariance in closed form,
    # Cov = Tc Tc' / k^2; the Monte Carlo estimate of the generic path converges to it
    v, w, _ = _sim(5, n=5, k=12)
    for rule in ("arithmetic", "borda"):
        exact = B.bootstrap_ranks(v, w, rule, n_resamples=20, seed=1)
        mc = B.bootstrap_ranks(v, w, rule, n_resamples=6000, seed=1, force_generic=True)
        assert exact.extra["covariance"].startswith("exact") and mc.extra["covariance"].startswith("Monte")
        scale = np.abs(exact.score_cov).max()
        assert np.abs(exact.score_cov - mc.score_cov).max() < 0.08 * scale


def test_compare_shows_co_optimal_kemeny_winners_and_the_csranks_sets():
    # SuperGLUE 2021 (vote_and_rank): three systems are first in some optimal Kemeny order (issue 20, checked by
    # brute force in tests/test_social_choice_kemeny.py); compare names them and they share rank 1
    import auditkit

    rep = auditkit.compare(str(SUPERGLUE), ["arithmetic", "kemeny"], bootstrap=200, seed=0)
    winners = {"ERNIE 3.0", "T5 + UDG, Single Model (Google Brain)", "DeBERTa / TuringNLRv4"}
    assert set(rep.summary["kemeny"]["possible_winners"]) == winners
    assert {w for w in rep.summary["winners"]["kemeny"] if not w.endswith("(reference)")} == winners
    assert any(f.check == "compare.kemeny" and f.severity == "warning" for f in rep.findings)
    per = rep.summary["bootstrap"]["rank_intervals"]["arithmetic"]
    for entry in per.values():
        # max-t sets are never wider than the Holm sets built from the same bootstrap covariance
        assert entry["simultaneous"][0] <= entry["max_t"][0] <= entry["rank"] <= entry["max_t"][1] \
            <= entry["simultaneous"][1]
        assert entry["max_t"][0] <= entry["marginal"][0] and entry["marginal"][1] <= entry["max_t"][1]
        assert entry["shared_rank"] <= entry["rank"]
    tops = rep.summary["bootstrap"]["top1_candidates"]["arithmetic"]
    assert "ERNIE 3.0" in tops and all(per[s]["max_t"][0] == 1 for s in tops)


def test_all_pairs_corrections_order_as_the_procedures_do():
    # Bonferroni >= Holm >= raw, BH <= Holm: the adjusted p-values of the same bootstrap (same seed)
    import auditkit

    out = {}
    for method in ("holm", "bonferroni", "bh"):
        rep = auditkit.significance(str(SUPERGLUE), rule="arithmetic", all_pairs=True, n_resamples=300, seed=0,
                                    adjust=method)
        label = {"holm": "Holm", "bonferroni": "Bonferroni", "bh": "Benjamini-Hochberg"}[method]
        assert rep.summary["correction"] == method
        out[method] = {(r["better"], r["worse"]): (r["p"], r[f"p ({label})"]) for r in rep.summary["pairs"]}
    m = len(out["holm"])
    for pair, (raw, holm) in out["holm"].items():
        assert out["bonferroni"][pair][1] == pytest.approx(min(1.0, raw * m))
        assert raw <= holm <= out["bonferroni"][pair][1] + 1e-12
        assert out["bh"][pair][1] <= holm + 1e-12
    res = CliRunner().invoke(cli, ["significance", str(SUPERGLUE), "--all-pairs", "--adjust", "fdr"])
    assert res.exit_code == 2
