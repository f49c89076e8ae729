"""The float-precision diagnostic for InfoNCE and FlatNCE: measures, per training precision, how much of the loss and
its gradient survives rounding, against an accurate float64 reference computed from the same scores.

Reference (float64, written so that it stays accurate even where 1 + xi rounds to 1 in float64 itself):
``lse = logsumexp_{i != t}(s_i - s_t) = log xi``; InfoNCE ``L = logaddexp(0, lse)``, ``dL/ds_i = exp(s_i - s_t - L)``,
``dL/ds_t = -sigmoid(lse)``; FlatNCE ``v = lse``, ``dv/ds_i = softmax over the negatives``, ``dv/ds_t = -1``.
Per precision the scores are rounded to that dtype and the losses are computed the way a training loop does
(``cross_entropy`` in that dtype; :func:`flatnce_loss`), gradients by autograd.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

from auditkit.errors import InputError, UsageError
from auditkit.report import Finding, Report, provenance as make_provenance

CHECK_ID = "contrastive-precision"
DTYPES = ("float16", "bfloat16", "float32", "float64")
DEFAULT_DTYPES = ("float16", "bfloat16", "float32")
# Thresholds of the findings (documented in docs/contrastive.md).
GRAD_SUM_TOL = 1e-3        # |sum_j g_j| / max(|g_t|, sum_{i != t} |g_i|) above max(this, 4 eps(dtype)): the
                           # gradient no longer sums to zero
ERROR_UNDERFLOW = 0.01     # >= 1% of rows with 1 + xi == 1 -> error
ERROR_COSINE = 0.9         # InfoNCE gradient cosine to the reference below this -> error
WARNING_COSINE = 0.99      # ... below this -> warning
DEFAULT_SWEEP_TEMPERATURES = (0.02, 0.05, 0.07, 0.1, 0.2, 0.5, 1.0)
DEFAULT_SWEEP_BATCH_SIZES = (16, 64, 256, 1024, 4096)
LOSS_KEYS = ("loss_underflow_fraction", "max_loss_rel_error", "min_grad_cosine", "max_grad_rel_error",
             "grad_sums_to_zero", "max_grad_sum_rel_error", "positive_grad_zero_fraction")


# Significand precision p (bits, the implicit leading bit included) of each format: IEEE 754-2008 binary16 (11),
# binary32 (24), binary64 (53); bfloat16 keeps float32's exponent and 7 explicit fraction bits (8).
SIGNIFICAND_BITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}


def half_ulp_of_one(dtype: str) -> float:
    """``2**-p``: for xi at or below this, 1 + xi rounds to 1 (round-to-nearest-even, the tie going to 1).

    2^-24 fp32, 2^-11 fp16, 2^-8 bf16 (bf16: epsilon 2^-7, half of it 2^-8), 2^-53 fp64.
    """
    return 2.0 ** -SIGNIFICAND_BITS[dtype]


def machine_epsilon(dtype: str) -> float:
    """``2**(1 - p)``: the gap between 1 and the next representable number (torch.finfo(dtype).eps)."""
    return 2.0 ** (1 - SIGNIFICAND_BITS[dtype])


def grad_sum_tolerance(dtype: str) -> float:
    return max(GRAD_SUM_TOL, 4 * machine_epsilon(dtype))


def parse_dtypes(value: str | Sequence[str]) -> tuple[str, ...]:
    names = [v.strip() for v in (value.split(",") if isinstance(value, str) else value) if v.strip()]
    aliases = {"fp16": "float16", "half": "float16", "bf16": "bfloat16", "fp32": "float32", "float": "float32",
               "fp64": "float64", "double": "float64"}
    out = []
    for n in names:
        n = aliases.get(n.lower(), n.lower())
        if n not in DTYPES:
            raise UsageError(f"unknown dtype {n!r} in --dtypes; choose from: {', '.join(DTYPES)}")
        if n not in out:
            out.append(n)
    if not out:
        raise UsageError("--dtypes is empty; give e.g. float16,bfloat16,float32")
    return tuple(out)


def _torch():
    from auditkit.errors import require

    return require("torch", "the contrastive diagnostic", "torch")


# -- the per-row measurements ------------------------------------------------------------------------------------
def reference(scores, positives):
    """Accurate float64 losses and gradients: dict of torch tensors (per row / per entry)."""
    torch = _torch()
    s = scores.to(torch.float64)
    t = positives[:, None]
    d = s - s.gather(1, t)
    masked = d.scatter(1, t, float("-inf"))
    lse = torch.logsumexp(masked, dim=1)                      # log xi
    info = torch.logaddexp(torch.zeros_like(lse), lse)        # log(1 + xi), accurate for tiny xi
    g_info = torch.exp(masked - info[:, None])
    g_info.scatter_(1, t, -torch.sigmoid(lse)[:, None])
    g_flat = torch.exp(masked - lse[:, None])
    g_flat.scatter_(1, t, -1.0)
    return {"lse": lse, "infonce": info, "flatnce": lse, "g_infonce": g_info, "g_flatnce": g_flat}


def rounds_to_one(xi):
    """Elementwise ``1 + xi == 1`` computed in ``xi``'s own dtype (a torch tensor), as a training loop would."""
    torch = _torch()
    return (torch.ones((), dtype=xi.dtype, device=xi.device) + xi) == 1


