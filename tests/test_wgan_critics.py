"""GN / GraN critic wrappers and the gradient-hook fast path (auditkit_plugins.wgan.critics).

Golden values: ../shared/reference/techniques.md §1.1 and §1.6 [C], recomputed by hand here: for f(x) = (3,4)·x,
‖∇f‖ = 5, so GN f̂ = f/(5 + |f|) and ‖∇f̂‖ = 5·5/(5 + |f|)² (closed form for piecewise-linear f, §1.1).
"""

from __future__ import annotations

import pytest

import torch

from auditkit.errors import UsageError
from auditkit_plugins.wgan import critics as C

D64 = torch.float64


def linear_critic(w=(3.0, 4.0), bias=0.0):
    lin = torch.nn.Linear(len(w), 1, bias=True).to(D64)
    with torch.no_grad():
        lin.weight[:] = torch.tensor([w], dtype=D64)
        lin.bias.fill_(bias)
    return lin


def relu_mlp(d=5, h=32, seed=0, act=torch.nn.ReLU):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(d, h), act(), torch.nn.Linear(h, h), torch.nn.LeakyReLU(0.2),
                               torch.nn.Linear(h, 1)).to(D64)


POINTS = torch.tensor([[1.0, 1.0], [0.0, 0.0], [-2.0, 1.0]], dtype=D64)


def test_gn_linear_toy_values():
    # techniques.md §1.6: f̂(1,1) = 7/12, ‖∇f̂‖ = 25/144; (0,0): 0 and 1; (−2,1): −2/7 and 25/49
    v = C.values_and_grad_norms(linear_critic(), POINTS, "gn")
    assert v["f_hat"].tolist() == pytest.approx([7 / 12, 0.0, -2 / 7], abs=1e-15)
    assert v["grad_f_hat"].tolist() == pytest.approx([25 / 144, 1.0, 25 / 49], abs=1e-15)
    assert v["grad_f"].tolist() == pytest.approx([5.0, 5.0, 5.0])


def test_gran_linear_toy_values():
    # techniques.md §1.1: GraN with ε → 0 gives f/‖∇f‖ = 1.4, 0, −0.4
    v = C.values_and_grad_norms(linear_critic(), POINTS, "gran", eps=0.0)
    assert v["f_hat"].tolist() == pytest.approx([1.4, 0.0, -0.4], abs=1e-15)
    assert v["grad_f_hat"].tolist() == pytest.approx([1.0, 1.0, 1.0], abs=1e-15)
    # default ε = 1e-4: f·5/(25 + 1e-4); k scales linearly
    d = C.values_and_grad_norms(linear_critic(), POINTS, "gran")["f_hat"]
    assert d[0].item() == pytest.approx(35 / (25 + 1e-4), abs=1e-15)
    k3 = C.values_and_grad_norms(linear_critic(), POINTS, "gran", eps=0.0, k=3.0)["f_hat"]
    assert k3.tolist() == pytest.approx([4.2, 0.0, -1.2], abs=1e-14)


def test_module_wrapper_matches_function():
    crit = C.GradientNormalizedCritic(linear_critic(), "gn")
    out = crit(POINTS.clone().requires_grad_(True))
    assert out.tolist() == pytest.approx([7 / 12, 0.0, -2 / 7], abs=1e-15)
    assert "normalization='gn'" in repr(crit)
    with pytest.raises(UsageError, match="choose one of"):
        C.GradientNormalizedCritic(linear_critic(), "spectral")


def test_gn_properties_on_relu_mlp():
    net = relu_mlp()
    x = 3 * torch.randn(256, 5, dtype=D64)
    v = C.values_and_grad_norms(net, x, "gn")
    assert float(v["f_hat"].abs().max()) < 1.0
    assert float(v["grad_f_hat"].max()) <= 1.0 + 1e-12
    # closed form for piecewise-linear f: ‖∇f̂‖ = g²/(g+|f|)²  (techniques.md §1.1)
    closed = v["grad_f"] ** 2 / (v["grad_f"] + v["f"].abs()) ** 2
    assert torch.allclose(v["grad_f_hat"], closed, atol=1e-14)
    # scale invariance f → 1000 f, and no shift invariance f → f + 5
    scaled = torch.nn.Sequential(net, torch.nn.Linear(1, 1).to(D64))
    with torch.no_grad():
        scaled[1].weight.fill_(1000.0)
        scaled[1].bias.fill_(0.0)
    assert torch.allclose(C.critic_values(scaled, x, "gn"), v["f_hat"], atol=1e-14)
    with torch.no_grad():
        scaled[1].weight.fill_(1.0)
        scaled[1].bias.fill_(5.0)
    assert float((C.critic_values(scaled, x, "gn") - v["f_hat"]).abs().max()) > 0.1


