"""Golden tests on real Chatbot Arena data: the counts of 2024-08-14 shipped inside the leaderbot wheel (129 models,
3,460 pairs, 1,670,250 battles), loaded offline.

Oracles: an independent Newton solver written here (reduced parametrization: the last model fixed at 0, dense
design matrix, explicit per-outcome scores for the sandwich), arena-rank (LMArena's own JAX code) when it is
installed, and the published LMArena leaderboard of that date for the order at the top.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("leaderbot", reason="the Arena counts ship inside the leaderbot wheel (test extra)")

from auditkit_plugins.arena.bt import design, fit_bt  # noqa: E402
from auditkit_plugins.arena.readers import leaderbot_path, read_counts  # noqa: E402

ANCHOR, ANCHOR_RATING = "mixtral-8x7b-instruct-v0.1", 1114.0  # LMArena's anchor in 2024
# Published LMArena text leaderboard of mid-August 2024 (no style control), top three as announced by LMSYS on
# 2024-08-13/14 ("ChatGPT-4o-latest ... #1 with 1314", Gemini-1.5-Pro-Exp-0801 at 1297, GPT-4o-2024-05-13 third
# at 1286). Transcribed from the announcement, not downloaded (no network here); see docs/arena.md.
PUBLISHED_TOP = [("chatgpt-4o-latest", 1314.0), ("gemini-1.5-pro-exp-0801", 1297.0), ("gpt-4o-2024-05-13", 1286.0)]


@pytest.fixture(scope="module")
def arena():
    return read_counts(leaderbot_path())


def reference_newton(pc):
    """Independent BT MLE with ties as half: theta_last = 0, dense Newton, no line search needed from 0."""
    m = pc.n_models
    wa, wb, t = pc.wins_a, pc.wins_b, pc.ties + pc.bothbad
    n = wa + wb + t
    y = wa + 0.5 * t
    X = np.zeros((pc.n_pairs, m))
    X[np.arange(pc.n_pairs), pc.ia] += 1.0
    X[np.arange(pc.n_pairs), pc.ib] -= 1.0
    X = X[:, :-1]
    beta = np.zeros(m - 1)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
        grad = X.T @ (y - n * p)
        hess = X.T @ (X * (n * p * (1 - p))[:, None])
        step = np.linalg.solve(hess, grad)
        beta += step
        if np.abs(step).max() < 1e-13:
            break
    p = 1.0 / (1.0 + np.exp(-(X @ beta)))
    hess = X.T @ (X * (n * p * (1 - p))[:, None])
    # sandwich: sum over battles of score score' ; battles of one (pair, outcome) share the score (o - p) x
    meat = np.zeros((m - 1, m - 1))
    for outcome, count in ((1.0, wa), (0.0, wb), (0.5, t)):
        s = X * (outcome - p)[:, None]
        meat += s.T @ (s * count[:, None])
    hinv = np.linalg.inv(hess)
    cov = hinv @ meat @ hinv
    theta = np.append(beta, 0.0)
    se = np.append(np.sqrt(np.diag(cov)), 0.0)
    return theta, se, np.abs(grad).max()


def test_the_leaderbot_counts_are_the_2024_08_14_arena(arena):
    assert arena.n_models == 129 and arena.n_pairs == 3460
    assert arena.n_battles == 1670250
    assert not arena.ordered  # leaderbot lists each pair once (i < j)


def test_bt_and_sandwich_match_an_independent_newton_solver(arena):
    last = arena.models[-1]
    fit = fit_bt(arena, anchor=last, offset=0.0, scale=1.0, base=math.e)  # natural units, last model at 0
    theta, se, _ = reference_newton(arena)
    assert fit.grad_norm < 1e-10
    np.testing.assert_allclose(fit.ratings, theta, rtol=0, atol=1e-10)
    np.testing.assert_allclose(fit.se, se, rtol=1e-8, atol=1e-14)


def test_lmarena_scale_and_anchor_reproduce_the_published_top(arena):
    fit = fit_bt(arena, anchor=ANCHOR, offset=ANCHOR_RATING)
    order = [fit.models[k] for k in np.argsort(-fit.ratings)]
    assert order[:3] == [name for name, _ in PUBLISHED_TOP]
    ours = {m: r for m, r in zip(fit.models, fit.ratings)}
    # gaps between the top three agree with the published ones within 2 points (published values are integers
    # and were computed from a slightly different battle snapshot); each rating within 2.5 points
    gaps = [PUBLISHED_TOP[0][1] - PUBLISHED_TOP[k][1] for k in (1, 2)]
    our_gaps = [ours[PUBLISHED_TOP[0][0]] - ours[PUBLISHED_TOP[k][0]] for k in (1, 2)]
    np.testing.assert_allclose(our_gaps, gaps, atol=2.0)
    for name, value in PUBLISHED_TOP:
        assert abs(ours[name] - value) < 2.5, (name, ours[name], value)
    assert ours[ANCHOR] == ANCHOR_RATING


def test_ties_dropped_and_scale_change_keep_the_same_top_three(arena):
    drop = fit_bt(arena, ties="drop")
    assert [drop.models[k] for k in np.argsort(-drop.ratings)[:3]] == [n for n, _ in PUBLISHED_TOP]
    # rescaling is exactly linear: scale 800 doubles every distance from the mean
    a, b = fit_bt(arena, scale=400.0), fit_bt(arena, scale=800.0)
    np.testing.assert_allclose(b.ratings - 1000, 2 * (a.ratings - 1000), rtol=1e-12, atol=1e-9)


def test_matches_arena_rank_lmarenas_own_implementation(arena):
    pytest.importorskip("arena_rank", reason="arena-rank (LMArena's JAX code) is optional: pip install arena-rank")
    import jax.numpy as jnp
    from arena_rank.models.bradley_terry import BradleyTerry
    from arena_rank.utils.data_utils import PairDataset

    d = design(arena)
    pairs = np.concatenate([np.column_stack([d.i, d.j])] * 3)
    outcomes = np.concatenate([np.ones(d.i.size), np.zeros(d.i.size), np.full(d.i.size, 0.5)])
    counts = d.c.T.ravel()
    keep = counts > 0
    data = PairDataset(list(arena.models), jnp.asarray(pairs[keep]), jnp.asarray(outcomes[keep]),
                       jnp.asarray(counts[keep]), jnp.ones(int(keep.sum())), jnp.asarray(counts[keep]))
    # converge L-BFGS fully (ftol=0) and make its Hessian ridge negligible (1e-8 x battles on the diagonal)
    model = BradleyTerry(arena.n_models, hessian_reg=1e-8, ftol=0.0, gtol=1e-13, max_iter=20000)
    res = model.compute_ratings_and_cis(data)
    ours = fit_bt(arena)  # mean 1000, scale 400/ln 10: arena-rank's defaults
    np.testing.assert_allclose(np.asarray(res["ratings"]), ours.ratings, rtol=0, atol=1e-5)
    np.testing.assert_allclose(np.asarray(res["ratings"]) - np.asarray(res["rating_lower"]),
                               ours.ratings - ours.lower, rtol=1e-3)


def test_bootstrap_intervals_agree_with_the_sandwich_on_real_data(arena):
    from auditkit_plugins.arena.bootstrap import bootstrap

    fit = fit_bt(arena)
    boot = bootstrap(arena, fit.theta, n_resamples=300, seed=1)
    assert boot.max_gradient < 1e-9 and boot.unconverged == 0
    top = np.argsort(-fit.ratings)[:20]
    ratio = (boot.upper - boot.lower)[top] / (fit.upper - fit.lower)[top]
    assert np.all((ratio > 0.75) & (ratio < 1.3)), ratio
    assert abs(float(np.median(ratio)) - 1) < 0.1
