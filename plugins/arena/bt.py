"""Bradley-Terry by exact maximum likelihood on the unique pair counts, with sandwich or Fisher covariance.

Model: P(i beats j) = sigmoid(theta_i - theta_j). Ties count as half a win for each side (LMArena's choice;
``ties="drop"`` leaves them out). The solver is Newton's method with a step-halving line search on the
log-likelihood, in the sum-zero gauge: the Hessian -L (a weighted graph Laplacian) is singular along the all-ones
vector, so each step solves ``(L + c 11') delta = gradient``, which keeps ``sum(theta) = 0``. It stops when the
largest gradient entry of the mean log-likelihood is below ``tol`` and reports that norm.

Ratings are shown on LMArena's scale: ``offset + scale / ln(base) * (theta - theta_anchor)`` (no anchor: the mean
rating is ``offset``). Covariances: ``sandwich`` (robust: L+ B L+ with B the sum of squared per-battle scores) or
``fisher`` (L+, the inverse of the observed information); both are invariant to the gauge and are mapped to the
anchor's gauge when one is set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import auditkit

from .data import PairCounts
from .ops import NumpyOps, get_ops

TIE_MODES = ("half", "drop")


@dataclass(frozen=True)
class Design:
    """Rows of the BT likelihood: pair (i, j), wins of i ``y`` (ties as half), battles ``n``, and the per-outcome
    counts ``c`` (P, 3) for outcomes 1 (i wins), 0 (j wins), 0.5 (tie) that the sandwich and the bootstrap use."""

    n_models: int
    i: np.ndarray
    j: np.ndarray
    y: np.ndarray
    n: np.ndarray
    c: np.ndarray
    ties: str

    @property
    def n_battles(self) -> float:
        return float(self.n.sum())


def design(pc: PairCounts, ties: str = "half") -> Design:
    if ties not in TIE_MODES:
        raise auditkit.errors.unknown_name("ties mode", ties, TIE_MODES)
    if pc.ordered:
        # BT does not see positions: merging (a, b) with (b, a) changes neither the likelihood, the sandwich nor
        # the multinomial bootstrap (merged cells of a multinomial are multinomial), and halves the rows
        pc = pc.unordered()
    t = pc.ties + pc.bothbad
    if ties == "drop":
        t = np.zeros_like(t)
    c = np.column_stack([pc.wins_a, pc.wins_b, t])
    n = c.sum(axis=1)
    keep = n > 0
    c = c[keep]
    return Design(pc.n_models, pc.ia[keep], pc.ib[keep], c[:, 0] + 0.5 * c[:, 2], n[keep], c, ties)


def identifiability(d: Design) -> dict[str, Any]:
    """Weak components (ratings across them are not identified) and strong components of the 'beat' graph (the MLE
    is finite iff it is strongly connected): edge i -> j when i won (or tied) against j at least once."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    m = d.n_models
    win_i = d.y > 0          # i scored (won or tied) against j
    win_j = d.n - d.y > 0
    rows = np.concatenate([d.i[win_i], d.j[win_j]])
    cols = np.concatenate([d.j[win_i], d.i[win_j]])
    beat = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(m, m))
    n_strong, strong = connected_components(beat, directed=True, connection="strong")
    if n_strong == 1:  # strongly connected implies connected
        n_weak, weak = 1, np.zeros(m, np.int32)
    else:
        undirected = coo_matrix((np.ones(d.i.size), (d.i, d.j)), shape=(m, m))
        n_weak, weak = connected_components(undirected, directed=False)
    played = np.bincount(d.i, d.n, m) + np.bincount(d.j, d.n, m)
    scored = np.bincount(d.i, d.y, m) + np.bincount(d.j, d.n - d.y, m)
    conceded = played - scored
    return {"weak_components": int(n_weak), "weak_labels": weak, "strong_components": int(n_strong),
            "strong_labels": strong, "played": played, "never_beaten": np.flatnonzero((played > 0) & (conceded == 0)),
            "never_wins": np.flatnonzero((played > 0) & (scored == 0)), "unplayed": np.flatnonzero(played == 0)}


def require_identified(d: Design, models) -> None:
    info = identifiability(d)
    if info["unplayed"].size:
        raise auditkit.DomainError(f"model {models[int(info['unplayed'][0])]!r} has no battles; its rating is not "
                                   "defined (drop it)")
    if info["weak_components"] > 1:
        sizes = np.bincount(info["weak_labels"])
        raise auditkit.DomainError(
            f"the comparison graph has {info['weak_components']} disconnected components (sizes "
            f"{', '.join(map(str, sorted(sizes.tolist(), reverse=True)))}): ratings across components are not "
            "identified; rate each component separately (the arena.disconnected check lists them)")
    if info["strong_components"] > 1:
        names = [models[int(k)] for k in info["never_beaten"][:3]]
        losers = [models[int(k)] for k in info["never_wins"][:3]]
        detail = "; ".join(x for x in (f"never beaten: {', '.join(names)}" if names else "",
                                       f"never wins: {', '.join(losers)}" if losers else "") if x)
        raise auditkit.DomainError(
            "the maximum-likelihood ratings do not exist (the win graph is not strongly connected, so some "
            f"ratings diverge to +/- infinity){': ' + detail if detail else ''}; the arena.never-beaten and "
            "arena.never-wins checks list them")


