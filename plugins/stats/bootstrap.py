"""Bootstrap rank uncertainty, written once against the array API (numpy default; torch on CPU or CUDA).

Resampling units
  * ``task``: draw the tasks with replacement (a resample is a vector of task counts c, sum c = k); the rule is
    applied to the resampled task set (each drawn copy of a task carries that task's weight).
  * ``instance``: for long tables with an instance id, draw the instances of every task with replacement (the same
    instances for every system: paired), recompute each task's score as the mean over the drawn instances, then
    apply the rule.

Indices are drawn on the host with ``numpy.random.default_rng(seed)`` and turned into count matrices, so the numpy
and torch paths see identical resamples: results agree to floating-point error (parity tests).

Kernels
  * rules whose score is a fixed per-task transform summed with weights ("linear": arithmetic, geometric via
    log, harmonic via -1/x, power via sign(p) x^p, and Borda/Dowdall/win rate through their per-task points on
    the task bootstrap) are a single matmul per batch: scores = (counts * w) @ T(values).T;
  * every other rule (and linear-over-points rules on the instance bootstrap) goes through its aggregator function
    once per resample (correct for any rule, slower).
Ranks per resample use competition ranking "1224" on exact float ties. Rank probabilities and percentile
intervals come from a (system x rank) histogram; simultaneous rank sets come from all pairwise tests (z = d / se
with the bootstrap standard error of the score difference), Holm-corrected across all pairs, each system's set
being [1 + #systems significantly better, n - #systems significantly worse]. If no pairwise decision is wrong
(probability >= 1 - alpha under Holm's guarantee), every true rank lies in its set simultaneously.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

DEFAULT_BATCH_ELEMENTS = 4_000_000   # resamples per batch = this / (n_units * n_systems) (bounds memory)


# -- per-backend primitives outside the array API standard --------------------------------------------------------
def _is_torch(xp) -> bool:
    from array_api_compat import is_torch_namespace

    return is_torch_namespace(xp)


def cummax(xp, x):
    """Running maximum along the last axis (not in the array API standard)."""
    if _is_torch(xp):
        import torch

        return torch.cummax(x, dim=-1).values
    return np.maximum.accumulate(x, axis=-1)


def bincount(xp, x, minlength: int):
    if _is_torch(xp):
        import torch

        return torch.bincount(x, minlength=minlength)
    return np.bincount(x, minlength=minlength)


def scatter_rows(xp, index, src):
    """out[r, index[r, j]] = src[r, j] (an inverse permutation; scatter is not in the array API standard)."""
    if _is_torch(xp):
        import torch

        return torch.empty_like(src).scatter_(1, index, src)
    out = np.empty_like(src)
    np.put_along_axis(out, index, src, axis=1)
    return out


def competition_ranks(xp, scores):
    """Competition ranks "1224" of each row of ``scores`` (b, n), higher first; scores equal under the core tie
    key (:func:`auditkit.tie_key`) share a rank. Returns int64 ranks (1-based), same shape."""
    from auditkit.ranking import tie_key

    scores = tie_key(scores, xp)
    b, n = scores.shape
    # negate and sort ascending: plain numpy (an array-API namespace since 2.1) has no `descending`
    order = xp.argsort(-scores, axis=1, stable=True)
    ordered = xp.take_along_axis(scores, order, axis=1)
    pos = xp.broadcast_to(xp.arange(n, dtype=xp.int64, device=_dev(scores))[None, :], (b, n))
    new = xp.concat([xp.ones((b, 1), dtype=xp.bool, device=_dev(scores)),
                     ordered[:, 1:] != ordered[:, :-1]], axis=1)
    start = cummax(xp, xp.where(new, pos, xp.zeros_like(pos)))
    return scatter_rows(xp, order, start + 1)


def _sorted_with_order(xp, keys):
    """(order, keys in that order) of each row. On numpy, integer-valued keys are packed with their column index
    into one int64 (key * 2^bits + index) and sorted with np.sort, whose SIMD kernels beat argsort followed by
    take_along_axis; the order and the keys are unpacked with a mask and a shift (floor division, exact)."""
    n = keys.shape[1]
    bits = max(1, (n - 1).bit_length())
    if not _is_torch(xp) and keys.size and float(np.abs(keys).max()) < 2.0 ** (62 - bits):
        packed = (keys.astype(np.int64) << bits) | np.arange(n, dtype=np.int64)[None, :]
        packed.sort(axis=1)
        return packed & ((1 << bits) - 1), packed >> bits
    order = xp.argsort(keys, axis=1)
    return order, xp.take_along_axis(keys, order, axis=1)


def rank_histogram_indices(xp, keys):
    """Flat indices ``system * n + (rank - 1)`` of each row of ``keys`` (b, n) under competition ranking, where a
    LOWER key ranks first (pass minus the scores). Works in sorted order (no inverse permutation); the sort need not
    be stable because tied keys share the rank of their group's first position."""
    b, n = keys.shape
    order, ordered = _sorted_with_order(xp, keys)
    tie = ordered[:, 1:] == ordered[:, :-1]
    pos = xp.broadcast_to(xp.arange(n, dtype=xp.int64, device=_dev(keys))[None, :], (b, n))
    if bool(xp.any(tie)):
        new = xp.concat([xp.ones((b, 1), dtype=xp.bool, device=_dev(keys)), ~tie], axis=1)
        start = cummax(xp, xp.where(new, pos, xp.zeros_like(pos)))
    else:
        start = pos
    return xp.reshape(xp.astype(order, xp.int64) * n + start, (-1,))


