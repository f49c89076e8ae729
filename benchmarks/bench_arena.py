"""asv benchmarks of the arena plugin: Bradley-Terry fit and bootstrap on synthetic battles, side by side with
Evalica (Rust), arena-rank (LMArena's JAX code) and choix.

Synthetic battles: uniformly drawn pairs of ``n_models`` models with evenly spaced strengths, ties about 20%.
Every side starts from the same battle arrays (integer model ids, outcome codes), so aggregation is part of each
fit: ours is one bincount into (pair, outcome) counts and Newton on the unique pairs; Evalica counts in Rust and
iterates; arena-rank aggregates with ``jnp.unique`` (timed here from the aggregated buckets, its fit alone,
because its aggregation sorts 10M rows) then runs L-BFGS; choix gets the dense win matrix (ties as half).

Bootstrap: ours is 1,000 multinomial resamples of the pair counts refitted by batched Newton (one process).
Evalica's and arena-rank's bootstraps refit from scratch per resample (Evalica resamples battles; arena-rank uses a
process pool), so they are timed on a few resamples and scaled linearly to 1,000 in the script mode (stated in its
output).

Script mode, side by side in one run::

    python benchmarks/bench_arena.py            # 1M and 10M battles x 100 and 1000 models
    python benchmarks/bench_arena.py --quick    # 1M battles only
"""

from __future__ import annotations

import time

import numpy as np


