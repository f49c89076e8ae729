"""asv benchmarks of the stats plugin: bootstrap rank sets, vectorized (array API) vs a straightforward numpy loop.

Each class times the vectorized kernel (``time_vectorized``: rank histogram, percentile intervals, bootstrap
covariance and simultaneous rank sets from Holm-corrected pairwise tests) and, in the same run, the straightforward
numpy baseline (``time_baseline_loop``: a Python loop over resamples, one argsort per resample, then np.percentile,
np.cov and the same pairwise tests). Both sides run the same parameters. The instance case is also timed at 400
resamples, where its ratio is taken (both sides are linear in the number of resamples; the 2,000-resample baseline
takes about a minute on a 2-core machine).
"""

from __future__ import annotations

import numpy as np

def _table(n, k, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, k)) + np.linspace(0, 2, n)[:, None]


def _pairwise_sets(point, cov, level=0.95):
    from auditkit_plugins.stats.bootstrap import BootstrapResult

    n = point.size
    res = BootstrapResult("x", np.arange(n), point, point, np.zeros((n, n)), point, cov, 1, "task", 0, level,
                          "baseline")
    return res.simultaneous_rank_sets()[0]


def baseline_task_bootstrap(values, weights, n_resamples, seed=0, level=0.95):
    """Straightforward numpy: loop over resamples; argsort per resample; percentile intervals; np.cov."""
    n, k = values.shape
    rng = np.random.default_rng(seed)
    ranks = np.empty((n_resamples, n), np.int64)
    scores = np.empty((n_resamples, n))
    counts = np.zeros((n, n), np.int64)
    rows = np.arange(n)
    for r in range(n_resamples):
        idx = rng.integers(0, k, size=k)
        w = weights[idx] / weights[idx].sum()
        s = values[:, idx] @ w
        order = np.argsort(-s, kind="stable")
        rk = np.empty(n, np.int64)
        rk[order] = np.arange(1, n + 1)
        ranks[r], scores[r] = rk, s
        counts[rows, rk - 1] += 1
    alpha = 1 - level
    intervals = np.percentile(ranks, [100 * alpha / 2, 100 * (1 - alpha / 2)], axis=0)
    probs = counts / n_resamples
    cov = np.cov(scores, rowvar=False)
    point = values @ weights
    return intervals, probs, _pairwise_sets(point, cov, level)


def baseline_instance_bootstrap(instances, n_resamples, seed=0, level=0.95):
    """Straightforward numpy over instances: loop over resamples, fancy-index the instances, mean, argsort."""
    n, m = instances.shape
    rng = np.random.default_rng(seed)
    ranks = np.empty((n_resamples, n), np.int64)
    scores = np.empty((n_resamples, n))
    counts = np.zeros((n, n), np.int64)
    rows = np.arange(n)
    for r in range(n_resamples):
        idx = rng.integers(0, m, size=m)
        s = instances[:, idx].mean(axis=1)
        order = np.argsort(-s, kind="stable")
        rk = np.empty(n, np.int64)
        rk[order] = np.arange(1, n + 1)
        ranks[r], scores[r] = rk, s
        counts[rows, rk - 1] += 1
    alpha = 1 - level
    intervals = np.percentile(ranks, [100 * alpha / 2, 100 * (1 - alpha / 2)], axis=0)
    probs = counts / n_resamples
    cov = np.cov(scores, rowvar=False)
    return intervals, probs, _pairwise_sets(instances.mean(axis=1), cov, level)


def _vectorized(values, weights, n_resamples, backend="numpy", device="cpu", **kw):
    from auditkit_plugins.stats.bootstrap import bootstrap_ranks

    res = bootstrap_ranks(values, weights, "arithmetic", n_resamples=n_resamples, seed=0, backend=backend,
                          device=device, progress=False, **kw)
    return res.rank_intervals(), res.rank_probabilities, res.simultaneous_rank_sets()[0]


