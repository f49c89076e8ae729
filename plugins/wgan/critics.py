"""Gradient-normalised critics (GN-GAN, GraN-GAN) as torch modules, with exact double backpropagation and the
Faster-GN gradient-hook fast path for piecewise-linear critics.

With ``f`` the raw critic and ``g = ‖∇ₓ f(x)‖₂`` (per sample, over all input dimensions):

- GN (Wu et al., ICCV 2021; ``basiclab/GNGAN-PyTorch`` ``normalize_gradient``): ``f̂ = f / (g + |f|)``;
- GraN (Bhaskara et al., WACV 2022, as transcribed by Su, kexue.fm/archives/8757): ``f̂ = k·f·g / (g² + ε)``.
  The multiplier ``k`` (default 1) and the default ``ε`` are NOT verified against the paper (see docs/wgan.md).

Per-sample gradients are taken as ``grad(f.sum(), x)``, which is right only when samples do not interact inside
the critic (no BatchNorm in train mode). Import this module only where torch is wanted.
"""

from __future__ import annotations

from typing import Callable

import torch

from auditkit.errors import InputError, UsageError

NORMALIZATIONS = ("none", "gn", "gran")
DEFAULT_GRAN_EPS = 1e-4
"""Default ε of GraN (unverified against the paper): negligible next to g² once g ≳ 0.1 (relative change of f̂
below 1%), while it bounds the blow-up of f·g/(g²+ε) near g = 0 by |f|/(2√ε) = 50·|f|."""


def check_normalization(normalization: str) -> str:
    if normalization not in NORMALIZATIONS:
        raise UsageError(f"unknown normalization {normalization!r}; choose one of: {', '.join(NORMALIZATIONS)}")
    return normalization


def flat_norm(t: torch.Tensor) -> torch.Tensor:
    """Per-sample Euclidean norm over every dimension but the first."""
    return torch.linalg.vector_norm(t.reshape(t.shape[0], -1), dim=1)


def critic_output(critic: Callable, x: torch.Tensor) -> torch.Tensor:
    """The critic's scores as shape (B,); accepts outputs of shape (B,) or (B, 1)."""
    f = critic(x)
    if not isinstance(f, torch.Tensor):
        raise InputError(f"the critic returned {type(f).__name__}, expected a tensor of shape ({x.shape[0]},) "
                         f"or ({x.shape[0]}, 1)")
    if f.dim() == 2 and f.shape[1] == 1:
        f = f[:, 0]
    if f.dim() != 1 or f.shape[0] != x.shape[0]:
        raise InputError(f"the critic returned shape {tuple(f.shape)} for a batch of {x.shape[0]}; expected "
                         f"({x.shape[0]},) or ({x.shape[0]}, 1): one score per sample")
    return f


