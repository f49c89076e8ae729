"""Online Elo over the battle log in the order given: order-dependent by construction.

r_a += K (s_a - E_a), E_a = 1 / (1 + base^((r_b - r_a) / scale)), s_a = 1, 0 or 0.5 (both tie kinds). The result
depends on the order of the battles (the same battles reversed give other ratings); :func:`fit_elo` reports that
spread so the order dependence is visible, not hidden. Pair counts have no order, so Elo refuses them.
"""

from __future__ import annotations

import numpy as np

import auditkit

from .data import A_WINS, B_WINS, PairCounts

SCORE = {A_WINS: 1.0, B_WINS: 0.0}


def elo_pass(m: int, a, b, outcome, k: float, scale: float, base: float, init: float) -> np.ndarray:
    r = [float(init)] * m
    s_of = [1.0, 0.0, 0.5, 0.5]
    for x, y, o in zip(a.tolist(), b.tolist(), outcome.tolist()):
        ra, rb = r[x], r[y]
        ea = 1.0 / (1.0 + base ** ((rb - ra) / scale))
        delta = k * (s_of[o] - ea)
        r[x] = ra + delta
        r[y] = rb - delta
    return np.asarray(r)


def fit_elo(pc: PairCounts, *, k: float = 4.0, scale: float = 400.0, base: float = 10.0,
            init: float = 1000.0) -> dict:
    """Ratings after one pass in the given order, plus the same pass over the reversed order."""
    if pc.battles is None:
        raise auditkit.UsageError("elo needs a battle log in order (one row per battle); pair counts have no order "
                                  "- use bt, davidson or rao-kupper")
    bt = pc.battles
    m = len(bt.models)
    forward = elo_pass(m, bt.a, bt.b, bt.outcome, k, scale, base, init)
    backward = elo_pass(m, bt.a[::-1], bt.b[::-1], bt.outcome[::-1], k, scale, base, init)
    return {"models": bt.models, "ratings": forward, "reversed": backward,
            "order_spread": float(np.abs(forward - backward).max()),
            "params": {"k": k, "scale": scale, "base": base, "init": init}}