def _dev(x):
    from array_api_compat import device

    return device(x)


# -- linear forms of known rules ------------------------------------------------------------------------------------
def linear_transform(agg, values: np.ndarray, params: dict, unit: str):
    """T such that the rule's score over a resample with task-count weights u is ``link(T @ u / sum(u))``: the
    aggregator record's own quasi-linear form (:attr:`auditkit.Aggregator.transform`), computed on the host. None
    when the record has none, or when it is candidate-dependent and instances are resampled (its points depend on
    the resampled task values); then the generic path calls the rule on every resample."""
    from array_api_compat import numpy as xpn

    if agg.transform is None or (agg.candidate_dependent and unit != "task"):
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(agg.transform(np.asarray(values, float), xp=xpn, **params), float)


_MAGNITUDE = np.int64(0x7FFFFFFFFFFFFFFF)
_INF_BITS = np.int64(0x7FF0000000000000)
_DROPPED = 52 - 39         # mantissa bits the tie key rounds away (it keeps 40 significant bits: 1 implicit + 39)


def tie_ordinals(keys: np.ndarray, *, negate: bool = False) -> np.ndarray:
    """int64 keys ordered like :func:`auditkit.tie_key` of ``keys`` (of ``-keys`` with ``negate=True``) and equal
    exactly when the tie keys are equal (numpy): the float's bits read as an ordered integer, less the 13 mantissa
    bits the tie key zeroes (one zero bit is kept). Integer keys let the rank histogram pack (key, index) into one
    int64 and use numpy's SIMD sort.

    Normal, zero and infinite values are done in integer arithmetic on the bits: the tie key's round-half-even at
    mantissa bit 13 is ``(m + 0xFFF + bit13) >> 13`` on the magnitude bits ``m`` (a carry moves into the exponent,
    as ldexp of a mantissa rounded up to 1 does), and a negative value's ordered integer is the complement. A NaN
    or a subnormal anywhere sends the array through :func:`auditkit.tie_key` itself (which rounds subnormals
    relative to their leading bit)."""
    keys = np.asarray(keys, float)
    signed = np.negative(keys) if negate else keys + 0.0
    signed += 0.0                                   # -0.0 -> +0.0: the two zeros tie
    bits = signed.view(np.int64)
    mag = bits & _MAGNITUDE
    # as unsigned, m - 1 wraps for m = 0, so one comparison finds the subnormals 0 < m < 2^52
    subnormal = (mag.view(np.uint64) - np.uint64(1)) < np.uint64((1 << 52) - 1)
    if subnormal.any() or (mag > _INF_BITS).any():
        return _tie_ordinals_float(keys, negate)
    mag += np.int64((1 << (_DROPPED - 1)) - 1)
    mag += (bits >> _DROPPED) & 1
    mag >>= _DROPPED
    mag <<= 1
    mag ^= bits >> 63                               # a negative value's ordered integer is the complement
    return mag


