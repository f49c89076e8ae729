"""Tie models: Davidson (1970) and Rao-Kupper (1967), fitted by damped Newton on (theta, phi).

With d = theta_i - theta_j:

- **Davidson**: P(i wins) = e^{d/2} / Z, P(j wins) = e^{-d/2} / Z, P(tie) = nu / Z, Z = e^{d/2} + e^{-d/2} + nu,
  nu = e^phi. Given no tie, P(i wins) = sigmoid(d): the ratings sit on the Bradley-Terry scale.
- **Rao-Kupper**: P(i wins) = sigmoid(d - eta), P(j wins) = sigmoid(-d - eta), P(tie) = the rest
  = sigmoid(d - eta) sigmoid(-d - eta) (e^{2 eta} - 1), eta = e^phi > 0 (the threshold, log of Rao-Kupper's theta).

"tie" and "tie (bothbad)" both count as ties. Each outcome's log-probability and its derivatives in (d, phi) are
computed per pair; the gradient, Hessian and the sandwich meat are assembled from them in O(unique pairs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import auditkit

from .bt import BTFit, anchor_index, display, scale_factor
from .data import PairCounts


@dataclass(frozen=True)
class TieRows:
    m: int
    i: np.ndarray
    j: np.ndarray
    c: np.ndarray  # (P, 3): i wins, j wins, tie


def rows(pc: PairCounts) -> TieRows:
    c = np.column_stack([pc.wins_a, pc.wins_b, pc.ties + pc.bothbad])
    keep = c.sum(1) > 0
    return TieRows(pc.n_models, pc.ia[keep], pc.ib[keep], c[keep])


def davidson_terms(d, phi):
    """log P per outcome (P, 3) and derivatives: first (P, 3, 2) in (d, phi), second (P, 3, 3) as dd, dphi, phiphi."""
    half = d / 2
    top = np.maximum(np.abs(half), phi)
    a, b, nu = np.exp(half - top), np.exp(-half - top), np.exp(phi - top)
    z = a + b + nu
    logz = np.log(z) + top
    zd, zdd = (a - b) / 2 / z, (a + b) / 4 / z
    nz = nu / z
    logp = np.column_stack([half - logz, -half - logz, phi - logz])
    first = np.empty(d.shape + (3, 2))
    first[:, 0] = np.column_stack([0.5 - zd, -nz])
    first[:, 1] = np.column_stack([-0.5 - zd, -nz])
    first[:, 2] = np.column_stack([-zd, 1 - nz])
    sec = np.column_stack([-(zdd - zd ** 2), zd * nz, -(nz - nz ** 2)])
    second = np.repeat(sec[:, None, :], 3, axis=1)
    return logp, first, second


def rao_kupper_terms(d, phi):
    from scipy.special import expit, log_expit

    eta = math.exp(phi)
    s1, s2 = expit(d - eta), expit(-d - eta)
    d1, d2 = s1 * (1 - s1), s2 * (1 - s2)
    e1, e2 = d1 * (1 - 2 * s1), d2 * (1 - 2 * s2)
    pt = s1 * s2 * math.expm1(2 * eta)
    logp = np.column_stack([log_expit(d - eta), log_expit(-d - eta),
                            log_expit(d - eta) + log_expit(-d - eta) + math.log(math.expm1(2 * eta))])
    p = np.column_stack([s1, s2, pt])
    # derivatives of P in (d, eta)
    pd = np.column_stack([d1, -d2, -d1 + d2])
    pe = np.column_stack([-d1, -d2, d1 + d2])
    pdd = np.column_stack([e1, e2, -e1 - e2])
    pde = np.column_stack([-e1, e2, e1 - e2])
    pee = np.column_stack([e1, e2, -e1 - e2])
    ld, le = pd / p, pe / p
    ldd, lde, lee = pdd / p - ld * ld, pde / p - ld * le, pee / p - le * le
    first = np.stack([ld, le * eta], axis=2)
    second = np.stack([ldd, lde * eta, lee * eta * eta + le * eta], axis=2)
    return logp, first, second


TERMS = {"davidson": davidson_terms, "rao-kupper": rao_kupper_terms}


def _assemble(r: TieRows, theta, phi, terms):
    m = r.m
    d = theta[r.i] - theta[r.j]
    logp, first, second = terms(d, phi)
    ll = float((r.c * logp).sum())
    gd = (r.c * first[:, :, 0]).sum(1)
    gphi = float((r.c * first[:, :, 1]).sum())
    g = np.concatenate([np.bincount(r.i, gd, m) - np.bincount(r.j, gd, m), [gphi]])
    hdd = (r.c * second[:, :, 0]).sum(1)
    hdp = (r.c * second[:, :, 1]).sum(1)
    hpp = float((r.c * second[:, :, 2]).sum())
    info = np.zeros((m + 1, m + 1))
    w = -hdd
    info[:m, :m] = np.bincount(laplacian_index_rows(r), np.concatenate([w, w, -w, -w]), m * m).reshape(m, m)
    cross = -(np.bincount(r.i, hdp, m) - np.bincount(r.j, hdp, m))
    info[:m, m] = info[m, :m] = cross
    info[m, m] = -hpp
    return ll, g, info, first


def laplacian_index_rows(r: TieRows):
    m = r.m
    return np.concatenate([r.i * m + r.i, r.j * m + r.j, r.i * m + r.j, r.j * m + r.i])


def fit_tie_model(pc: PairCounts, model: str, *, scale: float = 400.0, base: float = 10.0,
                  offset: float = 1000.0, anchor: str | None = None, level: float = 0.95, tol: float = 1e-10,
                  max_iter: int = 200) -> BTFit:
    """Davidson or Rao-Kupper by damped Newton; sandwich intervals. ``extra['tie_parameter']`` is nu (Davidson)
    or Rao-Kupper's theta = e^eta."""
    if model not in TERMS:
        raise auditkit.errors.unknown_name("tie model", model, TERMS)
    terms = TERMS[model]
    r = rows(pc)
    if not r.c[:, 2].sum():
        raise auditkit.DomainError(f"{model}: the data has no ties, so the tie parameter is not identified; use bt")
    from .bt import design, require_identified

    require_identified(design(pc, "half"), pc.models)
    m = r.m
    total = float(r.c.sum())
    theta = np.zeros(m)
    tie_share = r.c[:, 2].sum() / total
    phi = math.log(2 * tie_share / (1 - tie_share)) if model == "davidson" else math.log(0.5)
    ll, g, info, _ = _assemble(r, theta, phi, terms)
    lam = 0.0
    it = 0
    gnorm = float(np.abs(g).max()) / total
    for it in range(1, max_iter + 1):
        if gnorm < tol:
            it -= 1
            break
        c = float(np.trace(info[:m, :m])) / (m * m)
        gaugem = np.zeros_like(info)
        gaugem[:m, :m] = c
        a = info + gaugem
        while True:
            try:
                step = np.linalg.solve(a + lam * np.diag(np.diag(a)), g)
            except np.linalg.LinAlgError:
                lam = max(lam * 10, 1e-6)
                continue
            cand_t, cand_p = theta + step[:m], phi + step[m]
            new = _assemble(r, cand_t, cand_p, terms)
            if np.isfinite(new[0]) and new[0] >= ll - 1e-13 * abs(ll):
                lam = lam / 10 if lam > 1e-12 else 0.0
                break
            lam = max(lam * 10, 1e-6)
            if lam > 1e12:
                raise auditkit.DomainError(f"{model}: Newton stalled (no step increases the likelihood)")
        theta, phi = cand_t - cand_t.mean(), cand_p
        ll, g, info, first = new
        gnorm = float(np.abs(g).max()) / total
    if gnorm >= tol:
        raise auditkit.DomainError(f"{model}: Newton did not converge in {max_iter} iterations (max |gradient|/"
                                   f"battles = {gnorm:.3g})")
    ll, g, info, first = _assemble(r, theta, phi, terms)
    # sandwich: meat from per-outcome scores
    sd, sp = first[:, :, 0], first[:, :, 1]
    vdd = (r.c * sd * sd).sum(1)
    vdp = (r.c * sd * sp).sum(1)
    meat = np.zeros((m + 1, m + 1))
    meat[:m, :m] = np.bincount(laplacian_index_rows(r), np.concatenate([vdd, vdd, -vdd, -vdd]),
                               m * m).reshape(m, m)
    meat[:m, m] = meat[m, :m] = np.bincount(r.i, vdp, m) - np.bincount(r.j, vdp, m)
    meat[m, m] = float((r.c * sp * sp).sum())
    c = float(np.trace(info[:m, :m])) / (m * m)
    a = info.copy()
    a[:m, :m] += c
    ainv = np.linalg.inv(a)
    cov_full = ainv @ meat @ ainv
    cov = cov_full[:m, :m]
    factor = scale_factor(scale, base)
    k = anchor_index(pc.models, anchor)
    ratings, vcov, se, lo, hi = display(theta, cov, factor, offset, k, level)
    tie_param = math.exp(phi) if model == "davidson" else math.exp(math.exp(phi))
    params = {"scale": scale, "base": base, "offset": offset, "anchor": anchor or ""}
    return BTFit(pc.models, theta, ratings, vcov, se, lo, hi, ll, gnorm, it, pc.n_battles, factor, offset,
                 anchor or None, "model", "sandwich", level, "numpy", params,
                 {"tie_parameter": tie_param, "phi": phi, "phi_se": float(math.sqrt(max(cov_full[m, m], 0))),
                  "model": model})


def tie_probability(fit: BTFit, a: str, b: str) -> dict[str, float]:
    """Predicted P(a wins), P(b wins), P(tie) under a fitted tie model."""
    k = {x: q for q, x in enumerate(fit.models)}
    d = np.array([fit.theta[k[a]] - fit.theta[k[b]]])
    logp = TERMS[fit.extra["model"]](d, fit.extra["phi"])[0][0]
    p = np.exp(logp)
    return {"a": float(p[0]), "b": float(p[1]), "tie": float(p[2])}


__all__ = ["fit_tie_model", "tie_probability"]
