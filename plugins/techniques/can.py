"""CAN: classification with alternating normalization (Jia et al., Findings of EMNLP 2021; Su, kexue.fm/archives/8728).

A prediction whose top-k entropy is high ("doubtful") is corrected against the set of confident predictions:
the matrix ``[A0; b]`` (confident rows plus the doubtful row) is alternately normalized over samples (each class
column scaled so its mean is one, then multiplied by the class prior) and over classes (each row scaled to sum to
one). As in Su's reference code and the official ``KMnP/can`` RSA code, every doubtful sample is corrected
**separately** against the **original** confident set ``A0``. This module does that for all doubtful samples at
once:

* ``iters == 1`` (the setting Su found best) has a closed form: the column mean of ``[A0; b]**alpha`` is
  ``(S + b**alpha) / (n + 1)`` with ``S`` the column sum of ``A0**alpha``, so the whole correction is O((n + d) m).
* ``iters > 1``: the confident rows change too and depend on ``b``. Row ``i`` of ``A0`` after ``t`` steps is
  ``A0_i**(alpha**t) * e(b) / z_i(b)`` (a class vector ``e`` shared by all rows, one scalar ``z`` per row), so each
  step needs two matrix products; doubtful samples are processed in chunks to bound memory.

:func:`can_reference` is Su's per-sample loop, kept as the oracle for tests and the baseline of the benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from auditkit.errors import DomainError, InputError, UsageError

__all__ = ["topk_entropy", "uncertainty", "doubtful_mask", "can", "can_reference", "CANResult",
           "prior_from_labels", "validate_probs", "validate_prior"]


# -- input checks --------------------------------------------------------------------------------------------------
def validate_probs(probs, *, name: str = "probabilities", atol: float = 1e-4) -> np.ndarray:
    """A float64 (n, m) array of probabilities, or an InputError naming what is wrong and how to fix it."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2 or p.shape[0] < 1:
        raise InputError(f"{name}: expected a 2-D array of shape (samples, classes) with at least 2 classes, got "
                         f"shape {p.shape}. Write one row per sample and one column per class.")
    if not np.all(np.isfinite(p)):
        bad = np.argwhere(~np.isfinite(p))[0]
        raise InputError(f"{name}: non-finite value {p[tuple(bad)]!r} at row {bad[0]}, column {bad[1]}. "
                         "Remove NaN/inf rows.")
    if np.any(p < 0):
        bad = np.argwhere(p < 0)[0]
        raise DomainError(f"{name}: negative probability {p[tuple(bad)]!r} at row {bad[0]}, column {bad[1]}. "
                          "CAN needs probabilities, not logits: apply softmax first.")
    sums = p.sum(axis=1)
    off = np.abs(sums - 1.0) > atol
    if np.any(off):
        i = int(np.argmax(off))
        raise DomainError(f"{name}: row {i} sums to {sums[i]:.6g}, not 1 (tolerance {atol:g}); "
                          f"{int(off.sum())} row(s) are off. Pass probabilities (softmax outputs) whose rows sum "
                          "to 1, or renormalize each row.")
    return p


def validate_prior(prior, m: int, *, name: str = "prior") -> np.ndarray:
    """A float64 (m,) prior that is positive and sums to one (``"uniform"`` is accepted)."""
    if isinstance(prior, str):
        if prior.strip().lower() != "uniform":
            raise UsageError(f"{name}: unknown prior {prior!r}; pass 'uniform' or a file with one value per class")
        return np.full(m, 1.0 / m)
    q = np.asarray(prior, dtype=np.float64).reshape(-1)
    if q.shape[0] != m:
        raise InputError(f"{name}: has {q.shape[0]} values but the probabilities have {m} classes. "
                         "Give one prior value per class, in the column order of the probabilities.")
    if not np.all(np.isfinite(q)) or np.any(q < 0) or q.sum() <= 0:
        raise DomainError(f"{name}: values must be finite and non-negative with a positive sum, got {q.tolist()!r:.200}")
    return q / q.sum()


def prior_from_labels(labels, m: int) -> np.ndarray:
    """Class frequencies of (training) labels, the prior CAN uses (Su 8728, official code)."""
    y = np.asarray(labels).astype(np.int64).reshape(-1)
    if y.size == 0 or y.min() < 0 or y.max() >= m:
        raise InputError(f"labels must be integers in [0, {m}), got range [{y.min() if y.size else '-'}, "
                         f"{y.max() if y.size else '-'}]")
    counts = np.bincount(y, minlength=m).astype(np.float64)
    return counts / counts.sum()