def _tie_ordinals_float(keys: np.ndarray, negate: bool) -> np.ndarray:
    from auditkit.ranking import tie_key

    k = tie_key(-keys if negate else keys) + 0.0  # -0.0 -> +0.0 so the two zeros tie
    bits = k.view(np.int64)
    ordered = np.where(bits < 0, bits ^ _MAGNITUDE, bits)
    return ordered >> (_DROPPED - 1)


class _HostRankHistogram:
    """The rank histogram of numpy score batches, ``counts[system * n + rank - 1]``, computed in blocks of
    resamples small enough to stay in cache, with buffers reused across blocks and batches (large temporaries
    cost a page fault per 4 KiB on every allocation). Per block: the tie ordinals of minus the scores in integer
    arithmetic (bit-identical to :func:`tie_ordinals` of ``-scores``), (key, index) packed and sorted with numpy's
    SIMD sort, the order and the group starts unpacked, one bincount per batch."""

    BLOCK_ELEMENTS = 1 << 17          # 1 MiB per int64 buffer

    def __init__(self, n: int, batch: int):
        self.n = n
        self.counts = np.zeros(n * n, np.int64)
        self.rows = max(1, min(batch, self.BLOCK_ELEMENTS // n))
        self.bits = max(1, (n - 1).bit_length())
        self.key = np.empty((self.rows, n), np.int64)
        self.tmp = np.empty((self.rows, n), np.int64)
        self.flag = np.empty((self.rows, n), bool)
        self.flat = np.empty((batch, n), np.int64)
        self.column = np.arange(n, dtype=np.int64)

    def add(self, scores: np.ndarray) -> None:
        b = scores.shape[0]
        for start in range(0, b, self.rows):
            stop = min(b, start + self.rows)
            self._block(scores[start:stop], self.flat[start:stop])
        self.counts += np.bincount(self.flat[:b].reshape(-1), minlength=self.n * self.n)

    def _block(self, scores, out) -> None:
        r, n = scores.shape
        key, tmp, flag = self.key[:r], self.tmp[:r], self.flag[:r]
        np.subtract(0.0, scores, out=key.view(np.float64))   # -scores, and both zeros become +0.0 (they tie)
        np.bitwise_and(key, _MAGNITUDE, out=tmp)
        # subnormal (0 < m < 2^52) or NaN (m > inf bits) in one unsigned comparison: m - 2^52 wraps below 2^52
        np.subtract(tmp.view(np.uint64), np.uint64(1 << 52), out=out.view(np.uint64))
        np.greater(out.view(np.uint64), np.uint64(int(_INF_BITS) - (1 << 52)), out=flag)
        odd = bool(flag.any())
        if odd:                                        # zeros wrapped too: they are fine
            flag &= tmp != 0
            odd = bool(flag.any())
        if odd or self.bits > 11:                     # NaN/subnormal, or too many systems to pack with 51-bit keys
            out[...] = np.reshape(rank_histogram_indices(np, tie_ordinals(scores, negate=True)), (r, n))
            return
        tmp += np.int64((1 << (_DROPPED - 1)) - 1)     # round half even at bit 13 (see tie_ordinals)
        np.right_shift(key, _DROPPED, out=out)
        out &= 1
        tmp += out
        tmp >>= _DROPPED
        tmp <<= 1
        np.right_shift(key, 63, out=out)
        tmp ^= out                                     # the tie ordinals of -scores, |.| < 2^51
        tmp <<= self.bits
        tmp |= self.column
        tmp.sort(axis=1)
        np.bitwise_and(tmp, (1 << self.bits) - 1, out=out)       # the order
        tmp >>= self.bits                                         # the sorted keys
        np.equal(tmp[:, 1:], tmp[:, :-1], out=flag[:, 1:])
        out *= n
        if flag[:, 1:].any():
            flag[:, 0] = True
            np.logical_not(flag[:, 1:], out=flag[:, 1:])          # group starts
            start = np.maximum.accumulate(np.where(flag, self.column, 0), axis=1)
            out += start
        else:
            out += self.column


def _single_blas_thread():
    """One BLAS thread for the batch loop (threadpoolctl, when installed; else None). The loop's matrix products
    are small (resamples x tasks x systems) and the rest of each batch is single-threaded numpy: an idle OpenBLAS
    worker spin-waits after every product and takes the second core from it (measured: the task bootstrap runs
    2x slower with two BLAS threads than with one on a loaded 2-core machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=1, user_api="blas")


# -- resampling -----------------------------------------------------------------------------------------------------
@dataclass
class InstanceData:
    """Per task, the systems x instances matrix of per-instance values (metrics averaged per instance)."""

    tasks: list[str]
    matrices: list[np.ndarray]
    instances: list[list[str]]


def instance_data(ts, rows: np.ndarray) -> InstanceData:
    """Per-instance values of the rows ``rows`` of a long table (``Leaderboard.long_records``), checked against the
    task scores (so a rescaled or otherwise transformed task is refused rather than silently mixed)."""
    from auditkit.errors import InputError, UsageError
    from auditkit.leaderboard import clean_name, normalize

    lb = ts.leaderboard
    if not lb.long_records:
        raise UsageError(f"{lb.source}: --unit instance needs a long table with an instance column "
                         "(system, task, [metric,] instance, value); this input has no per-instance records. "
                         "Use --unit task")
    index = {name: i for i, name in enumerate(lb.systems)}
    wanted = {int(r): j for j, r in enumerate(rows)}
    by_task: dict[str, dict] = {}
    for sysname, task, metric, inst, raw, line in lb.long_records:
        i = index.get(clean_name(sysname))
        if i not in wanted:
            continue
        try:
            value = float(raw)
        except ValueError:
            raise InputError(f"{lb.source}: line {line}: per-instance value {raw!r} is not a number") from None
        by_task.setdefault(normalize(task), {}).setdefault(inst, {}).setdefault(wanted[i], []).append(value)
    tasks, mats, insts = [], [], []
    for t, name in enumerate(ts.tasks):
        cells = by_task.get(normalize(name))
        if not cells:
            raise UsageError(f"{lb.source}: task {name!r} has no per-instance records; --unit instance needs them "
                             "for every task in the task set")
        ids = list(cells)
        mat = np.full((len(rows), len(ids)), np.nan)
        for c, inst in enumerate(ids):
            for j, vals in cells[inst].items():
                mat[j, c] = float(np.mean(vals))
        if np.isnan(mat).any():
            j, c = map(int, np.argwhere(np.isnan(mat))[0])
            raise InputError(f"{lb.source}: system {lb.systems[int(rows[j])]!r} has no value for instance "
                             f"{ids[c]!r} of task {name!r}; the instance bootstrap is paired and needs every "
                             "system on every instance (drop the instance or the system)")
        expected = ts.values[rows, t]
        if not np.allclose(mat.mean(axis=1), expected, rtol=1e-9, atol=1e-9):
            raise UsageError(f"{lb.source}: task {name!r}: the mean over instances does not reproduce the task "
                             "score used for ranking (was the task rescaled by --negatives?); use --unit task")
        tasks.append(name)
        mats.append(mat)
        insts.append(ids)
    return InstanceData(tasks, mats, insts)


def task_counts(rng: np.random.Generator, b: int, k: int) -> np.ndarray:
    """(b, k) counts of each of k units in b resamples of size k (multinomial via drawn indices)."""
    idx = rng.integers(0, k, size=(b, k))
    flat = (idx + (np.arange(b) * k)[:, None]).ravel()
    return np.bincount(flat, minlength=b * k).reshape(b, k).astype(np.float64)


# -- the bootstrap engine -------------------------------------------------------------------------------------------
@dataclass
class BootstrapResult:
    """Rank uncertainty of one rule over ``n_resamples`` resamples (systems in the order of ``rows``)."""

    rule: str
    rows: np.ndarray
    point_scores: np.ndarray
    point_ranks: np.ndarray
    rank_counts: np.ndarray        # (n, n): rank_counts[i, r - 1] = resamples in which system i has rank r
    score_mean: np.ndarray
    score_cov: np.ndarray          # (n, n) bootstrap covariance of the scores
    n_resamples: int
    unit: str
    seed: int | None
    level: float
    path: str                      # "linear" or "generic"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rank_probabilities(self) -> np.ndarray:
        return self.rank_counts / self.n_resamples

    def rank_intervals(self, level: float | None = None) -> np.ndarray:
        """(n, 2) percentile intervals of the bootstrap rank (marginal, per system)."""
        level = self.level if level is None else level
        alpha = 1 - level
        cdf = np.cumsum(self.rank_counts, axis=1) / self.n_resamples
        lo = (cdf >= alpha / 2 - 1e-12).argmax(axis=1) + 1
        hi = (cdf >= 1 - alpha / 2 - 1e-12).argmax(axis=1) + 1
        return np.stack([lo, hi], axis=1)

    def pairwise_pvalues(self) -> np.ndarray:
        """Two-sided p-values of H0: equal scores, for every ordered pair, z = d / se(d) with the bootstrap
        covariance (a difference with zero bootstrap variance is significant iff it is nonzero)."""
        from scipy.special import ndtr

        s = self.point_scores
        d = s[:, None] - s[None, :]
        var = np.diag(self.score_cov)
        vd = var[:, None] + var[None, :] - 2 * self.score_cov
        vd = np.maximum(vd, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.abs(d) / np.sqrt(vd)
        tiny = np.abs(d) <= 1e-12 * (1 + np.abs(s[:, None]) + np.abs(s[None, :]))
        z = np.where(vd > 0, z, np.where(tiny, 0.0, np.inf))
        z = np.where(tiny & (vd <= 0), 0.0, z)
        p = 2 * ndtr(-z)
        np.fill_diagonal(p, 1.0)
        return np.clip(p, 0.0, 1.0)

    def simultaneous_rank_sets(self, level: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(n, 2) rank sets with simultaneous coverage ``level`` (Holm over all pairs) and the (n, n) boolean matrix
        better[i, j]: i significantly above j."""
        level = self.level if level is None else level
        p = self.pairwise_pvalues()
        reject = holm(p, 1 - level)
        d = self.point_scores[:, None] - self.point_scores[None, :]
        better = reject & (d > 0)
        n = p.shape[0]
        lo = 1 + better.sum(axis=0)           # systems significantly above i
        hi = n - better.sum(axis=1)           # minus systems significantly below i
        return np.stack([lo, hi], axis=1), better


def holm(p: np.ndarray, alpha: float) -> np.ndarray:
    """Holm step-down over the unordered pairs of a symmetric p-value matrix; returns a symmetric reject matrix."""
    n = p.shape[0]
    iu = np.triu_indices(n, 1)
    pv = p[iu]
    m = pv.size
    reject_flat = np.zeros(m, bool)
    if m:
        # step down over the sorted p-values; the rejected pairs are those below the first failing p-value (a tie
        # group cannot straddle it: the thresholds grow), so a plain SIMD sort replaces a stable argsort
        ordered = np.sort(pv)
        thresholds = alpha / (m - np.arange(m))
        ok = ordered <= thresholds
        reject_flat = pv < ordered[int(np.argmin(ok))] if not ok.all() else ~np.isnan(pv)
    out = np.zeros((n, n), bool)
    out[iu] = reject_flat
    return out | out.T


def holm_adjust(pvalues: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values of a flat vector (monotone, capped at 1): :func:`auditkit.adjust_pvalues`."""
    from auditkit import adjust_pvalues

    return adjust_pvalues(pvalues, "holm")


def _progress(total: int, desc: str, enabled: bool | None):
    """A tqdm bar on stderr when tqdm is installed and stderr is a terminal; a no-op otherwise."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if enabled:
        try:
            from tqdm import tqdm

            return tqdm(total=total, desc=desc, unit="resample", file=sys.stderr, leave=False)
        except ImportError:
            pass

    class _Null:
        def update(self, n):
            pass

        def close(self):
            pass
    return _Null()


def bootstrap_ranks(values: np.ndarray, weights: np.ndarray, rule: str = "arithmetic", *, params=None,
                    n_resamples: int = 1000, seed: int | None = 0, unit: str = "task",
                    instances: InstanceData | None = None, backend: str = "numpy", device: str = "cpu",
                    level: float = 0.95, batch: int | None = None, progress: bool | None = None,
                    func: Callable | None = None, force_generic: bool = False,
                    keep_scores: bool = False) -> BootstrapResult:
    """Bootstrap the ranking of the rows of ``values`` (n_systems x n_tasks, no NaN) under aggregator ``rule``.

    ``func`` overrides the registered aggregator function (used by tests and benchmarks). ``keep_scores`` keeps
    the (n_resamples, n) bootstrap scores on the host in ``result.extra["scores"]`` (paired tests). ``unit`` is ``"task"`` or
    ``"instance"`` (then ``instances`` holds the per-instance matrices, task order as in ``values``).
    """
    from auditkit.backend import get_backend, to_numpy
    from auditkit.errors import UsageError

    params = dict(params or {})
    values = np.asarray(values, float)
    weights = np.asarray(weights, float)
    n, k = values.shape
    if n_resamples < 1:
        raise UsageError(f"--bootstrap must be a positive number of resamples (got {n_resamples})")
    if unit not in ("task", "instance"):
        from auditkit.errors import unknown_name

        raise unknown_name("resampling unit", unit, ("task", "instance"))
    if unit == "instance" and instances is None:
        raise UsageError("unit='instance' needs per-instance data")
    from auditkit.ranking import competition_rank, tie_key
    from auditkit.registry import get_registry

    agg = get_registry().get("aggregators", rule)
    rule = agg.name
    if func is None:
        func = agg.func
    ctx = get_backend(backend, device)
    xp = ctx.xp
    rng = np.random.default_rng(seed)

    point = np.asarray(to_numpy(func(ctx.asarray(values), xp=xp, weights=ctx.asarray(weights), **params)), float)
    point_ranks = competition_rank(point)           # the core tie rule, as every command ranks

    T = None if force_generic else linear_transform(agg, values, params, unit)
    linear = T is not None and agg.link is None     # the score is T @ u itself: exact covariance, always finite
    link = (lambda m: m) if agg.link is None else (lambda m: agg.link(m, xp=xp, **params))
    path = "linear" if T is not None else "generic"
    # Work with the systems in order of their point score: every resample is then nearly sorted, which makes the
    # per-resample sort several times faster. Results are mapped back to the input order at the end.
    perm = np.argsort(-np.where(np.isnan(point), -np.inf, point), kind="stable")
    values = values[perm]
    if T is not None:
        T = T[perm]
    if unit == "instance":
        instances = InstanceData(instances.tasks, [m[perm] for m in instances.matrices], instances.instances)
    point_perm = point[perm]
    exact_cov = None
    if linear and np.isfinite(T).all():
        if unit == "task" and np.allclose(weights, weights[0]):
            Tc = T - T.mean(axis=1, keepdims=True)
            exact_cov = Tc @ Tc.T / k ** 2
        elif unit == "instance" and agg.transform is not None and not agg.candidate_dependent and np.array_equal(
                T, values):
            exact_cov = np.zeros((n, n))
            for wt, m in zip(weights, instances.matrices):
                Xc = m - m.mean(axis=1, keepdims=True)
                exact_cov += (wt / m.shape[1]) ** 2 * (Xc @ Xc.T)
    units = k if unit == "task" else sum(m.shape[1] for m in instances.matrices)
    if batch is None:
        per_resample = units + (n * k if unit == "instance" else 0) + 6 * n
        batch = max(1, min(n_resamples, DEFAULT_BATCH_ELEMENTS // per_resample))
    rank_counts = xp.zeros((n * n,), dtype=xp.int64, device=ctx.device)
    s_sum = xp.zeros((n,), dtype=xp.float64, device=ctx.device)
    s_cross = xp.zeros((n, n), dtype=xp.float64, device=ctx.device)
    point_dev = ctx.asarray(point_perm)
    # linear rules with an identity link on finite tables never produce an infinite score: skip the check
    always_finite = linear and bool(np.isfinite(T).all())
    on_numpy = not _is_torch(xp)
    T_dev = ctx.asarray(np.where(np.isfinite(T), T, 0.0)) if T is not None else None
    T_neg_inf = (ctx.asarray(np.isneginf(T).astype(float)) if T is not None and np.isneginf(T).any() else None)
    w_dev = ctx.asarray(weights)
    # integer-valued instance results (0/1 correctness, counts) are summed exactly in float32 (all partial sums are
    # integers below 2^24), twice as fast as float64 and bit-identical
    exact32 = unit == "instance" and all(bool(np.all(m == np.round(m))) and np.abs(m).max() * m.shape[1] < 2 ** 23
                                         for m in instances.matrices)
    inst_dtype = xp.float32 if exact32 else xp.float64
    inst_dev = ([ctx.asarray(m, dtype=inst_dtype) for m in instances.matrices] if unit == "instance" else None)
    hist = _HostRankHistogram(n, batch) if on_numpy else None
    host_buffers = on_numpy and unit == "task" and T is not None
    S = np.empty((batch, n)) if host_buffers else None          # reused: no page faults per batch
    D = np.empty((batch, n)) if on_numpy and always_finite else None
    bar = _progress(n_resamples, f"bootstrap {rule}", progress)
    done = 0
    kept: list[np.ndarray] = []
    single = _single_blas_thread() if on_numpy else None
    try:
        while done < n_resamples:
            b = min(batch, n_resamples - done)
            if unit == "task":
                counts = ctx.asarray(task_counts(rng, b, k))                      # (b, k)
                u = counts * w_dev[None, :]
                if T is not None:
                    if host_buffers:
                        scores = np.matmul(u, T_dev.T, out=S[:b])
                        scores /= np.sum(u, axis=1)[:, None]
                    else:
                        scores = xp.matmul(u, xp.permute_dims(T_dev, (1, 0))) / xp.sum(u, axis=1)[:, None]  # (b, n)
                    if T_neg_inf is not None:   # a zero under geometric/harmonic: the limit 0 -> rank last
                        hit = xp.matmul(counts, xp.permute_dims(T_neg_inf, (1, 0))) > 0
                        scores = xp.where(hit, xp.full_like(scores, -math.inf), scores)
                    scores = link(scores)
                else:
                    scores = _generic_scores(func, xp, ctx, values, u, params, unit="task")
            else:
                task_vals = []
                for m in inst_dev:
                    c = ctx.asarray(task_counts(rng, b, m.shape[1]), dtype=inst_dtype)   # (b, m)
                    sums = xp.astype(xp.matmul(c, xp.permute_dims(m, (1, 0))), xp.float64)
                    task_vals.append(sums / m.shape[1])                                  # (b, n)
                V = xp.stack(task_vals, axis=2)                                  # (b, n, k)
                if T is not None:
                    TV = agg.transform(V, xp=xp, **params)
                    scores = link(xp.sum(TV * w_dev, axis=2))
                else:
                    scores = _generic_scores(func, xp, ctx, V, None, params, unit="instance", weights=w_dev)
            if keep_scores:
                kept.append(np.array(to_numpy(scores), float))       # a copy: the buffer is reused
            # minus the scores under the core tie key: a lower key ranks first, equal keys tie
            if on_numpy:
                hist.add(np.asarray(scores))
            else:
                rank_counts = rank_counts + bincount(xp, rank_histogram_indices(xp, -tie_key(scores, xp)), n * n)
            if D is not None:
                dev = np.subtract(scores, point_dev[None, :], out=D[:b])
            elif always_finite:
                dev = scores - point_dev[None, :]
            else:
                dev = xp.where(xp.isfinite(scores), scores, point_dev[None, :]) - point_dev[None, :]
            s_sum = s_sum + xp.sum(dev, axis=0)
            if exact_cov is None:
                s_cross = s_cross + xp.matmul(xp.permute_dims(dev, (1, 0)), dev)
            done += b
            bar.update(b)
    finally:
        bar.close()
        if single is not None:
            single.unregister()
    R = n_resamples
    inv = np.empty(n, np.int64)
    inv[perm] = np.arange(n)
    mean_dev = (np.asarray(to_numpy(s_sum), float) / R)[inv]
    if exact_cov is None:
        cross = np.asarray(to_numpy(s_cross), float)[np.ix_(inv, inv)]
        cov = (cross - R * np.outer(mean_dev, mean_dev)) / max(R - 1, 1)
    else:
        cov = exact_cov[np.ix_(inv, inv)]
    extra = {"backend": backend, "device": device, "batch": batch,
             "covariance": "exact (ideal bootstrap)" if exact_cov is not None else f"Monte Carlo ({R} resamples)"}
    if keep_scores:
        extra["scores"] = np.concatenate(kept, axis=0)[:, inv]
    counts = np.asarray(to_numpy(hist.counts if on_numpy else rank_counts)).reshape(n, n)[inv]
    return BootstrapResult(rule, np.arange(n), point, point_ranks, counts, point + mean_dev, cov, R, unit, seed,
                           level, path, extra)


def _generic_scores(func, xp, ctx, values, u, params, *, unit, weights=None):
    """Apply an aggregator to every resample of a batch, one call per resample.

    task unit: resample r keeps the tasks with count > 0, each with weight count * w (a task drawn twice counts
    twice), renormalized. instance unit: ``values`` is the (b, n, k) batch of resampled task matrices."""
    rows = []
    if unit == "task":
        V = ctx.asarray(values)
        for r in range(u.shape[0]):
            ur = u[r]
            keep = np.flatnonzero(np.asarray(ctx.to_numpy(ur)) > 0)
            keep_dev = xp.asarray(keep, device=ctx.device)
            wr = xp.take(ur, keep_dev, axis=0)
            rows.append(func(xp.take(V, keep_dev, axis=1), xp=xp, weights=wr / xp.sum(wr), **params))
    else:
        for r in range(values.shape[0]):
            rows.append(func(values[r], xp=xp, weights=weights, **params))
    return xp.stack(rows, axis=0)
