"""asv benchmarks of the contrastive plugin.

FlatNCE forward+backward against its baseline ``torch.nn.functional.cross_entropy`` forward+backward (InfoNCE) on the
same square score matrix (in-batch negatives), float32, CPU; target ratio <= 1.3 at batch 4096. Run standalone for
a quick ratio table: ``python benchmarks/bench_contrastive.py``.
"""

from __future__ import annotations


class FlatNCEvsCrossEntropy:
    params = [256, 1024, 4096]
    param_names = ["batch"]
    timeout = 120

    def setup(self, batch):
        import torch

        from auditkit_plugins.contrastive.losses import flatnce_loss

        torch.manual_seed(0)
        self.torch = torch
        self.flatnce_loss = flatnce_loss
        self.F = torch.nn.functional
        self.scores = (torch.randn(batch, batch) * 3.0).requires_grad_(True)
        self.positives = torch.arange(batch)

    def time_flatnce(self, batch):
        self.scores.grad = None
        self.flatnce_loss(self.scores, self.positives).backward()

    def time_cross_entropy_baseline(self, batch):
        self.scores.grad = None
        self.F.cross_entropy(self.scores, self.positives).backward()


class Diagnose:
    params = [512]
    param_names = ["batch"]
    timeout = 120

    def setup(self, batch):
        import numpy as np

        rng = np.random.default_rng(0)
        self.z1 = rng.normal(size=(batch, 64))
        self.z2 = self.z1 + 0.3 * rng.normal(size=(batch, 64))

    def time_diagnose_three_precisions(self, batch):
        from auditkit_plugins.contrastive.diagnose import run_diagnostic

        run_diagnostic(z1=self.z1, z2=self.z2, temperature=0.05, dtypes="float16,bfloat16,float32")


RATIOS = [
    ("FlatNCE fwd+bwd / F.cross_entropy fwd+bwd (4096x4096 float32 CPU; target <= 1.3)",
     "FlatNCEvsCrossEntropy.time_flatnce", "FlatNCEvsCrossEntropy.time_cross_entropy_baseline", {"batch": 4096}),
    ("FlatNCE fwd+bwd / F.cross_entropy fwd+bwd (1024x1024 float32 CPU)",
     "FlatNCEvsCrossEntropy.time_flatnce", "FlatNCEvsCrossEntropy.time_cross_entropy_baseline", {"batch": 1024}),
]


def _main(repeats: int = 21) -> None:
    import statistics
    import time

    for label, a, b, params in RATIOS:
        cls_name, meth_a = a.split(".")
        meth_b = b.split(".")[1]
        bench = globals()[cls_name]()
        bench.setup(**params)
        times = {meth_a: [], meth_b: []}
        for _ in range(3):  # warm-up
            getattr(bench, meth_a)(**params)
            getattr(bench, meth_b)(**params)
        for _ in range(repeats):  # interleaved so machine load affects both alike
            for m in (meth_a, meth_b):
                t0 = time.perf_counter()
                getattr(bench, m)(**params)
                times[m].append(time.perf_counter() - t0)
        ta, tb = statistics.median(times[meth_a]), statistics.median(times[meth_b])
        print(f"{label}: {ta * 1e3:.1f} ms / {tb * 1e3:.1f} ms = {ta / tb:.3f}")


if __name__ == "__main__":
    _main()
