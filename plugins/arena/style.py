"""Style control: Bradley-Terry with per-battle covariates (LMArena's "style control", arena-rank's contextual BT).

logit P(a beats b) = theta_a - theta_b + beta' z, where z holds, for each style feature (response length, markdown
headers, lists, bold...), the normalized difference (x_a - x_b) / (x_a + x_b) (0 when both are 0), standardized to
mean 0 and standard deviation 1 over the battles. beta are the style coefficients; theta are the style-adjusted
ratings. Ties count as half a win. Fitted by Newton on (theta, beta) per battle (features vary by battle, so there is
no aggregation), with an optional ridge ``reg`` on beta; sandwich covariance.
"""

from __future__ import annotations

import math

import numpy as np

import auditkit

from .bt import BTFit, anchor_index, display, scale_factor
from .data import PairCounts


def style_design(battles, features=None):
    names = list(features or battles.style)
    if not names:
        raise auditkit.UsageError("style control needs style features: name them with --style FEATURE (columns "
                                  "FEATURE_a and FEATURE_b in the battle log)")
    missing = [f for f in names if f not in battles.style]
    if missing:
        raise auditkit.UsageError(f"style feature {missing[0]!r} was not read; read features: "
                                  f"{', '.join(battles.style) or 'none'}")
    cols = []
    for f in names:
        x = battles.style[f]
        tot = x[:, 0] + x[:, 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(tot > 0, (x[:, 0] - x[:, 1]) / np.where(tot > 0, tot, 1.0), 0.0)
        cols.append(z)
    z = np.column_stack(cols)
    mean, std = z.mean(0), z.std(0)
    std = np.where(std > 0, std, 1.0)
    return names, (z - mean) / std, mean, std


def fit_style_bt(pc: PairCounts, *, features=None, reg: float = 0.0, scale: float = 400.0, base: float = 10.0,
                 offset: float = 1000.0, anchor: str | None = None, level: float = 0.95, tol: float = 1e-10,
                 max_iter: int = 100) -> BTFit:
    from scipy.special import expit, log_expit

    bt = pc.battles
    if bt is None:
        raise auditkit.UsageError("style control needs a battle log with style columns, not pair counts")
    names, z, zmean, zstd = style_design(bt, features)
    from .bt import design, require_identified

    require_identified(design(pc, "half"), pc.models)
    m, k = len(bt.models), z.shape[1]
    a, b = bt.a, bt.b
    o = np.array([1.0, 0.0, 0.5, 0.5])[bt.outcome]
    lap_idx = np.concatenate([a * m + a, b * m + b, a * m + b, b * m + a])
    total = float(a.size)

    def loglik(th, beta):
        x = th[a] - th[b] + z @ beta
        return float((o * log_expit(x) + (1 - o) * log_expit(-x)).sum()) - 0.5 * reg * float(beta @ beta)

    def parts(th, beta):
        x = th[a] - th[b] + z @ beta
        p = expit(x)
        r = o - p
        g = np.concatenate([np.bincount(a, r, m) - np.bincount(b, r, m), z.T @ r - reg * beta])
        w = p * (1 - p)
        info = np.zeros((m + k, m + k))
        info[:m, :m] = np.bincount(lap_idx, np.concatenate([w, w, -w, -w]), m * m).reshape(m, m)
        wz = w[:, None] * z
        cross = np.stack([np.bincount(a, wz[:, q], m) - np.bincount(b, wz[:, q], m) for q in range(k)], axis=1)
        info[:m, m:] = cross
        info[m:, :m] = cross.T
        info[m:, m:] = z.T @ wz + reg * np.eye(k)
        return g, info, r

    th, beta = np.zeros(m), np.zeros(k)
    ll = loglik(th, beta)
    gnorm = math.inf
    it = 0
    for it in range(1, max_iter + 1):
        g, info, _ = parts(th, beta)
        gnorm = float(np.abs(g).max()) / total
        if gnorm < tol:
            it -= 1
            break
        c = float(np.trace(info[:m, :m])) / (m * m)
        amat = info.copy()
        amat[:m, :m] += c
        step = np.linalg.solve(amat, g)
        t = 1.0
        while True:
            ct, cb = th + t * step[:m], beta + t * step[m:]
            new = loglik(ct, cb)
            if new >= ll - 1e-13 * abs(ll) or t < 1e-10:
                break
            t *= 0.5
        th, beta, ll = ct - ct.mean(), cb, new
    g, info, r = parts(th, beta)
    gnorm = float(np.abs(g).max()) / total
    if gnorm >= tol * 10:
        raise auditkit.DomainError(f"style-bt: Newton did not converge (max |gradient|/battles = {gnorm:.3g})")
    v = r * r
    meat = np.zeros((m + k, m + k))
    meat[:m, :m] = np.bincount(lap_idx, np.concatenate([v, v, -v, -v]), m * m).reshape(m, m)
    vz = v[:, None] * z
    cross = np.stack([np.bincount(a, vz[:, q], m) - np.bincount(b, vz[:, q], m) for q in range(k)], axis=1)
    meat[:m, m:] = cross
    meat[m:, :m] = cross.T
    meat[m:, m:] = z.T @ vz
    c = float(np.trace(info[:m, :m])) / (m * m)
    amat = info.copy()
    amat[:m, :m] += c
    ainv = np.linalg.inv(amat)
    cov_full = ainv @ meat @ ainv
    factor = scale_factor(scale, base)
    kk = anchor_index(pc.models, anchor)
    ratings, vcov, se, lo, hi = display(th, cov_full[:m, :m], factor, offset, kk, level)
    beta_se = np.sqrt(np.clip(np.diag(cov_full[m:, m:]), 0, None))
    params = {"scale": scale, "base": base, "offset": offset, "anchor": anchor or "", "reg": reg,
              "features": ",".join(names)}
    return BTFit(pc.models, th, ratings, vcov, se, lo, hi, ll, gnorm, it, pc.n_battles, factor, offset,
                 anchor or None, "half", "sandwich", level, "numpy", params,
                 {"features": names, "coefficients": beta, "coefficient_se": beta_se,
                  "feature_mean": zmean, "feature_std": zstd})