# -- uncertainty ---------------------------------------------------------------------------------------------------
def topk_entropy(probs, k: int = 3) -> np.ndarray:
    """Su's uncertainty: entropy of the k largest probabilities renormalized to sum to 1, divided by log k.

    Values are in [0, 1]; 0 log 0 is taken as 0 (Su's snippet would give NaN there and drop the sample).
    """
    p = np.asarray(probs, dtype=np.float64)
    m = p.shape[1]
    if not 2 <= k:
        raise UsageError(f"k must be at least 2 (got {k})")
    k = min(k, m)
    top = np.partition(p, m - k, axis=1)[:, m - k:] if k < m else p.copy()
    top /= top.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.where(top > 0, top * np.log(top), 0.0).sum(axis=1)
    return ent / np.log(k)


def uncertainty(probs, k: int = 3, mode: str = "su") -> np.ndarray:
    """``mode="su"``: top-k entropy for one k. ``mode="any-k"``: the official ``get_confused_instances_topk`` rule
    reduced to a score, the maximum of the top-j entropies for j = 2 .. min(k, m)."""
    if mode == "su":
        return topk_entropy(probs, k)
    if mode == "any-k":
        p = np.asarray(probs, dtype=np.float64)
        return np.max([topk_entropy(p, j) for j in range(2, min(k, p.shape[1]) + 1)], axis=0)
    raise UsageError(f"unknown uncertainty mode {mode!r}; choose one of: any-k, su")


def doubtful_mask(probs, k: int = 3, threshold: float = 0.9, mode: str = "su") -> np.ndarray:
    """True for doubtful predictions (uncertainty >= threshold), False for the confident set A0."""
    return uncertainty(probs, k, mode) >= threshold


# -- the algorithm -------------------------------------------------------------------------------------------------
@dataclass
class CANResult:
    """Corrected probabilities plus what changed.

    ``probs`` has the shape of the input: confident rows are copied unchanged, doubtful rows are replaced.
    """

    probs: np.ndarray
    doubtful: np.ndarray
    uncertainty: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def n_doubtful(self) -> int:
        return int(self.doubtful.sum())

    def changed(self, original) -> np.ndarray:
        """Mask of predictions whose argmax changed."""
        return np.asarray(original).argmax(axis=1) != self.probs.argmax(axis=1)


def _check_params(k, threshold, alpha, iters):
    if alpha <= 0 or not np.isfinite(alpha):
        raise UsageError(f"alpha must be a positive number (got {alpha}); Su and the official code use 1")
    if int(iters) != iters or iters < 1:
        raise UsageError(f"iters must be a positive integer (got {iters})")
    if k < 2:
        raise UsageError(f"k must be at least 2 (got {k})")
    if not np.isfinite(threshold):
        raise UsageError(f"threshold must be a number (got {threshold})")


def can(probs, prior="uniform", *, k: int = 3, threshold: float = 0.9, alpha: float = 1.0, iters: int = 1,
        mode: str = "su", chunk_elems: int = 2 ** 24, validate: bool = True) -> CANResult:
    """Correct doubtful predictions with alternating normalization, vectorized over all doubtful samples.

    Parameters
    ----------
    probs : (n, m) array of probabilities (rows sum to 1).
    prior : (m,) class prior (train-label frequencies) or ``"uniform"``.
    k, threshold, mode : uncertainty (top-k entropy) and the doubtful threshold (doubtful when >= threshold).
    alpha, iters : the power applied before each column normalization and the number of alternations.
    chunk_elems : memory bound (elements) of the per-chunk work arrays when ``iters > 1``.

    Returns
    -------
    CANResult with the corrected probabilities (confident rows unchanged).
    """
    p = validate_probs(probs) if validate else np.asarray(probs, dtype=np.float64)
    n, m = p.shape
    q = validate_prior(prior, m)
    _check_params(k, threshold, alpha, iters)
    u = uncertainty(p, k, mode)
    doubt = u >= threshold
    out = p.copy()
    params = {"k": k, "threshold": threshold, "alpha": alpha, "iters": int(iters), "mode": mode}
    if not doubt.any():
        return CANResult(out, doubt, u, params)
    a0 = p[~doubt]
    b = p[doubt]
    out[doubt] = _correct(a0, b, q, alpha, int(iters), chunk_elems)
    return CANResult(out, doubt, u, params)


def _pow(x, alpha):
    return x if alpha == 1 else x ** alpha