def in_dtype(scores, positives, dtype: str):
    """Scores rounded to ``dtype``; losses and autograd gradients computed in it (returned as float64)."""
    torch = _torch()
    from .losses import flatnce_loss, infonce_loss

    dt = getattr(torch, dtype)
    s = scores.detach().to(dt)
    t = positives
    with torch.no_grad():
        d = s - s.gather(1, t[:, None])
        xi = torch.exp(d.scatter(1, t[:, None], float("-inf"))).sum(dim=1)
        underflow = rounds_to_one(xi)
    out = {"underflow": underflow}
    with torch.enable_grad():
        x = s.clone().requires_grad_(True)
        li = infonce_loss(x, t, reduction="none")
        li.sum().backward()
        out["infonce"], out["g_infonce"] = li.detach().double(), x.grad.double()
        x = s.clone().requires_grad_(True)
        lf = flatnce_loss(x, t, reduction="none", value="logsumexp")
        lf.sum().backward()
        out["flatnce"], out["g_flatnce"] = lf.detach().double(), x.grad.double()
    return out


def _row_metrics(val, ref, g, g_ref, t):
    """Per-row float64 tensors: loss relative error, gradient cosine, gradient relative error, sum defect."""
    torch = _torch()
    err = (val - ref).abs()
    rel = torch.where(ref != 0, err / ref.abs().clamp_min(1e-300), torch.where(err == 0, 0.0, math.inf))
    n, n_ref = g.norm(dim=1), g_ref.norm(dim=1)
    dot = (g * g_ref).sum(dim=1)
    cos = torch.where((n > 0) & (n_ref > 0), dot / (n * n_ref).clamp_min(1e-300),
                      torch.where((n == 0) & (n_ref == 0), 1.0, 0.0))
    gerr = (g - g_ref).norm(dim=1)
    grel = torch.where(n_ref > 0, gerr / n_ref.clamp_min(1e-300), torch.where(gerr == 0, 0.0, math.inf))
    g_t = g.gather(1, t[:, None]).squeeze(1)
    neg = g.abs().sum(dim=1) - g_t.abs()
    scale = torch.maximum(g_t.abs(), neg)
    total = g.sum(dim=1).abs()
    srel = torch.where(scale > 0, total / scale.clamp_min(1e-300), torch.where(total == 0, 0.0, math.inf))
    # scores beyond the dtype's range (float16 overflows above 65504) give inf/NaN: count them as total loss
    bad = ~(torch.isfinite(val) & torch.isfinite(g).all(dim=1))
    rel, grel, srel = (torch.where(bad, math.inf, x) for x in (rel, grel, srel))
    cos = torch.where(bad, 0.0, cos)
    return rel, cos, grel, srel, g_t == 0