def test_zero_output_zero_gradient_is_finite():
    dead = linear_critic((0.0, 0.0))
    v = C.values_and_grad_norms(dead, POINTS, "gn")
    assert torch.isfinite(v["f_hat"]).all() and v["f_hat"].abs().max() == 0
    assert torch.isfinite(C.values_and_grad_norms(dead, POINTS, "gran", eps=0.0)["f_hat"]).all()


@pytest.mark.parametrize("normalization", ["gn", "gran"])
@pytest.mark.parametrize("batch", [1, 7, 64])
def test_hook_fast_path_equals_double_backprop(normalization, batch):
    net = relu_mlp(seed=batch)
    x = 2 * torch.randn(batch, 5, dtype=D64)
    losses = [lambda fh: -fh.mean(), lambda fh: torch.nn.functional.softplus(-fh).mean(),
              lambda fh: (fh ** 2).sum()]
    for loss in losses:
        a = C.input_gradient_double_backprop(net, x, loss, normalization)
        b = C.input_gradient_hook(net, x, loss, normalization)
        assert torch.allclose(a, b, atol=1e-13, rtol=1e-12)
        assert float(a.abs().max()) > 0


def test_hook_fast_path_generator_parameter_gradients():
    # the use case: the generator step. G's parameter gradients must agree between the two paths.
    torch.manual_seed(1)
    G = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.ReLU(), torch.nn.Linear(16, 5)).to(D64)
    D = relu_mlp(seed=2)
    for p in D.parameters():
        p.requires_grad_(False)
    z = torch.randn(32, 3, dtype=D64)
    loss_fn = lambda fh: -fh.mean()  # noqa: E731
    G.zero_grad()
    f_hat, _, _ = C.normalized_critic(D, G(z), "gn")
    loss_fn(f_hat).backward()
    ref = [p.grad.clone() for p in G.parameters()]
    G.zero_grad()
    surrogate, _ = C.hooked_generator_loss(D, G(z), loss_fn, "gn")
    surrogate.backward()
    for r, p in zip(ref, G.parameters()):
        assert torch.allclose(r, p.grad, atol=1e-14)


def test_hook_gain_for_gradient_accumulation():
    net = relu_mlp(seed=3)
    x = torch.randn(8, 5, dtype=D64)
    loss = lambda fh: -fh.mean()  # noqa: E731
    ref = C.input_gradient_double_backprop(net, x, loss, "gn")
    xx = x.clone().requires_grad_(True)
    surrogate, _ = C.hooked_generator_loss(net, xx, loss, "gn", gain=0.25)
    (grad,) = torch.autograd.grad(surrogate, xx)
    assert torch.allclose(grad, 0.25 * ref, atol=1e-14)
    # scaling the surrogate from outside instead would change the recovered ‖∇f‖ (the pitfall gain avoids)
    xx = x.clone().requires_grad_(True)
    surrogate, _ = C.hooked_generator_loss(net, xx, loss, "gn")
    (bad,) = torch.autograd.grad(0.25 * surrogate, xx)
    assert not torch.allclose(bad, 0.25 * ref, atol=1e-6)


def test_fast_path_detects_smooth_critic():
    x = torch.randn(16, 5, dtype=D64)
    assert C.fast_path_discrepancy(relu_mlp(), x, "gn") < 1e-12
    assert C.fast_path_discrepancy(relu_mlp(act=torch.nn.Tanh), x, "gn") > 1e-3


def test_hook_needs_grad_and_normalization():
    with pytest.raises(UsageError, match="requires grad"):
        C.hooked_generator_loss(relu_mlp(), torch.randn(4, 5, dtype=D64), lambda f: f.mean())
    with pytest.raises(UsageError, match="not 'none'"):
        C.hooked_generator_loss(relu_mlp(), torch.randn(4, 5, dtype=D64, requires_grad=True),
                                lambda f: f.mean(), "none")


def test_critic_output_shape_checked():
    from auditkit.errors import InputError

    with pytest.raises(InputError, match="one score per sample"):
        C.critic_output(torch.nn.Linear(2, 3).to(D64), POINTS)


