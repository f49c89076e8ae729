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