def laplacian_index(d: Design) -> np.ndarray:
    m = d.n_models
    return np.concatenate([d.i * m + d.i, d.j * m + d.j, d.i * m + d.j, d.j * m + d.i])


def laplacian(ops, idx, w, m):
    vals = ops.xp.concatenate([w, w, -w, -w]) if ops.name == "numpy" else ops.torch.cat([w, w, -w, -w])
    return ops.scatter(idx, vals, m * m).reshape(m, m)


def loglik(ops, theta, i, j, y, n):
    """sum of y log p + (n - y) log(1 - p), with log(1 - p) = log p - d."""
    dlt = theta[i] - theta[j]
    return float((n * ops.log_sigmoid(dlt) - (n - y) * dlt).sum())


@dataclass
class BTFit:
    """A fitted Bradley-Terry model. ``theta`` (natural units, sum zero), ``ratings`` on the display scale,
    ``cov`` (natural units, in the display gauge), ``se``/``lower``/``upper`` on the display scale."""

    models: tuple[str, ...]
    theta: np.ndarray
    ratings: np.ndarray
    cov: np.ndarray
    se: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    loglik: float
    grad_norm: float
    iterations: int
    n_battles: int
    scale: float
    offset: float
    anchor: str | None
    ties: str
    ci: str
    level: float
    backend: str
    params: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.ratings, dtype=dtype)

    def win_probability(self, a, b) -> float:
        """Predicted P(a beats b) with ties as half a win (the fitted BT probability)."""
        k = {m: q for q, m in enumerate(self.models)}
        return float(1.0 / (1.0 + math.exp(-(self.theta[k[a]] - self.theta[k[b]]))))

    def probability_matrix(self) -> np.ndarray:
        from scipy.special import expit

        return expit(self.theta[:, None] - self.theta[None, :])


def fit_newton(ops, d: Design, *, tol: float = 1e-12, max_iter: int = 100, need_hessian: bool = True):
    """theta (sum zero), log-likelihood, final max |gradient| / battles, Newton steps, and the Laplacian L (minus
    the Hessian) at the optimum when ``need_hessian``. One pass over the pairs per step: log-sigmoid of the
    differences gives the likelihood, the probabilities (its exp), the gradient and the Hessian."""
    m = d.n_models
    i, j = ops.asarray(d.i, int), ops.asarray(d.j, int)
    y, n = ops.asarray(d.y), ops.asarray(d.n)
    ny = n - y
    idx = ops.asarray(laplacian_index(d), int)
    total = max(d.n_battles, 1.0)
    # start at each model's log-odds of scoring (a one-opponent approximation of BT), or at 0 if that is worse
    played = np.bincount(d.i, d.n, m) + np.bincount(d.j, d.n, m)
    scored = np.bincount(d.i, d.y, m) + np.bincount(d.j, d.n - d.y, m)
    rate = np.clip(scored / np.maximum(played, 1e-300), 1e-6, 1 - 1e-6)
    start = np.log(rate / (1 - rate))
    theta = ops.asarray(start - start.mean())
    dlt = theta[i] - theta[j]
    ls = ops.log_sigmoid(dlt)
    ll = float((n * ls - ny * dlt).sum())
    zero = float(n.sum()) * -math.log(2.0)
    if not ll > zero:
        theta = ops.zeros(m)
        dlt = theta[i] - theta[j]
        ls = ops.log_sigmoid(dlt)
        ll = zero
    p = ops.exp(ls)
    gnorm = math.inf
    it = 0
    lap = None
    for it in range(1, max_iter + 1):
        r = y - n * p
        g = ops.scatter(i, r, m) - ops.scatter(j, r, m)
        gnorm = float(abs(g).max()) / total
        if gnorm < tol:
            it -= 1
            break
        lap = laplacian(ops, idx, n * p * (1 - p), m)
        c = float(lap.diagonal().sum()) / (m * m)
        step = ops.solve_psd(lap + c, g)
        ds = step[i] - step[j]
        t = 1.0
        while True:
            cand = dlt + t * ds
            ls_c = ops.log_sigmoid(cand)
            new = float((n * ls_c - ny * cand).sum())
            if new >= ll - 1e-13 * abs(ll) or t < 1e-10:
                break
            t *= 0.5
        theta = theta + t * step
        theta = theta - theta.mean()
        dlt, ls, ll = cand, ls_c, new
        p = ops.exp(ls)
        lap = None
    if gnorm >= tol:
        r = y - n * p
        g = ops.scatter(i, r, m) - ops.scatter(j, r, m)
        gnorm = float(abs(g).max()) / total
        if gnorm >= tol:
            raise auditkit.DomainError(f"Bradley-Terry: Newton did not converge in {max_iter} iterations (max "
                                       f"|gradient|/battles = {gnorm:.3g} > {tol:g})")
    if need_hessian and lap is None:
        lap = laplacian(ops, idx, n * p * (1 - p), m)
    return theta, ll, gnorm, it, lap


