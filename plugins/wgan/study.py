"""``auditkit wgan study``: a small, seeded, CPU-only WGAN training study.

Each (dataset, method) run trains a generator against a critic normalised by GN, GraN, or regularised by a gradient
penalty (WGAN-GP, λ = 10), all with the Wasserstein loss on the (normalised) critic, and records at regular steps

- the critic's Kantorovich-Rubinstein estimate KR = mean f̂(real batch) − mean f̂(fake batch),
- the exact W1 between the same two batches (``linear_sum_assignment``, Euclidean cost),
- the W1 between two independent real batches (the finite-sample floor).

Datasets: ``gmm`` (8 Gaussians on a circle of radius 2, σ = 0.05, 2-D) and ``digits`` (scikit-learn's 1,797 8×8
digit images shipped inside the package, scaled to [−1, 1], 64-D). The GN and GraN generator steps use the
gradient-hook fast path (the critics are ReLU/LeakyReLU MLPs, so it is exact); the critic steps use double
backpropagation.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from auditkit.errors import UsageError, require

DATASETS = ("gmm", "digits")
METHODS = ("gn", "gran", "gp")
LOSSES = ("wasserstein", "hinge")


@dataclass(frozen=True)
class StudyConfig:
    steps: int           # generator steps
    n_critic: int        # critic steps per generator step
    batch: int           # training batch
    eval_every: int      # generator steps between evaluations
    eval_batch: int      # batch size of the exact-W1 evaluation
    lr: float = 2e-4
    betas: tuple = (0.0, 0.9)
    gp_lambda: float = 10.0
    hidden: int = 128


FULL = StudyConfig(steps=1000, n_critic=5, batch=128, eval_every=50, eval_batch=256)
QUICK = StudyConfig(steps=120, n_critic=2, batch=64, eval_every=20, eval_batch=128, hidden=64)


class _Data:
    def __init__(self, name: str, seed: int):
        self.name = name
        self.rng = np.random.default_rng(seed)
        if name == "gmm":
            angles = np.arange(8) * (2 * math.pi / 8)
            self.centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
            self.dim, self.z_dim = 2, 2
        elif name == "digits":
            datasets = require("sklearn.datasets", "the digits study (scikit-learn's 8x8 digits)", "wgan")
            self.images = datasets.load_digits().data.astype(np.float64) / 16.0 * 2.0 - 1.0
            self.dim, self.z_dim = 64, 16
        else:
            raise UsageError(f"unknown study dataset {name!r}; choose one of: {', '.join(DATASETS)}")

    def sample(self, n: int) -> np.ndarray:
        if self.name == "gmm":
            idx = self.rng.integers(0, 8, size=n)
            return self.centres[idx] + 0.05 * self.rng.standard_normal((n, 2))
        return self.images[self.rng.integers(0, self.images.shape[0], size=n)]


def _mlp(torch, sizes, act, out_act=None):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    if out_act is not None:
        layers.append(out_act())
    return torch.nn.Sequential(*layers)


def _progress(total: int, desc: str):
    """tqdm when it is installed and stderr is a terminal; otherwise nothing."""
    if sys.stderr.isatty():
        try:
            from tqdm import tqdm

            return tqdm(total=total, desc=desc, leave=False, file=sys.stderr)
        except ImportError:
            pass
    return None


def train_run(dataset: str, method: str, cfg: StudyConfig, seed: int = 0, loss: str = "wasserstein") -> list[dict]:
    """Train one WGAN and return its curve: one row per evaluation step (runs on one torch thread: the MLPs are
    tiny, one thread is faster on a shared CPU and gives the same numbers on any machine).

    ``loss``: ``"wasserstein"`` (critic minimises mean f̂(fake) − mean f̂(real)) or ``"hinge"`` (critic minimises
    mean relu(1 − f̂(real)) + mean relu(1 + f̂(fake)), as in GN-GAN's ResNet configs); the generator maximises
    mean f̂(fake) in both cases.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_run(torch, dataset, method, cfg, seed, loss)
    finally:
        torch.set_num_threads(threads)


def gradient_penalty(critic, real, fake, t, lam: float = 10.0):
    """WGAN-GP's two-sided penalty ``lam * mean((‖∇ₓD(x̂)‖ − 1)²)`` at ``x̂ = t·real + (1 − t)·fake`` (Gulrajani et
    al. 2017, arXiv 1704.00028, eq. 3), with the graph kept so the penalty trains the critic."""
    import torch

    from . import critics as C

    xi = (t * real + (1 - t) * fake).detach().requires_grad_(True)
    (gx,) = torch.autograd.grad(C.critic_output(critic, xi).sum(), xi, create_graph=True)
    return lam * ((C.flat_norm(gx) - 1) ** 2).mean()


def _train_run(torch, dataset, method, cfg, seed, loss):
    from . import critics as C
    from .w1 import w1_assignment

    if method not in METHODS:
        raise UsageError(f"unknown study method {method!r}; choose one of: {', '.join(METHODS)}")
    if loss not in LOSSES:
        raise UsageError(f"unknown study loss {loss!r}; choose one of: {', '.join(LOSSES)}")
    DT = torch.float32  # training precision; W1 and the estimates are computed in float64
    run_seed = seed * 1000 + DATASETS.index(dataset) * 10 + METHODS.index(method)
    torch.manual_seed(run_seed)
    data = _Data(dataset, run_seed)
    eval_data = _Data(dataset, run_seed + 500)  # evaluation batches never seen in training
    h = cfg.hidden
    out_act = torch.nn.Tanh if dataset == "digits" else None
    G = _mlp(torch, [data.z_dim, h, h, data.dim], torch.nn.ReLU, out_act)
    D = _mlp(torch, [data.dim, h, h, 1], lambda: torch.nn.LeakyReLU(0.2))
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr, betas=cfg.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr, betas=cfg.betas)
    norm = method if method in ("gn", "gran") else "none"
    gen = torch.Generator().manual_seed(run_seed)

    def critic_hat(x, graph=True):
        return C.normalized_critic(D, x, norm, create_graph=graph)[0]

    # fixed evaluation batches: real vs fake and, for the floor, real vs real
    real_eval = torch.as_tensor(eval_data.sample(cfg.eval_batch), dtype=DT)
    real_eval2 = eval_data.sample(cfg.eval_batch)
    z_eval = torch.randn(cfg.eval_batch, data.z_dim, generator=gen, dtype=DT)
    floor = w1_assignment(real_eval.double().numpy(), real_eval2)
    rows, t0 = [], time.perf_counter()

    def evaluate(step):
        with torch.no_grad():
            fake = G(z_eval)
        est = float(critic_hat(real_eval, graph=False).detach().double().mean()
                    - critic_hat(fake, graph=False).detach().double().mean())
        w1 = w1_assignment(real_eval.double().numpy(), fake.double().numpy())
        rows.append({"dataset": dataset, "method": method, "step": step, "critic_w1": est, "exact_w1": w1,
                     "real_real_w1": floor, "ratio": est / w1 if w1 > 0 else None,
                     "seconds": time.perf_counter() - t0})

    bar = _progress(cfg.steps, f"{dataset}/{method}")
    evaluate(0)
    for step in range(1, cfg.steps + 1):
        # critic steps
        for p in D.parameters():
            p.requires_grad_(True)
        for _ in range(cfg.n_critic):
            real = torch.as_tensor(data.sample(cfg.batch), dtype=DT)
            with torch.no_grad():
                fake = G(torch.randn(cfg.batch, data.z_dim, generator=gen, dtype=DT))
            if loss == "hinge":
                relu = torch.nn.functional.relu
                loss_d = relu(1 + critic_hat(fake)).mean() + relu(1 - critic_hat(real)).mean()
            else:
                loss_d = critic_hat(fake).mean() - critic_hat(real).mean()
            if method == "gp":
                t = torch.rand(cfg.batch, 1, generator=gen, dtype=DT)
                loss_d = loss_d + gradient_penalty(D, real, fake, t, cfg.gp_lambda)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
        # generator step (critic frozen)
        for p in D.parameters():
            p.requires_grad_(False)
        fake = G(torch.randn(cfg.batch, data.z_dim, generator=gen, dtype=DT))
        if norm == "none":
            loss_g = -C.critic_output(D, fake).mean()
        else:  # Faster-GN gradient hook: exact for this piecewise-linear critic, no double backprop
            loss_g, _ = C.hooked_generator_loss(D, fake, lambda fh: -fh.mean(), norm)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if step % cfg.eval_every == 0 or step == cfg.steps:
            evaluate(step)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    with torch.no_grad():
        samples = G(z_eval).double().numpy()
    rows[-1]["_samples"] = samples
    return rows


