"""``auditkit wgan evaluate``: how well does a (gradient-normalised) critic estimate W1 on given samples, and is it
really Lipschitz? Loading of critics and samples, the measurements, and the Report.

The headline inequality: for any L-Lipschitz f and the two empirical measures, the Kantorovich-Rubinstein estimate
KR = mean f̂(real) − mean f̂(fake) satisfies |KR| ≤ L·W1 (exact W1 between the same samples). A violation proves a
Lipschitz breach; the ratio KR/W1 ("tightness") and the gap W1 − KR say how far the critic is from W1.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

import numpy as np

from auditkit.arrays import load_array, sha256_file, split_spec
from auditkit.errors import InputError, UsageError, require

CHECK = "wgan-critic"
GN_SATURATION_W1 = 2.0
"""A GN critic has |f̂| < 1, so its KR estimate is below 2: at exact W1 >= 2 it cannot reach W1 ("saturated")."""


# -- loading ------------------------------------------------------------------------------------------------------
def load_samples(spec: str, name: str = "sample") -> tuple[np.ndarray, str]:
    """A sample from any file :func:`auditkit.arrays.load_array` reads (.npy, .npz, .pt/.pth with
    ``weights_only=True``, .safetensors, .csv/.tsv/.txt; ``FILE#KEY`` picks one tensor of several); returns
    (float64 array of shape (n, ...), sha256 of the file)."""
    path, _ = split_spec(spec)
    arr = load_array(spec, what=name).astype(np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim < 2 or arr.shape[0] < 1:
        raise InputError(f"{name} file {path!r}: expected shape (n, ...) with n ≥ 1, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        row = int(np.argwhere(~np.isfinite(arr.reshape(arr.shape[0], -1)))[0, 0])
        raise InputError(f"{name} file {path!r}: row {row} contains NaN or inf; remove non-finite samples")
    return arr, sha256_file(path)


def load_factory(spec: str):
    """``MODULE:FACTORY`` (importable module, the current directory included) or ``path/to/file.py:FACTORY``."""
    if ":" not in spec:
        raise UsageError(f"--critic {spec!r}: expected MODULE:FACTORY (e.g. mycritics:make_critic) or "
                         "path/to/file.py:FACTORY")
    mod_name, attr = spec.rsplit(":", 1)
    try:
        if mod_name.endswith(".py"):
            if not os.path.isfile(mod_name):
                raise InputError(f"--critic {spec!r}: file {mod_name!r} does not exist")
            mspec = importlib.util.spec_from_file_location(f"_auditkit_critic_{abs(hash(mod_name))}", mod_name)
            module = importlib.util.module_from_spec(mspec)
            mspec.loader.exec_module(module)
        else:
            cwd = os.getcwd()
            added = cwd not in sys.path
            if added:
                sys.path.insert(0, cwd)
            try:
                module = importlib.import_module(mod_name)
            finally:
                if added:
                    sys.path.remove(cwd)
    except InputError:
        raise
    except ImportError as exc:
        raise InputError(f"--critic {spec!r}: cannot import module {mod_name!r} ({exc}); run from the directory "
                         "that contains it, add it to PYTHONPATH, or give path/to/file.py:FACTORY") from exc
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise InputError(f"--critic {spec!r}: module {mod_name!r} has no callable {attr!r}")
    return factory


def build_critic(spec: str, weights: str | None = None):
    """Call the factory (no arguments) and load optional weights with ``torch.load(weights_only=True)`` or from a
    .safetensors file. Returns (module in eval mode, sha256 of the weights or None)."""
    torch = require("torch", "auditkit wgan evaluate", "torch")
    critic = load_factory(spec)()
    if not isinstance(critic, torch.nn.Module):
        raise InputError(f"--critic {spec!r}: the factory returned {type(critic).__name__}, expected a "
                         "torch.nn.Module")
    digest = None
    if weights is not None:
        if not os.path.isfile(weights):
            raise InputError(f"--weights {weights!r} does not exist")
        try:
            if weights.lower().endswith(".safetensors"):
                state = require("safetensors.torch", "reading .safetensors weights", "torch").load_file(weights)
            else:
                state = torch.load(weights, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise InputError(f"--weights {weights!r} could not be read with weights_only=True: "
                             f"{type(exc).__name__}: {exc}") from exc
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise InputError(f"--weights {weights!r} holds a {type(state).__name__}, expected a state dict")
        try:
            critic.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise InputError(f"--weights {weights!r} do not fit the critic from {spec!r}: {exc}") from exc
        digest = sha256_file(weights)
    critic.eval()
    return critic, digest


# -- measurements -------------------------------------------------------------------------------------------------
def norm_stats(values, tol: float = 1e-6) -> dict[str, float]:
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "p50": float(np.percentile(v, 50)), "p95": float(np.percentile(v, 95)),
            "max": float(v.max()), "frac_above_1": float(np.mean(v > 1.0 + tol))}


def _subsample(arr: np.ndarray, n: int | None, rng) -> np.ndarray:
    if n is None or arr.shape[0] <= n:
        return arr
    return arr[np.sort(rng.choice(arr.shape[0], size=n, replace=False))]


def evaluate_critic(critic, real, fake, *, normalization: str = "none", eps: float | None = None, k: float = 1.0,
                    lipschitz: float = 1.0, tol: float = 1e-6, n_pairs: int = 4096, adv_steps: int = 100,
                    adv_pairs: int = 64, max_samples: int | None = 4096, seed: int = 0, device: str = "cpu",
                    dtype: str = "float64", batch_size: int = 512, w1_method: str = "auto",
                    provenance: dict | None = None):
    """Evaluate a critic on two samples and return an :class:`auditkit.Report` (check id ``wgan-critic``).

    ``critic`` is a torch module (or callable) giving one score per sample; ``real`` and ``fake`` are arrays of
    shape (n, ...) in the critic's input shape. ``normalization`` wraps the raw critic in GN or GraN
    (``"none"``: the critic is used as it is). Exact W1 uses the flattened samples.
    """
    torch = require("torch", "auditkit wgan evaluate", "torch")
    from auditkit.report import Finding, Report

    from . import critics as C
    from .w1 import exact_w1, split_half_w1

    C.check_normalization(normalization)
    if lipschitz <= 0:
        raise UsageError(f"--lipschitz must be positive, got {lipschitz}")
    if dtype not in ("float64", "float32"):
        raise UsageError(f"unknown dtype {dtype!r}; choose float64 or float32")
    real, fake = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    if real.ndim == 1:
        real = real[:, None]
    if fake.ndim == 1:
        fake = fake[:, None]
    if real.shape[1:] != fake.shape[1:]:
        raise InputError(f"real samples have shape {real.shape[1:]} per point but fake samples {fake.shape[1:]}; "
                         "both must be in the critic's input shape")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"device {device!r} asked for but torch sees no CUDA device; use --device cpu")
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    n_real_in, n_fake_in = real.shape[0], fake.shape[0]
    real, fake = _subsample(real, max_samples, rng), _subsample(fake, max_samples, rng)
    tdtype = getattr(torch, dtype)
    if isinstance(critic, torch.nn.Module):
        import copy

        critic = copy.deepcopy(critic).to(device=device, dtype=tdtype).eval()  # never mutate the caller's module
    xr = torch.as_tensor(real, dtype=tdtype, device=device)
    xf = torch.as_tensor(fake, dtype=tdtype, device=device)
    kw = dict(normalization=normalization, eps=eps, k=k)
    eps_used = (eps if eps is not None else C.DEFAULT_GRAN_EPS) if normalization == "gran" else None

    # 1. KR estimate vs exact W1 on the same samples, and the finite-sample floor
    vr = C.values_and_grad_norms(critic, xr, batch_size=batch_size, **kw)
    vf = C.values_and_grad_norms(critic, xf, batch_size=batch_size, **kw)
    critic_w1 = float(vr["f_hat"].double().mean() - vf["f_hat"].double().mean())
    w1 = exact_w1(real, fake, method=w1_method)
    real_split = split_half_w1(real, seed=seed)
    gap = w1 - critic_w1
    ratio = critic_w1 / w1 if w1 > 0 else None

    # 2. gradient norms on real, fake and interpolates
    m = min(real.shape[0], fake.shape[0])
    ir = torch.as_tensor(rng.choice(real.shape[0], size=m, replace=False), device=device)
    jf = torch.as_tensor(rng.choice(fake.shape[0], size=m, replace=False), device=device)
    t = torch.as_tensor(rng.uniform(size=m), dtype=tdtype, device=device).reshape(-1, *([1] * (xr.dim() - 1)))
    xi = t * xr[ir] + (1 - t) * xf[jf]
    vi = C.values_and_grad_norms(critic, xi, batch_size=batch_size, **kw)
    grad_norms = {"real": norm_stats(vr["grad_f_hat"].cpu().numpy(), tol),
                  "fake": norm_stats(vf["grad_f_hat"].cpu().numpy(), tol),
                  "interpolated": norm_stats(vi["grad_f_hat"].cpu().numpy(), tol)}
    raw_grad_norms = None
    if normalization != "none":
        raw_grad_norms = {"real": norm_stats(vr["grad_f"].cpu().numpy(), tol),
                          "fake": norm_stats(vf["grad_f"].cpu().numpy(), tol),
                          "interpolated": norm_stats(vi["grad_f"].cpu().numpy(), tol)}

    # 3. empirical Lipschitz ratio over random pairs of distinct points (real ∪ fake ∪ interpolates)
    pool = torch.cat([xr, xf, xi.detach()])
    vals = torch.cat([vr["f_hat"], vf["f_hat"], vi["f_hat"]]).double()
    n_pool = pool.shape[0]
    pairs_max, zero_pairs, best_pairs = None, 0, None
    if n_pool >= 2:
        a = rng.integers(0, n_pool, size=n_pairs)
        b = (a + rng.integers(1, n_pool, size=n_pairs)) % n_pool  # never i == j
        ta, tb = torch.as_tensor(a, device=device), torch.as_tensor(b, device=device)
        dist = C.flat_norm(pool[ta] - pool[tb]).double()
        ok = dist > 0  # duplicated points: skip, never divide by zero
        zero_pairs = int((~ok).sum())
        if bool(ok.any()):
            ratios = (vals[ta] - vals[tb]).abs()[ok] / dist[ok]
            pairs_max = float(ratios.max())
            order = torch.argsort(ratios, descending=True)[:adv_pairs]
            best_pairs = (ta[ok][order], tb[ok][order])
    # 4. adversarial search from the worst pairs
    adversarial = {"max": None, "distance": None, "min_dist": None, "steps": adv_steps}
    if best_pairs is not None and adv_steps > 0:
        adversarial = C.adversarial_lipschitz(critic, pool[best_pairs[0]], pool[best_pairs[1]], steps=adv_steps,
                                              **kw)
    adv_max = adversarial["max"]
    if adv_max is not None and pairs_max is not None:
        adv_max = max(adv_max, pairs_max)

    # 5. fast path consistency (piecewise-linear check) on a few real points
    fast_path = None
    if normalization != "none":
        fast_path = C.fast_path_discrepancy(critic, xr[: min(64, xr.shape[0])], **kw)

    saturated = bool(normalization == "gn" and w1 >= GN_SATURATION_W1)
    f_hat_abs_max = float(max(vr["f_hat"].abs().max(), vf["f_hat"].abs().max()))
    summary: dict[str, Any] = {
        "critic_w1": critic_w1, "exact_w1": w1, "gap": gap, "ratio": ratio, "real_split_w1": real_split,
        "saturated": saturated, "normalization": normalization, "eps": eps_used,
        "k": k if normalization == "gran" else None, "lipschitz_bound": lipschitz,
        "lipschitz": {"pairs_max": pairs_max, "adversarial_max": adv_max, "pairs": n_pairs,
                      "zero_distance_pairs_skipped": zero_pairs, "adversarial_steps": adv_steps,
                      "adversarial_min_dist": adversarial["min_dist"],
                      "adversarial_distance": adversarial["distance"]},
        "grad_norms": grad_norms, "raw_grad_norms": raw_grad_norms,
        "f_hat_abs_max": f_hat_abs_max, "fast_path_rel_diff": fast_path,
        "n_real": int(real.shape[0]), "n_fake": int(fake.shape[0]),
        "n_real_input": int(n_real_in), "n_fake_input": int(n_fake_in), "dim": int(np.prod(real.shape[1:])),
        "device": device, "dtype": dtype, "seed": seed,
    }
    findings = []
    bound = lipschitz * w1 + tol * max(1.0, w1)
    if abs(critic_w1) > bound:
        findings.append(Finding(CHECK, "error",
                                f"Lipschitz breach proven: |KR estimate| = {abs(critic_w1):.6g} exceeds "
                                f"L·W1 = {lipschitz:g}·{w1:.6g} on these samples, so the critic is not "
                                f"{lipschitz:g}-Lipschitz", evidence={"critic_w1": critic_w1, "exact_w1": w1,
                                                                      "lipschitz_bound": lipschitz}))
    if saturated:
        findings.append(Finding(CHECK, "warning",
                                f"saturated: a GN critic has |f̂| < 1, so its estimate stays below 2, but the exact "
                                f"W1 is {w1:.6g}; the critic cannot track W1 here (estimate {critic_w1:.6g})",
                                evidence={"critic_w1": critic_w1, "exact_w1": w1}))
    worst = max([v for v in (pairs_max, adv_max) if v is not None], default=None)
    if worst is not None and worst > lipschitz * (1 + max(tol, 1e-9)):
        findings.append(Finding(CHECK, "warning",
                                f"empirical Lipschitz ratio {worst:.6g} exceeds the bound {lipschitz:g} "
                                f"(random pairs max {pairs_max:.6g}, adversarial max "
                                f"{adv_max if adv_max is None else f'{adv_max:.6g}'})",
                                evidence={"pairs_max": pairs_max, "adversarial_max": adv_max}))
    if not any(f.severity in ("error", "warning") for f in findings):
        findings.append(Finding(CHECK, "info",
                                f"critic estimate {critic_w1:.6g} vs exact W1 {w1:.6g} (ratio "
                                f"{'n/a' if ratio is None else f'{ratio:.4g}'}); no Lipschitz breach found",
                                evidence={"critic_w1": critic_w1, "exact_w1": w1}))
    tables = {
        "estimates": [{"quantity": "critic_w1 (KR)", "value": critic_w1},
                      {"quantity": "exact_w1", "value": w1},
                      {"quantity": "gap (exact - critic)", "value": gap},
                      {"quantity": "ratio (critic / exact)", "value": ratio},
                      {"quantity": "real_split_w1 (baseline)", "value": real_split},
                      {"quantity": "lipschitz pairs_max", "value": pairs_max},
                      {"quantity": "lipschitz adversarial_max", "value": adv_max}],
        "gradient norms of f_hat": [{"points": name, **stats} for name, stats in grad_norms.items()],
    }
    if raw_grad_norms is not None:
        tables["gradient norms of the raw critic"] = [{"points": n, **s} for n, s in raw_grad_norms.items()]
    report = Report(title=f"WGAN critic evaluation ({normalization})", findings=findings,
                    provenance=provenance or {}, summary=summary, tables=tables)
    return report


def run_diagnostic(critic, real, fake, **kwargs):
    """The ``wgan-critic`` Diagnostic's entry point: ``critic`` is a module, a ``MODULE:FACTORY`` string, or a
    callable; ``real``/``fake`` arrays or file paths. Returns the Report."""
    from auditkit.report import provenance

    inputs = {}
    weights = kwargs.pop("weights", None)
    if isinstance(critic, str):
        critic, digest = build_critic(critic, weights)
        if digest:
            inputs["weights"] = digest
    if isinstance(real, str):
        real, inputs["real"] = load_samples(real, "real")
    if isinstance(fake, str):
        fake, inputs["fake"] = load_samples(fake, "fake")
    kwargs.setdefault("provenance", provenance(command="wgan-critic diagnostic", inputs=inputs,
                                              seed=kwargs.get("seed", 0)))
    return evaluate_critic(critic, real, fake, **kwargs)