class BootstrapTaskRankSets:
    """1,000 systems x 50 tasks x 10,000 resamples (task bootstrap, arithmetic mean)."""

    version = "1"

    params = [(100, 1000), (50,), (1000, 10000)]
    param_names = ["systems", "tasks", "resamples"]
    timeout = 600
    number = 1
    repeat = 1

    def setup(self, n, k, r):
        import scipy.special  # noqa: F401  (imports outside the timing, for both)

        import auditkit_plugins.stats.bootstrap  # noqa: F401

        self.values = _table(n, k)
        self.weights = np.full(k, 1.0 / k)

    def time_vectorized(self, n, k, r):
        _vectorized(self.values, self.weights, r)

    def time_baseline_loop(self, n, k, r):
        baseline_task_bootstrap(self.values, self.weights, r)


class BootstrapInstanceRankSets:
    """200 systems x 20,000 instances x 2,000 resamples (instance bootstrap of per-instance 0/1 results)."""

    version = "1"

    params = [(50, 200), (2000, 20000), (400, 2000)]
    param_names = ["systems", "instances", "resamples"]
    timeout = 600
    number = 1
    repeat = 1

    def setup(self, n, m, r):
        import scipy.special  # noqa: F401

        from auditkit_plugins.stats.bootstrap import InstanceData

        rng = np.random.default_rng(1)
        p = np.linspace(0.5, 0.9, n)
        self.instances = (rng.random((n, m)) < p[:, None]).astype(np.float64)
        self.data = InstanceData(["t"], [self.instances], [[str(i) for i in range(m)]])
        self.values = self.instances.mean(axis=1, keepdims=True)

    def time_vectorized(self, n, m, r):
        _vectorized(self.values, np.ones(1), r, unit="instance", instances=self.data)

    def time_baseline_loop(self, n, m, r):
        baseline_instance_bootstrap(self.instances, r)


def _torch_ok():
    try:
        import torch  # noqa: F401

        return True
    except ImportError:
        return False


class BootstrapTaskRankSetsTorch:
    """The task case on the torch backend (CPU here; CUDA when a GPU is present)."""

    version = "1"

    params = [(100, 1000), (50,), (1000, 10000), ("cpu", "cuda")]
    param_names = ["systems", "tasks", "resamples", "device"]
    timeout = 600
    number = 1
    repeat = 1

    def setup(self, n, k, r, device):
        if not _torch_ok():
            raise NotImplementedError("torch is not installed")
        import torch

        if device == "cuda" and not torch.cuda.is_available():
            raise NotImplementedError("no CUDA device")
        self.values = _table(n, k)
        self.weights = np.full(k, 1.0 / k)

    def time_vectorized_torch(self, n, k, r, device):
        _vectorized(self.values, self.weights, r, backend="torch", device=device)

    def time_vectorized_numpy(self, n, k, r, device):
        _vectorized(self.values, self.weights, r)


RATIOS = [
    ("bootstrap rank sets, 1000 systems x 50 tasks x 10000 resamples (task bootstrap): vectorized / numpy loop",
     "BootstrapTaskRankSets.time_vectorized", "BootstrapTaskRankSets.time_baseline_loop",
     {"systems": 1000, "tasks": 50, "resamples": 10000}),
    ("bootstrap rank sets, 200 systems x 20000 instances (instance bootstrap), ratio at 400 resamples "
     "(both sides linear in resamples; 2000 in the asv run): vectorized / numpy loop",
     "BootstrapInstanceRankSets.time_vectorized", "BootstrapInstanceRankSets.time_baseline_loop",
     {"systems": 200, "instances": 20000, "resamples": 400}),
    ("bootstrap rank sets 1000x50x10000: torch on CUDA / numpy on CPU (needs a GPU; skipped otherwise)",
     "BootstrapTaskRankSetsTorch.time_vectorized_torch", "BootstrapTaskRankSetsTorch.time_vectorized_numpy",
     {"systems": 1000, "tasks": 50, "resamples": 10000, "device": "cuda"}),
]