def _spearman(a, b) -> float | None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size < 3 or np.all(a == a[0]) or np.all(b == b[0]):
        return None
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def summarize(rows: list[dict]) -> dict:
    first, last = rows[0], rows[-1]
    return {"initial_exact_w1": first["exact_w1"], "final_exact_w1": last["exact_w1"],
            "final_critic_w1": last["critic_w1"], "final_ratio": last["ratio"],
            "real_real_w1": last["real_real_w1"], "max_critic_w1": max(r["critic_w1"] for r in rows),
            "spearman_critic_vs_exact": _spearman([r["critic_w1"] for r in rows], [r["exact_w1"] for r in rows]),
            "w1_reduction": 1.0 - last["exact_w1"] / first["exact_w1"] if first["exact_w1"] > 0 else None,
            "seconds": last["seconds"]}


def _plots(curves: dict, samples: dict, datasets, methods) -> dict[str, bytes]:
    matplotlib = require("matplotlib", "the study plots", "plot")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    files = {}
    for ds in datasets:
        fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 3.4), squeeze=False)
        for ax, m in zip(axes[0], methods):
            rows = curves[(ds, m)]
            steps = [r["step"] for r in rows]
            ax.plot(steps, [r["exact_w1"] for r in rows], label="exact minibatch W1")
            ax.plot(steps, [r["critic_w1"] for r in rows], label="critic estimate (KR)")
            ax.axhline(rows[0]["real_real_w1"], ls="--", c="grey", lw=1, label="W1(real, real) floor")
            if m == "gn":
                ax.axhline(2.0, ls=":", c="red", lw=1, label="GN cap (2)")
            ax.set_title(f"{ds} / {m}")
            ax.set_xlabel("generator step")
        axes[0][0].set_ylabel("W1")
        axes[0][-1].legend(fontsize=7)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        plt.close(fig)
        files[f"curves_{ds}.png"] = buf.getvalue()
        fig, axes = plt.subplots(1, len(methods), figsize=(3.4 * len(methods), 3.4), squeeze=False)
        for ax, m in zip(axes[0], methods):
            s = samples[(ds, m)]
            if ds == "gmm":
                ax.scatter(s[:, 0], s[:, 1], s=4)
                ax.set_xlim(-3, 3)
                ax.set_ylim(-3, 3)
            else:
                grid = s[:16].reshape(4, 4, 8, 8).transpose(0, 2, 1, 3).reshape(32, 32)
                ax.imshow(grid, cmap="gray_r", vmin=-1, vmax=1)
                ax.axis("off")
            ax.set_title(f"{ds} / {m}: samples")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)
        plt.close(fig)
        files[f"samples_{ds}.png"] = buf.getvalue()
    return files


