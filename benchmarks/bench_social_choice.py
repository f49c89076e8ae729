"""asv benchmarks of the social-choice plugin: exact Kemeny at 12 and 16 systems.

``time_exact_dp`` is the vectorized subset DP (layers of subsets processed as numpy arrays, incremental pairwise
sums); ``time_baseline_loop_dp`` is the straightforward implementation of the same recursion (a Python loop over
subsets and over the system placed last, a numpy sum per step). Both compute the same optimal cost; the DP is checked
against brute force in tests/test_social_choice.py.
"""

from __future__ import annotations

import numpy as np


def _preferences(n, k=10, seed=0):
    import array_api_compat.numpy as xpn

    from auditkit_plugins.social_choice.rules import pairwise_preferences

    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, k)) + np.linspace(0, 1, n)[:, None]
    return np.asarray(pairwise_preferences(values, xp=xpn, weights=np.full(k, 1.0 / k)))


def baseline_kemeny_dp(P):
    """Straightforward Held-Karp style DP: f(S) = min_{j in S} f(S - j) + sum_{a in S - j} P[j, a]."""
    n = P.shape[0]
    size = 1 << n
    f = np.full(size, np.inf)
    f[0] = 0.0
    choice = np.zeros(size, np.int64)
    for S in range(1, size):
        members = [j for j in range(n) if S >> j & 1]
        for j in members:
            rest = S ^ (1 << j)
            others = [a for a in members if a != j]
            val = f[rest] + (P[j, others].sum() if others else 0.0)
            if val < f[S]:
                f[S], choice[S] = val, j
    order, S = [], size - 1
    while S:
        j = int(choice[S])
        order.append(j)
        S ^= 1 << j
    return order[::-1], float(f[size - 1])


class KemenyExact:
    params = [12, 16]
    param_names = ["systems"]
    timeout = 600
    number = 1
    repeat = 3

    def setup(self, n):
        from auditkit_plugins.social_choice import kemeny  # noqa: F401  (import outside the timing)

        self.P = _preferences(n)

    def time_exact_dp(self, n):
        from auditkit_plugins.social_choice.kemeny import exact_order

        exact_order(self.P)

    def time_baseline_loop_dp(self, n):
        baseline_kemeny_dp(self.P)


class KemenyHeuristic:
    """Beyond the exact limit: seed + insertion local search (no baseline; reported for scale)."""

    params = [50, 200]
    param_names = ["systems"]
    number = 1
    repeat = 3

    def setup(self, n):
        rng = np.random.default_rng(1)
        self.values = rng.normal(size=(n, 10)) + np.linspace(0, 1, n)[:, None]

    def time_kemeny_consensus(self, n):
        from auditkit_plugins.social_choice.kemeny import kemeny_consensus

        kemeny_consensus(self.values)


RATIOS = [
    ("Kemeny exact, 12 systems: vectorized DP / loop DP", "KemenyExact.time_exact_dp",
     "KemenyExact.time_baseline_loop_dp", {"systems": 12}),
    ("Kemeny exact, 16 systems: vectorized DP / loop DP", "KemenyExact.time_exact_dp",
     "KemenyExact.time_baseline_loop_dp", {"systems": 16}),
]


class PositionalCounting:
    """Borda by counting (sort + binary search per task) vs scipy.stats.rankdata (the same average ranks) and the
    previous n x n comparison per task."""

    version = 2
    params = [1000, 10000]
    param_names = ["systems"]
    number = 1
    repeat = 3

    def setup(self, n):
        rng = np.random.default_rng(0)
        self.values = rng.normal(size=(n, 50))
        self.weights = np.full(50, 1 / 50)

    def time_borda(self, n):
        import array_api_compat.numpy as xpn

        from auditkit_plugins.social_choice.rules import borda

        borda(self.values, xp=xpn, weights=self.weights)

    def time_baseline_rankdata(self, n):
        from scipy.stats import rankdata

        rankdata(self.values, axis=0)

    def time_baseline_pairwise_borda(self, n):
        if n > 2000:
            raise NotImplementedError  # n x n per task: skipped at this size
        v = self.values
        for t in range(v.shape[1]):
            col = v[:, t]
            (col[None, :] > col[:, None]).sum(axis=1)
            (col[None, :] == col[:, None]).sum(axis=1)


class KemenyInteger:
    """Exact Kemeny by integer programming (optimum only, and with the co-optimal summary) on a 40-system block."""

    version = 1
    number = 1
    repeat = 1
    timeout = 300

    def setup(self):
        rng = np.random.default_rng(2)
        self.values = rng.integers(0, 5, size=(40, 9)).astype(float) + np.linspace(0, 1.5, 40)[:, None]

    def time_optimum(self):
        from auditkit_plugins.social_choice.kemeny import kemeny_consensus

        kemeny_consensus(self.values, summarize=False, time_limit=None)

    def time_optimum_and_co_optimal_summary(self):
        from auditkit_plugins.social_choice.kemeny import _consensus

        _consensus(self.values, np.full(9, 1 / 9), 16, None, True)


RATIOS += [
    ("Borda 1000 x 50: counting / scipy rankdata", "PositionalCounting.time_borda",
     "PositionalCounting.time_baseline_rankdata", {"systems": 1000}),
    ("Borda 1000 x 50: counting / pairwise per task", "PositionalCounting.time_borda",
     "PositionalCounting.time_baseline_pairwise_borda", {"systems": 1000}),
]
