"""Rating models: property tests of Bradley-Terry, tie models against independent likelihoods, Elo against a plain
loop, style control recovering a planted effect, the registry records, numpy/torch parity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import auditkit
from auditkit_plugins.arena.bt import design, fit_bt, loglik
from auditkit_plugins.arena.data import PairCounts
from auditkit_plugins.arena.ops import NumpyOps
from auditkit_plugins.arena.synthetic import simulate


def counts(models, rows):
    """rows: (i, j, wins_i, wins_j, ties)."""
    r = np.asarray(rows, float)
    return PairCounts(tuple(models), r[:, 0].astype(int), r[:, 1].astype(int), r[:, 2], r[:, 3], r[:, 4],
                      np.zeros(len(r)))


@st.composite
def connected_counts(draw):
    m = draw(st.integers(2, 6))
    rows = []
    for i in range(m):
        for j in range(i + 1, m):
            if j == i + 1 or draw(st.booleans()):  # a chain keeps the graph connected
                rows.append((i, j, draw(st.integers(1, 40)), draw(st.integers(1, 40)), draw(st.integers(0, 10))))
    return counts([f"m{k}" for k in range(m)], rows)


@settings(max_examples=30, deadline=None)
@given(connected_counts(), st.randoms(use_true_random=False))
def test_relabelling_models_permutes_the_ratings(pc, rnd):
    perm = list(range(pc.n_models))
    rnd.shuffle(perm)  # new index of model k is perm[k]
    inv = np.argsort(perm)
    models = tuple(pc.models[k] for k in inv)
    p = np.asarray(perm)
    other = PairCounts(models, p[pc.ia], p[pc.ib], pc.wins_a, pc.wins_b, pc.ties, pc.bothbad)
    a, b = fit_bt(pc), fit_bt(other)
    np.testing.assert_allclose(b.ratings[p], a.ratings, atol=1e-8)
    np.testing.assert_allclose(b.se[p], a.se, rtol=1e-7, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(connected_counts())
def test_swapping_a_and_b_with_the_outcome_flipped_changes_nothing(pc):
    swapped = PairCounts(pc.models, pc.ib, pc.ia, pc.wins_b, pc.wins_a, pc.ties, pc.bothbad)
    a, b = fit_bt(pc), fit_bt(swapped)
    np.testing.assert_allclose(a.ratings, b.ratings, atol=1e-8)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-7, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(connected_counts(), st.floats(-50, 50))
def test_a_constant_shift_leaves_the_likelihood_unchanged(pc, c):
    d = design(pc)
    fit = fit_bt(pc)
    ops = NumpyOps()
    l0 = loglik(ops, fit.theta, d.i, d.j, d.y, d.n)
    assert math.isclose(loglik(ops, fit.theta + c, d.i, d.j, d.y, d.n), l0, rel_tol=1e-12, abs_tol=1e-9)
    # and the fit is a maximum: moving one rating lowers it
    bumped = fit.theta.copy()
    bumped[0] += 1e-3
    assert loglik(ops, bumped, d.i, d.j, d.y, d.n) < l0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 500), st.integers(1, 500), st.integers(0, 100))
def test_two_models_have_the_closed_form(w, l, t):
    pc = counts(["a", "b"], [(0, 1, w, l, t)])
    fit = fit_bt(pc, scale=1.0, base=math.e, offset=0.0)
    y, n = w + t / 2, w + l + t
    assert math.isclose(fit.ratings[0] - fit.ratings[1], math.log(y / (n - y)), rel_tol=1e-9, abs_tol=1e-10)
    # Fisher and sandwich variances of the difference, in closed form
    p = y / n
    fisher = fit_bt(pc, scale=1.0, base=math.e, ci="fisher", anchor="b")
    assert math.isclose(fisher.se[0] ** 2, 1 / (n * p * (1 - p)), rel_tol=1e-7)
    meat = w * (1 - p) ** 2 + l * p ** 2 + t * (0.5 - p) ** 2
    sandwich = fit_bt(pc, scale=1.0, base=math.e, anchor="b")
    assert math.isclose(sandwich.se[0] ** 2, meat / (n * p * (1 - p)) ** 2, rel_tol=1e-7)


@settings(max_examples=20, deadline=None)
@given(connected_counts(), connected_counts())
def test_disconnected_graphs_are_refused(a, b):
    shift = a.n_models
    joined = PairCounts(a.models + tuple(f"x{k}" for k in range(b.n_models)),
                        np.concatenate([a.ia, b.ia + shift]), np.concatenate([a.ib, b.ib + shift]),
                        np.concatenate([a.wins_a, b.wins_a]), np.concatenate([a.wins_b, b.wins_b]),
                        np.concatenate([a.ties, b.ties]), np.concatenate([a.bothbad, b.bothbad]))
    with pytest.raises(auditkit.DomainError, match="disconnected components"):
        fit_bt(joined)


def test_a_model_that_never_loses_is_refused_with_its_name():
    pc = counts(["a", "b", "c"], [(0, 1, 5, 0, 0), (1, 2, 3, 4, 1), (0, 2, 2, 0, 0)])
    with pytest.raises(auditkit.DomainError, match="never beaten: a"):
        fit_bt(pc)


# -- tie models ----------------------------------------------------------------------------------------------
def _independent_nll(model, pc):
    """Negative log-likelihood in the papers' own parametrization: pi = exp(theta), nu or theta_RK."""
    c = np.column_stack([pc.wins_a, pc.wins_b, pc.ties + pc.bothbad])
    m = pc.n_models

    def nll(x):
        pi = np.exp(np.append(x[: m - 1], 0.0))
        pa, pb = pi[pc.ia], pi[pc.ib]
        if model == "davidson":
            nu = math.exp(x[-1])
            den = pa + pb + nu * np.sqrt(pa * pb)
            probs = np.column_stack([pa / den, pb / den, nu * np.sqrt(pa * pb) / den])
        else:
            th = 1.0 + math.exp(x[-1])  # theta_RK > 1
            probs = np.column_stack([pa / (pa + th * pb), pb / (pb + th * pa),
                                     (th * th - 1) * pa * pb / ((pa + th * pb) * (pb + th * pa))])
        return -float((c * np.log(probs)).sum())

    return nll


