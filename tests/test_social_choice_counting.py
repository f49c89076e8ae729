"""Borda, Dowdall, win rate, Copeland and minimax by counting (sort + binary search per task; row blocks for the
pairwise rules) give exactly the results of the previous n x n implementation, kept here verbatim as the oracle
(commit 13ba614, plugins/social_choice/rules.py), including ties, weights and the blocked path."""

from __future__ import annotations

import numpy as np
import pytest

import array_api_compat.numpy as xpn
from auditkit_plugins.social_choice import rules as R


# -- the previous implementation, verbatim --------------------------------------------------------------------------
def _old_counts(values, xp):
    n, k = values.shape
    gs, es = [], []
    for t in range(k):
        col = values[:, t]
        gs.append(xp.sum(xp.astype(col[None, :] > col[:, None], xp.float64), axis=1))
        es.append(xp.sum(xp.astype(col[None, :] == col[:, None], xp.float64), axis=1))
    return xp.stack(gs, axis=1), xp.stack(es, axis=1)


def _old_P(values, xp, weights):
    n, k = values.shape
    P = xp.zeros((n, n), dtype=xp.float64)
    for t in range(k):
        col = values[:, t]
        win = xp.astype(col[:, None] > col[None, :], xp.float64) + 0.5 * xp.astype(col[:, None] == col[None, :],
                                                                                   xp.float64)
        P = P + weights[t] * win
    return P * (1 - xp.eye(n, dtype=xp.float64))


def _clean(x):
    return np.round(x * 1e12) / 1e12


def _old_copeland(values, weights):
    P = _old_P(values, xpn, weights)
    diff = _clean(P - P.T)
    n = values.shape[0]
    eye = np.eye(n)
    return ((diff > 0).astype(float) + 0.5 * (diff == 0).astype(float) * (1 - eye)).sum(axis=1)


def _old_minimax(values, weights):
    P = _old_P(values, xpn, weights)
    n = values.shape[0]
    if n < 2:
        return np.zeros(n)
    margin = _clean(P.T - P) - 10.0 * np.eye(n)
    return -margin.max(axis=1)


def _old_borda(values, weights):
    n = values.shape[0]
    g, e = _old_counts(values, xpn)
    return ((n - g - (e + 1) / 2) * weights).sum(axis=1)


def _cases():
    rng = np.random.default_rng(13)
    for n in (1, 2, 3, 7, 40):
        for k in (1, 3, 8):
            for ties in (True, False):
                v = rng.integers(0, 4, size=(n, k)).astype(float) if ties else rng.normal(size=(n, k))
                w = rng.uniform(0.2, 1.0, k)
                yield v, w / w.sum()


@pytest.mark.parametrize("block", [None, 1, 3])
def test_counting_equals_previous_implementation_exactly(block, monkeypatch):
    if block is not None:
        monkeypatch.setattr(R, "BLOCK_ELEMENTS", block)          # rows one (or a few) at a time
    for v, w in _cases():
        g_old, e_old = _old_counts(v, xpn)
        g, e = R._greater_equal_counts(v, xpn)
        assert np.array_equal(np.asarray(g), g_old) and np.array_equal(np.asarray(e), e_old)
        assert np.array_equal(np.asarray(R.borda(v, xp=xpn, weights=w)), _old_borda(v, w))
        assert np.array_equal(np.asarray(R.copeland(v, xp=xpn, weights=w)), _old_copeland(v, w))
        assert np.array_equal(np.asarray(R.minimax(v, xp=xpn, weights=w)), _old_minimax(v, w))
        assert np.array_equal(np.asarray(R.pairwise_preferences(v, xp=xpn, weights=w)), _old_P(v, xpn, w))


def test_borda_points_equal_scipy_average_ranks_minus_one():
    from scipy.stats import rankdata

    rng = np.random.default_rng(14)
    v = rng.integers(0, 5, size=(200, 6)).astype(float)
    assert np.array_equal(np.asarray(R.borda_points(v, xpn)), rankdata(v, axis=0) - 1)


def test_minimax_never_returns_negative_zero():
    # a system that loses to nobody by a positive margin and ties someone: margin 0 -> score +0, printed "0"
    v = np.array([[1.0, 2.0], [2.0, 1.0], [0.0, 0.0]])
    s = np.asarray(R.minimax(v, xp=xpn, weights=np.array([0.5, 0.5])))
    assert s[0] == 0 and not np.signbit(s[0]) and not np.signbit(s[1])
    assert f"{s[0]:g}" == "0"


def test_pairwise_rules_keep_memory_linear_in_n(monkeypatch):
    # the blocked path never builds an n x n array: record the largest array the preference rows allocate
    seen = []
    real = R._preference_rows

    def spy(values, start, stop, **kw):
        out = real(values, start, stop, **kw)
        seen.append(out.shape)
        return out
    monkeypatch.setattr(R, "_preference_rows", spy)
    monkeypatch.setattr(R, "BLOCK_ELEMENTS", 2000)
    v = np.random.default_rng(1).normal(size=(500, 4))
    R.copeland(v, xp=xpn, weights=np.full(4, 0.25))
    assert max(r * c for r, c in seen) <= 2000 and seen[0][1] == 500
