"""Means as aggregators: arithmetic, geometric, harmonic, power (parameter ``p``), median and minimum.

All take task weights (uniform unless the recipe weights tasks, as XTREME does) and work on any array-API
namespace. Geometric, harmonic and negative-power means are defined for nonnegative values: a zero gives the limit 0
(the pipeline reports it); negative values never reach them (the pipeline refuses or applies the chosen policy).
Power mean M_p: p=1 arithmetic, p=0 geometric, p=-1 harmonic, p->-inf minimum; M_p is nondecreasing in p.
"""

from __future__ import annotations

import numpy as np

import auditkit
from auditkit.records import Parameter


CHUNK_ELEMENTS = 1 << 15   # rows per block x tasks: 256 KiB of float64 in and 256 KiB out stay in a core's L2


def _host(values, weights) -> bool:
    """True for a 2-D float64 numpy table and numpy weights: the blocked numpy kernels below apply. Any other
    namespace (torch on CPU or CUDA) takes the array-API formulas, which agree to floating-point error."""
    return (type(values) is np.ndarray and values.ndim == 2 and values.dtype == np.float64
            and isinstance(weights, np.ndarray) and values.shape[1] > 0)


def _blocks(n: int, k: int):
    step = max(1, CHUNK_ELEMENTS // max(k, 1))
    for start in range(0, n, step):
        yield start, min(n, start + step)


def _blocked(values, weights, unary, link, formula):
    """``link(unary(values) @ weights)`` one block of rows at a time: ``unary`` writes into a reused buffer (no
    table-sized temporary, no page faults), the product with the weights is a BLAS matrix-vector product over the
    block while it is still in cache. A block holding a value <= 0 or NaN goes through ``formula`` (the array-API
    formula with its zero/limit rules), so results are the formula's everywhere."""
    n, k = values.shape
    out = np.empty(n)
    buf = np.empty((min(n, max(1, CHUNK_ELEMENTS // k)), k))
    for start, stop in _blocks(n, k):
        block = values[start:stop]
        if block.min() > 0:                        # False for a NaN too
            tmp = buf[: stop - start]
            unary(block, out=tmp)
            part = out[start:stop]
            np.matmul(tmp, weights, out=part)
            link(part, out=part)
        else:
            out[start:stop] = formula(block, xp=np, weights=weights)
    return out


def arithmetic(values, *, xp, weights):
    if _host(values, weights):
        return values @ weights                    # one BLAS pass over the table, no temporary
    return xp.sum(values * weights, axis=1)


def _geometric_formula(values, *, xp, weights):
    positive = values > 0
    logs = xp.log(xp.where(positive, values, xp.ones_like(values)))
    result = xp.exp(xp.sum(logs * weights, axis=1))
    return xp.where(xp.all(positive, axis=1), result, xp.zeros_like(result))


def geometric(values, *, xp, weights):
    """exp(sum_t w_t log x_t): one pass over the table, log-domain (no overflow), a zero task gives 0."""
    if _host(values, weights):
        return _blocked(values, weights, np.log, np.exp, _geometric_formula)
    return _geometric_formula(values, xp=xp, weights=weights)


def _harmonic_formula(values, *, xp, weights):
    positive = values > 0
    inverse = weights / xp.where(positive, values, xp.ones_like(values))
    result = 1.0 / xp.sum(inverse, axis=1)
    return xp.where(xp.all(positive, axis=1), result, xp.zeros_like(result))


def harmonic(values, *, xp, weights):
    """1 / sum_t (w_t / x_t); a zero task gives 0."""
    if _host(values, weights):
        return _blocked(values, weights, np.reciprocal, np.reciprocal, _harmonic_formula)
    return _harmonic_formula(values, xp=xp, weights=weights)


def power(values, *, xp, weights, p):
    """Weighted power mean M_p = (sum w x^p)^(1/p), computed as top * exp(log1p(sum w expm1(p log(x/top))) / p).

    Scaling by each row's maximum keeps large |p| finite; log1p/expm1 keep tiny |p| exact (the weights sum to 1),
    so M_p tends to the geometric mean as p -> 0 instead of collapsing to 0 or 1.
    """
    if abs(p) < 1e-12:  # M_p -> geometric; below this the difference is under 1e-12 relative, and subnormal p
        return geometric(values, xp=xp, weights=weights)  # would lose the bits the log1p/expm1 form relies on
    positive = values > 0
    top = xp.max(values, axis=1)
    safe_top = xp.where(top > 0, top, xp.ones_like(top))
    ones = xp.ones_like(values)
    logs = xp.log(xp.where(positive, values, ones) / safe_top[:, None])
    terms = xp.where(positive, xp.expm1(p * logs), -ones if p > 0 else ones)
    inner = xp.sum(terms * weights, axis=1)
    vanishing = inner <= -1.0  # every weight on a zero cell (p > 0)
    safe_inner = xp.where(vanishing, xp.zeros_like(inner), inner)
    result = safe_top * xp.exp(xp.log1p(safe_inner) / p)
    if p < 0:
        return xp.where(xp.all(positive, axis=1), result, xp.zeros_like(result))
    return xp.where(vanishing, xp.zeros_like(result), result)


# Quasi-linear forms: M(x) = link(sum_t w_t transform(x)_t). The bootstrap resamples tasks through them (one
# matrix product per batch); -inf marks a zero cell, whose limit under GM/HM/negative p is the minimum score 0.
def _power_transform(values, *, xp, p):
    if p == 0:
        return _log_transform(values, xp=xp)
    positive = values > 0
    safe = xp.where(positive, values, xp.ones_like(values))
    if p < 0:
        return xp.where(positive, -(safe ** p), xp.full_like(values, -float("inf")))
    return safe ** p * xp.astype(positive, values.dtype)


def _power_link(mean, *, xp, p):
    if p == 0:
        return xp.exp(mean)
    if p < 0:
        finite = xp.isfinite(mean)
        safe = xp.where(finite, -mean, xp.ones_like(mean))
        return xp.where(finite, safe ** (1.0 / p), xp.zeros_like(mean))
    return xp.where(mean > 0, mean, xp.zeros_like(mean)) ** (1.0 / p)


def _log_transform(values, *, xp):
    positive = values > 0
    return xp.where(positive, xp.log(xp.where(positive, values, xp.ones_like(values))),
                    xp.full_like(values, -float("inf")))


def _identity(values, *, xp):
    return values


def _harmonic_transform(values, *, xp):
    return _power_transform(values, xp=xp, p=-1.0)


def _harmonic_link(mean, *, xp):
    return _power_link(mean, xp=xp, p=-1.0)


def _exp(mean, *, xp):
    return xp.exp(mean)


def median(values, *, xp, weights):
    """The median of the task scores; with unequal weights, the lower weighted median."""
    n = values.shape[1]
    uniform = bool(xp.all(weights == weights[0]))
    lo, hi = (n - 1) // 2, n // 2
    if uniform and _host(values, weights):       # selection, not a sort: O(k) per row
        part = np.partition(values, (lo, hi), axis=1)
        return (part[:, lo] + part[:, hi]) / 2
    ordered = xp.sort(values, axis=1)
    if uniform:
        return (ordered[:, lo] + ordered[:, hi]) / 2
    order = xp.argsort(values, axis=1)
    w = xp.take(weights, xp.reshape(order, (-1,)), axis=0)
    cum = xp.cumulative_sum(xp.reshape(w, order.shape), axis=1)
    index = xp.sum(xp.astype(cum < 0.5 - 1e-12, xp.int64), axis=1)
    return xp.take_along_axis(ordered, index[:, None], axis=1)[:, 0]


def minimum(values, *, xp, weights):
    return xp.min(values, axis=1)


@auditkit.hookimpl
def auditkit_register_aggregators():
    A = auditkit.Aggregator
    return [
        A("arithmetic", arithmetic, "weighted arithmetic mean (the usual leaderboard score)", aliases=("am", "mean"),
          monotone=True, transform=_identity),
        A("geometric", geometric, "weighted geometric mean; a zero task gives 0", domain="nonnegative",
          aliases=("gm",), monotone=True, transform=_log_transform, link=_exp),
        A("harmonic", harmonic, "weighted harmonic mean; a zero task gives 0", domain="nonnegative",
          aliases=("hm",), monotone=True, transform=_harmonic_transform, link=_harmonic_link),
        A("power", power, "weighted power mean M_p (p=1 arithmetic, 0 geometric, -1 harmonic)", domain="nonnegative",
          params=(Parameter("p", None, "the exponent, e.g. power:p=-2", low=-1e6, high=1e6),),
          monotone=True, transform=_power_transform, link=_power_link),
        A("median", median, "median task score (lower weighted median if weights differ)", monotone=True),
        A("minimum", minimum, "worst task score", aliases=("min",), monotone=True),
    ]