@pytest.mark.parametrize("model", ["davidson", "rao-kupper"])
def test_tie_models_maximize_the_independent_likelihood(model):
    from scipy.optimize import minimize

    from auditkit_plugins.arena.ties import fit_tie_model

    pc = simulate(6, 6000, seed=3, tie_rate=0.3).counts()
    fit = fit_tie_model(pc, model, scale=1.0, base=math.e, offset=0.0, anchor=pc.models[-1])
    assert fit.grad_norm < 1e-9
    nll = _independent_nll(model, pc)
    tie = fit.extra["tie_parameter"]
    x_ours = np.append(fit.ratings[:-1], math.log(tie) if model == "davidson" else math.log(tie - 1))
    ref = minimize(nll, np.zeros(pc.n_models), method="BFGS", options={"gtol": 1e-8, "maxiter": 2000})
    assert nll(x_ours) <= ref.fun + 1e-7
    np.testing.assert_allclose(x_ours, ref.x, atol=2e-4)


def test_davidson_recovers_the_simulated_tie_rate_and_order():
    from auditkit_plugins.arena.ties import fit_tie_model, tie_probability

    pc = simulate(5, 40000, seed=4, tie_rate=0.25).counts()
    fit = fit_tie_model(pc, "davidson")
    assert list(np.argsort(-fit.ratings)) == [0, 1, 2, 3, 4]
    nu_true = 2 * 0.25 / 0.75
    assert abs(fit.extra["tie_parameter"] - nu_true) < 4 * fit.extra["phi_se"] * nu_true + 0.02
    p = tie_probability(fit, "m000", "m004")
    assert math.isclose(sum(p.values()), 1.0, rel_tol=1e-12) and p["a"] > p["b"]


