"""Kemeny: exact by integer programming, every co-optimal order summarized (issue 20).

Oracles: brute force over all n! orders (the set of optimal orders, each row's best and worst position in them,
their number) on small random tables with many ties and clones; on the curated boards, brute force over the
top block of the pairwise-majority graph (every optimal order keeps the blocks in order) and the optimum that
issue 20 reports for Open LLM v1 (1613.167, from a separate integer program).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

import array_api_compat.numpy as xpn
from auditkit_plugins.social_choice import kemeny as K
from auditkit_plugins.social_choice import kemeny_exact as E
from auditkit_plugins.social_choice import rules as R

BOARDS = Path(__file__).resolve().parents[1] / "leaderboards"


def _P(v, w=None):
    w = np.full(v.shape[1], 1.0 / v.shape[1]) if w is None else w
    return np.asarray(R.pairwise_preferences(v, xp=xpn, weights=w))


def _all_optimal(P):
    """Brute force: every optimal order of P (n <= 8)."""
    n = P.shape[0]
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64).reshape(-1, n)
    cost = np.zeros(len(perms))
    for hi in range(n):
        for lo in range(hi + 1, n):
            cost += P[perms[:, lo], perms[:, hi]]
    best = cost.min()
    return perms[cost <= best + 1e-9 * max(1, best)], float(best)


def _positions(perms):
    n = perms.shape[1]
    pos = np.empty_like(perms)
    rows = np.arange(len(perms))[:, None]
    pos[rows, perms] = np.arange(1, n + 1)[None, :]
    return pos.min(axis=0), pos.max(axis=0)


def _table(rng, n, k):
    v = rng.integers(0, 3, size=(n, k)).astype(float)        # many ties, many co-optimal orders
    return v


@pytest.mark.parametrize("exact_limit", [16, 1])     # 16: subset DP per block; 1: integer program per block
def test_co_optimal_positions_and_count_equal_brute_force(exact_limit):
    rng = np.random.default_rng(20)
    checked = 0
    for _ in range(12):
        n = int(rng.integers(3, 8))
        v = _table(rng, n, int(rng.integers(2, 6)))
        if len(np.unique(v, axis=0)) < n:
            continue                        # clones: see the next test (orders are counted with clones together)
        P = _P(v)
        perms, best_cost = _all_optimal(P)
        res = K.kemeny_consensus(v, exact_limit=exact_limit)
        assert res.exact and res.cost == pytest.approx(best_cost, abs=1e-9)
        lo, hi = _positions(perms)
        assert list(res.best_position) == lo.tolist()
        assert list(res.worst_position) == hi.tolist()
        assert res.n_optimal_orders == len(perms)
        assert set(res.possible_winners) == set(perms[:, 0].tolist())
        checked += 1
    assert checked >= 6


def test_co_optimal_positions_with_clones_equal_brute_force():
    # clones are merged before the search; best/worst positions still equal those over ALL optimal orders
    rng = np.random.default_rng(21)
    for _ in range(15):
        n = int(rng.integers(3, 8))
        v = _table(rng, n, 3)
        v[int(rng.integers(1, n))] = v[0]
        perms, best_cost = _all_optimal(_P(v))
        for limit in (16, 1):
            res = K.kemeny_consensus(v, exact_limit=limit)
            assert res.cost == pytest.approx(best_cost, abs=1e-9)
            lo, hi = _positions(perms)
            assert list(res.best_position) == lo.tolist()
            assert list(res.worst_position) == hi.tolist()


def test_integer_program_equals_brute_force_without_blocks():
    rng = np.random.default_rng(22)
    for _ in range(10):
        n = 7
        v = rng.normal(size=(n, 5)).round(1)
        P = _P(v)
        sol = E.ilp_block(P, time_limit=None)
        _, best = K.brute_force(P)
        assert sol.optimal and sol.cost == pytest.approx(best, abs=1e-9)
        assert E.order_cost(P, sol.order) == pytest.approx(best, abs=1e-9)


def test_aggregator_shares_rank_one_between_co_optimal_winners():
    # three voters in a Condorcet cycle a > b > c > a: all three orders of the cycle are optimal, each system is
    # first in one of them (brute force), so all share rank 1 and none is chosen by row order
    v = np.array([[3.0, 2.0, 1.0], [2.0, 1.0, 3.0], [1.0, 3.0, 2.0]])
    perms, _ = _all_optimal(_P(v))
    assert set(perms[:, 0].tolist()) == {0, 1, 2}
    s = np.asarray(K.kemeny(v, xp=xpn, weights=np.full(3, 1 / 3)))
    assert s.tolist() == [-1.0, -1.0, -1.0]
    # with a unique optimal order the scores are minus the positions (Tennessee: see test_social_choice.py)


def test_time_limit_falls_back_and_reports_a_proven_bound():
    rng = np.random.default_rng(23)
    v = rng.normal(size=(60, 7))                    # one big block, hard enough not to finish in 1 ms
    res = K.kemeny_consensus(v, time_limit=0.001)
    full = K.kemeny_consensus(v, time_limit=None, summarize=False)
    assert full.exact
    assert res.cost >= full.cost - 1e-9
    d = res.as_dict()
    assert d["bound"] <= full.cost + 1e-9            # the reported bound is a bound
    assert res.cost - res.gap <= full.cost + 1e-9
    if not res.exact:
        assert "not proven" in res.certificate() and res.best_position is None


# -- the curated boards ---------------------------------------------------------------------------------------------
def _board(path):
    from auditkit.leaderboard import read_leaderboard
    from auditkit.loading import resolve_recipe
    from auditkit.taskscores import task_scores

    lb = read_leaderboard(str(BOARDS / path))
    recipe, _ = resolve_recipe(lb, None)
    ts = task_scores(lb, recipe)
    rows = np.flatnonzero(ts.scorable & ~ts.reference)
    return [lb.systems[i] for i in rows], ts.values[rows], ts.weights


def _brute_force_winners(v, w):
    """Possible winners by brute force over the top block (every optimal order keeps the blocks in order)."""
    P = _P(v, w)
    top = K.majority_components(P)[0]
    perms, _ = _all_optimal(P[np.ix_(top, top)])
    return {top[i] for i in perms[:, 0]}


@pytest.mark.parametrize("path,winners", [
    ("superglue/superglue-2021-vote-and-rank.csv",
     {"ERNIE 3.0", "T5 + UDG, Single Model (Google Brain)", "DeBERTa / TuringNLRv4"}),
    ("superglue/superglue-2023-benchbench.csv", {"Vega v2", "ST-MoE-32B"}),
])
def test_superglue_co_optimal_winners(path, winners):
    names, v, w = _board(path)
    res = K.kemeny_consensus(v, w)
    assert res.exact and res.positions_proven
    got = {names[i] for i in res.possible_winners}
    assert got == winners                                       # issue 20
    assert got == {names[i] for i in _brute_force_winners(v, w)}  # independent brute force
    s = np.asarray(K.kemeny(v, xp=xpn, weights=w))
    assert {names[i] for i in np.flatnonzero(s == s.max())} == winners
    assert "possible winners" in res.certificate()


@pytest.mark.parametrize("path", ["glue/glue-2021-vote-and-rank.csv", "glue/glue-2022-02-ranking-nlp-systems.csv",
                                  "glue/glue-2023-benchbench.csv"])
def test_glue_boards_certified_exactly(path):
    names, v, w = _board(path)
    old_heuristic = K.kemeny_consensus(v, w, time_limit=0)       # what auditkit reported before: a gap
    res = K.kemeny_consensus(v, w)
    assert res.exact and res.gap == 0 and res.as_dict()["bound"] == res.cost
    assert "integer program" in res.method
    assert res.cost <= old_heuristic.cost + 1e-9
    assert old_heuristic.lower_bound <= res.cost
    assert res.positions_proven                                   # within the default time limit
    lo, hi = np.asarray(res.best_position), np.asarray(res.worst_position)
    pos = res.positions()
    assert ((lo <= pos) & (pos <= hi)).all()


def test_openllm_v1_order_is_the_optimum():
    names, v, w = _board("openllm/openllm-v1-2024-benchbench.csv")
    res = K.kemeny_consensus(v, w, summarize=False, time_limit=None)
    assert res.exact
    assert res.cost == pytest.approx(1613.1666667, abs=1e-6)       # issue 20: optimum 1613.167
    heuristic = K.kemeny_consensus(v, w, time_limit=0)
    assert heuristic.cost == pytest.approx(1613.6666667, abs=1e-6)  # issue 20: the old heuristic order's cost
    assert heuristic.lower_bound <= res.cost <= heuristic.cost


def test_kemeny_does_not_import_scipy_for_small_tables():
    import subprocess

    code = ("import sys, numpy as np; from auditkit_plugins.social_choice import kemeny as K; "
            "K.kemeny_consensus(np.random.default_rng(0).normal(size=(10, 4))); "
            "assert 'scipy.optimize' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
