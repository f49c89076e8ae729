"""Benchmarks for the techniques plugin (asv style).

CAN: the vectorized correction (``auditkit_plugins.techniques.can.can``) against Su's per-sample loop of the
official algorithm (``can_reference``, numpy), at 1,000,000 predictions x 100 classes. The loop re-builds and
re-normalizes the (n_confident + 1) x 100 matrix for every doubtful sample, so at full size it would run for days;
``time_can_loop_subsample`` therefore corrects only ``LOOP_SAMPLES`` doubtful rows (same confident set, same
matrix sizes) and the full-loop time is that time x n_doubtful / LOOP_SAMPLES (linear: every doubtful row costs
the same). The printed ratio time_loop_subsample / time_vectorized UNDER-states the speedup by that factor;
``track_can_speedup_scaled`` reports the scaled speedup directly.
"""

import time

import numpy as np

from auditkit_plugins.techniques.can import can, can_reference, topk_entropy

LOOP_SAMPLES = 5


def make_probs(n, m, seed=0):
    """Softmax of Gaussian logits with a per-row temperature: a mix of confident and doubtful predictions."""
    rng = np.random.default_rng(seed)
    p = rng.standard_normal((n, m))
    p *= rng.uniform(0.5, 6.0, size=(n, 1))
    p -= p.max(axis=1, keepdims=True)
    np.exp(p, out=p)
    p /= p.sum(axis=1, keepdims=True)
    return p


class CAN:
    version = "1"
    params = ([10_000, 1_000_000], [100])
    param_names = ["n", "m"]
    timeout = 600

    def setup(self, n, m):
        self.p = make_probs(n, m)
        self.prior = np.random.default_rng(1).dirichlet(np.ones(m))
        self.n_doubtful = int((topk_entropy(self.p, 3) >= 0.9).sum())

    def time_can_vectorized(self, n, m):
        can(self.p, self.prior, k=3, threshold=0.9)

    def time_can_loop_subsample(self, n, m):
        # Su's per-sample loop on LOOP_SAMPLES of the doubtful rows; scale by n_doubtful / LOOP_SAMPLES
        can_reference(self.p, self.prior, k=3, threshold=0.9, max_doubtful=LOOP_SAMPLES)

    def track_can_speedup_scaled(self, n, m):
        t0 = time.perf_counter()
        can(self.p, self.prior, k=3, threshold=0.9)
        t_vec = time.perf_counter() - t0
        t0 = time.perf_counter()
        can_reference(self.p, self.prior, k=3, threshold=0.9, max_doubtful=LOOP_SAMPLES)
        t_loop = time.perf_counter() - t0
        return t_loop * self.n_doubtful / LOOP_SAMPLES / t_vec

    track_can_speedup_scaled.unit = "x"


class CANIters:
    """iters > 1 (two matrix products per step, chunked) against the loop, on a size the loop can finish."""

    version = "1"

    params = ([2_000, 20_000], [100])
    param_names = ["n", "m"]

    def setup(self, n, m):
        self.p = make_probs(n, m, seed=2)
        self.prior = np.full(m, 1.0 / m)

    def time_can_vectorized_iters3(self, n, m):
        can(self.p, self.prior, threshold=0.9, iters=3)

    def time_can_loop_iters3_subsample(self, n, m):
        can_reference(self.p, self.prior, threshold=0.9, iters=3, max_doubtful=20)


class Whitening:
    version = "1"
    params = ([10_000, 100_000], [768])
    param_names = ["n", "d"]

    def setup(self, n, d):
        rng = np.random.default_rng(0)
        self.x = rng.standard_normal((n, 64)) @ rng.standard_normal((64, d)) + 0.1 * rng.standard_normal((n, d))

    def time_whitening_fit_transform(self, n, d):
        from auditkit_plugins.techniques.whitening import Whitening as W

        W(n_components=256).fit_transform(self.x)

    def time_whitening_streaming(self, n, d):
        from auditkit_plugins.techniques.whitening import Whitening as W

        W(n_components=256).fit_stream(np.array_split(self.x, 10)).transform(self.x)

    def time_official_compute_kernel_bias(self, n, d):
        from auditkit_plugins.techniques.whitening import compute_kernel_bias, transform_and_normalize

        kernel, bias = compute_kernel_bias(self.x, 256)
        transform_and_normalize(self.x, kernel, bias)


RATIOS = [
    (f"CAN vectorized vs Su's per-sample loop, 1e6 x 100 (loop timed on {LOOP_SAMPLES} doubtful rows only: the true "
     "speedup is this ratio x n_doubtful/5, see track_can_speedup_scaled)",
     "CAN.time_can_vectorized", "CAN.time_can_loop_subsample", {"n": 1_000_000, "m": 100}),
    ("CAN iters=3 vectorized vs loop, 2e4 x 100 (loop timed on 20 doubtful rows; scale by n_doubtful/20)",
     "CANIters.time_can_vectorized_iters3", "CANIters.time_can_loop_iters3_subsample", {"n": 20_000, "m": 100}),
    ("Whitening fit+transform vs official compute_kernel_bias + transform_and_normalize, 1e5 x 768 -> 256",
     "Whitening.time_whitening_fit_transform", "Whitening.time_official_compute_kernel_bias",
     {"n": 100_000, "d": 768}),
]


if __name__ == "__main__":  # one direct run: python benchmarks/bench_techniques.py
    b = CAN()
    t0 = time.perf_counter()
    b.setup(1_000_000, 100)
    print(f"setup {time.perf_counter() - t0:.1f}s; doubtful rows: {b.n_doubtful} of 1,000,000")
    t0 = time.perf_counter()
    b.time_can_vectorized(1_000_000, 100)
    t_vec = time.perf_counter() - t0
    t0 = time.perf_counter()
    b.time_can_loop_subsample(1_000_000, 100)
    t_loop = time.perf_counter() - t0
    full = t_loop * b.n_doubtful / LOOP_SAMPLES
    print(f"vectorized CAN: {t_vec:.2f}s")
    print(f"loop: {t_loop:.2f}s for {LOOP_SAMPLES} doubtful rows -> {full:.0f}s ({full / 3600:.1f} h) for all "
          f"{b.n_doubtful} (linear scaling)")
    print(f"speedup (scaled): {full / t_vec:.3g}x")
    c = CANIters()
    c.setup(20_000, 100)
    nd = int((topk_entropy(c.p, 3) >= 0.9).sum())
    t0 = time.perf_counter()
    c.time_can_vectorized_iters3(20_000, 100)
    tv = time.perf_counter() - t0
    t0 = time.perf_counter()
    c.time_can_loop_iters3_subsample(20_000, 100)
    tl = (time.perf_counter() - t0) * nd / 20
    print(f"iters=3, 2e4 x 100 ({nd} doubtful): vectorized {tv:.2f}s, loop (scaled) {tl:.1f}s, speedup {tl / tv:.3g}x")
