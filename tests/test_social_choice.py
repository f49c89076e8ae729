"""Tests of the social-choice aggregators (Borda, Dowdall, Copeland, Minimax, win rate, Kemeny)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import array_api_compat.numpy as xpn
from auditkit.cli import cli
from auditkit.registry import get_registry
from auditkit_plugins.social_choice import kemeny as K
from auditkit_plugins.social_choice import rules as R

RAW = Path(__file__).resolve().parents[2] / "shared" / "leaderboards-raw"
SUPERGLUE = RAW / "vote_and_rank" / "leaderboards - SuperGLUE.csv"
RULES = ("borda", "dowdall", "copeland", "minimax", "winrate", "kemeny")


def _uniform(k):
    return np.full(k, 1.0 / k)


# Tennessee capital example (Wikipedia "Borda count", "Copeland's method", "Kemeny-Young method"): 42% prefer
# Memphis > Nashville > Chattanooga > Knoxville, 26% Nashville > Chattanooga > Knoxville > Memphis,
# 15% Chattanooga > Knoxville > Nashville > Memphis, 17% Knoxville > Chattanooga > Nashville > Memphis.
# Each voter group is a task with weight = its share; a task's values encode its preference order.
CITIES = ["Memphis", "Nashville", "Chattanooga", "Knoxville"]
TN_ORDERS = [["Memphis", "Nashville", "Chattanooga", "Knoxville"],
             ["Nashville", "Chattanooga", "Knoxville", "Memphis"],
             ["Chattanooga", "Knoxville", "Nashville", "Memphis"],
             ["Knoxville", "Chattanooga", "Nashville", "Memphis"]]
TN_WEIGHTS = np.array([0.42, 0.26, 0.15, 0.17])


def _tennessee():
    values = np.zeros((4, 4))
    for t, order in enumerate(TN_ORDERS):
        for pos, city in enumerate(order):
            values[CITIES.index(city), t] = 4 - pos
    return values


def test_tennessee_borda_matches_published_points():
    # Wikipedia "Borda count", Tennessee example: Nashville 194, Chattanooga 173, Memphis 126, Knoxville 107
    # (points 3-2-1-0 per 100 voters); our score is the weighted mean of the same points.
    s = np.asarray(R.borda(_tennessee(), xp=xpn, weights=TN_WEIGHTS))
    assert np.allclose(s * 100, [126, 194, 173, 107])


def test_tennessee_kemeny_copeland_minimax_pick_nashville():
    # Wikipedia "Kemeny-Young method": the Kemeny ranking is Nashville > Chattanooga > Knoxville > Memphis;
    # Nashville is the Condorcet winner, so Copeland and minimax elect it too.
    v = _tennessee()
    res = K.kemeny_consensus(v, TN_WEIGHTS)
    assert [CITIES[i] for i in res.order] == ["Nashville", "Chattanooga", "Knoxville", "Memphis"]
    assert res.exact and res.certified_optimal
    for rule in (R.copeland, R.minimax):
        s = np.asarray(rule(v, xp=xpn, weights=TN_WEIGHTS))
        assert CITIES[int(np.argmax(s))] == "Nashville"
        assert (s[1] > np.delete(s, 1)).all()
    # Copeland: Nashville beats all 3, Chattanooga 2, Knoxville 1, Memphis 0
    assert np.allclose(np.asarray(R.copeland(v, xp=xpn, weights=TN_WEIGHTS)), [0, 3, 2, 1])


def _borda_loop(values, weights):
    """Independent Borda with the documented tie rule: per task, +1 per system strictly below, +1/2 per other
    system tied."""
    n, k = values.shape
    out = np.zeros(n)
    for t in range(k):
        for i in range(n):
            pts = sum(1.0 if values[i, t] > values[j, t] else 0.5 if values[i, t] == values[j, t] else 0.0
                      for j in range(n) if j != i)
            out[i] += weights[t] * pts
    return out


def _dowdall_loop(values, weights):
    n, k = values.shape
    out = np.zeros(n)
    for t in range(k):
        for i in range(n):
            g = int((values[:, t] > values[i, t]).sum())
            e = int((values[:, t] == values[i, t]).sum())
            out[i] += weights[t] * np.mean([1.0 / p for p in range(g + 1, g + e + 1)])
    return out


def _pairwise_loop(values, weights):
    n, k = values.shape
    P = np.zeros((n, n))
    for i, j in itertools.permutations(range(n), 2):
        P[i, j] = sum(w * (1.0 if values[i, t] > values[j, t] else 0.5 if values[i, t] == values[j, t] else 0.0)
                      for t, w in enumerate(weights))
    return P


@pytest.mark.parametrize("seed", range(5))
def test_positional_and_pairwise_rules_match_loops_with_ties(seed):
    rng = np.random.default_rng(seed)
    v = rng.integers(0, 3, size=(6, 5)).astype(float)      # many ties
    w = rng.uniform(0.5, 1.5, 5)
    w /= w.sum()
    assert np.allclose(np.asarray(R.borda(v, xp=xpn, weights=w)), _borda_loop(v, w))
    assert np.allclose(np.asarray(R.dowdall(v, xp=xpn, weights=w)), _dowdall_loop(v, w))
    assert np.allclose(np.asarray(R.win_rate(v, xp=xpn, weights=w)), _borda_loop(v, w) / 5)
    P = _pairwise_loop(v, w)
    assert np.allclose(np.asarray(R.pairwise_preferences(v, xp=xpn, weights=w)), P)
    cop = [sum(1.0 if P[i, j] > P[j, i] + 1e-12 else 0.5 if abs(P[i, j] - P[j, i]) <= 1e-12 else 0.0
               for j in range(6) if j != i) for i in range(6)]
    assert np.allclose(np.asarray(R.copeland(v, xp=xpn, weights=w)), cop)
    mm = [-max(P[j, i] - P[i, j] for j in range(6) if j != i) for i in range(6)]
    assert np.allclose(np.asarray(R.minimax(v, xp=xpn, weights=w)), mm)


def test_tie_counts_one_half_everywhere():
    # two systems tied on every task: each rule gives them equal scores; a single tie gives half a point
    v = np.array([[3.0, 1.0], [3.0, 1.0], [1.0, 2.0]])
    w = _uniform(2)
    for name in ("borda", "dowdall", "copeland", "minimax", "winrate"):
        s = np.asarray(get_registry().get("aggregators", name).func(v, xp=xpn, weights=w))
        assert s[0] == pytest.approx(s[1]), name
    # task 1: systems 0, 1 tie at the top -> 1 + 1/2 Borda points each; task 2: both below system 2 -> 1/2 each
    assert np.allclose(np.asarray(R.borda(v, xp=xpn, weights=w)), [(1.5 + 0.5) / 2, (1.5 + 0.5) / 2, 1.0])
    # pairwise: 0 vs 1 tie on both tasks -> P = 1/2, a Copeland half point
    P = np.asarray(R.pairwise_preferences(v, xp=xpn, weights=w))
    assert P[0, 1] == pytest.approx(0.5) and P[1, 0] == pytest.approx(0.5)
    assert np.allclose(np.asarray(R.copeland(v, xp=xpn, weights=w)), [0.5 + 0.5, 0.5 + 0.5, 1.0])
    # win rate: HELM counts a tie as half a win
    assert np.allclose(np.asarray(R.win_rate(v, xp=xpn, weights=w)), [0.5, 0.5, 0.5])


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6, 7])
def test_kemeny_exact_equals_brute_force(n):
    rng = np.random.default_rng(100 + n)
    for _ in range(8):
        k = int(rng.integers(1, 7))
        v = rng.integers(0, 4, size=(n, k)).astype(float)
        w = rng.uniform(0.2, 1.0, k)
        w /= w.sum()
        P = np.asarray(R.pairwise_preferences(v, xp=xpn, weights=w))
        order, cost = K.exact_order(P)
        _, best = K.brute_force(P)
        assert cost == pytest.approx(best, abs=1e-9)
        assert K.order_cost(P, order) == pytest.approx(best, abs=1e-9)
        assert sorted(order) == list(range(n))
        assert K.lower_bound(P) <= best + 1e-9


def test_kemeny_heuristic_reports_a_valid_gap():
    rng = np.random.default_rng(7)
    for _ in range(10):
        v = rng.normal(size=(8, 5))
        P = np.asarray(R.pairwise_preferences(v, xp=xpn, weights=_uniform(5)))
        res = K.kemeny_from_preferences(P, exact_limit=0, seeds=[list(range(8))])
        _, best = K.brute_force(P)
        assert not res.exact
        assert res.cost >= best - 1e-9                 # never better than the optimum
        assert res.lower_bound <= best + 1e-9           # the bound is a bound
        assert res.cost - res.gap <= best + 1e-9        # the optimum lies in [cost - gap, cost]
        assert res.as_dict()["gap"] == pytest.approx(res.cost - res.lower_bound)


def test_kemeny_beyond_exact_limit_reports_cost_and_bound():
    rng = np.random.default_rng(3)
    v = rng.normal(size=(30, 6)) + np.linspace(0, 3, 30)[:, None]
    res = K.kemeny_consensus(v)
    P = np.asarray(R.pairwise_preferences(v, xp=xpn, weights=_uniform(6)))
    assert res.cost == pytest.approx(K.order_cost(P, res.order))
    assert res.lower_bound <= res.cost + 1e-9 and sorted(res.order) == list(range(30))
    # a consistent dominance order (every task agrees): 25 blocks of one system, exact and certified
    clean = np.linspace(0, 1, 25)[:, None] * np.arange(1, 5)[None, :]
    res2 = K.kemeny_consensus(clean)
    assert list(res2.order) == list(range(24, -1, -1)) and res2.exact and res2.gap == 0
    assert "25 blocks" in res2.method


def test_kemeny_block_decomposition_equals_brute_force():
    # blocks of the pairwise-majority graph solved separately (exact_limit=3 forces the decomposition at n=8)
    rng = np.random.default_rng(5)
    n_exact = 0
    for _ in range(30):
        v = rng.integers(0, 4, size=(8, 5)).astype(float) + np.linspace(0, 3, 8)[:, None] * rng.uniform()
        P = np.asarray(R.pairwise_preferences(v, xp=xpn, weights=_uniform(5)))
        res = K.kemeny_from_preferences(P, exact_limit=3, seeds=[list(range(8))])
        _, best = K.brute_force(P)
        assert res.cost >= best - 1e-9
        if res.exact:
            n_exact += 1
            assert res.cost == pytest.approx(best, abs=1e-9)
    assert n_exact >= 5


def test_strong_components_match_scipy():
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(1, 25))
        A = rng.random((n, n)) < rng.uniform(0.02, 0.3)
        np.fill_diagonal(A, False)
        ours = K._strong_components(A)
        _, ref = connected_components(A, directed=True, connection="strong")
        assert (np.equal.outer(ours, ours) == np.equal.outer(ref, ref)).all()


def test_kemeny_aggregator_scores_are_minus_positions():
    v = _tennessee()
    s = np.asarray(K.kemeny(v, xp=xpn, weights=xpn.asarray(TN_WEIGHTS)))
    assert sorted(s.tolist()) == [-4.0, -3.0, -2.0, -1.0]
    assert s[CITIES.index("Nashville")] == -1.0 and s[CITIES.index("Memphis")] == -4.0


def test_kemeny_clones_tie_and_stay_optimal():
    # identical rows are merged; the expanded order is still optimal (brute force) and clones share a position
    rng = np.random.default_rng(12)
    for _ in range(25):
        n = int(rng.integers(3, 8))
        v = rng.integers(0, 3, size=(n, 3)).astype(float)
        v[int(rng.integers(1, n))] = v[0]
        res = K.kemeny_consensus(v)
        P = np.asarray(R.pairwise_preferences(v, xp=xpn, weights=_uniform(3)))
        assert res.cost == pytest.approx(K.brute_force(P)[1], abs=1e-9)
        pos = res.positions()
        same = (v[:, None, :] == v[None, :, :]).all(axis=2)
        assert (pos[:, None] == pos[None, :])[same].all()
        assert (pos[:, None] != pos[None, :])[~same].all()


@pytest.mark.parametrize("rule", RULES)
def test_conformance_kit(rule):
    from auditkit.testing import check_aggregator

    check_aggregator(get_registry().get("aggregators", rule))   # raises ConformanceError on a violation


def test_rules_registered_candidate_dependent():
    reg = get_registry()
    for name in RULES:
        agg = reg.get("aggregators", name)
        assert agg.candidate_dependent, name
    assert reg.get("aggregators", "mean-win-rate").name == "winrate"


@pytest.mark.parametrize("rule", RULES)
def test_torch_cpu_parity(rule):
    torch = pytest.importorskip("torch")
    import array_api_compat.torch as xpt

    rng = np.random.default_rng(11)
    v = rng.integers(0, 5, size=(9, 6)).astype(float)
    w = rng.uniform(size=6)
    w /= w.sum()
    f = get_registry().get("aggregators", rule).func
    a = np.asarray(f(v, xp=xpn, weights=w))
    b = f(torch.asarray(v), xp=xpt, weights=torch.asarray(w)).numpy()
    assert np.allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("rule", RULES)
def test_cuda_parity(rule):  # pragma: no cover - needs a GPU
    import array_api_compat.torch as xpt
    import torch

    rng = np.random.default_rng(11)
    v = rng.integers(0, 5, size=(9, 6)).astype(float)
    w = np.full(6, 1 / 6)
    f = get_registry().get("aggregators", rule).func
    a = np.asarray(f(v, xp=xpn, weights=w))
    b = f(torch.asarray(v, device="cuda"), xp=xpt, weights=torch.asarray(w, device="cuda")).cpu().numpy()
    assert np.allclose(a, b, rtol=0, atol=1e-12)


def test_reference_row_does_not_reorder_systems():
    # SuperGLUE (vote_and_rank snapshot) has a human row; candidate-dependent rules score it against the systems
    # one at a time, so the systems' order equals their order on the table without the human row.
    from auditkit.leaderboard import read_leaderboard
    from auditkit import rank
    from auditkit.loading import resolve_recipe
    from auditkit.taskscores import task_scores

    lb = read_leaderboard(str(SUPERGLUE))
    recipe, _ = resolve_recipe(lb, None)
    ts = task_scores(lb, recipe)
    systems = np.flatnonzero(ts.scorable & ~ts.reference)
    assert (ts.reference & ts.scorable).sum() == 1
    for rule in RULES:
        with_ref = rank(ts, rule).scores
        alone = np.asarray(get_registry().get("aggregators", rule).func(ts.values[systems], xp=xpn,
                                                                         weights=ts.weights))
        a, b = with_ref[systems], alone
        assert (np.sign(a[:, None] - a[None, :]) == np.sign(b[:, None] - b[None, :])).all(), rule
        assert np.isfinite(with_ref[ts.reference & ts.scorable]).all()


def test_rerank_mean_kemeny_cli():
    res = CliRunner().invoke(cli, ["rerank", str(SUPERGLUE), "--mean", "kemeny", "--format", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)["summary"]
    rows = [{"system": r["system"], **r["rules"]["kemeny"]} for r in d["rows"]]
    # issue 20: three systems are each first in some optimal Kemeny order; they share rank 1 (never broken by row
    # order). The human row, scored against the systems alone, is a co-optimal winner of that joint run too.
    top = {r["system"] for r in rows if r["rank"] == 1}
    assert top == {"ERNIE 3.0", "T5 + UDG, Single Model (Google Brain)", "DeBERTa / TuringNLRv4",
                   "SuperGLUE Human Baselines"}


def test_import_is_cheap():
    code = ("import sys, auditkit_plugins.social_choice, auditkit_plugins.stats; "
            "assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules and 'scipy' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
