"""InfoNCE and FlatNCE losses in torch, and exact gradient accumulation for in-batch contrastive losses.

Notation (``../shared/reference/techniques.md`` section 2): for one anchor with scores ``s`` (logits, e.g.
cos/tau) over K candidates and the positive at column ``t``,

    InfoNCE  L = -log softmax(s)_t = log(1 + xi),   xi = sum_{i != t} exp(s_i - s_t)
    FlatNCE  v = log xi = logsumexp_{i != t}(s_i) - s_t      (Chen et al. 2021, arXiv 2107.01152)

FlatNCE's gradient is grad v: dv/ds_t = -1 and dv/ds_i = softmax over the negatives, all O(1), so it does not
vanish when xi is below the rounding unit of 1. It points in the same direction as the InfoNCE gradient
(grad log(1 + xi) = grad v * xi / (1 + xi)).

This module imports torch at module level; the plugin's ``__init__`` imports it only inside functions.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F

__all__ = ["infonce_loss", "flatnce_loss", "cosine_scores", "cached_gradient_accumulation",
           "su_cached_gradient", "FLATNCE_VALUES"]

FLATNCE_VALUES = ("infonce", "logsumexp")
REDUCTIONS = ("mean", "sum", "none")


def _flatten(scores: torch.Tensor, positives) -> tuple[torch.Tensor, torch.Tensor, tuple[int, ...]]:
    """(…, K) scores and (…) positive indices (or one int) -> (N, K), (N,), batch shape."""
    if scores.ndim < 1:
        raise ValueError("scores must have at least one dimension (the candidates)")
    batch_shape = tuple(scores.shape[:-1])
    k = scores.shape[-1]
    s = scores.reshape(-1, k)
    if isinstance(positives, int):
        t = torch.full((s.shape[0],), positives, dtype=torch.long, device=scores.device)
    else:
        t = torch.as_tensor(positives, device=scores.device)
        if t.dtype.is_floating_point or t.dtype == torch.bool:
            raise TypeError(f"positives must be integer column indices, got dtype {t.dtype}")
        if tuple(t.shape) != batch_shape:
            raise ValueError(f"positives has shape {tuple(t.shape)}, expected {batch_shape} (one index per row)")
        t = t.reshape(-1).long()
    return s, t, batch_shape


def _reduce(values: torch.Tensor, reduction: str, batch_shape: tuple[int, ...]) -> torch.Tensor:
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    if reduction == "none":
        return values.reshape(batch_shape)
    raise ValueError(f"unknown reduction {reduction!r}; choose one of: {', '.join(REDUCTIONS)}")


def infonce_loss(scores: torch.Tensor, positives, *, reduction: str = "mean") -> torch.Tensor:
    """InfoNCE = cross-entropy of the positive: ``-log softmax(scores)[positive]``.

    ``scores`` has shape (..., K) in any floating dtype and on any device; ``positives`` is an int (the same column
    for every row) or an integer tensor of shape (...). Computed exactly as a practitioner's training loop does
    (``torch.nn.functional.cross_entropy`` in the scores' dtype), so it shows the rounding the diagnostic measures:
    when ``1 + xi`` rounds to 1 the value and the positive's gradient become 0.
    """
    s, t, batch_shape = _flatten(scores, positives)
    return _reduce(F.cross_entropy(s, t, reduction="none"), reduction, batch_shape)


class _FlatNCE(torch.autograd.Function):
    """Per row: output ``out`` (InfoNCE value or v), gradient d out / d s := d v / d s (the FlatNCE gradient).

    Forward: one masked copy of the scores (positive set to -inf), one fused softmax over the negatives (kept for
    the backward), one max pass. v = logsumexp_neg(s) - s_t is recovered from the softmax's largest entry:
    logsumexp_neg(s) = s_j - log p_j at the arg-max j, which is as accurate as the usual max-shift formula.
    Backward: grad_s = softmax_neg * g (the positive's entry is exactly 0 in the softmax) and grad_s[t] = -g.
    """

    @staticmethod
    def forward(ctx, s, t, value):
        masked = s.scatter(1, t[:, None], float("-inf"))
        p_neg = torch.softmax(masked, dim=1)
        p_max, j = torch.max(p_neg, dim=1)
        lse_neg = masked.gather(1, j[:, None]).squeeze(1) - torch.log(p_max)
        v = lse_neg - s.gather(1, t[:, None]).squeeze(1)
        ctx.save_for_backward(p_neg, t)
        if value == "infonce":
            # log(1 + xi) = softplus(log xi): accurate even where 1 + xi rounds to 1 in this dtype
            return F.softplus(v)
        return v

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out):
        p_neg, t = ctx.saved_tensors
        g = grad_out.to(p_neg.dtype)
        grad = p_neg * g[:, None]
        grad.scatter_(1, t[:, None], (-g)[:, None])
        return grad, None, None


def flatnce_loss(scores: torch.Tensor, positives, *, reduction: str = "mean",
                 value: str = "infonce") -> torch.Tensor:
    """FlatNCE (Chen et al. 2021) with the official implementation's value/gradient convention.

    The **gradient** is always that of ``v = logsumexp_{i != t}(s_i) - s_t`` (= ``log xi``): ``dv/ds_t = -1``,
    ``dv/ds_i = softmax over the negatives``. The **value** depends on ``value``:

    - ``"infonce"`` (default, as ``Junya-Chen/FlatCLR`` ``flatclr.py`` logs it): the InfoNCE value
      ``log(1 + xi)``, computed as ``softplus(v)`` so it is accurate even where ``1 + xi`` rounds to 1. The official
      code's ``mean(exp(v - v.detach())) - 1 + CE.detach()`` has the same value and gradient.
    - ``"logsumexp"``: ``v`` itself, the objective whose gradient is used (it can be negative).

    ``scores`` (..., K) in any floating dtype and device, K >= 2; ``positives`` an int or integer tensor (...).
    First-order autograd only (the backward is once-differentiable).
    """
    if value not in FLATNCE_VALUES:
        raise ValueError(f"unknown value {value!r}; choose one of: {', '.join(FLATNCE_VALUES)}")
    s, t, batch_shape = _flatten(scores, positives)
    if s.shape[1] < 2:
        raise ValueError("FlatNCE needs at least one negative (K >= 2 candidates per row)")
    return _reduce(_FlatNCE.apply(s, t, value), reduction, batch_shape)


def cosine_scores(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """In-batch scores ``cos(z1_i, z2_j) / temperature`` (rows: anchors z1, columns: candidates z2)."""
    return F.normalize(z1, dim=-1) @ F.normalize(z2, dim=-1).transpose(-1, -2) / temperature


# -- exact gradient accumulation ---------------------------------------------------------------------------------
def _rng_states(devices: Sequence[torch.device]):
    cpu = torch.get_rng_state()
    cuda = [torch.cuda.get_rng_state(d) for d in devices] if devices else []
    return cpu, cuda


def cached_gradient_accumulation(encoders, inputs: Sequence[torch.Tensor], loss_fn: Callable[..., torch.Tensor],
                                 micro_batch_size: int, *, replay_rng: bool = True) -> torch.Tensor:
    """Exact gradient accumulation for losses that couple the whole batch (in-batch negatives).

    The cached-embedding method (Su, kexue.fm/archives/8471; also GradCache, Gao et al. 2021):

    1. one no-grad pass over the full batch in micro-batches gives the embeddings ``h`` of every input;
    2. the full-batch loss ``loss_fn(*h)`` is evaluated on detached copies and back-propagated to them only, which
       gives ``h~ = dL/dh`` (for InfoNCE this is Su's ``(1/tau) sum_j [(p_ij - t_ij) + (p_ji - t_ji)] h_j``);
    3. each micro-batch is re-encoded with grad and ``sum_i <h_i, sg(h~_i)>`` is back-propagated; the parameter
       gradients accumulate in ``.grad`` and equal the full-batch gradient up to float rounding.

    ``encoders`` is one module/callable used for every input, or a sequence with one per input; ``inputs`` are
    tensors with the batch on dimension 0 (e.g. ``(x1, x2)`` for two views); ``loss_fn`` maps the embeddings to a
    scalar. The RNG state of every micro-batch is replayed in step 3 so dropout masks match (``replay_rng``); layers
    with batch statistics (BatchNorm) see micro-batches, not the full batch, and update running stats twice.
    Costs one extra forward pass. Returns the (detached) full-batch loss. Call ``optimizer.zero_grad()`` before and
    ``optimizer.step()`` after, as for ordinary accumulation.
    """
    inputs = list(inputs)
    if not inputs:
        raise ValueError("inputs is empty")
    if callable(encoders) and not isinstance(encoders, (list, tuple, torch.nn.ModuleList)):
        encoders = [encoders] * len(inputs)
    if len(encoders) != len(inputs):
        raise ValueError(f"got {len(encoders)} encoders for {len(inputs)} inputs")
    if micro_batch_size < 1:
        raise ValueError(f"micro_batch_size must be >= 1, got {micro_batch_size}")
    cuda_devices = []
    if replay_rng and torch.cuda.is_available():
        cuda_devices = sorted({x.device.index or 0 for x in inputs if x.is_cuda})
    chunks = [list(torch.split(x, micro_batch_size)) for x in inputs]
    states: list[list] = []
    cached = []
    with torch.no_grad():
        for enc, xs in zip(encoders, chunks):
            st, hs = [], []
            for x in xs:
                if replay_rng:
                    st.append(_rng_states(cuda_devices))
                hs.append(enc(x))
            states.append(st)
            cached.append(torch.cat(hs).detach().requires_grad_(True))
    with torch.enable_grad():
        loss = loss_fn(*cached)
        grads = torch.autograd.grad(loss, cached, allow_unused=True)
    for idx, (enc, xs) in enumerate(zip(encoders, chunks)):
        g = grads[idx]
        if g is None:
            continue
        for k, (x, g_chunk) in enumerate(zip(xs, torch.split(g, micro_batch_size))):
            if replay_rng:
                cpu, cuda = states[idx][k]
                with torch.random.fork_rng(devices=cuda_devices):
                    torch.set_rng_state(cpu)
                    for d, s in zip(cuda_devices, cuda):
                        torch.cuda.set_rng_state(s, d)
                    h = enc(x)
            else:
                h = enc(x)
            torch.sum(h * g_chunk).backward()
    return loss.detach()


def su_cached_gradient(h: torch.Tensor, targets: torch.Tensor, temperature: float, *,
                       mask_diagonal: bool = False, reduction: str = "sum") -> torch.Tensor:
    """Su's closed form of ``dL/dh`` for ``L = sum_i CE(softmax_j(<h_i, h_j>/tau), targets_i)``.

    ``h~_i = (1/tau) sum_j [(p_ij - t_ij) + (p_ji - t_ji)] h_j`` with ``p`` the row softmax of the (optionally
    diagonal-masked) score matrix and ``t`` the target matrix (rows sum to 1). ``reduction="mean"`` divides by the
    number of rows. Used to check :func:`cached_gradient_accumulation` against the derivation.
    """
    s = h @ h.T / temperature
    if mask_diagonal:
        s = s.masked_fill(torch.eye(len(h), dtype=torch.bool, device=h.device), float("-inf"))
    p = torch.softmax(s, dim=1)
    d = p - targets
    out = (d + d.T) @ h / temperature
    return out / len(h) if reduction == "mean" else out
