"""Synthetic battles with known truth, for tests and benchmarks: Bradley-Terry strengths, Davidson-style ties, and
optional position bias, style effects and per-category strengths."""

from __future__ import annotations

import numpy as np

from .data import A_WINS, B_WINS, BOTHBAD, TIE, Battles


def simulate(n_models: int = 20, n_battles: int = 20000, *, seed: int = 0, spread: float = 1.0,
             tie_rate: float = 0.2, position_bias: float = 0.0, style_effect: float = 0.0,
             categories: int = 0, category_swap: tuple[int, int] | None = None, strengths=None) -> Battles:
    """Battles between uniformly drawn pairs. ``strengths`` (natural units) default to evenly spaced over
    ``spread * 4``. ``position_bias`` adds to the logit of the model shown first; ``style_effect`` adds
    ``style_effect * z`` where z is the normalized difference of a ``length`` feature (model ``k``'s responses are
    longer for larger k, independent of strength); ``category_swap=(p, q)`` swaps the strengths of models p and q in
    category 0."""
    rng = np.random.default_rng(seed)
    m = n_models
    theta = np.asarray(strengths, float) if strengths is not None else np.linspace(2 * spread, -2 * spread, m)
    a = rng.integers(0, m, n_battles)
    b = (a + rng.integers(1, m, n_battles)) % m
    cat = rng.integers(0, categories, n_battles) if categories else None
    ta, tb = theta[a].copy(), theta[b].copy()
    if category_swap is not None and cat is not None:
        p, q = category_swap
        swapped = theta.copy()
        swapped[p], swapped[q] = theta[q], theta[p]
        in0 = cat == 0
        ta[in0], tb[in0] = swapped[a[in0]], swapped[b[in0]]
    logit = ta - tb + position_bias
    base_len = 300 + 400 * rng.permutation(m) / max(m - 1, 1)
    la = rng.gamma(8.0, base_len[a] / 8.0)
    lb = rng.gamma(8.0, base_len[b] / 8.0)
    z = (la - lb) / (la + lb)
    logit = logit + style_effect * (z - z.mean()) / z.std()
    style = {"length": np.column_stack([la, lb])}
    # Davidson-style ties: P(tie) = nu / (e^{x/2} + e^{-x/2} + nu) with nu giving about tie_rate at x = 0
    nu = 2 * tie_rate / (1 - tie_rate) if tie_rate > 0 else 0.0
    ea, eb = np.exp(logit / 2), np.exp(-logit / 2)
    z_ = ea + eb + nu
    u = rng.random(n_battles)
    outcome = np.where(u < ea / z_, A_WINS, np.where(u < (ea + eb) / z_, B_WINS, TIE))
    both = (outcome == TIE) & (rng.random(n_battles) < 0.3)
    outcome = np.where(both, BOTHBAD, outcome)
    models = tuple(f"m{k:03d}" for k in range(m))
    return Battles(models, a.astype(np.int64), b.astype(np.int64), outcome.astype(np.int64),
                   None if cat is None else np.array([f"c{c}" for c in cat], dtype=object), None, None, style,
                   np.arange(n_battles) + 2)


def write_battles(battles: Battles, path: str) -> str:
    """Write battles as CSV/JSONL/Parquet (by suffix) with columns model_a, model_b, winner[, category, length_a,
    length_b]."""
    import pandas as pd

    from .data import OUTCOME_NAMES

    names = np.asarray(battles.models, dtype=object)
    df = pd.DataFrame({"model_a": names[battles.a], "model_b": names[battles.b],
                       "winner": np.asarray(OUTCOME_NAMES, dtype=object)[battles.outcome]})
    if battles.category is not None:
        df["category"] = battles.category
    for f, x in battles.style.items():
        df[f"{f}_a"] = x[:, 0]
        df[f"{f}_b"] = x[:, 1]
    if path.endswith(".parquet"):
        df.to_parquet(path, index=False)
    elif path.endswith(".jsonl"):
        df.to_json(path, orient="records", lines=True)
    elif path.endswith(".json"):
        df.to_json(path, orient="records")
    else:
        df.to_csv(path, index=False, sep="\t" if path.endswith(".tsv") else ",")
    return path
