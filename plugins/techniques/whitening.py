"""BERT-whitening (Su, Cao, Liu, Ou 2021, arXiv 2103.15316; official code ``bojone/BERT-whitening``).

``mu = mean(x)``, ``Sigma = cov(x) = U Lambda U^T``, ``W = U Lambda^{-1/2}``, ``y = (x - mu) W``; keeping the first
``k`` columns of ``W`` (eigenvalues in descending order) is PCA whitening to ``k`` dimensions. The official
``compute_kernel_bias`` uses ``np.cov`` (N - 1 normalization), which is the default here (``ddof=1``); with
``ddof=0`` the output differs by the scalar sqrt(N/(N-1)), which cosine similarity removes.

:class:`Whitening` follows scikit-learn conventions (``fit`` / ``transform``, fitted attributes with a trailing
underscore) and adds ``partial_fit`` for data that does not fit in memory: it accumulates the sum and the
scatter matrix chunk by chunk (Chan et al.'s pairwise update, numerically equivalent to Su's streaming mean and
covariance recursion but stable in float64).
"""

from __future__ import annotations

import numpy as np

from auditkit.errors import InputError, UsageError

__all__ = ["Whitening", "compute_kernel_bias", "transform_and_normalize", "streaming_moments"]


def _as_2d(x, name="embeddings") -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 1 or a.shape[1] < 1:
        raise InputError(f"{name}: expected a 2-D array (samples, dims), got shape {a.shape}. "
                         "Write one embedding per row.")
    if not np.all(np.isfinite(a)):
        r, c = np.argwhere(~np.isfinite(a))[0]
        raise InputError(f"{name}: non-finite value at row {r}, column {c}. Remove or fix that row.")
    return a


def compute_kernel_bias(vecs, k: int | None = None):
    """The official function: ``(W, -mu)`` so that ``y = (x + bias) @ kernel`` (``np.cov``, N - 1)."""
    vecs = _as_2d(vecs)
    mu = vecs.mean(axis=0, keepdims=True)
    cov = np.cov(vecs.T)
    u, s, _ = np.linalg.svd(cov)
    w = u @ np.diag(1 / np.sqrt(s))
    if k is not None:
        w = w[:, :k]
    return w, -mu


def transform_and_normalize(vecs, kernel=None, bias=None):
    """The official post-processing: ``(x + bias) @ kernel`` then L2-normalize (norms clipped at 1e-8)."""
    vecs = np.asarray(vecs, dtype=np.float64)
    if not (kernel is None or bias is None):
        vecs = (vecs + bias) @ kernel
    return vecs / np.clip((vecs ** 2).sum(axis=1, keepdims=True) ** 0.5, 1e-8, np.inf)


def streaming_moments(chunks):
    """Mean and (1/N) covariance by Su's recursion, one row at a time (the formula in the post; for tests).

    ``mu_{n+1} = n/(n+1) mu_n + x/(n+1)``;
    ``Sigma_{n+1} = n/(n+1) (Sigma_n + mu_n^T mu_n) + x^T x/(n+1) - mu_{n+1}^T mu_{n+1}``.
    """
    n, mu, sigma = 0, None, None
    for chunk in chunks:
        for x in np.asarray(chunk, dtype=np.float64):
            if mu is None:
                mu, sigma = np.zeros_like(x), np.zeros((x.size, x.size))
            new_mu = n / (n + 1) * mu + x / (n + 1)
            sigma = n / (n + 1) * (sigma + np.outer(mu, mu)) + np.outer(x, x) / (n + 1) - np.outer(new_mu, new_mu)
            mu, n = new_mu, n + 1
    return mu, sigma, n


