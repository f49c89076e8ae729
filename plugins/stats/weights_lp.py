"""Vote'n'Rank's weight question as a linear program: which task weights make system X first?

For a rule that is a weighted mean of per-task points (arithmetic mean: the values; Borda: the per-task Borda
points), system x is first under weights w (w >= 0, sum w = 1) iff sum_t w_t (T[x, t] - T[j, t]) >= margin for
every other system j. :func:`weights_for_winner` maximizes that margin (``margin > 0``: x wins strictly; ``= 0``:
x can at best tie; ``< 0``: no weights make x first) and optionally keeps the weights within ``min_weight`` /
``max_weight`` per task or close to a reference (``max_l1`` from the given weights). scipy's HiGHS LP.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WeightsResult:
    system: int
    feasible: bool           # some admissible weights make the system (at least tied) first
    strict: bool             # ... strictly first
    margin: float            # the largest achievable min_j (score_x - score_j)
    weights: np.ndarray | None


def points(values, rule: str = "arithmetic") -> np.ndarray:
    v = np.asarray(values, float)
    if rule == "arithmetic":
        return v
    if rule == "borda":
        import array_api_compat.numpy as xpn

        from auditkit import get_registry

        # the Borda record's own per-task points (Aggregator.transform), not an import of its plugin
        return np.asarray(get_registry().get("aggregators", "borda").transform(v, xp=xpn))
    raise ValueError(f"weights_for_winner supports rules 'arithmetic' and 'borda' (got {rule!r})")


def weights_for_winner(values, system: int, *, rule: str = "arithmetic", min_weight: float = 0.0,
                       max_weight: float = 1.0, reference=None, max_l1: float | None = None) -> WeightsResult:
    from scipy.optimize import linprog

    T = points(values, rule)
    n, k = T.shape
    others = [j for j in range(n) if j != system]
    # variables: w (k), margin m, and (with max_l1) u (k) >= |w - reference|
    use_l1 = max_l1 is not None
    nv = k + 1 + (k if use_l1 else 0)
    c = np.zeros(nv)
    c[k] = -1.0                                       # maximize the margin
    A, b = [], []
    for j in others:                                  # m - sum w (T_x - T_j) <= 0
        row = np.zeros(nv)
        row[:k] = -(T[system] - T[j])
        row[k] = 1.0
        A.append(row)
        b.append(0.0)
    if use_l1:
        ref = np.full(k, 1.0 / k) if reference is None else np.asarray(reference, float)
        for t in range(k):
            for sign in (1.0, -1.0):                   # sign (w_t - ref_t) <= u_t
                row = np.zeros(nv)
                row[t] = sign
                row[k + 1 + t] = -1.0
                A.append(row)
                b.append(sign * ref[t])
        row = np.zeros(nv)
        row[k + 1:] = 1.0
        A.append(row)
        b.append(float(max_l1))
    Aeq = np.zeros((1, nv))
    Aeq[0, :k] = 1.0
    bounds = [(min_weight, max_weight)] * k + [(None, None)] + ([(0, None)] * k if use_l1 else [])
    if not others:
        return WeightsResult(system, True, True, np.inf, np.full(k, 1.0 / k))
    res = linprog(c, A_ub=np.array(A), b_ub=np.array(b), A_eq=Aeq, b_eq=[1.0], bounds=bounds, method="highs")
    if res.status != 0:
        return WeightsResult(system, False, False, -np.inf, None)
    m = float(res.x[k])
    tol = 1e-9 * max(1.0, float(np.abs(T).max()))
    return WeightsResult(system, m >= -tol, m > tol, m, res.x[:k])


def possible_winners(values, *, rule: str = "arithmetic", **kw) -> list[int]:
    """Systems that some admissible weights make (at least tied) first."""
    return [i for i in range(np.asarray(values).shape[0]) if weights_for_winner(values, i, rule=rule, **kw).feasible]