def battles(n_battles: int, n_models: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    theta = np.linspace(2.0, -2.0, n_models)
    a = rng.integers(0, n_models, n_battles)
    b = (a + rng.integers(1, n_models, n_battles)) % n_models
    x = theta[a] - theta[b]
    nu = 0.5
    ea, eb = np.exp(x / 2), np.exp(-x / 2)
    u = rng.random(n_battles) * (ea + eb + nu)
    outcome = np.where(u < ea, 0, np.where(u < ea + eb, 1, 2)).astype(np.int64)
    return a.astype(np.int64), b.astype(np.int64), outcome


def auditkit_counts(n_models, a, b, outcome):
    from auditkit_plugins.arena.data import Battles

    return Battles(tuple(f"m{k}" for k in range(n_models)), a, b, outcome).counts()


def auditkit_fit(n_models, a, b, outcome, ci="none", backend="numpy", device="cpu"):
    from auditkit_plugins.arena.bt import fit_bt

    return fit_bt(auditkit_counts(n_models, a, b, outcome), ci=ci, backend=backend, device=device)


def auditkit_bootstrap(pc, theta, n_resamples=1000, backend="numpy", device="cpu"):
    from auditkit_plugins.arena.bootstrap import bootstrap

    return bootstrap(pc, theta, n_resamples=n_resamples, seed=0, backend=backend, device=device)


def evalica_inputs(a, b, outcome):
    import evalica

    w = np.array([evalica.Winner.X, evalica.Winner.Y, evalica.Winner.Draw], dtype=object)[outcome]
    return a, b, list(w)


def evalica_fit(n_models, xs, ys, winners):
    import evalica
    import pandas as pd

    return evalica.bradley_terry(xs, ys, winners, index=pd.Index(range(n_models)))


def evalica_bootstrap(n_models, xs, ys, winners, n_resamples):
    import evalica
    import pandas as pd

    return evalica.bootstrap(evalica.bradley_terry, xs, ys, winners, index=pd.Index(range(n_models)),
                             n_resamples=n_resamples, bootstrap_method="percentile", random_state=0)


def arena_rank_dataset(n_models, a, b, outcome):
    import jax.numpy as jnp
    from arena_rank.utils.data_utils import PairDataset

    pc = auditkit_counts(n_models, a, b, outcome).unordered()
    pairs = np.concatenate([np.column_stack([pc.ia, pc.ib])] * 3)
    outs = np.concatenate([np.ones(pc.n_pairs), np.zeros(pc.n_pairs), np.full(pc.n_pairs, 0.5)])
    counts = np.concatenate([pc.wins_a, pc.wins_b, pc.ties + pc.bothbad])
    keep = counts > 0
    return PairDataset([f"m{k}" for k in range(n_models)], jnp.asarray(pairs[keep]), jnp.asarray(outs[keep]),
                       jnp.asarray(counts[keep]), jnp.ones(int(keep.sum())), jnp.asarray(counts[keep]))


def arena_rank_fit(n_models, dataset):
    from arena_rank.models.bradley_terry import BradleyTerry

    model = BradleyTerry(n_models)
    model.fit(dataset)
    return np.asarray(model.params["ratings"])


def choix_fit(n_models, a, b, outcome):
    import choix

    pc = auditkit_counts(n_models, a, b, outcome)
    wm = pc.win_matrix()
    comp = wm["wins"] + 0.5 * wm["ties"]
    return choix.ilsr_pairwise_dense(comp, alpha=0.0, max_iter=1000, tol=1e-8)


def _has(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


class BTFit:
    """Aggregate + fit Bradley-Terry from battle arrays."""

    params = [(1_000_000, 10_000_000), (100, 1000)]
    param_names = ["battles", "models"]
    timeout = 900
    number = 1
    repeat = 3

    def setup(self, n, m):
        self.a, self.b, self.o = battles(n, m)
        if _has("evalica"):
            self.ev = evalica_inputs(self.a, self.b, self.o)

    def time_auditkit(self, n, m):
        auditkit_fit(m, self.a, self.b, self.o)

    def time_evalica(self, n, m):
        if not _has("evalica"):
            raise NotImplementedError("evalica is not installed")
        evalica_fit(m, *self.ev)


class BTFitChoix:
    """choix's ILSR on the dense win matrix (where a dense m x m matrix fits)."""

    params = [(1_000_000,), (100, 1000)]
    param_names = ["battles", "models"]
    timeout = 900
    number = 1

    def setup(self, n, m):
        if not _has("choix"):
            raise NotImplementedError("choix is not installed")
        self.a, self.b, self.o = battles(n, m)

    def time_choix(self, n, m):
        choix_fit(m, self.a, self.b, self.o)

    def time_auditkit(self, n, m):
        auditkit_fit(m, self.a, self.b, self.o)


class BTFitArenaRank:
    """arena-rank's L-BFGS fit from the aggregated buckets (its own aggregation excluded; it sorts every row)."""

    params = [(1_000_000,), (100, 1000)]
    param_names = ["battles", "models"]
    timeout = 900
    number = 1

    def setup(self, n, m):
        if not _has("arena_rank"):
            raise NotImplementedError("arena-rank is not installed (needs jax)")
        a, b, o = battles(n, m)
        self.data = arena_rank_dataset(m, a, b, o)
        self.pc = auditkit_counts(m, a, b, o)
        arena_rank_fit(m, self.data)  # JIT compile outside the timing

    def time_arena_rank(self, n, m):
        arena_rank_fit(m, self.data)

    def time_auditkit_from_counts(self, n, m):
        from auditkit_plugins.arena.bt import fit_bt

        fit_bt(self.pc, ci="none")


class Bootstrap1000:
    """1,000 multinomial bootstrap resamples of the pair counts, refitted (intervals for every model)."""

    params = [(1_000_000, 10_000_000), (100, 1000)]
    param_names = ["battles", "models"]
    timeout = 1800
    number = 1
    repeat = 1

    def setup(self, n, m):
        a, b, o = battles(n, m)
        self.pc = auditkit_counts(m, a, b, o)
        from auditkit_plugins.arena.bt import fit_bt

        self.theta = fit_bt(self.pc, ci="none").theta

    def time_auditkit_bootstrap(self, n, m):
        auditkit_bootstrap(self.pc, self.theta)


RATIOS = [
    ("Bradley-Terry fit from 1M battles, 100 models: auditkit (bincount + Newton) / Evalica (Rust)",
     "BTFit.time_auditkit", "BTFit.time_evalica", {"battles": 1_000_000, "models": 100}),
]


# -- script mode ---------------------------------------------------------------------------------------------
def _time(fn, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1M battles only")
    ap.add_argument("--boot-others", type=int, default=5,
                    help="resamples timed for Evalica's and arena-rank's bootstraps (scaled to 1000)")
    ap.add_argument("--boot-large", type=int, default=100,
                    help="resamples timed for our bootstrap with 1000 models (scaled to 1000; linear in resamples)")
    args = ap.parse_args(argv)
    sizes = [1_000_000] if args.quick else [1_000_000, 10_000_000]
    rows = []
    for n in sizes:
        for m in (100, 1000):
            a, b, o = battles(n, m)
            row = {"battles": n, "models": m}
            pc = auditkit_counts(m, a, b, o)
            row["pairs"] = pc.unordered().n_pairs
            row["auditkit fit"] = _time(lambda: auditkit_fit(m, a, b, o))
            fit = auditkit_fit(m, a, b, o)
            row["newton steps"] = fit.iterations
            if _has("evalica"):
                ev = evalica_inputs(a, b, o)
                row["evalica fit"] = _time(lambda: evalica_fit(m, *ev))
                er = evalica_fit(m, *ev)
                s = np.log(np.asarray(er.scores.sort_index(), float))
                row["max |Δθ| vs evalica"] = float(np.abs((s - s.mean()) - fit.theta).max())
            if _has("choix") and n == sizes[0]:
                row["choix fit"] = _time(lambda: choix_fit(m, a, b, o), repeat=1)
            if _has("arena_rank") and n == sizes[0]:
                data = arena_rank_dataset(m, a, b, o)
                arena_rank_fit(m, data)
                row["arena-rank fit (from buckets)"] = _time(lambda: arena_rank_fit(m, data), repeat=1)
            r = 1000 if m < 1000 else args.boot_large
            t = time.perf_counter()
            boot = auditkit_bootstrap(pc, fit.theta, n_resamples=r)
            row["auditkit bootstrap x1000"] = (time.perf_counter() - t) * 1000 / r
            row["bootstrap resamples timed"] = r
            row["bootstrap method"] = boot.method
            row["bootstrap max |grad|/N"] = boot.max_gradient
            if _has("evalica") and n == sizes[0]:
                k = args.boot_others
                row[f"evalica bootstrap x1000 (from {k})"] = _time(lambda: evalica_bootstrap(m, *ev, k),
                                                                    repeat=1) * 1000 / k
            if _has("torch"):
                import torch

                if torch.cuda.is_available():
                    row["torch cuda fit"] = _time(lambda: auditkit_fit(m, a, b, o, backend="torch",
                                                                       device="cuda"))
                    t = time.perf_counter()
                    auditkit_bootstrap(pc, fit.theta, n_resamples=r, backend="torch", device="cuda")
                    row["torch cuda bootstrap x1000"] = (time.perf_counter() - t) * 1000 / r
            rows.append(row)
            print({k: (f"{v:.3g}" if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    print()
    for r in rows:
        ratio = r["auditkit fit"] / r["evalica fit"] if "evalica fit" in r else float("nan")
        print(f"{r['battles']:>10,} battles {r['models']:>5} models: fit auditkit {r['auditkit fit']:.3f} s, "
              f"evalica {r.get('evalica fit', float('nan')):.3f} s (ratio {ratio:.2f}); bootstrap x1000 "
              f"{r['auditkit bootstrap x1000']:.2f} s (timed on {r['bootstrap resamples timed']}, scaled)")
    return rows


if __name__ == "__main__":
    main()
