"""Confidence sets for ranks (Mogstad, Romano, Shaikh & Wilhelm, "Inference for ranks", the csranks construction).

Input: point scores ``s`` (n,) (higher is better) and either their covariance ``cov`` (n, n) (the bootstrap
covariance of :class:`auditkit_plugins.stats.bootstrap.BootstrapResult`) or bootstrap draws ``boot`` (R, n).
For a set I of pairs (j, k) the max-t statistic is ``max_{(j,k) in I} |(Z_j - Z_k)| / se_jk`` with Z the centred
draws (Gaussian N(0, cov) by default, seeded; or ``boot - s``); its ``level`` quantile is the critical value.
A pair is *separated* when ``|s_j - s_k| / se_jk`` exceeds it; Romano-Wolf step-down recomputes the quantile over
the pairs not yet separated until nothing changes (this keeps the family-wise error at 1 - level).

* :func:`max_t_sets` (simultaneous): I = all pairs; rank set of j = [1 + #k separated above j, n - #k separated
  below j]. With probability >= level every true rank lies in its set at once. Never wider than the Holm sets with
  the same covariance (max-t's quantile is below Bonferroni's at every step), usually much narrower.
* :func:`marginal_sets`: for each j alone, I = the pairs (j, k); P(true rank of j in its set) >= level for each j
  (not jointly).
* :func:`top_k_candidates`: the systems that could be among the true top k: {j : lower end of its simultaneous set
  <= k}; with probability >= level it contains every true top-k system.
* :func:`inseparable_groups` / :func:`shared_ranks`: cut the order (by point score) between positions p and p + 1
  only where every system above is separated from every system below; each group shares the rank of its first
  position ("1224" style) and the rank range [first, last] of its positions.

Ties in the point scores use the core tie rule (:func:`auditkit.tie_key`). numpy and scipy only.
"""

from __future__ import annotations

import numpy as np


def _pairs(point, cov=None, boot=None):
    s = np.asarray(point, float)
    n = s.size
    if boot is not None:
        Z = np.asarray(boot, float) - s[None, :]
        C = np.cov(Z, rowvar=False) if Z.shape[0] > 1 else np.zeros((n, n))
    else:
        Z = None
        C = np.asarray(cov, float)
    var = np.diag(C)
    vd = np.maximum(var[:, None] + var[None, :] - 2 * C, 0.0)
    se = np.sqrt(vd)
    return s, Z, C, se


def _draws(C, Z, n_draws, seed):
    if Z is not None:
        return Z
    rng = np.random.default_rng(seed)
    n = C.shape[0]
    # N(0, C) through an eigen-decomposition (C may be singular: equal-weight bootstrap covariances are rank k - 1)
    w, V = np.linalg.eigh((C + C.T) / 2)
    root = V * np.sqrt(np.clip(w, 0, None))[None, :]
    return rng.standard_normal((n_draws, n)) @ root.T


def _stat(s, se):
    """|d| / se for all pairs; inf where se = 0 and d != 0, 0 where both vanish."""
    from auditkit.ranking import tie_key

    k = tie_key(s)
    d = s[:, None] - s[None, :]
    equal = k[:, None] == k[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.abs(d) / se
    t = np.where(se > 0, t, np.inf)
    t = np.where(equal, 0.0, t)
    np.fill_diagonal(t, 0.0)
    return t, d


def _stepdown(t, se, D, pairs_mask, level):
    """Romano-Wolf step-down max-t over the pairs in ``pairs_mask`` (symmetric bool); returns the separated mask."""
    n = t.shape[0]
    iu = np.triu_indices(n, 1)
    active = pairs_mask[iu] & (se[iu] > 0)
    ti = t[iu]
    sep = np.zeros(ti.size, bool)
    sep |= pairs_mask[iu] & np.isinf(ti)
    ok = se[iu] > 0
    # centred draws of the pair statistics, computed blockwise over draws to bound memory
    while True:
        idx = np.flatnonzero(active & ~sep)
        if not idx.size:
            break
        a, b = iu[0][idx], iu[1][idx]
        mx = np.empty(D.shape[0])
        step = max(1, 4_000_000 // max(idx.size, 1))
        for r in range(0, D.shape[0], step):
            Dr = D[r:r + step]
            mx[r:r + step] = (np.abs(Dr[:, a] - Dr[:, b]) / se[a, b][None, :]).max(axis=1)
        c = float(np.quantile(mx, level, method="higher"))
        new = np.zeros(ti.size, bool)
        new[idx] = ti[idx] > c
        new &= ok
        if not new.any():
            break
        sep |= new
    out = np.zeros((n, n), bool)
    out[iu] = sep
    return out | out.T


def max_t_sets(point_scores, cov=None, level: float = 0.95, *, boot_scores=None, n_draws: int = 10_000,
               seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """Simultaneous rank confidence sets by step-down max-t (csranks). Returns ((n, 2) int [lo, hi] per system,
    (n, n) bool better[i, j]: i separated above j)."""
    s, Z, C, se = _pairs(point_scores, cov, boot_scores)
    n = s.size
    t, d = _stat(s, se)
    D = _draws(C, Z, n_draws, seed)
    sep = _stepdown(t, se, D, ~np.eye(n, dtype=bool), level)
    better = sep & (d > 0)
    return _sets(better), better


def marginal_sets(point_scores, cov=None, level: float = 0.95, *, boot_scores=None, n_draws: int = 10_000,
                  seed: int | None = 0) -> np.ndarray:
    """Marginal rank confidence sets (each system's own coverage >= level): (n, 2) int."""
    s, Z, C, se = _pairs(point_scores, cov, boot_scores)
    n = s.size
    t, d = _stat(s, se)
    D = _draws(C, Z, n_draws, seed)
    out = np.empty((n, 2), int)
    for j in range(n):
        mask = np.zeros((n, n), bool)
        mask[j, :] = mask[:, j] = True
        mask[j, j] = False
        sep = _stepdown(t, se, D, mask, level)
        out[j, 0] = 1 + int((sep[:, j] & (d[:, j] > 0)).sum())
        out[j, 1] = n - int((sep[j, :] & (d[j, :] > 0)).sum())
    return out


def _sets(better: np.ndarray) -> np.ndarray:
    n = better.shape[0]
    return np.stack([1 + better.sum(axis=0), n - better.sum(axis=1)], axis=1).astype(int)


def top_k_candidates(point_scores, cov=None, k: int = 1, level: float = 0.95, **kw) -> list[int]:
    """Systems that could be among the true top k (contains all of them with probability >= level)."""
    sets, _ = max_t_sets(point_scores, cov, level, **kw)
    return [int(i) for i in np.flatnonzero(sets[:, 0] <= k)]


def inseparable_groups(point_scores, better: np.ndarray) -> list[tuple[int, int, list[int]]]:
    """(first position, last position, rows) of each group, best first. A cut after position p is kept only when
    every system above it is separated from (``better``) every system below it."""
    from auditkit.ranking import tie_key

    s = np.asarray(point_scores, float)
    n = s.size
    order = np.argsort(-tie_key(s), kind="stable")
    B = better[np.ix_(order, order)]
    groups, start = [], 0
    for p in range(1, n + 1):
        if p == n or B[:p, p:].all():
            groups.append((start + 1, p, [int(i) for i in order[start:p]]))
            start = p
    return groups


def shared_ranks(point_scores, better: np.ndarray) -> np.ndarray:
    """Rank of each system's inseparable group: the group's first position (competition style)."""
    out = np.empty(np.asarray(point_scores).size, int)
    for first, _, rows in inseparable_groups(point_scores, better):
        out[rows] = first
    return out
