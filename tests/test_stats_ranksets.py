"""csranks-style rank confidence sets (plugins/stats/ranksets.py): coverage by simulation (true means known), never
wider than the Holm sets of plugins/stats/bootstrap.py with the same covariance, top-k candidates, groups."""

from __future__ import annotations

import numpy as np

from auditkit.ranking import competition_rank
from auditkit_plugins.stats import bootstrap as B
from auditkit_plugins.stats import ranksets as RS


def _rep(rep, n=6, k=40):
    rng = np.random.default_rng(1000 + rep)
    mu = np.linspace(0, 1.0, n)
    v = mu[:, None] + rng.normal(size=(n, k))
    res = B.bootstrap_ranks(v, np.full(k, 1 / k), "arithmetic", n_resamples=300, seed=rep, level=0.9)
    return mu, res


def test_max_t_and_marginal_sets_cover_on_simulated_data():
    reps, level = 40, 0.9
    sim_cov = marg_cov = 0
    widths_new, widths_holm = [], []
    for rep in range(reps):
        mu, res = _rep(rep)
        true = competition_rank(mu)
        sets, better = RS.max_t_sets(res.point_scores, res.score_cov, level, n_draws=4000, seed=rep)
        holm, _ = res.simultaneous_rank_sets(level)
        sim_cov += bool(((sets[:, 0] <= true) & (true <= sets[:, 1])).all())
        m = RS.marginal_sets(res.point_scores, res.score_cov, level, n_draws=4000, seed=rep)
        marg_cov += ((m[:, 0] <= true) & (true <= m[:, 1])).mean()
        assert (m[:, 1] - m[:, 0] <= sets[:, 1] - sets[:, 0]).all()        # marginal never wider
        assert (sets[:, 0] <= res.point_ranks).all() and (res.point_ranks <= sets[:, 1]).all()
        widths_new.append((sets[:, 1] - sets[:, 0]).mean())
        widths_holm.append((holm[:, 1] - holm[:, 0]).mean())
        assert (sets[:, 1] - sets[:, 0] <= holm[:, 1] - holm[:, 0]).all()  # never wider than Holm
    assert sim_cov / reps >= level - 0.1           # nominal 0.9; Monte Carlo slack for 40 replications
    assert marg_cov / reps >= level - 0.1
    assert np.mean(widths_new) <= np.mean(widths_holm)
    assert np.mean(widths_new) < 6 - 1.5           # informative


def test_bootstrap_draws_path_and_top_k():
    mu, res = _rep(3, n=8)
    B2 = B.bootstrap_ranks(np.asarray(mu)[:, None] + np.random.default_rng(0).normal(size=(8, 40)),
                           np.full(40, 1 / 40), "arithmetic", n_resamples=400, seed=1, keep_scores=True)
    sets, better = RS.max_t_sets(B2.point_scores, boot_scores=B2.extra["scores"], level=0.9)
    assert sets.shape == (8, 2) and (sets[:, 0] <= sets[:, 1]).all()
    top = RS.top_k_candidates(B2.point_scores, B2.score_cov, k=2, level=0.9)
    assert int(np.argmax(B2.point_scores)) in top
    assert set(top) == set(np.flatnonzero(RS.max_t_sets(B2.point_scores, B2.score_cov, 0.9)[0][:, 0] <= 2))


def test_groups_cut_only_where_everyone_is_separated():
    s = np.array([10.0, 9.0, 5.0, 4.0])
    better = np.zeros((4, 4), bool)
    better[np.ix_([0, 1], [2, 3])] = True          # {0,1} above {2,3}; nothing else separated
    assert RS.inseparable_groups(s, better) == [(1, 2, [0, 1]), (3, 4, [2, 3])]
    assert RS.shared_ranks(s, better).tolist() == [1, 1, 3, 3]
    better[2, 3] = False
    assert RS.shared_ranks(s, better).tolist() == [1, 1, 3, 3]    # 2 vs 3 not separated: one group
    better[0, 1] = True                                            # 0 now separated from everyone below
    assert RS.shared_ranks(s, better).tolist() == [1, 2, 3, 3]
    none = np.zeros((4, 4), bool)
    assert RS.shared_ranks(s, none).tolist() == [1, 1, 1, 1]


def test_zero_variance_difference_is_separated_only_if_nonzero():
    s = np.array([2.0, 1.0, 1.0])
    cov = np.zeros((3, 3))
    sets, better = RS.max_t_sets(s, cov, 0.95, n_draws=100)
    assert sets.tolist() == [[1, 1], [2, 3], [2, 3]]