def test_adversarial_search_never_below_start_and_respects_gn_bound():
    net = relu_mlp()
    x0, y0 = 3 * torch.randn(16, 5, dtype=D64), 3 * torch.randn(16, 5, dtype=D64)
    start = ((C.critic_values(net, x0, "gn") - C.critic_values(net, y0, "gn")).abs() / C.flat_norm(x0 - y0)).max()
    res = C.adversarial_lipschitz(net, x0, y0, "gn", steps=30)
    assert res["max"] >= float(start) - 1e-15
    # GN f̂ jumps where ‖∇f‖ jumps between linear regions (Su 8757), so no bound ≤ 1 is asserted; only finiteness
    assert res["max"] < float("inf") and res["min_dist"] > 0
    # identical pairs are skipped, not divided by zero
    assert C.adversarial_lipschitz(net, x0, x0.clone(), "gn", steps=3)["max"] is None


def test_cpu_float32_close_to_float64():
    net = relu_mlp()
    x = torch.randn(64, 5, dtype=D64)
    v64 = C.values_and_grad_norms(net, x, "gn")
    v32 = C.values_and_grad_norms(net.float(), x.float(), "gn")
    assert torch.allclose(v32["f_hat"].double(), v64["f_hat"], atol=1e-5)
    assert torch.allclose(v32["grad_f_hat"].double(), v64["grad_f_hat"], atol=1e-5)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("normalization", ["gn", "gran"])
def test_cuda_parity(normalization):
    net = relu_mlp()
    x = torch.randn(128, 5, dtype=D64)
    cpu = C.values_and_grad_norms(net, x, normalization)
    gpu = C.values_and_grad_norms(net.cuda(), x.cuda(), normalization)
    for key in cpu:
        assert torch.allclose(cpu[key], gpu[key].cpu(), atol=1e-12)
    a = C.input_gradient_hook(net, x.cuda(), lambda f: -f.mean(), normalization).cpu()
    b = C.input_gradient_double_backprop(net.cpu(), x, lambda f: -f.mean(), normalization)
    assert torch.allclose(a, b, atol=1e-12)


# -- defaults and edge cases the mutation study found untested (issue 17) -------------------------------------------
X3 = torch.tensor([[1.0, 1.0], [0.0, 0.0], [-2.0, 1.0]], dtype=torch.float64)


def test_gran_defaults_are_k_1_and_documented_eps():
    lin = linear_critic()
    f = X3 @ torch.tensor([3.0, 4.0], dtype=torch.float64)
    expect = f * 5 / (25 + C.DEFAULT_GRAN_EPS)                       # k = 1, eps = 1e-4
    assert C.DEFAULT_GRAN_EPS == 1e-4
    assert torch.allclose(C.normalize_values(f, torch.full_like(f, 5.0), "gran"), expect, atol=1e-15)
    assert torch.allclose(C.normalized_critic(lin, X3, "gran")[0].detach(), expect, atol=1e-15)
    mod = C.GradientNormalizedCritic(lin, "gran")
    assert mod.k == 1.0 and mod.eps == 1e-4
    assert torch.allclose(mod(X3).detach(), expect, atol=1e-15)
    net = relu_mlp(d=2)
    x = torch.randn(9, 2, dtype=torch.float64)
    loss = lambda fh: (fh ** 2).mean() - fh.sum()                   # noqa: E731
    ref = C.input_gradient_double_backprop(net, x, loss, "gran", k=1.0)
    xx = x.clone().requires_grad_(True)
    surrogate, _ = C.hooked_generator_loss(net, xx, loss, "gran")   # k and eps left to their defaults
    (g,) = torch.autograd.grad(surrogate, xx)
    assert torch.allclose(g, ref, atol=1e-12)
    assert C.fast_path_discrepancy(net, x, "gran") == pytest.approx(
        C.fast_path_discrepancy(net, x, "gran", eps=1e-4, k=1.0), abs=1e-15)


def test_dead_critic_fast_path_discrepancy_is_zero():
    # f = 0 with grad f = 0: both gradients are 0 (the hook multiplies the incoming zero gradient)
    assert C.fast_path_discrepancy(linear_critic((0.0, 0.0)), X3, "gn") == 0.0