def _correct(a0: np.ndarray, b: np.ndarray, prior: np.ndarray, alpha: float, iters: int,
             chunk_elems: int) -> np.ndarray:
    """Corrected doubtful rows: each row of ``b`` against ``a0`` alone (official per-sample semantics)."""
    n = a0.shape[0]
    if iters == 1:
        s = _pow(a0, alpha).sum(axis=0)               # column sums of A0**alpha, shared by every doubtful row
        ba = _pow(b, alpha)
        colmean = (s[None, :] + ba) / (n + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.where(colmean > 0, ba / colmean, 0.0) * prior[None, :]
        return y / y.sum(axis=1, keepdims=True)
    d = b.shape[0]
    chunk = max(1, min(d, chunk_elems // max(1, n)))
    res = np.empty_like(b)
    for start in range(0, d, chunk):
        with np.errstate(all="ignore"):
            res[start:start + chunk] = _correct_iter(a0, b[start:start + chunk], prior, alpha, iters)
    bad = ~np.all(np.isfinite(res), axis=1)
    if bad.any():
        # extreme alpha ** iters under/overflows the factored form: redo those rows densely (exact, slower)
        idx = np.flatnonzero(bad)
        step = max(1, chunk_elems // max(1, (n + 1) * a0.shape[1]))
        for start in range(0, idx.size, step):
            sel = idx[start:start + step]
            res[sel] = _correct_dense(a0, b[sel], prior, alpha, iters)
    return res


def _correct_dense(a0, b, prior, alpha, iters):
    """The per-sample algorithm batched over a few doubtful rows: a (d, n + 1, m) stack of ``[A0; b_j]``."""
    y = np.concatenate([np.broadcast_to(a0, (b.shape[0],) + a0.shape), b[:, None, :]], axis=1)
    with np.errstate(all="ignore"):
        for _ in range(iters):
            y = y ** alpha
            y /= y.mean(axis=1, keepdims=True)
            y *= prior
            y /= y.sum(axis=2, keepdims=True)
    return y[:, -1, :]


def _correct_iter(a0, b, prior, alpha, iters):
    """``iters > 1`` for a chunk of doubtful rows.

    State for doubtful row j: its own row ``y_j`` and, for the confident rows, ``A0_i**(alpha**t) * e_j / z_ij``.
    One step: ``g = A0**(alpha**(t+1))`` (shared), ``w_ij = z_ij**(-alpha)``,
    column sums ``C_j = e_j**alpha * (w_j @ g) + y_j**alpha``, then ``e_j <- e_j**alpha * prior / C_j``,
    ``z_ij <- (g @ e_j)_i`` (the row factor ``w_ij`` cancels in the row normalization) and ``y_j <- normalize(y_j**alpha * prior / C_j)``.
    """
    n, m = a0.shape
    d = b.shape[0]
    g = a0.copy()
    e = np.ones((d, m))
    z = np.ones((n, d))
    y = b.copy()
    power = 1.0
    if alpha != 1:
        with np.errstate(divide="ignore"):
            la0 = np.log(a0)
        la0 -= la0.max(axis=1, keepdims=True)
        # with rows of g scaled by their maximum, the initial row sums z_i = g_i . e are no longer 1
        z = np.repeat(np.exp(la0).sum(axis=1, keepdims=True), d, axis=1)
    for _ in range(iters):
        power *= alpha
        if alpha != 1:
            # A0 ** (alpha ** t), each row scaled by its maximum (a row factor cancels in the row normalization)
            g = np.exp(power * la0)
        with np.errstate(divide="ignore", over="ignore"):
            w = z ** (-alpha) if alpha != 1 else 1.0 / z          # (n, d)
        ea = _pow(e, alpha)
        ya = _pow(y, alpha)
        col = ea * (w.T @ g) + ya                                  # (d, m) column sums of [A0; b] ** alpha
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(col > 0, prior[None, :] / col, 0.0)
        e = ea * scale
        z = g @ e.T                                                # new row sums of the confident rows
        y = ya * scale
        y /= y.sum(axis=1, keepdims=True)
        # keep e and z on a sane scale (both are only defined up to a common factor per doubtful row)
        c = e.max(axis=1, keepdims=True)
        e /= c
        z /= c.T
    return y


def can_reference(probs, prior, *, k: int = 3, threshold: float = 0.9, alpha: float = 1.0, iters: int = 1,
                  max_doubtful: int | None = None) -> np.ndarray:
    """Su's per-sample loop (kexue.fm/archives/8728), in numpy: the oracle and the benchmark baseline.

    Returns the corrected copy of ``probs``. ``max_doubtful`` corrects only the first doubtful rows (benchmark
    subsampling); the rest stay as they were.
    """
    y_pred = np.asarray(probs, dtype=np.float64)
    prior = np.asarray(prior, dtype=np.float64)
    kk = min(k, y_pred.shape[1])
    y_pred_topk = np.sort(y_pred, axis=1)[:, -kk:]
    y_pred_topk /= y_pred_topk.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        y_pred_uncertainty = -np.where(y_pred_topk > 0, y_pred_topk * np.log(y_pred_topk), 0.0).sum(1) / np.log(kk)
    confident = y_pred_uncertainty < threshold
    y_pred_confident = y_pred[confident]
    idx = np.flatnonzero(~confident)
    if max_doubtful is not None:
        idx = idx[:max_doubtful]
    out = y_pred.copy()
    for i in idx:
        Y = np.concatenate([y_pred_confident, y_pred[i][None]], axis=0)
        for _ in range(iters):
            Y = Y ** alpha
            Y /= Y.mean(axis=0, keepdims=True)
            Y *= prior[None]
            Y /= Y.sum(axis=1, keepdims=True)
        out[i] = Y[-1]
    return out