def measure(scores, positives, dtypes: Sequence[str], *, device: str = "cpu", chunk_elements: int = 1 << 22):
    """Aggregate metrics per dtype and loss, plus float64 reference statistics.

    ``scores``: (N, K) array/tensor, ``positives``: (N,) ints. Rows are processed in chunks of about
    ``chunk_elements`` entries.
    """
    torch = _torch()
    s_all = torch.as_tensor(np.asarray(scores, dtype=np.float64) if not isinstance(scores, torch.Tensor)
                            else scores).to(torch.float64)
    t_all = torch.as_tensor(np.asarray(positives) if not isinstance(positives, torch.Tensor) else positives)
    t_all = t_all.long()
    n, k = s_all.shape
    step = max(1, chunk_elements // max(k, 1))
    acc = {dt: {name: {"under": 0, "rel": 0.0, "cos": 1.0, "grel": 0.0, "srel": 0.0, "pz": 0}
                for name in ("infonce", "flatnce")} for dt in dtypes}
    ref_loss_sum, ref_flat_sum, lse_all = 0.0, 0.0, []
    for start in range(0, n, step):
        s = s_all[start:start + step].to(device)
        t = t_all[start:start + step].to(device)
        ref = reference(s, t)
        ref_loss_sum += float(ref["infonce"].sum())
        ref_flat_sum += float(ref["flatnce"].sum())
        lse_all.append(ref["lse"].cpu())
        for dt in dtypes:
            got = in_dtype(s, t, dt)
            under = int(got["underflow"].sum())
            for name in ("infonce", "flatnce"):
                rel, cos, grel, srel, pz = _row_metrics(got[name], ref[name], got["g_" + name], ref["g_" + name], t)
                a = acc[dt][name]
                a["under"] += under
                a["rel"] = max(a["rel"], float(rel.max()))
                a["cos"] = min(a["cos"], float(cos.min()))
                a["grel"] = max(a["grel"], float(grel.max()))
                a["srel"] = max(a["srel"], float(srel.max()))
                a["pz"] += int(pz.sum())
    precisions = {}
    for dt in dtypes:
        precisions[dt] = {}
        for name in ("infonce", "flatnce"):
            a = acc[dt][name]
            precisions[dt][name] = {
                "loss_underflow_fraction": a["under"] / n,
                "max_loss_rel_error": a["rel"],
                "min_grad_cosine": a["cos"],
                "max_grad_rel_error": a["grel"],
                "grad_sums_to_zero": bool(a["srel"] <= grad_sum_tolerance(dt)),
                "max_grad_sum_rel_error": a["srel"],
                "positive_grad_zero_fraction": a["pz"] / n,
            }
    lse = torch.cat(lse_all)
    xi = torch.exp(lse)
    mean_loss = ref_loss_sum / n
    ref_stats = {"infonce_mean_loss": mean_loss, "flatnce_mean_loss": ref_flat_sum / n,
                 "mi_lower_bound": math.log(k) - mean_loss,
                 "min_xi": float(xi.min()), "median_xi": float(xi.median())}
    return precisions, ref_stats


# -- findings and verdict ----------------------------------------------------------------------------------------
def severity_of(m: dict[str, Any]) -> str:
    info = m["infonce"]
    if info["loss_underflow_fraction"] >= ERROR_UNDERFLOW or info["min_grad_cosine"] < ERROR_COSINE:
        return "error"
    if (info["loss_underflow_fraction"] > 0 or not info["grad_sums_to_zero"]
            or info["min_grad_cosine"] < WARNING_COSINE):
        return "warning"
    return "info"


def _pct(x: float) -> str:
    return f"{100 * x:.3g}%"


def finding_for(dt: str, m: dict[str, Any], n_rows: int) -> Finding:
    info, flat = m["infonce"], m["flatnce"]
    sev = severity_of(m)
    n_under = round(info["loss_underflow_fraction"] * n_rows)
    grad = (f"InfoNCE gradient cosine to the float64 reference {info['min_grad_cosine']:.4f}, relative error "
            f"{info['max_grad_rel_error']:.3g}, sums to zero: {'yes' if info['grad_sums_to_zero'] else 'no'}; "
            f"FlatNCE gradient cosine {flat['min_grad_cosine']:.4f}, relative error {flat['max_grad_rel_error']:.3g}")
    if n_under:
        frac = _pct(info["loss_underflow_fraction"])
        msg = (f"{dt}: 1 + xi rounds to exactly 1 in {n_under} of {n_rows} rows ({frac}):"
               f" there the InfoNCE loss and the positive's gradient vanish or are rounding noise; {grad}")
    elif sev != "info":
        msg = f"{dt}: no row rounds 1 + xi to 1, but the InfoNCE gradient is degraded by rounding; {grad}"
    else:
        msg = f"{dt}: no underflow (1 + xi > 1 in every row); {grad}"
    return Finding(CHECK_ID, sev, msg, column=dt, evidence={"dtype": dt, "half_ulp_of_one": half_ulp_of_one(dt),
                                                             **{f"infonce_{k}": v for k, v in info.items()},
                                                             **{f"flatnce_{k}": v for k, v in flat.items()}})


def verdict_text(precisions: dict[str, Any], ref_stats: dict[str, Any], log_k: float) -> str:
    sev = {dt: severity_of(m) for dt, m in precisions.items()}
    bad = [dt for dt, s in sev.items() if s == "error"]
    weak = [dt for dt, s in sev.items() if s == "warning"]
    ok = [dt for dt, s in sev.items() if s == "info"]
    flat_ok = [dt for dt in bad + weak if precisions[dt]["flatnce"]["min_grad_cosine"] >= WARNING_COSINE]
    parts = []
    if bad:
        parts.append(f"InfoNCE is in the rounding regime in {', '.join(bad)}: the positive dominates so strongly "
                     "that 1 + xi rounds to 1 (or the gradient is mostly rounding error) and, under an Adam-type "
                     "optimiser, updates become noise.")
    if weak:
        parts.append(f"InfoNCE is close to the rounding regime in {', '.join(weak)} (some rows underflow or the "
                     "gradient loses accuracy).")
    if bad or weak:
        action = "Recommended: "
        if flat_ok:
            action += f"train with FlatNCE, whose gradient stays accurate in {', '.join(flat_ok)}; "
        narrowest_ok = min(ok, key=DTYPES.index) if ok else None
        action += ("or compute the scores and the loss in " + (narrowest_ok or "a wider precision")
                   + " (mixed-precision autocast still rounds the logits); or raise the temperature, which lowers "
                   "the largest score gap 2/tau.")
        parts.append(action)
    else:
        parts.append(f"No precision problem: InfoNCE's loss and gradient survive rounding in {', '.join(ok)}; "
                     "no action needed.")
    mean = ref_stats["infonce_mean_loss"]
    parts.append(f"Mean InfoNCE loss {mean:.4g} nats against the log K bound {log_k:.4f}: the mutual-information "
                 f"estimate log K - L = {ref_stats['mi_lower_bound']:.4f} cannot exceed log K"
                 + (", and is saturated here." if mean < 0.01 * log_k else "."))
    return " ".join(parts)


def precision_table(precisions: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for dt, m in precisions.items():
        for name in ("infonce", "flatnce"):
            rows.append({"dtype": dt, "loss": name, "severity": severity_of(m) if name == "infonce" else "",
                         **{k: m[name][k] for k in LOSS_KEYS}})
    return rows


# -- sweep: temperature x batch size ------------------------------------------------------------------------------
def _sweep_cells(mode: str, matrix: np.ndarray, positives: np.ndarray, temperatures, batch_sizes, max_rows: int):
    """Yield (tau, B, scores (rows, B), positives) for every cell of the sweep.

    embeddings mode: ``matrix`` is the N x N cosine matrix, a batch of size B is a diagonal block, scores cos/tau.
    scores mode: ``matrix`` holds the given logits; batch size B keeps the positive plus the first B - 1 negatives
    of each row, and tau rescales the logits (scores / tau).
    """
    n, k = matrix.shape
    for tau in temperatures:
        for b in batch_sizes:
            if mode == "embeddings":
                blocks, rows_left = [], max_rows
                for start in range(0, n - b + 1, b):
                    take = min(b, rows_left)
                    blocks.append(matrix[start:start + take, start:start + b])
                    rows_left -= take
                    if rows_left <= 0:
                        break
                scores = np.concatenate(blocks) / tau
                pos = np.concatenate([np.arange(len(bl)) for bl in blocks])
            else:
                rows = min(n, max_rows)
                col = np.arange(k)[None, :].repeat(rows, 0)
                key = np.where(col == positives[:rows, None], -1, col)
                order = np.sort(key, axis=1)[:, :b]
                order[:, 0] = positives[:rows]
                scores = np.take_along_axis(matrix[:rows], order, axis=1) / tau
                pos = np.zeros(rows, dtype=np.int64)
            yield tau, b, scores, pos


def sweep(mode, matrix, positives, dtypes, temperatures, batch_sizes, *, max_rows=512, device="cpu"):
    n, k = matrix.shape
    limit = n if mode == "embeddings" else k
    sizes = [b for b in batch_sizes if 2 <= b <= limit]
    if not sizes:
        raise UsageError(f"no --sweep-batch-sizes fit the data: batch sizes must be between 2 and {limit} "
                         f"(got {', '.join(map(str, batch_sizes))})")
    rows = []
    for tau, b, scores, pos in _sweep_cells(mode, matrix, positives, temperatures, sizes, max_rows):
        precisions, _ = measure(scores, pos, dtypes, device=device)
        for dt in dtypes:
            info, flat = precisions[dt]["infonce"], precisions[dt]["flatnce"]
            rows.append({"dtype": dt, "temperature": float(tau), "batch_size": int(b),
                         "loss_underflow_fraction": info["loss_underflow_fraction"],
                         "infonce_min_grad_cosine": info["min_grad_cosine"],
                         "infonce_max_grad_rel_error": info["max_grad_rel_error"],
                         "flatnce_min_grad_cosine": flat["min_grad_cosine"],
                         "severity": severity_of(precisions[dt])})
    return rows, sizes


def sweep_sentence(rows: list[dict[str, Any]]) -> str:
    """One sentence on the sweep: where the danger zone lies."""
    bad = [r for r in rows if r["severity"] == "error"]
    if not bad:
        return (f"Sweep: none of the {len(rows)} (dtype, temperature, batch size) cells is in the rounding regime.")
    worst = max(bad, key=lambda r: (r["loss_underflow_fraction"], -r["infonce_min_grad_cosine"]))
    parts = []
    for dt in dict.fromkeys(r["dtype"] for r in bad):
        cells = [r for r in bad if r["dtype"] == dt]
        parts.append(f"{dt} at temperature <= {max(r['temperature'] for r in cells):g} with batch <= "
                     f"{max(r['batch_size'] for r in cells)} ({len(cells)} cells)")
    return (f"Sweep: {len(bad)} of {len(rows)} cells are in the rounding regime: " + "; ".join(parts)
            + f". Worst: {worst['dtype']}, temperature {worst['temperature']:g}, batch {worst['batch_size']}, "
            f"1 + xi == 1 in {_pct(worst['loss_underflow_fraction'])} of rows. Lower temperatures and smaller "
            "batches (fewer negatives) are the danger zone for mixed-precision training.")


def heatmap(rows: list[dict[str, Any]], dtypes, temperatures, batch_sizes, fmt: str = "png") -> bytes:
    """One panel per dtype: fraction of rows with 1 + xi == 1 over temperature (y) x batch size (x)."""
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from matplotlib.colors import PowerNorm

    fig, axes = plt.subplots(1, len(dtypes), figsize=(3.4 * len(dtypes) + 1.0, 3.9), squeeze=False,
                             constrained_layout=True)
    index = {(r["dtype"], r["temperature"], r["batch_size"]): r for r in rows}
    im = None
    for ax, dt in zip(axes[0], dtypes):
        grid = np.array([[index[(dt, float(tau), int(b))]["loss_underflow_fraction"] for b in batch_sizes]
                         for tau in temperatures])
        im = ax.imshow(grid, norm=PowerNorm(0.5, vmin=0.0, vmax=1.0), cmap="Reds", aspect="auto", origin="lower")
        ax.set_xticks(range(len(batch_sizes)), [str(b) for b in batch_sizes])
        ax.set_yticks(range(len(temperatures)), [f"{t:g}" for t in temperatures])
        ax.set_xlabel("batch size (candidates K)")
        ax.set_title(dt)
        for i in range(len(temperatures)):
            for j in range(len(batch_sizes)):
                v = grid[i, j]
                ax.text(j, i, f"{v:.2g}" if v else "0", ha="center", va="center", fontsize=7,
                        color="white" if v > 0.5 else "black")
    axes[0][0].set_ylabel("temperature")
    fig.suptitle("InfoNCE danger zone: fraction of rows where 1 + xi rounds to 1")
    fig.colorbar(im, ax=list(axes[0]), shrink=0.8, label="fraction of rows (sqrt scale)")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=110)
    plt.close(fig)
    return buf.getvalue()


# -- the whole diagnostic -----------------------------------------------------------------------------------------
def run_diagnostic(scores=None, positives=None, *, z1=None, z2=None, temperature: float | None = None,
                   dtypes: Iterable[str] | str = DEFAULT_DTYPES, device: str = "cpu", do_sweep: bool = False,
                   sweep_temperatures: Sequence[float] = DEFAULT_SWEEP_TEMPERATURES,
                   sweep_batch_sizes: Sequence[int] = DEFAULT_SWEEP_BATCH_SIZES, sweep_rows: int = 512,
                   plot_format: str | None = None, inputs: dict[str, str] | None = None,
                   command: str | None = None) -> Report:
    """Diagnose InfoNCE/FlatNCE rounding for a score matrix (+ positives) or paired embeddings (z1, z2).

    ``positives``: None (diagonal; the matrix must be square), an int (same column for every row) or an int vector.
    ``temperature``: scores mode divides the given logits by it (default 1); embeddings mode builds cos/tau
    (default 0.1, FlatCLR's default). ``plot_format`` ("png"/"svg") adds the sweep heatmap to ``Report.images``.
    """
    from .loading import check_matrix, check_positives

    dtypes = parse_dtypes(dtypes)
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise UsageError(f"unknown device {device!r}; choose cpu or cuda")
    if str(device).startswith("cuda"):
        torch = _torch()
        if not torch.cuda.is_available():
            raise UsageError("--device cuda was asked for but torch sees no CUDA device; use --device cpu")
    if temperature is not None and not (temperature > 0 and math.isfinite(temperature)):
        raise UsageError(f"--temperature must be a positive number, got {temperature!r}")
    if (z1 is None) != (z2 is None):
        raise UsageError("give both embedding matrices z1 and z2 (or a score matrix)")
    if z1 is not None and scores is not None:
        raise UsageError("give either a score matrix or embeddings z1/z2, not both")
    if z1 is not None:
        mode = "embeddings"
        z1 = check_matrix(z1, "z1", "embedding matrix")
        z2 = check_matrix(z2, "z2", "embedding matrix")
        if z1.shape != z2.shape:
            raise InputError(f"z1 has shape {z1.shape} but z2 has shape {z2.shape}; they must be paired row by row")
        if positives is not None:
            raise UsageError("with embeddings z1/z2 the positive of row i is column i; do not give positives")
        norms1, norms2 = np.linalg.norm(z1, axis=1), np.linalg.norm(z2, axis=1)
        if (norms1 == 0).any() or (norms2 == 0).any():
            raise InputError("an embedding row has norm 0, so its cosine similarity is undefined; remove it")
        tau = 0.1 if temperature is None else float(temperature)
        cos = (z1 / norms1[:, None]) @ (z2 / norms2[:, None]).T
        base, pos_desc = cos, "diagonal (row i pairs with column i)"
        matrix = cos / tau
        t = np.arange(len(z1))
    else:
        if scores is None:
            raise UsageError("give a score matrix, or embeddings z1 and z2")
        mode = "scores"
        base = check_matrix(scores, "scores")
        tau = 1.0 if temperature is None else float(temperature)
        matrix = base / tau
        n, k = matrix.shape
        if positives is None:
            if n != k:
                raise UsageError(f"the score matrix is {n} x {k}, not square, so the positives cannot default to "
                                 "the diagonal; give --positive-index N or --positives FILE")
            t, pos_desc = np.arange(n), "diagonal (row i pairs with column i)"
        elif isinstance(positives, (int, np.integer)):
            if not 0 <= int(positives) < k:
                raise UsageError(f"--positive-index {positives} is outside the {k} columns (valid: 0..{k - 1})")
            t, pos_desc = np.full(n, int(positives)), f"column {int(positives)} in every row"
        else:
            t, pos_desc = check_positives(positives, "positives", n, k), "per-row indices"
    n, k = matrix.shape
    if k < 2:
        raise InputError(f"the score matrix has {k} column; contrastive losses need at least one negative (K >= 2)")
    precisions, ref_stats = measure(matrix, t, dtypes, device=device)
    log_k = math.log(k)
    report = Report(title="Contrastive loss float-precision diagnostic (InfoNCE vs FlatNCE)")
    for dt in dtypes:
        report.add(finding_for(dt, precisions[dt], n))
    verdict = verdict_text(precisions, ref_stats, log_k)
    report.summary = {"input": mode, "n_rows": n, "n_candidates": k, "temperature": tau, "positives": pos_desc,
                      "device": str(device), "log_k_bound": log_k, "reference": ref_stats,
                      "precisions": precisions, "verdict": verdict}
    report.tables["precision"] = precision_table(precisions)
    if do_sweep:
        temps = [float(x) for x in sweep_temperatures]
        if any(not (x > 0 and math.isfinite(x)) for x in temps):
            raise UsageError(f"--sweep-temperatures must be positive numbers, got {temps}")
        if sweep_rows < 1:
            raise UsageError(f"--sweep-rows must be >= 1, got {sweep_rows}")
        swept, sizes = sweep(mode, base, t, dtypes, temps, [int(b) for b in sweep_batch_sizes],
                             max_rows=sweep_rows, device=device)
        report.tables["danger zone (sweep)"] = swept
        report.summary["verdict"] = verdict = verdict + " " + sweep_sentence(swept)
        report.summary["sweep"] = {"temperatures": temps, "batch_sizes": sizes, "rows_per_cell": sweep_rows,
                                   "temperature_meaning": ("cos / tau" if mode == "embeddings"
                                                           else "given scores / tau")}
        if plot_format:
            mime = {"png": "image/png", "svg": "image/svg+xml"}[plot_format]
            report.images["InfoNCE danger zone (fraction of rows with 1 + xi == 1)"] = (
                mime, heatmap(swept, dtypes, temps, sizes, plot_format))
    report.provenance = make_provenance(command=command, inputs=inputs or {}, diagnostic=CHECK_ID,
                                        dtypes=list(dtypes), temperature=tau, device=str(device))
    return report
