"""Means: property tests (hypothesis) and values checked against scipy.stats as an independent oracle."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import array_api_compat.numpy as xp
from auditkit import get_registry

POSITIVE = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)


def agg(name, values, weights=None, **params):
    values = np.asarray(values, float)
    w = np.full(values.shape[1], 1 / values.shape[1]) if weights is None else np.asarray(weights, float)
    return np.asarray(get_registry().get("aggregators", name).func(values, xp=xp, weights=w, **params))


matrices = arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 9)), elements=POSITIVE)


@settings(max_examples=200, deadline=None)
@given(matrices)
def test_harmonic_le_geometric_le_arithmetic(m):
    h, g, a = agg("harmonic", m), agg("geometric", m), agg("arithmetic", m)
    assert np.all(h <= g * (1 + 1e-12)) and np.all(g <= a * (1 + 1e-12))


@settings(max_examples=100, deadline=None)
@given(matrices, st.randoms(use_true_random=False))
def test_permutation_invariance_over_tasks(m, rnd):
    perm = list(range(m.shape[1]))
    rnd.shuffle(perm)
    for name in ("arithmetic", "geometric", "harmonic", "median", "minimum"):
        np.testing.assert_allclose(agg(name, m), agg(name, m[:, perm]), rtol=1e-12)
    np.testing.assert_allclose(agg("power", m, p=-2.0), agg("power", m[:, perm], p=-2.0), rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(matrices, st.floats(0.01, 100), st.data())
def test_geometric_ranking_invariant_to_rescaling_a_task(m, c, data):
    j = data.draw(st.integers(0, m.shape[1] - 1))
    scaled = m.copy()
    scaled[:, j] *= c
    before, after = agg("geometric", m), agg("geometric", scaled)
    # every score is multiplied by the same factor c^(1/n): the order cannot change
    np.testing.assert_allclose(after / before, c ** (1 / m.shape[1]), rtol=1e-9)


@settings(max_examples=100, deadline=None)
@given(POSITIVE, st.integers(1, 12), st.floats(-5, 5))
def test_equal_values_give_that_value(v, n, p):
    m = np.full((1, n), v)
    for name in ("arithmetic", "geometric", "harmonic", "median", "minimum"):
        assert agg(name, m)[0] == pytest.approx(v, rel=1e-12)
    assert agg("power", m, p=p)[0] == pytest.approx(v, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(matrices, st.floats(-6, 6), st.floats(-6, 6))
def test_power_mean_is_monotone_in_p(m, p, q):
    lo, hi = sorted((p, q))
    assert np.all(agg("power", m, p=lo) <= agg("power", m, p=hi) * (1 + 1e-9))


def test_against_scipy():
    from scipy.stats import gmean, hmean, pmean

    rng = np.random.default_rng(0)
    m = rng.uniform(1, 100, size=(50, 9))
    np.testing.assert_allclose(agg("geometric", m), gmean(m, axis=1), rtol=1e-12)
    np.testing.assert_allclose(agg("harmonic", m), hmean(m, axis=1), rtol=1e-12)
    np.testing.assert_allclose(agg("power", m, p=-2.0), pmean(m, -2.0, axis=1), rtol=1e-12)
    np.testing.assert_allclose(agg("power", m, p=3.0), pmean(m, 3.0, axis=1), rtol=1e-12)
    np.testing.assert_allclose(agg("median", m), np.median(m, axis=1))
    w = rng.uniform(0.1, 1, 9)
    w /= w.sum()
    np.testing.assert_allclose(agg("geometric", m, w), gmean(m, axis=1, weights=w), rtol=1e-12)
    np.testing.assert_allclose(agg("harmonic", m, w), hmean(m, axis=1, weights=w), rtol=1e-12)


def test_zero_gives_the_limit_zero():
    m = np.array([[0.0, 50.0, 90.0], [10.0, 50.0, 90.0]])
    assert agg("geometric", m)[0] == 0.0 and agg("harmonic", m)[0] == 0.0
    assert agg("power", m, p=-1.0)[0] == 0.0
    assert agg("geometric", m)[1] > 0


def test_weighted_median_is_the_lower_weighted_median():
    m = np.array([[1.0, 2.0, 10.0]])
    assert agg("median", m, [0.6, 0.2, 0.2])[0] == 1.0
    assert agg("median", m, [0.2, 0.2, 0.6])[0] == 10.0