def run_study(datasets=DATASETS, methods=METHODS, quick: bool = False, steps: int | None = None, seed: int = 0,
              out_dir: str | None = None, plots: bool = True, loss: str = "wasserstein"):
    """Run the study and return a Report (summary per run, curves as a table); write files into ``out_dir``."""
    require("torch", "auditkit wgan study", "torch")
    from auditkit.cli import write_atomic
    from auditkit.report import Finding, Report, csv_text, jsonable, provenance

    for d in datasets:
        if d not in DATASETS:
            raise UsageError(f"unknown study dataset {d!r}; choose one of: {', '.join(DATASETS)}")
    for m in methods:
        if m not in METHODS:
            raise UsageError(f"unknown study method {m!r}; choose one of: {', '.join(METHODS)}")
    if loss not in LOSSES:
        raise UsageError(f"unknown study loss {loss!r}; choose one of: {', '.join(LOSSES)}")
    if not datasets or not methods:
        raise UsageError("give at least one dataset and one method")
    cfg = QUICK if quick else FULL
    if steps is not None:
        if steps < 1:
            raise UsageError(f"--steps must be ≥ 1, got {steps}")
        from dataclasses import replace

        cfg = replace(cfg, steps=steps, eval_every=max(1, min(cfg.eval_every, steps)))
    curves, samples, all_rows, runs = {}, {}, [], {}
    for ds in datasets:
        for m in methods:
            rows = train_run(ds, m, cfg, seed, loss)
            samples[(ds, m)] = rows[-1].pop("_samples")
            curves[(ds, m)] = rows
            all_rows.extend(rows)
            runs[f"{ds}/{m}"] = summarize(rows)
    findings = []
    for name, s in runs.items():
        ds, m = name.split("/")
        msg = (f"{name}: exact minibatch W1 {s['initial_exact_w1']:.3g} -> {s['final_exact_w1']:.3g} "
               f"(real/real floor {s['real_real_w1']:.3g}); final critic estimate {s['final_critic_w1']:.3g} "
               f"(ratio {s['final_ratio']:.3g})")
        findings.append(Finding("wgan-study", "info", msg, system=name, evidence=s))
        above = [r["step"] for r in curves[(ds, m)] if abs(r["critic_w1"]) > r["exact_w1"] * (1 + 1e-6)]
        s["steps_estimate_above_w1"] = len(above)
        if above:
            findings.append(Finding("wgan-study", "warning",
                                    f"{name}: |critic estimate| exceeded the exact W1 of the same batches at "
                                    f"{len(above)} of {len(curves[(ds, m)])} evaluations (first at step {above[0]}): "
                                    "the critic was not 1-Lipschitz there", system=name))
        if m == "gn" and s["max_critic_w1"] < 2.0 and s["initial_exact_w1"] > 2.0:
            findings.append(Finding("wgan-study", "info",
                                    f"{name}: GN estimate stayed below 2 while exact W1 started at "
                                    f"{s['initial_exact_w1']:.3g} (saturated)", system=name))
    prov = provenance(seed=seed, quick=quick, loss=loss, torch_threads=1, config=cfg.__dict__, datasets=list(datasets), methods=list(methods))
    summary = {"runs": runs, "config": cfg.__dict__, "loss": loss}
    table = [{k: v for k, v in r.items()} for r in all_rows]
    report = Report(title="WGAN study: critic estimate vs exact minibatch W1", findings=findings, provenance=prov,
                    summary=summary, tables={"runs": [{"run": k, **{kk: vv for kk, vv in v.items()}}
                                                      for k, v in runs.items()]})
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        write_atomic(os.path.join(out_dir, "curves.csv"), csv_text(table).encode())
        write_atomic(os.path.join(out_dir, "curves.json"),
                     json.dumps(jsonable({"summary": summary, "provenance": prov, "curves": table}),
                                indent=2).encode())
        if plots:
            images = _plots(curves, samples, list(datasets), list(methods))
            for fname, data in images.items():
                write_atomic(os.path.join(out_dir, fname), data)
                report.images[fname] = ("image/png", data)
    return report