def test_tie_models_refuse_data_without_ties():
    from auditkit_plugins.arena.ties import fit_tie_model

    pc = counts(["a", "b"], [(0, 1, 3, 2, 0)])
    with pytest.raises(auditkit.DomainError, match="no ties"):
        fit_tie_model(pc, "davidson")


# -- Elo -----------------------------------------------------------------------------------------------------
def test_elo_is_the_plain_online_update_and_reports_its_order_dependence():
    from auditkit_plugins.arena.elo import fit_elo

    b = simulate(4, 300, seed=5)
    res = fit_elo(b.counts(), k=16)
    r = {k: 1000.0 for k in range(4)}
    for x, y, o in zip(b.a, b.b, b.outcome):
        e = 1 / (1 + 10 ** ((r[y] - r[x]) / 400))
        s = {0: 1.0, 1: 0.0}.get(int(o), 0.5)
        r[x], r[y] = r[x] + 16 * (s - e), r[y] - 16 * (s - e)
    np.testing.assert_allclose(res["ratings"], [r[k] for k in range(4)], atol=1e-9)
    assert res["order_spread"] > 0  # the reversed order gives other ratings


def test_elo_refuses_pair_counts():
    pc = counts(["a", "b"], [(0, 1, 3, 2, 1)])
    with pytest.raises(auditkit.UsageError, match="order"):
        auditkit.get_registry().get("rating_models", "elo").fit(pc)


# -- style control -------------------------------------------------------------------------------------------
def test_style_control_recovers_the_planted_coefficient_and_adjusts_ratings():
    from auditkit_plugins.arena.style import fit_style_bt

    truth = np.linspace(1.0, -1.0, 8)
    b = simulate(8, 30000, seed=6, tie_rate=0.0, style_effect=0.5, strengths=truth)
    pc = b.counts()
    fit = fit_style_bt(pc, scale=1.0, base=math.e, offset=0.0)
    beta, se = fit.extra["coefficients"][0], fit.extra["coefficient_se"][0]
    assert abs(beta - 0.5) < 4 * se
    plain = fit_bt(pc, scale=1.0, base=math.e, offset=0.0)
    err_style = np.abs(fit.ratings - (truth - truth.mean())).max()
    err_plain = np.abs(plain.ratings - (truth - truth.mean())).max()
    assert err_style < err_plain and err_style < 0.1
    # no style effect: the coefficient is near 0 and the ratings agree with plain BT
    b0 = simulate(8, 30000, seed=7, tie_rate=0.0, style_effect=0.0, strengths=truth)
    f0 = fit_style_bt(b0.counts(), scale=1.0, base=math.e, offset=0.0)
    assert abs(f0.extra["coefficients"][0]) < 4 * f0.extra["coefficient_se"][0]


def test_style_control_needs_a_battle_log_with_features():
    from auditkit_plugins.arena.style import fit_style_bt

    with pytest.raises(auditkit.UsageError, match="battle log"):
        fit_style_bt(counts(["a", "b"], [(0, 1, 3, 2, 1)]))


# -- records -------------------------------------------------------------------------------------------------
def test_the_rating_models_are_registered_with_declared_parameters():
    reg = auditkit.get_registry()
    for name in ("bt", "davidson", "rao-kupper", "elo", "style-bt"):
        assert reg.get("rating_models", name).name == name
    assert reg.get("rating_models", "elo").order_dependent
    from auditkit.rules import resolve_rules

    (spec,) = resolve_rules(["bt:ties=drop,anchor=m001"], kind="rating_models")
    assert spec.params["ties"] == "drop" and spec.params["anchor"] == "m001"
    with pytest.raises(auditkit.UsageError, match="out of range"):
        resolve_rules(["elo:k=0"], kind="rating_models")
    with pytest.raises(auditkit.UsageError, match="ties"):
        resolve_rules(["bt:ties=third"], kind="rating_models")


