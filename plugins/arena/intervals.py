"""From rating uncertainty to rank uncertainty: rank intervals, simultaneous rank sets, tiers.

- **Rank intervals**: percentile intervals of each model's competition rank over the draws (bootstrap resamples, or
  Gaussian draws from the sandwich covariance when no bootstrap was run).
- **Simultaneous rank sets** (max-t over all pairs): with ``c`` the ``level`` quantile over draws of
  max over pairs |delta_draw - delta_hat| / sd(delta), model k is significantly above l when
  delta_hat_kl > c sd_kl. k's rank set is [1 + #models significantly above k, n - #models significantly below k];
  all n sets hold together with probability about ``level``.
- **Tiers**: walk the models best first; a model joins the current tier when its upper bound reaches the lower bound
  of the tier's first model, else it starts a new tier.
"""

from __future__ import annotations

import numpy as np


def gaussian_draws(ratings: np.ndarray, se_cov: np.ndarray, n: int = 2000, seed: int = 0) -> np.ndarray:
    """Draws of the ratings (display units) from N(ratings, se_cov)."""
    rng = np.random.default_rng(seed)
    w, v = np.linalg.eigh((se_cov + se_cov.T) / 2)
    root = v * np.sqrt(np.clip(w, 0, None))
    return ratings + rng.standard_normal((n, ratings.size)) @ root.T


def ranks_of(draws: np.ndarray, block: int = 64) -> np.ndarray:
    """Competition ranks (1 = best) of each row of ``draws``."""
    from auditkit.ranking import tie_key

    out = np.empty(draws.shape, np.int64)
    for s in range(0, draws.shape[0], block):
        x = tie_key(draws[s:s + block])
        out[s:s + block] = 1 + (x[:, None, :] > x[:, :, None]).sum(-1)
    return out


def rank_intervals(draws: np.ndarray, level: float = 0.95):
    r = ranks_of(draws)
    alpha = (1 - level) / 2
    lo = np.floor(np.quantile(r, alpha, axis=0, method="lower")).astype(int)
    hi = np.ceil(np.quantile(r, 1 - alpha, axis=0, method="higher")).astype(int)
    return lo, hi


def simultaneous_rank_sets(point: np.ndarray, draws: np.ndarray, level: float = 0.95):
    """(lower, upper, critical value) of the max-t simultaneous rank sets."""
    n = point.size
    iu = np.triu_indices(n, 1)
    delta_hat = (point[:, None] - point[None, :])[iu]
    dev = np.empty((draws.shape[0],))
    sq = np.zeros(delta_hat.size)
    diffs = []
    for s in range(0, draws.shape[0], 64):
        x = draws[s:s + 64]
        dd = (x[:, :, None] - x[:, None, :])[:, iu[0], iu[1]]
        diffs.append(dd)
        sq += ((dd - delta_hat) ** 2).sum(0)
    sd = np.sqrt(sq / draws.shape[0])
    sd = np.where(sd > 0, sd, np.inf)
    start = 0
    for dd in diffs:
        dev[start:start + dd.shape[0]] = (np.abs(dd - delta_hat) / sd).max(1)
        start += dd.shape[0]
    crit = float(np.quantile(dev, level))
    above = delta_hat > crit * sd   # row model significantly above column model (pairs k < l)
    below = -delta_hat > crit * sd
    sig = np.zeros((n, n), bool)  # sig[k, l]: k significantly above l
    sig[iu] = above
    sig[(iu[1], iu[0])] = below
    lower = 1 + sig.sum(0)
    upper = n - sig.sum(1)
    return lower, upper, crit


def tiers(ratings: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Tier number (1 = top) per model; see the module docstring for the rule."""
    order = np.argsort(-ratings, kind="stable")
    tier = np.empty(ratings.size, int)
    current, head = 0, None
    for k in order:
        if head is None or upper[k] < lower[head]:
            current += 1
            head = k
        tier[k] = current
    return tier
