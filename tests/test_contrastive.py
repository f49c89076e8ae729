"""Tests of the contrastive plugin: InfoNCE/FlatNCE losses, exact gradient accumulation, the precision diagnostic
and its CLI.

Oracles: the closed forms of ../shared/reference/techniques.md section 2 (the s_t = 10, fifteen negatives at -10
toy; FlatNCE gradient -1 and 1/15; the official FlatCLR loss written out below from ``Junya-Chen/FlatCLR``
``flatclr.py``), an independent numpy implementation in float64, and exact arithmetic (math.log, math.exp).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from auditkit.cli import cli
from auditkit_plugins.contrastive.diagnose import half_ulp_of_one, run_diagnostic
from auditkit_plugins.contrastive.losses import (
    cached_gradient_accumulation, cosine_scores, flatnce_loss, infonce_loss, su_cached_gradient,
)

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
XI_TOY = 15 * math.exp(-20.0)  # exact xi of the toy, techniques.md 2.4: 3.092e-8


def toy(dtype=torch.float32, k=16):
    return torch.tensor([[10.0] + [-10.0] * (k - 1)], dtype=dtype)


def grads(fn, s, t, **kw):
    x = s.clone().requires_grad_(True)
    out = fn(x, t, reduction="none", **kw)
    out.sum().backward()
    return out.detach(), x.grad


# -- independent numpy reference (float64) -------------------------------------------------------------------------
def np_reference(s, t):
    s = np.asarray(s, dtype=np.float64)
    n, k = s.shape
    rows = np.arange(n)
    d = s - s[rows, t][:, None]
    neg = np.ones_like(s, dtype=bool)
    neg[rows, t] = False
    m = np.where(neg, d, -np.inf).max(axis=1)
    log_xi = m + np.log(np.where(neg, np.exp(d - m[:, None]), 0.0).sum(axis=1))
    info = np.logaddexp(0.0, log_xi)
    g_info = np.where(neg, np.exp(d - info[:, None]), 0.0)
    g_info[rows, t] = -1.0 / (1.0 + np.exp(-log_xi))
    g_flat = np.where(neg, np.exp(d - log_xi[:, None]), 0.0)
    g_flat[rows, t] = -1.0
    return info, g_info, log_xi, g_flat


# -- the toy of techniques.md 2.4 ----------------------------------------------------------------------------------
def test_toy_infonce_underflows_in_float32_not_float64():
    t = torch.tensor([0])
    loss32, g32 = grads(infonce_loss, toy(torch.float32), t)
    assert loss32.item() == 0.0                         # exact value 3.092e-8 is lost
    assert g32[0, 0].item() == 0.0                      # dL/ds_t = p_t - 1 = 0 in float32
    assert g32.sum().item() == pytest.approx(XI_TOY, rel=1e-3)   # gradient no longer sums to zero
    loss64, g64 = grads(infonce_loss, toy(torch.float64), t)
    assert loss64.item() == pytest.approx(math.log1p(XI_TOY), rel=1e-6)
    assert g64[0, 0].item() == pytest.approx(-XI_TOY / (1 + XI_TOY), rel=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_toy_flatnce_gradient_and_values(dtype):
    t = torch.tensor([0])
    v, g = grads(flatnce_loss, toy(dtype), t, value="logsumexp")
    assert v.item() == pytest.approx(math.log(15) - 20, rel=1e-6)      # -17.2920, techniques.md 2.4
    assert g[0, 0].item() == -1.0
    assert torch.allclose(g[0, 1:], torch.full((15,), 1 / 15, dtype=dtype), rtol=1e-6, atol=0)
    val, g2 = grads(flatnce_loss, toy(dtype), t)                         # default: InfoNCE value
    assert val.item() == pytest.approx(XI_TOY, rel=1e-5)                  # accurate even in float32
    assert torch.equal(g, g2)


def test_k4096_float32_infonce_relative_error_and_flatnce_accuracy():
    # techniques.md 2.4: K = 4096, same gap: fp32 loss +1.7% and dL/ds_t +2.4% off (digits depend on reduction order)
    s = toy(torch.float64, k=4096)
    t = torch.tensor([0])
    info, g_info, log_xi, g_flat = np_reference(s.numpy(), t.numpy())
    loss32, g32 = grads(infonce_loss, s.float(), t)
    rel = abs(loss32.item() - info[0]) / info[0]
    assert rel > 1e-3                                   # >> eps_fp32 = 1.2e-7
    assert abs(g32.double().sum().item()) > 1e-3 * abs(g_info[0, 0])
    v32, gf32 = grads(flatnce_loss, s.float(), t, value="logsumexp")
    assert v32.item() == pytest.approx(log_xi[0], rel=1e-6)
    assert np.allclose(gf32.double().numpy(), g_flat, rtol=1e-5, atol=0)


# -- losses against independent references -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,rtol", [(torch.float64, 1e-12), (torch.float32, 2e-5)])
def test_losses_match_numpy_reference(dtype, rtol):
    rng = np.random.default_rng(0)
    s = rng.normal(scale=4.0, size=(37, 23))
    t = rng.integers(0, 23, size=37)
    info, g_info, log_xi, g_flat = np_reference(s, t)
    st_, tt = torch.tensor(s, dtype=dtype), torch.tensor(t)
    li, gi = grads(infonce_loss, st_, tt)
    lf, gf = grads(flatnce_loss, st_, tt, value="logsumexp")
    lv, _ = grads(flatnce_loss, st_, tt)
    atol = rtol * 10
    assert np.allclose(li.double().numpy(), info, rtol=rtol, atol=atol)
    assert np.allclose(gi.double().numpy(), g_info, rtol=rtol, atol=atol)
    assert np.allclose(lf.double().numpy(), log_xi, rtol=rtol, atol=atol)
    assert np.allclose(gf.double().numpy(), g_flat, rtol=rtol, atol=atol)
    assert np.allclose(lv.double().numpy(), info, rtol=rtol, atol=atol)


def official_flatclr_loss(features_pos, features_neg, temperature):
    """Junya-Chen/FlatCLR flatclr.py, written out (techniques.md 2.2): logits = (neg - pos)/tau, v = logsumexp,
    loss = mean(exp(v - v.detach())) - 1 + CE([0 | logits], 0).detach()."""
    logits = (features_neg - features_pos) / temperature
    v = torch.logsumexp(logits, dim=1, keepdim=True)
    loss_vec = torch.exp(v - v.detach())
    dummy = torch.cat([torch.zeros(logits.size(0), 1, dtype=logits.dtype), logits], 1)
    ce = F.cross_entropy(dummy, torch.zeros(logits.size(0), dtype=torch.long))
    return loss_vec.mean() - 1 + ce.detach()


def test_flatnce_matches_official_flatclr_value_and_gradient():
    torch.manual_seed(3)
    sims = torch.rand(64, 31, dtype=torch.float64) * 2 - 1       # cosine similarities, positive in column 0
    a = sims.clone().requires_grad_(True)
    official = official_flatclr_loss(a[:, :1], a[:, 1:], 0.1)
    official.backward()
    b = sims.clone().requires_grad_(True)
    ours = flatnce_loss(b / 0.1, 0)
    ours.backward()
    assert ours.item() == pytest.approx(official.item(), rel=1e-10)   # (neg-pos)/tau vs neg/tau-pos/tau rounding
    assert torch.allclose(a.grad, b.grad, rtol=1e-10, atol=1e-14)
    c = sims.clone().requires_grad_(True)
    F.cross_entropy(c / 0.1, torch.zeros(64, dtype=torch.long)).backward()
    assert ours.item() == pytest.approx(F.cross_entropy(sims / 0.1, torch.zeros(64, dtype=torch.long)).item(),
                                        rel=1e-10)                 # the logged value equals InfoNCE's


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 12), st.integers(1, 6), st.floats(0.1, 30.0), st.integers(0, 10_000))
def test_flatnce_gradient_is_infonce_gradient_scaled(k, n, scale, seed):
    # grad log(1 + xi) = grad xi / (1 + xi) and grad log xi = grad xi / xi (techniques.md 2.2)
    g = torch.Generator().manual_seed(seed)
    s = torch.randn(n, k, generator=g, dtype=torch.float64) * scale
    t = torch.randint(0, k, (n,), generator=g)
    _, gi = grads(infonce_loss, s, t)
    v, gf = grads(flatnce_loss, s, t, value="logsumexp")
    assert torch.allclose(gf.gather(1, t[:, None]), torch.tensor(-1.0, dtype=torch.float64))
    assert torch.allclose(gf.sum(1), torch.zeros(n, dtype=torch.float64), atol=1e-12)
    xi = torch.exp(v)
    expected = gi * ((1 + xi) / xi)[:, None]
    # only rows with xi >= 1e-6: below that, float64 cross_entropy's p_t - 1 itself loses digits (the very effect
    # the diagnostic measures), so the InfoNCE side of the identity is no longer an oracle
    ok = xi >= 1e-6
    assert torch.allclose(gf[ok], expected[ok], rtol=1e-8, atol=1e-12)


def test_batched_shapes_and_reductions():
    torch.manual_seed(0)
    s = torch.randn(3, 4, 9)
    t = torch.randint(0, 9, (3, 4))
    for fn in (infonce_loss, flatnce_loss):
        none = fn(s, t, reduction="none")
        assert none.shape == (3, 4)
        flat = fn(s.reshape(12, 9), t.reshape(12), reduction="none")
        assert torch.allclose(none.reshape(12), flat)
        assert torch.allclose(fn(s, t, reduction="sum"), flat.sum())
        assert torch.allclose(fn(s, t), flat.mean())
    with pytest.raises(ValueError, match="positives has shape"):
        flatnce_loss(s, t[0])
    with pytest.raises(ValueError, match="unknown value"):
        flatnce_loss(s, t, value="bogus")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_losses_run_and_keep_dtype(dtype):
    torch.manual_seed(1)
    s = torch.randn(16, 8, dtype=torch.float64) * 2
    t = torch.randint(0, 8, (16,))
    _, g_ref = grads(flatnce_loss, s, t, value="logsumexp")
    v, g = grads(flatnce_loss, s.to(dtype), t, value="logsumexp")
    assert v.dtype == dtype and g.dtype == dtype
    assert torch.allclose(g.double(), g_ref, atol=2e-2)


# -- exact gradient accumulation -----------------------------------------------------------------------------------
def _encoder(dropout=0.0):
    torch.manual_seed(7)
    return torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Dropout(dropout),
                               torch.nn.Linear(16, 4)).double()


def _symmetric_infonce(h1, h2, tau=0.5):
    s = cosine_scores(h1, h2, tau)
    t = torch.arange(len(h1))
    return infonce_loss(s, t) + infonce_loss(s.T, t)


def test_cached_gradient_accumulation_equals_full_batch_float64():
    # techniques.md 2.5: exact up to float error (reported max |diff| 3.1e-15, N = 12 pairs, 3 micro-batches)
    torch.manual_seed(0)
    x1, x2 = torch.randn(12, 5, dtype=torch.float64), torch.randn(12, 5, dtype=torch.float64)
    enc = _encoder()
    loss_full = _symmetric_infonce(enc(x1), enc(x2))
    loss_full.backward()
    full = [p.grad.clone() for p in enc.parameters()]
    enc.zero_grad()
    loss_acc = cached_gradient_accumulation(enc, (x1, x2), _symmetric_infonce, micro_batch_size=4)
    assert loss_acc.item() == pytest.approx(loss_full.item(), rel=1e-14)
    diff = max((p.grad - f).abs().max().item() for p, f in zip(enc.parameters(), full))
    assert diff < 1e-12
    # with a different (wrong) micro-batch gradient the check would fail: plain accumulation of per-micro-batch
    # losses is NOT the full-batch gradient
    enc.zero_grad()
    for a, b in zip(torch.split(x1, 4), torch.split(x2, 4)):
        _symmetric_infonce(enc(a), enc(b)).backward()
    naive = max((p.grad - f).abs().max().item() for p, f in zip(enc.parameters(), full))
    assert naive > 1e-3


def test_cached_gradient_replays_dropout_masks():
    torch.manual_seed(0)
    x1, x2 = torch.randn(12, 5, dtype=torch.float64), torch.randn(12, 5, dtype=torch.float64)
    enc = _encoder(dropout=0.3)
    torch.manual_seed(123)
    cached_gradient_accumulation(enc, (x1, x2), _symmetric_infonce, micro_batch_size=5)
    acc = [p.grad.clone() for p in enc.parameters()]
    enc.zero_grad()
    torch.manual_seed(123)   # same RNG draws, in the same micro-batch order, but with grad in one graph
    h1 = torch.cat([enc(c) for c in torch.split(x1, 5)])
    h2 = torch.cat([enc(c) for c in torch.split(x2, 5)])
    _symmetric_infonce(h1, h2).backward()
    diff = max((p.grad - a).abs().max().item() for p, a in zip(enc.parameters(), acc))
    assert diff < 1e-12


def test_su_closed_form_equals_autograd_embedding_gradient():
    # Su (kexue.fm/archives/8471): h~_i = (1/tau) sum_j [(p_ij - t_ij) + (p_ji - t_ji)] h_j, SimCSE-style pairs
    # (2i, 2i+1) with the diagonal masked
    torch.manual_seed(2)
    h = torch.randn(10, 6, dtype=torch.float64, requires_grad=True)
    tau = 0.3
    partner = torch.arange(10) ^ 1
    targets = F.one_hot(partner, 10).double()
    s = (h @ h.T / tau).masked_fill(torch.eye(10, dtype=torch.bool), float("-inf"))
    F.cross_entropy(s, partner, reduction="sum").backward()
    closed = su_cached_gradient(h.detach(), targets, tau, mask_diagonal=True)
    assert torch.allclose(closed, h.grad, rtol=1e-12, atol=1e-14)


# -- the diagnostic ------------------------------------------------------------------------------------------------
def test_diagnostic_toy_float32_underflow_not_float64():
    report = run_diagnostic(toy(torch.float64).numpy(), 0, dtypes="float32,float64")
    p = report.summary["precisions"]
    assert p["float32"]["infonce"]["loss_underflow_fraction"] == 1.0
    assert p["float64"]["infonce"]["loss_underflow_fraction"] == 0.0
    assert p["float32"]["infonce"]["grad_sums_to_zero"] is False
    assert p["float32"]["infonce"]["positive_grad_zero_fraction"] == 1.0
    # g32 = (0, e^-20, ...) vs exact (-xi/(1+xi), e^-20/(1+xi), ...): cosine = (1/15)/sqrt(16/15 * 1/15) = 1/4
    assert p["float32"]["infonce"]["min_grad_cosine"] == pytest.approx(0.25, rel=1e-5)
    assert p["float32"]["infonce"]["max_loss_rel_error"] == 1.0
    assert p["float32"]["flatnce"]["min_grad_cosine"] == pytest.approx(1.0, abs=1e-12)
    assert p["float32"]["flatnce"]["max_grad_rel_error"] < 1e-6
    assert p["float32"]["flatnce"]["grad_sums_to_zero"] is True
    assert report.summary["log_k_bound"] == pytest.approx(math.log(16))   # 2.7726, techniques.md 2.3
    sev = {f.column: f.severity for f in report.findings}
    assert sev == {"float32": "error", "float64": "info"}
    assert report.exit_code("error") == 1
    assert "FlatNCE" in report.summary["verdict"]


def test_underflow_fraction_follows_half_ulp_threshold():
    # rows with xi just below / above half-ulp(1) of float32 (2^-24): gap g with 15 e^-g = xi
    xis = [0.25 * 2 ** -24, 0.5 * 2 ** -24, 4 * 2 ** -24, 1e-3]
    rows = [[0.0] + [-math.log(15 / x)] * 15 for x in xis]
    report = run_diagnostic(np.array(rows), 0, dtypes=["float32"])
    frac = report.summary["precisions"]["float32"]["infonce"]["loss_underflow_fraction"]
    assert frac == 0.5
    assert half_ulp_of_one("float32") == 2 ** -24


def test_diagnostic_is_registered_and_cheap_to_import():
    import auditkit

    reg = auditkit.get_registry()
    rec = reg.get("diagnostics", "contrastive-precision")
    report = rec.run(toy(torch.float64).numpy(), 0, dtypes=["float32"])
    assert report.summary["precisions"]["float32"]["infonce"]["loss_underflow_fraction"] == 1.0
    code = ("import sys, auditkit_plugins.contrastive, auditkit_plugins.contrastive.commands;"
            "bad=[m for m in ('torch','matplotlib') if m in sys.modules]; assert not bad, bad")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# -- real embeddings, end to end -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_embeddings():
    """sklearn's digits images (real data): view 2 is the image shifted one pixel; a small MLP is trained with
    InfoNCE (tau 0.05) for a few SGD steps so the positives dominate as they do late in training."""
    from sklearn.datasets import load_digits

    x = torch.tensor(load_digits().data / 16.0, dtype=torch.float32)
    v2 = torch.roll(x.reshape(-1, 8, 8), 1, dims=2).reshape(len(x), -1)
    torch.manual_seed(0)
    enc = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Tanh(), torch.nn.Linear(64, 32))
    g = torch.Generator().manual_seed(1)
    for _ in range(60):  # plain SGD (torch.optim's first step imports torch._dynamo: seconds)
        idx = torch.randperm(len(x), generator=g)[:128]
        loss = infonce_loss(cosine_scores(enc(x[idx]), enc(v2[idx]), 0.05), torch.arange(128))
        enc.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in enc.parameters():
                p -= 0.5 * p.grad
    with torch.no_grad():
        return enc(x[:384]).double().numpy(), enc(v2[:384]).double().numpy()


def np_underflow_fraction(z1, z2, tau, np_dtype):
    """Independent count in numpy: scores cos/tau rounded to the dtype, xi summed in it, 1 + xi == 1."""
    c = (z1 / np.linalg.norm(z1, axis=1, keepdims=True)) @ (z2 / np.linalg.norm(z2, axis=1, keepdims=True)).T
    s = (c / tau).astype(np_dtype)
    d = s - np.diag(s)[:, None]
    np.fill_diagonal(d, -np.inf)
    xi = np.exp(d).sum(axis=1, dtype=np_dtype)
    return float(np.mean(np_dtype(1) + xi == np_dtype(1)))


def test_real_embeddings_end_to_end_cli(tmp_path, digits_embeddings):
    z1, z2 = digits_embeddings
    path = tmp_path / "pairs.npz"
    np.savez(path, z1=z1, z2=z2)
    res = CliRunner().invoke(cli, ["contrastive", "diagnose", str(path), "--temperature", "0.02",
                                   "--dtypes", "float16,bfloat16,float32", "--format", "json"])
    assert res.exit_code in (0, 1), res.output
    out = json.loads(res.output)
    s = out["summary"]
    assert s["input"] == "embeddings" and s["n_rows"] == 384 and s["n_candidates"] == 384
    assert s["log_k_bound"] == pytest.approx(math.log(384))
    for dt in ("float16", "bfloat16", "float32"):
        assert set(s["precisions"][dt]) == {"infonce", "flatnce"}
    # the float32 fraction agrees with an independent numpy computation (up to reduction-order ties)
    frac32 = np_underflow_fraction(z1, z2, 0.02, np.float32)
    assert abs(s["precisions"]["float32"]["infonce"]["loss_underflow_fraction"] - frac32) <= 2 / 384
    frac16 = np_underflow_fraction(z1, z2, 0.02, np.float16)
    assert abs(s["precisions"]["float16"]["infonce"]["loss_underflow_fraction"] - frac16) <= 4 / 384
    # the trained encoder puts some rows in the float16/bfloat16 danger zone at tau 0.02, and FlatNCE's gradient
    # stays far more accurate there than InfoNCE's
    worst = max(s["precisions"][dt]["infonce"]["loss_underflow_fraction"] for dt in ("float16", "bfloat16"))
    assert worst > 0
    assert out["findings"] and {f["check"] for f in out["findings"]} == {"contrastive-precision"}
    bf = s["precisions"]["bfloat16"]
    assert bf["flatnce"]["min_grad_cosine"] > bf["infonce"]["min_grad_cosine"]
    assert res.exit_code == (1 if any(f["severity"] == "error" for f in out["findings"]) else 0)


def test_sweep_table_heatmap_and_html(tmp_path, digits_embeddings):
    z1, z2 = digits_embeddings
    np.save(tmp_path / "z1.npy", z1)
    torch.save(torch.tensor(z2), tmp_path / "z2.pt")
    plot = tmp_path / "zone.png"
    html = tmp_path / "report.html"
    res = CliRunner().invoke(cli, ["contrastive", "diagnose", "--z1", str(tmp_path / "z1.npy"), "--z2",
                                   str(tmp_path / "z2.pt"), "--dtypes", "bfloat16,float32", "--sweep",
                                   "--sweep-temperatures", "0.02,0.1,1", "--sweep-batch-sizes", "16,128,4096",
                                   "--sweep-rows", "128", "--plot", str(plot), "--format", "html", "-o", str(html)])
    assert res.exit_code in (0, 1), res.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = html.read_text()
    assert "data:image/png;base64," in text and "danger zone" in text
    report = run_diagnostic(z1=z1, z2=z2, dtypes="bfloat16", do_sweep=True, sweep_temperatures=[0.02, 1.0],
                            sweep_batch_sizes=[16, 128], sweep_rows=128)
    rows = report.tables["danger zone (sweep)"]
    assert len(rows) == 4 and report.summary["sweep"]["batch_sizes"] == [16, 128]
    frac = {(r["temperature"], r["batch_size"]): r["loss_underflow_fraction"] for r in rows}
    # at tau = 1 the score gap is at most 2, so xi >= (B - 1) e^-2 > half-ulp: no underflow possible
    assert frac[(1.0, 16)] == 0 and frac[(1.0, 128)] == 0
    # lowering the temperature can only widen gaps: the danger zone is at low tau and small batch
    assert frac[(0.02, 16)] >= frac[(0.02, 128)] and frac[(0.02, 16)] > 0


# -- CLI input handling --------------------------------------------------------------------------------------------
def invoke(*args):
    return CliRunner().invoke(cli, ["contrastive", "diagnose", *map(str, args)])


def test_cli_toy_json_and_exit_code(tmp_path):
    np.save(tmp_path / "toy.npy", toy(torch.float64).numpy())
    res = invoke(tmp_path / "toy.npy", "--positive-index", "0", "--dtypes", "float32,float64", "--format", "json")
    assert res.exit_code == 1
    p = json.loads(res.output)["summary"]["precisions"]
    assert p["float32"]["infonce"]["loss_underflow_fraction"] == 1.0
    assert p["float64"]["infonce"]["loss_underflow_fraction"] == 0.0
    res = invoke(tmp_path / "toy.npy", "--positive-index", "0", "--dtypes", "float64")
    assert res.exit_code == 0 and "no underflow" in res.output


def test_cli_positives_file_and_formats(tmp_path):
    from safetensors.torch import save_file

    rng = np.random.default_rng(5)
    s = rng.normal(size=(6, 10))
    pos = np.array([3, 1, 4, 1, 5, 9])
    save_file({"scores": torch.tensor(s)}, str(tmp_path / "s.safetensors"))
    torch.save(torch.tensor(pos), tmp_path / "pos.pt")
    res = invoke(tmp_path / "s.safetensors", "--positives", tmp_path / "pos.pt", "--dtypes", "float32",
                 "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    info, _, _, _ = np_reference(s, pos)
    assert out["summary"]["reference"]["infonce_mean_loss"] == pytest.approx(info.mean(), rel=1e-12)
    assert set(out["provenance"]["inputs"]) == {"scores", "positives"}
    for fmt in ("table", "markdown", "csv"):
        assert invoke(tmp_path / "s.safetensors", "--positives", tmp_path / "pos.pt", "--dtypes", "float32",
                      "--format", fmt).exit_code == 0


@pytest.mark.parametrize("setup,args,message", [
    ("json", ["{d}/s.json"], "unsupported file type '.json'"),
    ("rect", ["{d}/r.npy"], "not square"),
    ("rect", ["{d}/r.npy", "--positive-index", "7"], "outside the 5 columns"),
    ("rect", ["{d}/r.npy", "--positives", "{d}/badpos.npy"], "positive index 9 at row 1"),
    ("rect", ["{d}/r.npy", "--positive-index", "0", "--plot", "{d}/x.png"], "add --sweep"),
    ("rect", ["{d}/r.npy", "--positive-index", "0", "--sweep", "--plot", "{d}/x.jpg"], ".png or .svg"),
    ("rect", ["{d}/r.npy", "--positive-index", "0", "--dtypes", "float8"], "unknown dtype 'float8'"),
    ("nan", ["{d}/nan.npy"], "non-finite value at row 0, column 1"),
    ("none", [], "give a SCORES file"),
    ("pickle", ["{d}/obj.pt"], "cannot be read as .pt"),
])
def test_cli_bad_input_exit_2(tmp_path, setup, args, message):
    d = tmp_path
    (d / "s.json").write_text("[[1, 2], [3, 4]]\n")
    np.save(d / "r.npy", np.zeros((3, 5)))
    np.save(d / "badpos.npy", np.array([0, 9, 1]))
    np.save(d / "nan.npy", np.array([[0.0, np.nan], [1.0, 2.0]]))
    torch.save({"x": object()}, d / "obj.pt")
    res = invoke(*[a.format(d=d) for a in args])
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert not (d / "x.png").exists()


def test_cli_svg_plot(tmp_path):
    np.save(tmp_path / "toy.npy", toy(torch.float64).numpy())
    res = invoke(tmp_path / "toy.npy", "--positive-index", "0", "--dtypes", "float32", "--sweep",
                 "--sweep-temperatures", "0.5,1,2", "--sweep-batch-sizes", "4,16", "--plot", tmp_path / "z.svg")
    assert res.exit_code == 1
    assert b"<svg" in (tmp_path / "z.svg").read_bytes()[:2000]


# -- CUDA parity ---------------------------------------------------------------------------------------------------
@CUDA
def test_cuda_losses_match_cpu():
    torch.manual_seed(0)
    s = torch.randn(64, 33, dtype=torch.float64) * 5
    t = torch.randint(0, 33, (64,))
    for fn, kw in ((infonce_loss, {}), (flatnce_loss, {"value": "logsumexp"}), (flatnce_loss, {})):
        for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
            lc, gc = grads(fn, s.to(dtype), t, **kw)
            lg, gg = grads(fn, s.to(dtype).cuda(), t.cuda(), **kw)
            assert torch.allclose(lc.double(), lg.cpu().double(), rtol=tol, atol=tol)
            assert torch.allclose(gc.double(), gg.cpu().double(), rtol=tol, atol=tol)


@CUDA
def test_cuda_diagnostic_matches_cpu():
    rows = [[10.0] + [-10.0] * 15, [0.0] + [-3.0] * 15]
    cpu = run_diagnostic(np.array(rows), 0, dtypes="float32,float64").summary["precisions"]
    gpu = run_diagnostic(np.array(rows), 0, dtypes="float32,float64", device="cuda").summary["precisions"]
    for dt in ("float32", "float64"):
        for loss in ("infonce", "flatnce"):
            assert cpu[dt][loss]["loss_underflow_fraction"] == gpu[dt][loss]["loss_underflow_fraction"]
            assert cpu[dt][loss]["min_grad_cosine"] == pytest.approx(gpu[dt][loss]["min_grad_cosine"], abs=1e-5)


# -- edge cases and thresholds that the mutation study found untested (issue 17) ------------------------------------
def test_cached_gradient_accumulation_micro_batch_of_one():
    torch.manual_seed(0)
    x1, x2 = torch.randn(6, 5, dtype=torch.float64), torch.randn(6, 5, dtype=torch.float64)
    enc = _encoder()
    _symmetric_infonce(enc(x1), enc(x2)).backward()
    full = [p.grad.clone() for p in enc.parameters()]
    enc.zero_grad()
    cached_gradient_accumulation(enc, (x1, x2), _symmetric_infonce, micro_batch_size=1)
    assert max((p.grad - f).abs().max().item() for p, f in zip(enc.parameters(), full)) < 1e-12
    with pytest.raises(ValueError, match="micro_batch_size"):
        cached_gradient_accumulation(enc, (x1, x2), _symmetric_infonce, micro_batch_size=0)


def test_flatnce_with_a_single_negative():
    # K = 2: v = s_neg - s_t exactly, gradient (-1, +1); K = 1 has no negative and is refused
    s = torch.tensor([[1.5, -0.25]], dtype=torch.float64, requires_grad=True)
    v = flatnce_loss(s, 0, value="logsumexp")
    v.backward()
    assert v.item() == pytest.approx(-1.75, abs=1e-15)
    assert s.grad.tolist() == [[-1.0, 1.0]]
    with pytest.raises(ValueError, match="negative"):
        flatnce_loss(torch.zeros(3, 1), 0)


def test_zero_reference_loss_and_zero_gradients_are_exact():
    # v = log xi = 0 exactly for [0, 0] (xi = 1): relative error 0, not 0/0; a gap of 800 makes every float64
    # gradient underflow to 0 in the reference and in float32: cosine 1 (both zero), errors 0
    rep = run_diagnostic(np.array([[0.0, 0.0]]), 0, dtypes=["float32"])
    flat = rep.summary["precisions"]["float32"]["flatnce"]
    assert flat["max_loss_rel_error"] == 0.0
    rep = run_diagnostic(np.array([[800.0, 0.0]]), 0, dtypes=["float32"])
    info = rep.summary["precisions"]["float32"]["infonce"]
    assert info["min_grad_cosine"] == 1.0 and info["max_grad_rel_error"] == 0.0
    assert info["max_grad_sum_rel_error"] == 0.0 and info["positive_grad_zero_fraction"] == 1.0


def test_severity_thresholds():
    from auditkit_plugins.contrastive.diagnose import severity_of

    def m(under=0.0, cos=1.0, sums=True):
        return {"infonce": {"loss_underflow_fraction": under, "min_grad_cosine": cos, "grad_sums_to_zero": sums}}

    assert severity_of(m()) == "info"
    assert severity_of(m(under=0.01)) == "error"           # >= 1% of rows underflow
    assert severity_of(m(under=0.009)) == "warning"        # some rows
    assert severity_of(m(cos=0.8999)) == "error"           # cosine below 0.9
    assert severity_of(m(cos=0.9)) == "warning"            # 0.9 <= cosine < 0.99
    assert severity_of(m(cos=0.99)) == "info"
    assert severity_of(m(cos=0.9899)) == "warning"
    assert severity_of(m(sums=False)) == "warning"


def test_loss_relative_errors_are_small_or_infinite_as_documented():
    # the toy in float32: FlatNCE's v = ln 15 - 20 survives rounding (relative error ~1e-8)
    p = run_diagnostic(toy(torch.float64).numpy(), 0, dtypes=["float32"]).summary["precisions"]["float32"]
    assert 0 < p["flatnce"]["max_loss_rel_error"] < 1e-6
    # a reference loss of exactly 0 (v = logsumexp(-1, -1) - (log 2 - 1) = 0 in float64) with a rounded value that
    # is not 0 (float16 rounds the scores): relative error infinite, not err / 1e-300
    rep = run_diagnostic(np.array([[math.log(2) - 1, -1.0, -1.0]]), 0, dtypes=["float16"])
    assert rep.summary["reference"]["flatnce_mean_loss"] == 0.0
    assert rep.summary["precisions"]["float16"]["flatnce"]["max_loss_rel_error"] == math.inf


def test_toy_gradient_metrics_closed_form():
    # s_t = 10, 15 negatives at -10: the float32 InfoNCE gradient keeps p_i = e^-20/(1 + xi) on the negatives but
    # loses the positive's -xi/(1 + xi): g = (0, p, ..., p), g_ref = (-15p, p, ..., p), so the relative error is
    # 15p / (p sqrt(240)) = 1/sqrt(1 + 1/15) = 0.968246 and the cosine 15/(sqrt(15) sqrt(240)) = 1/4
    p = run_diagnostic(toy(torch.float64).numpy(), 0, dtypes=["float32", "float16"]).summary["precisions"]
    assert p["float32"]["infonce"]["max_grad_rel_error"] == pytest.approx(1 / math.sqrt(1 + 1 / 15), rel=1e-6)
    assert p["float32"]["infonce"]["min_grad_cosine"] == pytest.approx(0.25, rel=1e-6)
    # float16: e^-20 underflows to 0 as well, the whole gradient is 0 while the reference is not: cosine 0
    assert p["float16"]["infonce"]["min_grad_cosine"] == 0.0
    assert p["float16"]["infonce"]["max_grad_rel_error"] == pytest.approx(1.0)


def test_reference_means_and_cosine_scores():
    rep = run_diagnostic(toy(torch.float64).numpy(), 0, dtypes=["float32"])
    ref = rep.summary["reference"]
    assert ref["flatnce_mean_loss"] == pytest.approx(math.log(15) - 20, abs=1e-12)        # v = log xi
    assert ref["infonce_mean_loss"] == pytest.approx(math.log1p(15 * math.exp(-20)), rel=1e-12)
    # cos(z1_i, z2_j) / tau for non-square inputs, against numpy
    rng = np.random.default_rng(0)
    z1, z2 = rng.normal(size=(5, 3)), rng.normal(size=(4, 3))
    expect = (z1 / np.linalg.norm(z1, axis=1, keepdims=True)) @ (z2 / np.linalg.norm(z2, axis=1, keepdims=True)).T
    np.testing.assert_allclose(cosine_scores(torch.as_tensor(z1), torch.as_tensor(z2), 0.1).numpy(), expect / 0.1,
                               rtol=1e-12)