def _safe_div(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """num/den, and 0 where den == 0 (f = 0 with ∇f = 0); gradients stay finite there."""
    ok = den > 0
    return torch.where(ok, num / torch.where(ok, den, torch.ones_like(den)), torch.zeros_like(num))


def normalize_values(f: torch.Tensor, g: torch.Tensor, normalization: str, eps: float | None = None,
                     k: float = 1.0) -> torch.Tensor:
    """f̂ from the raw score f and the raw gradient norm g (both shape (B,))."""
    if normalization == "none":
        return f
    if normalization == "gn":
        return _safe_div(f, g + f.abs())
    if normalization == "gran":
        eps = DEFAULT_GRAN_EPS if eps is None else eps
        return k * _safe_div(f * g, g * g + eps)
    raise UsageError(f"unknown normalization {normalization!r}; choose one of: {', '.join(NORMALIZATIONS)}")


def normalized_critic(critic: Callable, x: torch.Tensor, normalization: str = "gn", eps: float | None = None,
                      k: float = 1.0, create_graph: bool = True):
    """f̂(x) with exact double backpropagation; returns ``(f_hat, f, g)`` (``g`` is None for ``"none"``).

    ``x`` must require grad (a generator output, or a leaf with ``requires_grad_()``) for the gradient to flow back
    to it; a tensor that does not is replaced by a detached leaf that does. ``create_graph=True`` (training, and
    gradients of f̂) keeps the graph of ∇ₓf so that losses on f̂ differentiate through the gradient norm.
    """
    check_normalization(normalization)
    with torch.enable_grad():
        if normalization == "none":
            f = critic_output(critic, x)
            return f, f, None
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        f = critic_output(critic, x)
        (grad,) = torch.autograd.grad(f.sum(), x, create_graph=create_graph)
        g = flat_norm(grad)
        return normalize_values(f, g, normalization, eps, k), f, g


class GradientNormalizedCritic(torch.nn.Module):
    """Wraps a critic ``f`` so that ``forward(x)`` returns f̂(x), shape (B,), with exact double backpropagation.

    Parameters
    ----------
    critic : torch.nn.Module
        The raw critic; one score per sample. Use it in eval mode (or without BatchNorm) so that per-sample
        gradients are per-sample.
    normalization : {"gn", "gran", "none"}
    eps : float, optional
        GraN's ε (default :data:`DEFAULT_GRAN_EPS`; unverified against the paper). Ignored by GN.
    k : float
        GraN's multiplier (default 1; unverified against the paper). Ignored by GN.
    """

    def __init__(self, critic: torch.nn.Module, normalization: str = "gn", eps: float | None = None,
                 k: float = 1.0):
        super().__init__()
        self.critic = critic
        self.normalization = check_normalization(normalization)
        self.eps = DEFAULT_GRAN_EPS if eps is None else float(eps)
        self.k = float(k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return normalized_critic(self.critic, x, self.normalization, self.eps, self.k, create_graph=True)[0]

    def extra_repr(self) -> str:
        return f"normalization={self.normalization!r}, eps={self.eps}, k={self.k}"


def hooked_generator_loss(critic: Callable, x: torch.Tensor, loss_fn: Callable[[torch.Tensor], torch.Tensor],
                          normalization: str = "gn", eps: float | None = None, k: float = 1.0, gain: float = 1.0):
    """The Faster-GN fast path for the generator step: no double-backward graph.

    Returns ``(surrogate, f)``. Call ``surrogate.backward()``: a hook on ``x`` replaces the incoming gradient
    ``∂surrogate/∂x_i = ∇f_i / B`` (the surrogate is ``f.mean()``, hence the batch-mean factor 1/B) by

        dL/dx_i = ∂L/∂f̂_i · s_i · ∇f_i,   s = g/(g+|f|)² (GN)  or  k·g/(g²+ε) (GraN),

    with ``L = loss_fn(f̂)`` and ``g_i = B·‖∂surrogate/∂x_i‖`` recovered from the incoming gradient itself. This
    equals the double-backprop gradient exactly only when the Hessian of f in x is 0 (ReLU/LeakyReLU critics
    without smooth layers). The gradients this leaves on the critic's own parameters are those of ``f.mean()``:
    use the fast path for the generator step only (critic parameters frozen or their gradients discarded).

    ``gain`` (e.g. 1/accumulation steps) scales the surrogate to ``gain·f.mean()`` and the resulting gradient by the
    same factor. Pass it here instead of multiplying the surrogate afterwards: the hook reads ‖∇f‖ from the incoming
    gradient, so an outside scale would silently change g and hence f̂.
    """
    if not gain > 0:
        raise UsageError(f"gain must be positive, got {gain}")
    check_normalization(normalization)
    if normalization == "none":
        raise UsageError("the gradient-hook fast path is for normalization 'gn' or 'gran', not 'none'")
    if not x.requires_grad:
        raise UsageError("hooked_generator_loss needs x that requires grad (a generator output or a leaf with "
                         "requires_grad_())")
    eps = DEFAULT_GRAN_EPS if eps is None else eps
    f = critic_output(critic, x)
    batch = f.shape[0]
    f_det = f.detach()
    handle = None

    def hook(grad):
        with torch.no_grad():
            g = flat_norm(grad) * (batch / gain)  # undo the 1/B of f.mean() and the gain
        with torch.enable_grad():
            f_hat = normalize_values(f_det, g, normalization, eps, k).detach().requires_grad_(True)
            (dl_dfhat,) = torch.autograd.grad(loss_fn(f_hat), f_hat)
        with torch.no_grad():
            if normalization == "gn":
                scale = _safe_div(g, (g + f_det.abs()) ** 2)
            else:
                scale = k * _safe_div(g, g * g + eps)
            factor = (dl_dfhat * scale * batch).reshape(-1, *([1] * (grad.dim() - 1)))
        handle.remove()  # one backward per forward; do not leak the hook
        return grad * factor

    handle = x.register_hook(hook)
    return f.mean() * gain, f


def input_gradient_double_backprop(critic, x, loss_fn, normalization="gn", eps=None, k=1.0) -> torch.Tensor:
    """dL/dx with L = loss_fn(f̂(x)) through full double backpropagation (the reference for the fast path)."""
    x = x.detach().clone().requires_grad_(True)
    f_hat, _, _ = normalized_critic(critic, x, normalization, eps, k, create_graph=True)
    (grad,) = torch.autograd.grad(loss_fn(f_hat), x)
    return grad


def input_gradient_hook(critic, x, loss_fn, normalization="gn", eps=None, k=1.0) -> torch.Tensor:
    """dL/dx with L = loss_fn(f̂(x)) through the gradient-hook fast path."""
    x = x.detach().clone().requires_grad_(True)
    surrogate, _ = hooked_generator_loss(critic, x, loss_fn, normalization, eps, k)
    (grad,) = torch.autograd.grad(surrogate, x)
    return grad


def fast_path_discrepancy(critic, x, normalization="gn", eps=None, k=1.0, loss_fn=None) -> float:
    """Max |hook − double-backprop| of dL/dx relative to the largest gradient entry; ~1e-16 (float64) for a
    piecewise-linear critic, clearly larger for a smooth one (tanh, softplus) or a train-mode BatchNorm critic."""
    loss_fn = loss_fn or (lambda fh: -fh.mean())
    a = input_gradient_double_backprop(critic, x, loss_fn, normalization, eps, k)
    b = input_gradient_hook(critic, x, loss_fn, normalization, eps, k)
    scale = float(a.abs().max())
    return float((a - b).abs().max()) / (scale if scale > 0 else 1.0)


def values_and_grad_norms(critic, x, normalization="gn", eps=None, k=1.0, batch_size: int = 512):
    """Per sample: f̂(x), ‖∇ₓ f̂(x)‖, raw f(x) and raw ‖∇ₓ f(x)‖, in chunks; all detached, shape (n,)."""
    out = {"f_hat": [], "grad_f_hat": [], "f": [], "grad_f": []}
    for start in range(0, x.shape[0], batch_size):
        xb = x[start:start + batch_size].detach().clone().requires_grad_(True)
        with torch.enable_grad():
            f_hat, f, g = normalized_critic(critic, xb, normalization, eps, k, create_graph=True)
            (gx,) = torch.autograd.grad(f_hat.sum(), xb)
        gh = flat_norm(gx).detach()
        out["f_hat"].append(f_hat.detach())
        out["grad_f_hat"].append(gh)
        out["f"].append(f.detach())
        out["grad_f"].append(gh if g is None else g.detach())
    return {key: torch.cat(vals) for key, vals in out.items()}


def critic_values(critic, x, normalization="gn", eps=None, k=1.0, batch_size: int = 512) -> torch.Tensor:
    """f̂(x) for every row of x, in chunks (no graph kept)."""
    vals = []
    for start in range(0, x.shape[0], batch_size):
        xb = x[start:start + batch_size].detach()
        if normalization == "none":
            with torch.no_grad():
                vals.append(critic_output(critic, xb))
        else:
            vals.append(normalized_critic(critic, xb, normalization, eps, k, create_graph=False)[0].detach())
    return torch.cat(vals)


def adversarial_lipschitz(critic, x0: torch.Tensor, y0: torch.Tensor, normalization="gn", eps=None, k=1.0,
                          steps: int = 100, lr: float | None = None, min_dist: float | None = None) -> dict:
    """Gradient ascent on |f̂(x) − f̂(y)| / ‖x − y‖ from starting pairs (x0[i], y0[i]).

    Each pair is moved independently with Adam on log ratio; ‖x − y‖ is kept at or above ``min_dist`` so that
    floating-point noise cannot fake a large ratio. Returns the best ratio seen and its pair distance. A ratio above
    1 proves that f̂ is not 1-Lipschitz; a discontinuous f̂ (GraN across linear regions) can show large ratios at
    small distances.
    """
    d0 = flat_norm(y0 - x0)
    keep = d0 > 0
    x0, y0, d0 = x0[keep], y0[keep], d0[keep]
    if x0.shape[0] == 0:
        return {"max": None, "distance": None, "min_dist": min_dist, "steps": steps}
    scale = float(d0.median())
    min_dist = min_dist if min_dist is not None else 1e-3 * scale
    lr = lr if lr is not None else 0.02 * scale
    x = x0.detach().clone().requires_grad_(True)
    d = (y0 - x0).detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([x, d], lr=lr)
    best, best_dist = -1.0, None

    def ratio(xx, dd, graph):
        dist = flat_norm(dd)
        fx = normalized_critic(critic, xx, normalization, eps, k, create_graph=graph)[0]
        fy = normalized_critic(critic, xx + dd, normalization, eps, k, create_graph=graph)[0]
        return (fx - fy).abs() / dist, dist

    for step in range(steps + 1):
        with torch.enable_grad():
            r, dist = ratio(x, d, graph=True)
        with torch.no_grad():
            i = int(torch.argmax(r))
            if float(r[i]) > best:
                best, best_dist = float(r[i]), float(dist[i])
        if step == steps:
            break
        opt.zero_grad()
        loss = -torch.log(r + 1e-300).sum()
        loss.backward()
        opt.step()
        with torch.no_grad():  # project back onto ‖d‖ ≥ min_dist
            dn = flat_norm(d).clamp_min(1e-300)
            small = dn < min_dist
            if bool(small.any()):
                d[small] = d[small] * (min_dist / dn[small]).reshape(-1, *([1] * (d.dim() - 1)))
    return {"max": best, "distance": best_dist, "min_dist": min_dist, "steps": steps}
