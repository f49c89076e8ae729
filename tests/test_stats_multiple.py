"""Multiple-comparison adjustments, Friedman/Nemenyi and power, against independent references: statsmodels'
multipletests where installed, hand computation (textbook examples), Demsar (2006) Table 5 critical values, and a
Monte Carlo rejection rate for the power formula."""

from __future__ import annotations

import numpy as np
import pytest

from auditkit_plugins.stats import multiple as MC


def test_adjustments_hand_computed():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    assert np.allclose(MC.adjust(p, "bonferroni"), [0.04, 0.16, 0.12, 0.02])
    assert np.allclose(MC.adjust(p, "holm"), [0.03, 0.06, 0.06, 0.02])
    # BH: sorted 0.005, 0.01, 0.03, 0.04 times 4/1, 4/2, 4/3, 4/4 = 0.02, 0.02, 0.04, 0.04 (running min from top)
    assert np.allclose(MC.adjust(p, "bh"), [0.02, 0.04, 0.04, 0.02])


def test_adjustments_match_statsmodels():
    sm = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(0)
    p = rng.uniform(size=40) ** 3
    for ours, theirs in (("bonferroni", "bonferroni"), ("holm", "holm"), ("bh", "fdr_bh")):
        assert np.allclose(MC.adjust(p, ours), sm.multipletests(p, method=theirs)[1])


def test_unknown_correction_is_refused():
    with pytest.raises(Exception, match="holm"):
        MC.adjust([0.1], "sidak-ish")


def test_nemenyi_critical_values_demsar_table():
    # Demsar (2006), Table 5(a): q_0.05 = 2.343 (3 classifiers), 2.569 (4), 2.728 (5), 3.031 (8), 3.164 (10)
    for n, q in ((3, 2.343), (4, 2.569), (5, 2.728), (8, 3.031), (10, 3.164)):
        v = np.random.default_rng(n).normal(size=(n, 12))
        cd = MC.nemenyi(v).critical_difference
        assert cd / np.sqrt(n * (n + 1) / (6 * 12)) == pytest.approx(q, abs=2e-3)


def test_friedman_average_ranks_and_significance():
    rng = np.random.default_rng(1)
    v = np.linspace(0, 3, 5)[:, None] + rng.normal(size=(5, 20)) * 0.3
    fr = MC.friedman(v)
    assert fr.pvalue < 1e-6 and np.argmin(fr.average_ranks) == 4
    assert fr.average_ranks.sum() == pytest.approx(5 * 6 / 2)
    res = MC.nemenyi(v)
    assert res.different[0, 4] and not res.different[3, 3]


def test_power_formula_matches_simulated_rejection_rate():
    rng = np.random.default_rng(2)
    se, delta = 1.0, MC.minimum_detectable_difference(1.0, 0.05, 0.8)
    z = rng.normal(delta, se, size=40000)
    rate = (np.abs(z / se) > 1.959963984540054).mean()
    assert rate == pytest.approx(0.8, abs=0.01)
    assert MC.power(delta, se) == pytest.approx(0.8, abs=1e-5)   # MDD ignores the far tail (+1e-6)
    assert MC.power(0.0, 1.0) == pytest.approx(0.05, abs=1e-9)        # size of the test
    assert MC.minimum_detectable_difference(1.0, 0.05, 0.8, n_tests=10) > delta


def test_power_report_rows():
    rows = MC.power_report([3.0, 1.0, 2.0], np.eye(3) * 0.5)
    assert len(rows) == 3 and all(r["difference"] >= 0 for r in rows)
    assert rows[0]["better"] == 0 and rows[0]["se"] == pytest.approx(1.0)