class Whitening:
    """Whitening transform ``y = (x - mean_) @ components_``; ``n_components`` keeps the top-k directions.

    Parameters
    ----------
    n_components : int or None
        Output dimension k (``None``: all dimensions).
    ddof : 0 or 1
        Covariance normalization; 1 (N - 1) matches the official ``np.cov``.
    eps : float
        Eigenvalues below ``eps * max eigenvalue`` are refused (the whitening matrix would blow up) unless they
        are cut away by ``n_components``.
    normalize : bool
        L2-normalize the output rows (what the official code does before cosine similarity).

    Attributes
    ----------
    mean_ : (d,) array; components_ : (d, k) array ``W``; singular_values_ : (d,) eigenvalues of the covariance,
    descending; n_samples_seen_ : int.
    """

    def __init__(self, n_components: int | None = None, *, ddof: int = 1, eps: float = 1e-12,
                 normalize: bool = False):
        self.n_components = n_components
        self.ddof = ddof
        self.eps = eps
        self.normalize = normalize
        self._reset()

    def _reset(self):
        self.n_samples_seen_ = 0
        self._sum = None
        self._scatter = None  # sum of (x - mean)(x - mean)^T over the samples seen

    # -- fitting ---------------------------------------------------------------------------------------------------
    def fit(self, x, y=None):
        """Fit on all of ``x`` at once."""
        self._reset()
        return self.partial_fit(x)

    def partial_fit(self, x, y=None):
        """Add a chunk of rows; the statistics after all chunks equal those of ``fit`` on their concatenation."""
        x = _as_2d(x)
        d = x.shape[1]
        if self._sum is not None and d != self._sum.shape[0]:
            raise InputError(f"chunk has {d} dimensions but earlier chunks had {self._sum.shape[0]}")
        n_b = x.shape[0]
        mean_b = x.mean(axis=0)
        xc = x - mean_b
        scatter_b = xc.T @ xc
        if self._sum is None:
            self._sum, self._scatter, self.n_samples_seen_ = mean_b * n_b, scatter_b, n_b
        else:
            n_a = self.n_samples_seen_
            delta = mean_b - self._sum / n_a
            self._scatter = self._scatter + scatter_b + np.outer(delta, delta) * (n_a * n_b / (n_a + n_b))
            self._sum = self._sum + mean_b * n_b
            self.n_samples_seen_ = n_a + n_b
        self._finalize()
        return self

    def fit_stream(self, chunks):
        """Fit from an iterable of row chunks (e.g. ``np.load(..., mmap_mode="r")`` slices)."""
        self._reset()
        for chunk in chunks:
            self.partial_fit(chunk)
        if self.n_samples_seen_ == 0:
            raise InputError("no rows to fit the whitening on")
        return self

    def _finalize(self):
        n, d = self.n_samples_seen_, self._sum.shape[0]
        self.mean_ = self._sum / n
        denom = n - self.ddof
        if denom <= 0:
            self.components_ = None  # not enough rows yet
            return
        cov = self._scatter / denom
        cov = (cov + cov.T) / 2
        u, s, _ = np.linalg.svd(cov)
        k = d if self.n_components is None else int(self.n_components)
        if not 1 <= k <= d:
            raise UsageError(f"n_components={self.n_components} must be between 1 and the dimension {d}")
        self.covariance_ = cov
        self.singular_values_ = s
        keep = s[:k]
        if keep[-1] <= self.eps * max(s[0], np.finfo(float).tiny):
            self.components_ = None
            self._degenerate = (k, int(np.sum(s > self.eps * s[0])))
            return
        self.components_ = u[:, :k] / np.sqrt(keep)

    # -- transforming ----------------------------------------------------------------------------------------------
    def _check_fitted(self):
        if self.n_samples_seen_ == 0:
            raise UsageError("Whitening is not fitted yet: call fit(x) or partial_fit(chunk) first")
        if getattr(self, "components_", None) is None:
            if self.n_samples_seen_ <= self.ddof:
                raise InputError(f"whitening needs more than {self.ddof} row(s); got {self.n_samples_seen_}")
            k, rank = self._degenerate
            raise InputError(f"the covariance has rank {rank} (at tolerance {self.eps:g}) but {k} whitened "
                             f"dimensions were asked for; pass n_components <= {rank} (--dim {rank}) or more "
                             "varied rows")

    def transform(self, x):
        self._check_fitted()
        x = _as_2d(x)
        if x.shape[1] != self.mean_.shape[0]:
            raise InputError(f"embeddings have {x.shape[1]} dimensions but the whitening was fitted on "
                             f"{self.mean_.shape[0]}")
        y = (x - self.mean_) @ self.components_
        if self.normalize:
            y = y / np.clip(np.linalg.norm(y, axis=1, keepdims=True), 1e-8, np.inf)
        return y

    def fit_transform(self, x, y=None):
        return self.fit(x).transform(x)