def covariance(ops, d: Design, theta, lap, kind: str = "sandwich"):
    """Covariance of theta (sum-zero gauge, natural units): ``sandwich`` L+ B L+ or ``fisher`` L+."""
    m = d.n_models
    c = float(lap.diagonal().sum()) / (m * m)
    minv = ops.solve(lap + c, ops.xp.eye(m, dtype=lap.dtype) if ops.name == "numpy"
                     else ops.torch.eye(m, dtype=lap.dtype, device=ops.device))
    if kind == "fisher":
        return minv - 1.0 / (c * m * m)
    if kind != "sandwich":
        raise auditkit.errors.unknown_name("interval method", kind, ("sandwich", "fisher", "bootstrap"))
    i, j = ops.asarray(d.i, int), ops.asarray(d.j, int)
    cc = ops.asarray(d.c)
    p = ops.sigmoid(theta[i] - theta[j])
    v = cc[:, 0] * (1 - p) ** 2 + cc[:, 1] * p ** 2 + cc[:, 2] * (0.5 - p) ** 2
    meat = laplacian(ops, ops.asarray(laplacian_index(d), int), v, m)
    return minv @ meat @ minv


def gauge(cov: np.ndarray, anchor_index: int | None) -> np.ndarray:
    """Covariance of theta - theta_anchor (or unchanged in the sum-zero gauge)."""
    if anchor_index is None:
        return cov
    a = np.eye(cov.shape[0])
    a[:, anchor_index] -= 1.0
    return a @ cov @ a.T


def scale_factor(scale: float, base: float) -> float:
    return float(scale) / math.log(float(base))


def anchor_index(models, anchor: str | None) -> int | None:
    if not anchor:
        return None
    if anchor not in models:
        from difflib import get_close_matches

        close = get_close_matches(anchor, models, 3)
        raise auditkit.UsageError(f"anchor model {anchor!r} is not in the data"
                                  + (f"; did you mean: {', '.join(close)}" if close else ""))
    return list(models).index(anchor)


def display(theta: np.ndarray, cov: np.ndarray, factor: float, offset: float, anchor: int | None, level: float):
    from statistics import NormalDist  # scipy.stats costs seconds to import; the stdlib quantile is exact enough

    shift = theta[anchor] if anchor is not None else 0.0
    ratings = offset + factor * (theta - shift)
    vcov = gauge(cov, anchor)
    se = factor * np.sqrt(np.clip(np.diag(vcov), 0, None))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    return ratings, vcov, se, ratings - z * se, ratings + z * se


def fit_bt(pc: PairCounts, *, ties: str = "half", scale: float = 400.0, base: float = 10.0,
           offset: float = 1000.0, anchor: str | None = None, ci: str = "sandwich", level: float = 0.95,
           backend: str = "numpy", device: str = "cpu", tol: float = 1e-12, max_iter: int = 100) -> BTFit:
    """Fit Bradley-Terry to ``pc``; intervals ``sandwich`` (default), ``fisher`` or ``none`` (bootstrap intervals
    come from :func:`auditkit_plugins.arena.bootstrap.bootstrap`)."""
    d = design(pc, ties)
    require_identified(d, pc.models)
    ops = get_ops(backend, device)
    theta_x, ll, gnorm, it, lap = fit_newton(ops, d, tol=tol, max_iter=max_iter, need_hessian=ci != "none")
    cov_kind = "fisher" if ci == "fisher" else "sandwich"
    cov = ops.to_numpy(covariance(ops, d, theta_x, lap, cov_kind)) if ci != "none" else np.zeros((d.n_models,) * 2)
    theta = ops.to_numpy(theta_x)
    factor = scale_factor(scale, base)
    k = anchor_index(pc.models, anchor)
    ratings, vcov, se, lo, hi = display(theta, cov, factor, offset, k, level)
    params = {"ties": ties, "scale": scale, "base": base, "offset": offset, "anchor": anchor or ""}
    return BTFit(pc.models, theta, ratings, vcov, se, lo, hi, ll, gnorm, it, pc.n_battles, factor, offset,
                 anchor or None, ties, ci, level, ops.name, params,
                 {"laplacian": None if lap is None else ops.to_numpy(lap)})


def ranking(fit, rule: str = "bt", notes=()):
    """The one Ranking of a fit (competition ranks on the ratings)."""
    from auditkit.ranking import ranking_from_scores

    return ranking_from_scores(fit.models, fit.ratings, rule, fit.params, notes=tuple(notes),
                               provider="auditkit_plugins.arena")


__all__ = ["Design", "design", "fit_bt", "BTFit", "identifiability", "ranking", "NumpyOps"]
