"""Per-metric values of every recipe task (diagnostics included) with their displayed precision, and scoring of
one row under a *variant* of the recipe (a different task set, reduction or NaN rule) with interval arithmetic.

All the means used here are nondecreasing in every argument, so evaluating a mean at the lower ends and at the upper
ends of the cells' intervals gives the exact interval of the mean (no linearisation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class TaskData:
    name: str
    columns: list[str]
    values: np.ndarray   # (n, k) NaN where the table said NaN or the cell is missing
    ulps: np.ndarray     # (n, k)
    missing: np.ndarray  # (n,) bool: the cell is absent ('-') or not a number
    weight: float
    diagnostic: bool
    multi_column: bool = False  # the recipe puts its metrics in separate columns (MNLI-m, MNLI-mm)


def all_task_data(lb, recipe) -> dict[str, TaskData]:
    """Every task of the recipe that the leaderboard provides (generic recipe: every generic task)."""
    from auditkit.taskscores import generic_tasks, resolve_task

    specs = list(recipe.tasks) if not recipe.generic else generic_tasks(lb, recipe)[0]
    out = {}
    n = len(lb)
    for spec in specs:
        where = resolve_task(lb, spec)
        if where is None:
            continue
        k = len(where)
        vals, ulps = np.full((n, k), np.nan), np.zeros((n, k))
        missing = np.zeros(n, bool)
        for j, (col, comp) in enumerate(where):
            pc = lb.parsed(col)
            bad = np.zeros(n, bool)
            for row, _, _ in pc.errors:
                bad[row] = True
            if comp < pc.values.shape[1]:
                vals[:, j] = pc.values[:, comp]
                ulps[:, j] = pc.half_ulps[:, comp]
            missing |= pc.missing | bad | (pc.n_components <= comp)
        vals[missing] = np.nan
        out[spec.name] = TaskData(spec.name, list(dict.fromkeys(c for c, _ in where)), vals, ulps, missing,
                                  float(spec.weight), bool(spec.diagnostic), bool(spec.columns) and k > 1)
    return out


@dataclass(frozen=True)
class Unit:
    """One term of a mean: a task, or one column of a task whose metrics sit in several columns (MNLI-m)."""

    name: str
    task: str
    components: tuple[int, ...]
    weight: float


def units_for(data: dict[str, TaskData], tasks: list[str], *, split: bool = False) -> list[Unit]:
    out = []
    for t in tasks:
        d = data[t]
        if split and d.multi_column:
            out += [Unit(c, t, (j,), d.weight) for j, c in enumerate(d.columns)]
        else:
            out.append(Unit(t, t, tuple(range(d.values.shape[1])), d.weight))
    return out


def unit_interval(d: TaskData, unit: Unit, row: int, *, nan_rule: str = "zero", zero_means_nan: bool = False,
                  first_only: bool = False):
    """(value, lo, hi) of one unit for one row, or None when it cannot be scored.

    nan_rule: "zero" (a NaN inside a pair scores the task 0), "ignore" (mean of the other metrics), "missing".
    zero_means_nan: a 0.0 inside a pair is read as a NaN shown as 0 and scores the task 0.
    first_only: the first metric instead of the mean of the metrics.
    """
    if d.missing[row]:
        return None
    comps = unit.components[:1] if first_only else unit.components
    v = d.values[row, list(comps)]
    u = d.ulps[row, list(comps)]
    nan = np.isnan(v)
    if nan.any():
        if nan_rule == "zero" or (nan_rule == "ignore" and nan.all()):
            return (0.0, 0.0, 0.0)
        if nan_rule == "missing":
            return None
        v, u = v[~nan], u[~nan]
    elif zero_means_nan and len(unit.components) > 1 and (d.values[row, list(unit.components)] == 0).any():
        return (0.0, 0.0, 0.0)
    return float(v.mean()), float((v - u).mean()), float((v + u).mean())


def mean_interval(terms, weights, mean: str):
    """(value, lo, hi) of a weighted mean of (value, lo, hi) terms; None if a term is None or the mean is
    undefined (a negative value under a rule defined for nonnegative values).

    The rule is the registered aggregator itself (no copy of its formula): it must be ``monotone``, so its value
    over cells anywhere in [lo, hi] lies between its value at the lower ends and at the upper ends."""
    from auditkit import UsageError, get_registry

    if any(t is None for t in terms) or not terms:
        return None
    agg = get_registry().get("aggregators", mean)
    if not agg.monotone or agg.candidate_dependent:
        raise UsageError(f"interval arithmetic needs a rule that is nondecreasing in every task value; "
                         f"{agg.name!r} is not (it is not marked monotone)")
    w = np.asarray(weights, float)
    w = w / w.sum()
    arr = np.asarray(terms, float).T  # (3, m): rows value / lo / hi
    if agg.domain in ("nonnegative", "positive"):
        if (arr[0] < 0).any():
            return None
        arr = np.maximum(arr, 0.0)
    import array_api_compat.numpy as xpn

    with np.errstate(divide="ignore", invalid="ignore"):
        value, lo, hi = (float(x) for x in np.asarray(agg.func(arr, xp=xpn, weights=w), float))
    return value, lo, hi


def overlaps(iv, claimed: float, half: float, slack: float = 1e-9) -> bool:
    return iv is not None and np.isfinite(iv[1]) and iv[1] <= claimed + half + slack and iv[2] >= claimed - half - slack