def test_adversarial_search_climbs_to_the_lipschitz_constant():
    # f(x) = sin(3 x_1): Lipschitz constant 3, reached near x_1 = 0 at small distances. Start from pairs whose ratio
    # is small; the search must climb most of the way, never above 3
    crit = lambda x: torch.sin(3 * x[:, 0])                          # noqa: E731
    x0 = torch.tensor([[1.0, 0.0], [-1.2, 0.5]], dtype=torch.float64)
    y0 = torch.tensor([[2.0, 0.3], [-0.2, 0.1]], dtype=torch.float64)
    start = float(((crit(x0) - crit(y0)).abs() / C.flat_norm(x0 - y0)).max())
    res = C.adversarial_lipschitz(crit, x0, y0, normalization="none", steps=200)
    assert start < 1.5 and 2.5 < res["max"] <= 3.0 + 1e-9
    # the same problem 10 times larger (Lipschitz 0.3): the step size follows the pair distances (0.02 x median)
    big = C.adversarial_lipschitz(lambda x: torch.sin(0.3 * x[:, 0]), 10 * x0, 10 * y0, normalization="none",
                                  steps=200)
    assert 0.25 < big["max"] <= 0.3 + 1e-9
    assert res["steps"] == 200 and res["distance"] >= res["min_dist"]
    one = C.adversarial_lipschitz(crit, x0[:1], y0[:1], normalization="none", steps=50)
    assert one["max"] is not None and one["max"] > start / 2
    # zero-distance starting pairs are dropped, never divided by
    dup = C.adversarial_lipschitz(crit, torch.cat([x0, x0[:1]]), torch.cat([y0, x0[:1]]), normalization="none",
                                  steps=5)
    assert dup["max"] is not None and dup["max"] == dup["max"]      # not NaN
    assert C.adversarial_lipschitz(crit, x0[:1], x0[:1], normalization="none", steps=5)["max"] is None


def test_fast_path_discrepancy_is_invariant_to_k():
    # k multiplies both gradients (double backprop and hook) by the same per-sample factor, so the relative mismatch
    # does not depend on it: a smooth critic's mismatch is the same for k = 1 and k = 2 (why the default k of
    # fast_path_discrepancy is listed as an equivalent mutant in docs/mutation.md)
    net = relu_mlp(d=2, act=torch.nn.Tanh)
    x = torch.randn(16, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    one = C.fast_path_discrepancy(net, x, "gran", eps=1e-4, k=1.0)
    assert one > 1e-3
    assert C.fast_path_discrepancy(net, x, "gran", eps=1e-4, k=2.0) == pytest.approx(one, rel=1e-12)


def test_fast_path_discrepancy_value():
    # max |hook - double backprop| / max |double backprop| for a smooth critic whose gradient entries are all of one
    # sign (f = tanh(x.w), w > 0, loss -sum f_hat): the denominator is the largest magnitude, not the largest value
    w = torch.tensor([1.0, 2.0], dtype=torch.float64)
    crit = lambda x: torch.tanh(x @ w)                               # noqa: E731
    x = torch.randn(8, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    loss = lambda fh: -fh.sum()                                      # noqa: E731
    a = C.input_gradient_double_backprop(crit, x, loss, "gn")
    b = C.input_gradient_hook(crit, x, loss, "gn")
    assert float(a.max()) < 0
    expect = float((a - b).abs().max()) / float(a.abs().max())
    assert C.fast_path_discrepancy(crit, x, "gn", loss_fn=loss) == pytest.approx(expect, rel=1e-12)


def test_adversarial_search_projects_close_pairs_to_the_minimum_distance():
    # three pairs start 1e-4 apart with min_dist 0.05: all are pushed back to |x - y| = 0.05 after the first step
    crit = lambda x: torch.sin(3 * x[:, 0])                          # noqa: E731
    x0 = torch.tensor([[0.1, 0.0], [0.5, 1.0], [-0.3, 2.0]], dtype=torch.float64)
    y0 = x0 + torch.tensor([[1e-4, 0.0], [0.0, 1e-4], [1e-4, 1e-4]], dtype=torch.float64)
    res = C.adversarial_lipschitz(crit, x0, y0, normalization="none", steps=3, min_dist=0.05)
    assert res["min_dist"] == 0.05
    assert res["max"] == res["max"] and 0 < res["max"] <= 3.0 + 1e-9


def test_adversarial_search_default_k_is_one():
    # GraN on the linear critic (eps = 0): f_hat = k w.x/|w|, so a pair along w has ratio exactly k
    x0 = torch.tensor([[0.0, 0.0]], dtype=torch.float64)
    y0 = torch.tensor([[0.6, 0.8]], dtype=torch.float64)
    res = C.adversarial_lipschitz(linear_critic(), x0, y0, normalization="gran", eps=0.0, steps=0)
    assert res["max"] == pytest.approx(1.0, abs=1e-12)
    res2 = C.adversarial_lipschitz(linear_critic(), x0, y0, normalization="gran", eps=0.0, k=2.0, steps=0)
    assert res2["max"] == pytest.approx(2.0, abs=1e-12)
