"""Paired statistics, multiple-comparison control, Miller's noise split, corpus metrics and the streamed bootstrap,
each against an independent computation."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pyarrow as pa
import pytest

from auditkit_plugins.instances import bootstrap, drivers, rescore
from auditkit_plugins.instances.resampling import bootstrap_matrix
from auditkit_plugins.instances.pairstats import MDE_FACTOR, benjamini_hochberg, holm
from auditkit_plugins.instances.synthetic import make_matrix
from auditkit_plugins.instances.table import InstanceSet, conform


def long_table(X, *, task="t", metric="acc", samples=None, names=None):
    """A long InstanceSet from a systems x instances matrix (or systems x instances x samples)."""
    X = np.asarray(X, float)
    names = names or [f"s{i}" for i in range(X.shape[0])]
    cols = {"system": [], "task": [], "metric": [], "instance": [], "value": [], "sample": []}
    for s, i in itertools.product(range(X.shape[0]), range(X.shape[1])):
        for k in range(X.shape[2] if X.ndim == 3 else 1):
            cols["system"].append(names[s])
            cols["task"].append(task)
            cols["metric"].append(metric)
            cols["instance"].append(f"i{i:05d}")
            cols["value"].append(X[s, i, k] if X.ndim == 3 else X[s, i])
            cols["sample"].append(k if X.ndim == 3 else None)
    t = conform(pa.table({k: pa.array(v, type=pa.int64() if k == "sample" else None) for k, v in cols.items()}))
    return InstanceSet(t, nbytes=1, has_sample=X.ndim == 3)


def test_paired_and_unpaired_se_match_direct_formulas():
    X = make_matrix(4, 500, seed=3, kind="float")
    res = rescore(long_table(X), engine="numpy", progress=False)
    for p in res.pairs:
        a, b = int(p.system_a[1:]), int(p.system_b[1:])
        d = X[a] - X[b]
        assert p.difference == pytest.approx(d.mean(), abs=1e-14)
        assert p.se_paired == pytest.approx(d.std(ddof=1) / math.sqrt(500), abs=1e-14)
        assert p.se_unpaired == pytest.approx(math.sqrt(X[a].var(ddof=1) / 500 + X[b].var(ddof=1) / 500), abs=1e-14)
        assert p.correlation == pytest.approx(np.corrcoef(X[a], X[b])[0, 1], abs=1e-10)
        assert p.mde80 == pytest.approx(2.8015852 * p.se_paired, rel=1e-7)
        from scipy.stats import norm

        assert p.p == pytest.approx(2 * norm.sf(abs(p.difference / p.se_paired)), rel=1e-10)


def test_pairing_shrinks_the_se_when_instance_difficulty_is_shared():
    res = rescore(long_table(make_matrix(2, 5000, seed=4)), progress=False)
    (p,) = res.pairs
    assert p.correlation > 0.2 and p.se_paired < 0.95 * p.se_unpaired


def test_mde_factor_is_z975_plus_z80():
    from scipy.stats import norm

    assert MDE_FACTOR == pytest.approx(norm.ppf(0.975) + norm.ppf(0.8), abs=1e-12)


def brute_holm(p):
    m = len(p)
    order = np.argsort(p)
    out = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def brute_bh(p):
    m = len(p)
    return np.array([min(1.0, min(p[j] * m / (sorted(p).index(p[j]) + 1 + sum(1 for x in p if x == p[j]) - 1)
                                  for j in range(m) if p[j] >= p[i])) for i in range(m)])


@pytest.mark.parametrize("seed", range(5))
def test_holm_and_bh_against_their_definitions(seed):
    p = np.random.default_rng(seed).uniform(0, 0.2, 12)
    np.testing.assert_allclose(holm(p), brute_holm(p), atol=1e-15)
    np.testing.assert_allclose(benjamini_hochberg(p), brute_bh(p), atol=1e-15)
    assert (benjamini_hochberg(p) <= holm(p) + 1e-15).all()


def test_adjusted_p_values_are_per_task_family():
    X = make_matrix(4, 300, seed=5)
    two = long_table(X, task="a")
    two = two.merge(long_table(X, task="b"))
    res = rescore(two, progress=False)
    fam = [p.p_holm for p in res.pairs if p.task == "a"]
    assert len(fam) == 6 and fam == [p.p_holm for p in res.pairs if p.task == "b"]
    np.testing.assert_allclose(fam, holm(np.array([p.p for p in res.pairs if p.task == "a"])))


def test_miller_split_recovers_prediction_and_data_noise():
    """v_ik = mu_i + e_ik with known var(mu) and var(e): the split estimates both (law of total variance)."""
    rng = np.random.default_rng(6)
    n, K, sd_mu, sd_e = 4000, 5, 0.3, 0.5
    mu = rng.normal(0, sd_mu, n)
    X = np.stack([mu[:, None] + rng.normal(0, sd_e, (n, K)), mu[:, None] + 0.1 + rng.normal(0, sd_e, (n, K))])
    res = rescore(long_table(X), engine="numpy", progress=False)
    s = res.scores[0]
    assert s.rows == n * K
    assert s.se_prediction == pytest.approx(sd_e / math.sqrt(K * n), rel=0.05)
    assert s.se_data == pytest.approx(sd_mu / math.sqrt(n), rel=0.05)
    assert s.se ** 2 == pytest.approx(s.se_data ** 2 + s.se_prediction ** 2, rel=1e-9)
    (p,) = res.pairs
    # the shared mu cancels in the paired difference: only prediction noise of both systems is left
    assert p.se_paired == pytest.approx(math.sqrt(2) * sd_e / math.sqrt(K * n), rel=0.05)
    assert p.se_data < 0.2 * p.se_prediction


def corpus_set(pred, ref, metric):
    n = len(pred)
    t = conform(pa.table({"system": ["A"] * n, "task": ["t"] * n, "metric": [metric] * n,
                          "instance": [str(i) for i in range(n)], "value": pa.nulls(n, pa.float64()),
                          "prediction": np.asarray(pred, float), "reference": np.asarray(ref, float)}))
    return InstanceSet(t, nbytes=1, has_corpus=True)


@pytest.mark.parametrize("engine", ["numpy", "duckdb"])
def test_corpus_metrics_against_scipy_and_sklearn(engine):
    from scipy.stats import pearsonr, spearmanr
    from sklearn.metrics import f1_score, matthews_corrcoef

    rng = np.random.default_rng(7)
    ref = rng.integers(0, 2, 200)
    pred = np.where(rng.random(200) < 0.7, ref, 1 - ref)
    x = np.round(rng.normal(size=150), 1)          # ties, for Spearman's average ranks
    y = np.round(x + rng.normal(size=150), 1)
    cases = [("f1", pred, ref, f1_score(ref, pred)), ("mcc", pred, ref, matthews_corrcoef(ref, pred)),
             ("pearson", x, y, pearsonr(x, y).statistic), ("spearman", x, y, spearmanr(x, y).statistic)]
    for metric, p, r, expected in cases:
        (s,) = rescore(corpus_set(p, r, metric), engine=engine, progress=False).scores
        assert s.kind == metric and s.score == pytest.approx(expected, abs=1e-12), metric


def test_corpus_f1_refuses_multiclass_labels():
    from auditkit.errors import InputError

    with pytest.raises(InputError, match="binary"):
        rescore(corpus_set([0, 1, 2], [0, 2, 2], "f1"), progress=False)


def test_bootstrap_se_matches_the_analytic_se_and_streams_in_batches():
    X = make_matrix(5, 4000, seed=8)
    r = bootstrap_matrix(X, n_resamples=400, seed=1, batch=7)
    analytic = X.std(axis=1, ddof=1) / math.sqrt(X.shape[1])
    np.testing.assert_allclose(r.se, analytic, rtol=0.15)
    again = bootstrap_matrix(X, n_resamples=400, seed=1, batch=7)
    np.testing.assert_array_equal(r.se, again.se)                      # seeded: reproducible
    d = X[0] - X[4]
    assert r.pair_se[0, 4] == pytest.approx(d.std(ddof=1) / math.sqrt(4000), rel=0.15)
    assert (r.rank_low <= r.rank_high).all()
    p = bootstrap_matrix(X, n_resamples=400, seed=1, method="poisson")
    np.testing.assert_allclose(p.se, analytic, rtol=0.15)


def test_bootstrap_float32_path_is_exact_on_binary_scores():
    X = make_matrix(3, 1000, seed=9)
    a = bootstrap_matrix(X, n_resamples=50, seed=2)
    b = bootstrap_matrix(X + 1e-9, n_resamples=50, seed=2)            # float64 path, same draws
    np.testing.assert_allclose(a.se, b.se, atol=1e-9)


def test_bootstrap_from_logs_and_drivers_from_logs():
    from pathlib import Path

    fix = Path(__file__).parent / "fixtures" / "instances" / "inspect"
    r = bootstrap(fix, task="doubling", metric="match", n_resamples=200, progress=False)
    assert r.systems == ["mockllm/sys-a", "mockllm/sys-b", "mockllm/sys-c"]
    assert r.scores[0] == pytest.approx(11 / 12)
    d = drivers(fix, "doubling", "match", "mockllm/sys-a", "mockllm/sys-c", k=2)
    assert d["difference"] == pytest.approx(0.25) and d["a_better"] == 5 and d["b_better"] == 0
    assert [row["instance"] for row in d["top"]] == ["q10", "q00"]          # |d| = 1 first, then by id


def test_rescored_matrix_and_ranking_feed_the_ranking_stage():
    from pathlib import Path

    import auditkit

    res = rescore(Path(__file__).parent / "fixtures" / "instances" / "lmeval", progress=False, pairs=False)
    systems, tasks, values = res.matrix()
    assert systems == ["EleutherAI/pythia-160m", "EleutherAI/pythia-410m", "gpt2"]
    assert tasks == ["arc_easy", "cola", "gsm8k"] and values.shape == (3, 3)
    ranking = res.ranking("arithmetic")
    assert isinstance(ranking, auditkit.Ranking)
    np.testing.assert_allclose(ranking.scores, values.mean(axis=1))
    assert ranking.winners() == ["EleutherAI/pythia-410m"]


def test_instance_matrices_for_the_stats_bootstrap():
    from pathlib import Path

    from auditkit_plugins.instances import read_instances
    from auditkit_plugins.instances.resampling import instance_matrices

    iset = read_instances(Path(__file__).parent / "fixtures" / "instances" / "lmeval")
    systems, tasks, mats, ids = instance_matrices(iset, [("arc_easy", "acc"), ("gsm8k", "exact_match,strict-match")])
    assert len(systems) == 3 and [m.shape for m in mats] == [(3, 40), (3, 30)]
    assert len(ids[0]) == 40 and ids[0][0] == "0"
    res = rescore(iset, progress=False, pairs=False)
    got = {(s.system, s.task, s.metric): s.score for s in res.scores}
    np.testing.assert_allclose(mats[0].mean(axis=1), [got[(s, "arc_easy", "acc")] for s in systems])


def test_one_sample_per_instance_has_no_prediction_noise_to_split():
    X = make_matrix(2, 50, seed=11)[:, :, None]               # a sample column, but one sample each (HELM trials)
    res = rescore(long_table(X), progress=False)
    assert not res.suff.has_sample
    assert all(math.isnan(s.se_prediction) for s in res.scores)
    assert "se_prediction" not in res.report().tables["task scores"][0]


def test_report_lists_the_instances_driving_significant_pairs():
    X = np.zeros((2, 60))
    X[0, :30] = 1.0                                             # A right on the first 30, B never
    res = rescore(long_table(X), progress=False)
    (row,) = res.report().tables["instances driving significant differences"]
    assert (row["a_better"], row["b_better"], row["ties"]) == (30, 0, 30)
    assert row["top_instances"].startswith("i00000 (+1)")


@pytest.mark.parametrize("systems", [3, 401])
def test_bootstrap_rank_intervals_put_the_best_system_first(systems):
    """Both rank paths (pairwise comparison up to 400 systems, competition_rank beyond) rank higher scores first."""
    rng = np.random.default_rng(13)
    X = (rng.random((systems, 300)) < np.linspace(0.9, 0.1, systems)[:, None]).astype(float)
    X[0] = 1.0                                                    # always right: rank 1 in every resample
    r = bootstrap_matrix(X, n_resamples=30, seed=0)
    assert r.rank_low[0] == r.rank_high[0] == 1
    assert r.rank_low[-1] > systems / 2
