"""Rank checks: ties broken by display order, and published ranks the data cannot support.

* ``rank-ties``: rows whose published scores are equal under the core tie key (:func:`auditkit.tie_key`) but carry
  different published ranks: the tie was broken by display order. (Also rows whose recomputed scores tie when no
  published score is given.)
* ``rank-support``: at level 0.95, the simultaneous rank sets of the arithmetic mean under the task bootstrap
  (step-down max-t, :func:`auditkit_plugins.stats.ranksets.max_t_sets`, exact linearized bootstrap covariance
  ``sum_t a_t a_t^T - (sum_t a_t)(sum_t a_t)^T / k`` with ``a_t = w_t * values[:, t]``) split the table into groups
  that cannot be separated. A group whose members carry different published ranks is reported; a warning when it
  holds the published rank 1 (the published winner is not distinguishable from the others in its group).
"""

from __future__ import annotations

import numpy as np

from auditkit.report import Finding

LEVEL = 0.95


def rank_ties(ctx):
    from auditkit.ranking import tie_key

    ts = ctx.ts
    ranks = np.asarray(ts.published_rank, float)
    scores = np.asarray(ts.published_score, float)
    ok = np.isfinite(ranks) & np.isfinite(scores)
    if ok.sum() < 2:
        return
    idx = np.flatnonzero(ok)
    keys = tie_key(scores[idx])
    for key in np.unique(keys):
        group = idx[keys == key]
        if group.size > 1 and np.unique(ranks[group]).size > 1:
            names = [ctx.systems[i] for i in group]
            yield Finding("rank-ties", "warning",
                          f"{len(group)} rows share the published score {scores[group[0]]:g} but have published "
                          f"ranks {', '.join(str(int(r)) for r in ranks[group])}: the tie was broken by display "
                          "order (competition ranking would give them all rank "
                          f"{int(ranks[group].min())})", system=names[0],
                          evidence={"systems": names, "published_ranks": [int(r) for r in ranks[group]],
                                    "score": float(scores[group[0]])})


def rank_support(ctx):
    from auditkit_plugins.stats.ranksets import inseparable_groups, max_t_sets

    ts = ctx.ts
    rows = np.flatnonzero(ts.scorable & ~ts.reference)
    ranks = np.asarray(ts.published_rank, float)[rows]
    if rows.size < 2 or not np.isfinite(ranks).any():
        return
    v = np.asarray(ts.values, float)[rows]
    w = np.asarray(ts.weights, float)
    k = v.shape[1]
    if k < 2:
        return
    A = v * w[None, :]                                   # a_t = w_t values[:, t]
    cov = A @ A.T - np.outer(A.sum(axis=1), A.sum(axis=1)) / k
    point = A.sum(axis=1)
    sets, better = max_t_sets(point, cov, LEVEL, seed=0)
    for first, last, members in inseparable_groups(point, better):
        pr = ranks[members]
        pr = pr[np.isfinite(pr)]
        if len(members) < 2 or np.unique(pr).size < 2:
            continue
        names = [ctx.systems[rows[i]] for i in members]
        top = bool((pr == 1).any())
        yield Finding("rank-support", "warning" if top else "info",
                      f"{len(members)} systems at positions {first}-{last} cannot be separated at {LEVEL:.0%} "
                      f"(task bootstrap, simultaneous max-t rank sets) but are published with ranks "
                      f"{int(pr.min())}-{int(pr.max())}" + ("; this includes the published winner" if top else ""),
                      system=names[0],
                      evidence={"systems": names, "shared_rank": first, "rank_range": [first, last],
                                "published_ranks": [None if not np.isfinite(r) else int(r)
                                                    for r in ranks[members]],
                                "rank_sets": [list(map(int, sets[i])) for i in members]})
