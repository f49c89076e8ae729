"""The few array operations the solvers need, on numpy (default) or torch (CPU or CUDA).

Solvers are written once against :class:`Ops`; only scatter-adds, the dense solve and transfers differ. Both run in
float64, so results agree to round-off (the parity tests state the tolerance).
"""

from __future__ import annotations

import numpy as np

import auditkit


class NumpyOps:
    name = "numpy"
    device = "cpu"
    xp = np

    def asarray(self, x, dtype=float):
        return np.asarray(x, dtype=dtype)

    def to_numpy(self, x):
        return np.asarray(x)

    def scatter(self, idx, vals, size):
        """``out[k] = sum of vals where idx == k``; ``vals`` may be (m,) or (batch, m) (summed along the last axis)."""
        if vals.ndim == 1:
            return np.bincount(idx, vals, size)
        rows = vals.shape[0]
        flat = (idx[None, :] + size * np.arange(rows)[:, None]).ravel()
        return np.bincount(flat, vals.ravel(), rows * size).reshape(rows, size)

    def sigmoid(self, x):
        from scipy.special import expit

        return expit(x)

    def log_sigmoid(self, x):
        from scipy.special import log_expit

        return log_expit(x)

    def exp(self, x):
        return np.exp(x)

    def solve(self, m, rhs):
        return np.linalg.solve(m, rhs)

    def solve_psd(self, m, rhs):
        return np.linalg.solve(m, rhs)  # LAPACK gesv: faster here than scipy's Cholesky wrappers

    def inv(self, m):
        return np.linalg.inv(m)

    def zeros(self, shape):
        return np.zeros(shape)

    def ones(self, shape):
        return np.ones(shape)


class TorchOps:
    name = "torch"

    def __init__(self, device="cpu"):
        self.torch = auditkit.errors.require("torch", "the torch backend of the arena models", "torch")
        if str(device).startswith("cuda") and not self.torch.cuda.is_available():
            raise auditkit.UsageError("--device cuda: no CUDA device is available here")
        self.device = self.torch.device(device)
        self.xp = self.torch

    def asarray(self, x, dtype=float):
        t = self.torch
        dt = t.float64 if dtype is float else t.int64
        if isinstance(x, t.Tensor):
            return x.to(self.device, dt)
        return t.as_tensor(np.asarray(x), dtype=dt, device=self.device)

    def to_numpy(self, x):
        return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)

    def scatter(self, idx, vals, size):
        t = self.torch
        if vals.ndim == 1:
            return t.zeros(size, dtype=vals.dtype, device=self.device).index_add_(0, idx, vals)
        return t.zeros((vals.shape[0], size), dtype=vals.dtype, device=self.device).index_add_(1, idx, vals)

    def sigmoid(self, x):
        return self.torch.sigmoid(x)

    def log_sigmoid(self, x):
        return self.torch.nn.functional.logsigmoid(x)

    def exp(self, x):
        return self.torch.exp(x)

    def solve(self, m, rhs):
        return self.torch.linalg.solve(m, rhs)

    def solve_psd(self, m, rhs):
        if rhs.ndim == 1:
            return self.torch.cholesky_solve(rhs[:, None], self.torch.linalg.cholesky(m))[:, 0]
        return self.torch.cholesky_solve(rhs, self.torch.linalg.cholesky(m))

    def inv(self, m):
        return self.torch.linalg.inv(m)

    def zeros(self, shape):
        return self.torch.zeros(shape, dtype=self.torch.float64, device=self.device)

    def ones(self, shape):
        return self.torch.ones(shape, dtype=self.torch.float64, device=self.device)


def get_ops(backend: str = "numpy", device: str = "cpu"):
    if backend == "numpy":
        if device not in ("cpu", None):
            raise auditkit.UsageError(f"--backend numpy runs on the cpu only, not {device!r}; use --backend torch")
        return NumpyOps()
    if backend == "torch":
        return TorchOps(device or "cpu")
    raise auditkit.errors.unknown_name("backend", backend, ("numpy", "torch"))