def test_rate_ends_in_a_ranking_with_the_one_tie_rule():
    from auditkit_plugins.arena.models import rate

    pc = simulate(5, 5000, seed=8).counts()
    fit, rk = rate(pc, "bt:ties=drop")
    assert rk.tie_rule == auditkit.TIE_RULE and rk.rule == "bt" and rk.params["ties"] == "drop"
    np.testing.assert_array_equal(rk.scores, fit.ratings)
    assert list(rk.order()) == list(np.argsort(-fit.ratings))
    _, elo = rate(simulate(5, 2000, seed=8).counts(), "elo:k=8")
    assert any("order-dependent" in n for n in elo.notes)


def test_win_matrix_and_predicted_probabilities():
    pc = counts(["a", "b", "c"], [(0, 1, 6, 2, 2), (1, 2, 5, 5, 0), (2, 0, 1, 3, 0), (1, 0, 1, 1, 0)])
    wm = pc.win_matrix()
    assert wm["battles"][0, 1] == 12 and wm["battles"][1, 0] == 12  # 10 with a shown first, 2 with b first
    assert math.isclose(wm["win_rate"][0, 1], (6 + 1 + 2 / 2) / 12)
    assert math.isclose(wm["win_rate"][0, 1] + wm["win_rate"][1, 0], 1.0)
    fit = fit_bt(pc)
    p = fit.probability_matrix()
    np.testing.assert_allclose(p + p.T, 1.0)
    assert math.isclose(fit.win_probability("a", "b"), p[0, 1])


# -- backends ------------------------------------------------------------------------------------------------
def test_torch_cpu_matches_numpy():
    pytest.importorskip("torch")
    from auditkit_plugins.arena.bootstrap import bootstrap

    pc = simulate(12, 20000, seed=9).counts()
    a, b = fit_bt(pc), fit_bt(pc, backend="torch")
    np.testing.assert_allclose(b.ratings, a.ratings, rtol=0, atol=1e-9)
    np.testing.assert_allclose(b.se, a.se, rtol=1e-9)
    for exact in (160, 0):  # batched exact Newton and the chord method
        na = bootstrap(pc, a.theta, n_resamples=40, seed=2, exact_models=exact)
        nb = bootstrap(pc, a.theta, n_resamples=40, seed=2, exact_models=exact, backend="torch")
        np.testing.assert_allclose(nb.samples, na.samples, rtol=0, atol=1e-6)


@pytest.mark.gpu
def test_cuda_matches_numpy():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    from auditkit_plugins.arena.bootstrap import bootstrap

    pc = simulate(50, 200000, seed=10).counts()
    a, b = fit_bt(pc), fit_bt(pc, backend="torch", device="cuda")
    np.testing.assert_allclose(b.ratings, a.ratings, rtol=0, atol=1e-8)
    na = bootstrap(pc, a.theta, n_resamples=20, seed=2)
    nb = bootstrap(pc, a.theta, n_resamples=20, seed=2, backend="torch", device="cuda")
    np.testing.assert_allclose(nb.samples, na.samples, rtol=0, atol=1e-6)


def test_the_numpy_backend_refuses_cuda():
    with pytest.raises(auditkit.UsageError, match="cpu only"):
        fit_bt(simulate(3, 300, seed=1).counts(), device="cuda")


def test_bootstrap_methods_agree_and_cover_the_truth():
    from auditkit_plugins.arena.bootstrap import bootstrap

    truth = np.linspace(0.8, -0.8, 6)
    pc = simulate(6, 20000, seed=11, strengths=truth, tie_rate=0.0).counts()
    fit = fit_bt(pc)
    exact = bootstrap(pc, fit.theta, n_resamples=200, seed=3)
    chord = bootstrap(pc, fit.theta, n_resamples=200, seed=3, exact_models=0)
    assert exact.method.startswith("batched exact") and chord.method.startswith("chord")
    np.testing.assert_allclose(chord.samples, exact.samples, atol=1e-4)
    assert chord.max_gradient < 1e-8 and exact.max_gradient < 1e-10
    t = 1000 + fit.scale * (truth - truth.mean())
    assert np.all((exact.lower - 15 < t) & (t < exact.upper + 15))
