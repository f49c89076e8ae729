"""Exact W1 solvers (auditkit_plugins.wgan.w1).

Golden values: ../shared/reference/techniques.md §1.6 ([C], recomputed here) and closed forms: a translation of an
empirical measure by μ has W1 = ‖μ‖ exactly (the identity shift is a coupling of cost ‖μ‖, and the 1-Lipschitz
critic x ↦ μ·x/‖μ‖ attains it), and in 1-D W1 = ∫|F − G|.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from auditkit.errors import InputError, MissingDependencyError, UsageError
from auditkit_plugins.wgan import w1 as W


def test_reference_1d_toy_all_solvers():
    # techniques.md §1.6: a = {0,1,2,3}, b = a + 0.5 gives W1 = 0.5
    a = np.arange(4.0)
    for fn in (W.w1_1d, W.w1_assignment, W.w1_emd):
        assert fn(a, a + 0.5) == pytest.approx(0.5, abs=1e-12)
    assert W.exact_w1(a, a + 0.5) == pytest.approx(0.5, abs=1e-12)


def test_reference_2d_toy():
    # techniques.md §1.6: {(0,0),(1,0)} vs {(0,1),(1,1)} gives W1 = 1.0
    x, y = np.array([[0.0, 0], [1, 0]]), np.array([[0.0, 1], [1, 1]])
    assert W.w1_assignment(x, y) == pytest.approx(1.0, abs=1e-12)
    assert W.w1_emd(x, y) == pytest.approx(1.0, abs=1e-12)


def test_pot_default_metric_is_squared_euclidean_pitfall():
    # the pitfall the module guards against: ot.dist defaults to 'sqeuclidean' (W2², not W1)
    import ot

    x, y = np.array([[0.0], [0.0]]), np.array([[2.0], [2.0]])
    wrong = ot.emd2(np.full(2, 0.5), np.full(2, 0.5), ot.dist(x, y))
    assert wrong == pytest.approx(4.0)
    assert W.w1_emd(x, y) == pytest.approx(2.0)


def test_translation_gives_norm_of_shift_exactly():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((200, 2))
    mu = np.array([3.0, 4.0])
    assert W.w1_assignment(x + mu, x) == pytest.approx(5.0, abs=1e-12)
    assert W.w1_emd(x + mu, x) == pytest.approx(5.0, abs=1e-9)


def test_reference_translation_independent_samples():
    # techniques.md §1.6 [C]: n = 512, seed 0 (numpy default_rng, X drawn before Y): batch OT = 5.0475
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 2))
    y = rng.standard_normal((512, 2)) + np.array([3.0, 4.0])
    a, b = W.w1_assignment(y, x), W.w1_emd(y, x)
    assert a == pytest.approx(5.0475, abs=5e-5)
    assert a == pytest.approx(b, abs=1e-10)


def test_unequal_sizes_match_scipy_1d_and_emd():
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(37), rng.standard_normal(53) * 2 + 1
    ref = wasserstein_distance(x, y)  # independent 1-D oracle
    assert W.w1_1d(x, y) == pytest.approx(ref, rel=1e-12)
    assert W.w1_emd(x, y) == pytest.approx(ref, rel=1e-9)
    assert W.exact_w1(x, y) == pytest.approx(ref, rel=1e-12)


def test_weights_1d_and_emd_agree():
    from scipy.stats import wasserstein_distance

    x, y = np.array([0.0, 1.0, 5.0]), np.array([2.0, 3.0])
    a, b = np.array([0.2, 0.5, 0.3]), np.array([0.6, 0.4])
    ref = wasserstein_distance(x, y, a, b)
    assert W.w1_1d(x, y, a, b) == pytest.approx(ref)
    assert W.w1_emd(x, y, a, b) == pytest.approx(ref)
    assert W.exact_w1(x[:, None].repeat(2, 1), y[:, None].repeat(2, 1), a=a, b=b) == pytest.approx(ref * np.sqrt(2))


def test_images_are_flattened():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((10, 3, 4, 4)), rng.standard_normal((10, 3, 4, 4))
    assert W.exact_w1(x, y) == pytest.approx(W.w1_assignment(x.reshape(10, -1), y.reshape(10, -1)))


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 12), st.just(3)), elements=st.floats(-50, 50)),
       arrays(np.float64, st.tuples(st.integers(2, 12), st.just(3)), elements=st.floats(-50, 50)))
def test_property_solvers_agree_and_metric(x, y):
    d = W.exact_w1(x, y)
    assert d >= 0
    # the solvers sum the same transport costs in different orders (and POT's network simplex works on a scaled
    # cost), so they agree to a few ulps of the total, not to an absolute 1e-7 (seen: 30.1525177 vs 30.1525176)
    close = dict(rel=1e-9, abs=1e-9)
    assert W.w1_emd(x, y) == pytest.approx(d, **close)
    assert W.w1_emd(y, x) == pytest.approx(d, **close)  # symmetric
    if x.shape[0] == y.shape[0]:
        assert W.w1_assignment(x, y) == pytest.approx(d, **close)
    # lower bound: distance between means (the critic u·x with ‖u‖ = 1)
    assert d >= np.linalg.norm(x.mean(0) - y.mean(0)) * (1 - 1e-9) - 1e-9


def test_split_half_is_seeded_and_positive():
    x = np.random.default_rng(0).standard_normal((64, 2))
    assert W.split_half_w1(x, 1) == W.split_half_w1(x, 1)
    assert W.split_half_w1(x, 1) > 0
    assert W.split_half_w1(x[:1]) is None


def test_bad_inputs():
    with pytest.raises(InputError, match="NaN"):
        W.exact_w1(np.array([[0.0], [np.nan]]), np.array([[0.0], [1.0]]))
    with pytest.raises(InputError, match="different dimensions"):
        W.exact_w1(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(UsageError, match="equal size"):
        W.w1_assignment(np.zeros((3, 2)), np.zeros((4, 2)))
    with pytest.raises(UsageError, match="unknown W1 method"):
        W.exact_w1(np.zeros((3, 2)), np.zeros((3, 2)), method="sinkhorn")
    with pytest.raises(InputError, match="empty"):
        W.exact_w1(np.zeros((0, 2)), np.zeros((3, 2)))


def test_missing_pot_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ot", None)
    with pytest.raises(MissingDependencyError, match=r"auditkit\[wgan\]"):
        W.w1_emd(np.zeros((3, 2)), np.ones((4, 2)))
    # equal sizes do not need POT
    assert W.exact_w1(np.zeros((3, 2)), np.ones((3, 2))) == pytest.approx(np.sqrt(2))


def test_w1_1d_sorts_unsorted_input():
    # reference notes §1.6 ({0..3} vs {0..3} + 0.5 -> 0.5), given unsorted and in different orders: matching the
    # points in the given order (no sort) gives (2.5 + 3.5 + 0.5 + 1.5) / 4 = 2
    from auditkit_plugins.wgan.w1 import exact_w1, w1_1d

    a = np.array([3.0, 0.0, 2.0, 1.0])
    b = np.array([0.5, 3.5, 1.5, 2.5])
    assert np.mean(np.abs(a - b)) == pytest.approx(2.0)
    assert w1_1d(a, b) == pytest.approx(0.5, abs=1e-15)
    assert exact_w1(a[:, None], b[:, None]) == pytest.approx(0.5, abs=1e-15)
    # unequal sizes (the CDF branch): {0, 2} vs {1} is 1; unsorted {2, 0} too
    assert w1_1d([2.0, 0.0], [1.0]) == pytest.approx(1.0, abs=1e-15)
    assert w1_1d([5.0, 1.0, 3.0], [2.0, 4.0]) == pytest.approx(w1_1d([1.0, 3.0, 5.0], [4.0, 2.0]), abs=1e-15)


def test_split_half_w1_is_w1_between_the_two_seeded_halves():
    from auditkit_plugins.wgan.w1 import exact_w1, split_half_w1

    x = np.random.default_rng(1).normal(size=(21, 3))
    perm = np.random.default_rng(4).permutation(21)
    assert split_half_w1(x, seed=4) == pytest.approx(exact_w1(x[perm[:10]], x[perm[10:20]]), abs=1e-12)
    assert split_half_w1(x) == split_half_w1(x, seed=0)
    assert split_half_w1(np.array([[0.0], [3.0]])) == pytest.approx(3.0)   # two points: one per half
    assert split_half_w1(np.array([[1.0]])) is None
