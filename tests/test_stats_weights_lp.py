"""Weight LP: the LP's answer is checked by brute force over a fine grid of the weight simplex (k = 3) and by
re-scoring with the returned weights."""

from __future__ import annotations

import itertools

import numpy as np

from auditkit_plugins.stats import weights_lp as W


def test_lp_agrees_with_a_grid_over_the_simplex():
    rng = np.random.default_rng(4)
    grid = np.array([(a, b, 60 - a - b) for a, b in itertools.product(range(61), range(61)) if a + b <= 60]) / 60
    for _ in range(20):
        v = rng.normal(size=(6, 3))
        S = v @ grid.T                                   # (n, grid)
        grid_margin = (S - np.where(np.eye(6, dtype=bool)[:, :, None], -np.inf, S[None, :, :]).max(axis=1))
        for x in range(6):
            res = W.weights_for_winner(v, x)
            best_grid = grid_margin[x].max()
            assert res.margin >= best_grid - 1e-9        # the LP optimum is at least the best grid point
            if res.feasible:
                s = v @ res.weights
                assert s[x] >= np.delete(s, x).max() - 1e-9
            else:
                assert best_grid < 0


def test_dominated_system_never_wins_and_bounds_are_respected():
    v = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0], [3.0, 0.0, 1.0]])
    assert not W.weights_for_winner(v, 0).feasible
    r = W.weights_for_winner(v, 2)
    assert r.strict and r.weights[0] > 0.5
    r2 = W.weights_for_winner(v, 2, max_weight=0.4)
    assert not r2.feasible
    r3 = W.weights_for_winner(v, 2, max_l1=0.1)          # near uniform weights system 1 wins
    assert not r3.feasible
    assert W.possible_winners(v) == [1, 2]
    assert W.possible_winners(v, rule="borda") == [1, 2]
