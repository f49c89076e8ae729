"""asv benchmarks for the WGAN plugin: exact W1 at n = 2,000, scipy's linear_sum_assignment vs POT's ot.emd2
(both with the Euclidean ground cost), in the same class so the ratio is printed from RATIOS.

Run: ``asv run --quick --bench bench_wgan`` or, without asv, ``python benchmarks/bench_wgan.py``.
"""

from __future__ import annotations

import numpy as np


class ExactW1:
    params = ([2, 10], [2000])
    param_names = ["dim", "n"]
    timeout = 300

    def setup(self, dim, n):
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((n, dim))
        self.y = rng.standard_normal((n, dim)) + 0.5

    def time_linear_sum_assignment(self, dim, n):
        from auditkit_plugins.wgan.w1 import w1_assignment

        w1_assignment(self.x, self.y)

    def time_pot_emd2(self, dim, n):
        from auditkit_plugins.wgan.w1 import w1_emd

        w1_emd(self.x, self.y)


class GNGradients:
    """Generator-step input gradients: Faster-GN gradient hook vs full double backprop (ReLU MLP critic)."""

    params = ([256],)
    param_names = ["batch"]

    def setup(self, batch):
        import torch

        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 256),
                                       torch.nn.ReLU(), torch.nn.Linear(256, 1))
        self.x = torch.randn(batch, 64)
        self.loss = lambda fh: -fh.mean()

    def time_hook_fast_path(self, batch):
        from auditkit_plugins.wgan.critics import input_gradient_hook

        input_gradient_hook(self.net, self.x, self.loss, "gn")

    def time_double_backprop(self, batch):
        from auditkit_plugins.wgan.critics import input_gradient_double_backprop

        input_gradient_double_backprop(self.net, self.x, self.loss, "gn")


RATIOS = [
    ("exact W1 n=2000 2-D: POT emd2 / linear_sum_assignment", "ExactW1.time_pot_emd2",
     "ExactW1.time_linear_sum_assignment", {"dim": 2, "n": 2000}),
    ("exact W1 n=2000 10-D: POT emd2 / linear_sum_assignment", "ExactW1.time_pot_emd2",
     "ExactW1.time_linear_sum_assignment", {"dim": 10, "n": 2000}),
    ("GN generator-step gradient: hook / double backprop", "GNGradients.time_hook_fast_path",
     "GNGradients.time_double_backprop", {"batch": 256}),
]


if __name__ == "__main__":  # plain timing without asv
    import itertools
    import time

    def best_of(fn, repeat=3):
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    results = {}
    for cls in (ExactW1, GNGradients):
        bench = cls()
        for combo in itertools.product(*cls.params):
            bench.setup(*combo)
            for name in (m for m in dir(cls) if m.startswith("time_")):
                key = (f"{cls.__name__}.{name}", dict(zip(cls.param_names, combo)))
                results[(key[0], tuple(sorted(key[1].items())))] = best_of(lambda: getattr(bench, name)(*combo))
                print(f"{key[0]} {key[1]}: {results[(key[0], tuple(sorted(key[1].items())))]:.4f} s")
    for label, num, den, params in RATIOS:
        p = tuple(sorted(params.items()))
        print(f"{label}: {results[(num, p)] / results[(den, p)]:.3f}")
