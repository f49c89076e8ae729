"""Tests for the techniques plugin: CAN, BERT-whitening, the brief techniques, the claims runner and the CLI.

Golden values are from the technique reference notes (shared/reference/techniques.md §3-§5), which computed them
independently from the formulas in Su's posts and the official repositories (KMnP/can, bojone/BERT-whitening);
each is named where used.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import auditkit
from auditkit.cli import cli
from auditkit.errors import DomainError, InputError, UsageError
from auditkit_plugins.techniques import can as canmod
from auditkit_plugins.techniques.can import can, can_reference, prior_from_labels, topk_entropy
from auditkit_plugins.techniques.claims import compare_values, evaluate_claim, run_claims
from auditkit_plugins.techniques.whitening import (Whitening, compute_kernel_bias, streaming_moments,
                                                   transform_and_normalize)

TOY2 = np.array([[.90, .05, .05], [.85, .10, .05], [.10, .85, .05], [.40, .25, .35], [.34, .33, .33]])


# -- CAN -----------------------------------------------------------------------------------------------------------
def test_can_toy1():
    # reference §3.3 toy 1 (Su's intuition): doubtful [0.5, 0.5] -> [0.725, 0.275]; uncertainties 0.286397, 1.0
    r = can(np.array([[0.05, 0.95], [0.5, 0.5]]), "uniform", k=2, threshold=0.9)
    np.testing.assert_allclose(r.uncertainty, [0.286397, 1.0], atol=1e-6)
    np.testing.assert_allclose(r.probs[1], [0.725, 0.275], atol=1e-12)
    np.testing.assert_array_equal(r.probs[0], [0.05, 0.95])


@pytest.mark.parametrize("kw, rows", [
    ({}, [[0.164948, 0.185567, 0.649485], [0.142318, 0.227451, 0.630230]]),
    ({"alpha": 2}, [[0.084312, 0.070309, 0.845379], [0.061462, 0.113762, 0.824776]]),
    ({"iters": 50}, [[0.106544, 0.195762, 0.697694], [0.091340, 0.235974, 0.672687]]),
])
def test_can_toy2(kw, rows):
    # reference §3.3 toy 2 (computed there with Su's code; the official RSA V1 agrees)
    r = can(TOY2, "uniform", k=3, threshold=0.9, **kw)
    np.testing.assert_allclose(r.uncertainty, [0.358996, 0.471673, 0.471673, 0.983539, 0.999909], atol=1e-6)
    np.testing.assert_array_equal(r.doubtful, [False, False, False, True, True])
    np.testing.assert_allclose(r.probs[3:], rows, atol=1e-6)
    assert list(r.probs.argmax(1)[3:]) == [2, 2]


@pytest.mark.parametrize("alpha, iters", [(1.0, 1), (2.0, 1), (0.5, 1), (1.0, 2), (2.0, 3), (0.3, 5), (3.0, 6)])
def test_can_matches_per_sample_loop(alpha, iters):
    # independent oracle: Su's per-sample loop (can_reference), run row by row
    rng = np.random.default_rng(int(alpha * 10) + iters)
    p = rng.dirichlet(np.full(9, 0.4), size=400)
    prior = rng.dirichlet(np.ones(9))
    fast = can(p, prior, threshold=0.6, alpha=alpha, iters=iters, chunk_elems=997).probs
    with np.errstate(all="ignore"):
        ref = can_reference(p, prior, threshold=0.6, alpha=alpha, iters=iters)
    np.testing.assert_allclose(fast, ref, rtol=1e-9, atol=1e-12)


def test_can_dense_fallback_equals_loop():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.full(5, 0.5), size=60)
    u = topk_entropy(p, 3)
    a0, b = p[u < 0.7], p[u >= 0.7]
    dense = canmod._correct_dense(a0, b, np.full(5, 0.2), 1.7, 4)
    ref = can_reference(p, np.full(5, 0.2), threshold=0.7, alpha=1.7, iters=4)[u >= 0.7]
    np.testing.assert_allclose(dense, ref, rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(2, 12), thr=st.floats(0.3, 0.99), iters=st.integers(1, 3))
def test_can_properties(seed, m, thr, iters):
    # reference §3.3 property tests: confident rows never modified; each output row sums to 1
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(m, 0.5), size=50)
    r = can(p, rng.dirichlet(np.ones(m)), threshold=thr, iters=iters)
    np.testing.assert_array_equal(r.probs[~r.doubtful], p[~r.doubtful])
    np.testing.assert_allclose(r.probs.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(r.doubtful[r.changed(p)])


def test_can_identity_when_prior_is_column_mean():
    # reference §3.3: prior = column mean of [A0; b] with alpha = 1 leaves b unchanged
    a0, b = TOY2[:3], TOY2[3]
    x = np.vstack([a0, b])
    out = can(x, x.mean(axis=0), threshold=0.9).probs[-1]
    np.testing.assert_allclose(out, b, atol=1e-15)


def test_topk_entropy_zero_probabilities_and_any_k():
    p = np.array([[1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.0, 0.0]])
    np.testing.assert_allclose(topk_entropy(p, 3), [0.0, np.log(2) / np.log(3)])
    # official rule: doubtful if the top-j entropy is high for ANY j in 2..k; [0.5, 0.5] has top-2 entropy 1
    np.testing.assert_allclose(canmod.uncertainty(p, 3, "any-k"), [0.0, 1.0])
    assert can(p, "uniform", threshold=0.9, mode="any-k").doubtful.tolist() == [False, True]
    assert can(p, "uniform", threshold=0.9, mode="su").doubtful.tolist() == [False, False]


def test_can_bad_input():
    with pytest.raises(DomainError, match="sums to"):
        can(np.array([[0.5, 0.6]]))
    with pytest.raises(DomainError, match="logits"):
        can(np.array([[1.5, -0.5]]))
    with pytest.raises(InputError, match="3 values but the probabilities have 2"):
        can(np.array([[0.5, 0.5]]), [0.2, 0.3, 0.5])
    with pytest.raises(UsageError, match="alpha"):
        can(np.array([[0.5, 0.5]]), alpha=0)
    with pytest.raises(InputError, match="2-D"):
        can(np.array([0.5, 0.5]))


def test_prior_from_labels():
    np.testing.assert_allclose(prior_from_labels([0, 0, 1, 2], 4), [0.5, 0.25, 0.25, 0.0])


# -- whitening -----------------------------------------------------------------------------------------------------
def _aniso(n=5000, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(8, 8))
    return rng.normal(size=(n, 8)) @ a + 3


def test_whitening_identity_covariance():
    # reference §4.3: max |cov(Y) - I| ~ 1e-14, max |mean(Y)| ~ 3e-14 (np.cov convention)
    w = Whitening().fit(_aniso())
    y = w.transform(_aniso())
    assert np.max(np.abs(np.cov(y.T) - np.eye(8))) < 1e-10
    assert np.max(np.abs(y.mean(axis=0))) < 1e-10
    assert np.all(np.diff(w.singular_values_) <= 0)
    y3 = Whitening(n_components=3).fit_transform(_aniso())
    assert y3.shape == (5000, 3)
    assert np.max(np.abs(np.cov(y3.T) - np.eye(3))) < 1e-10


def test_whitening_matches_official_cosines():
    # the official compute_kernel_bias / transform_and_normalize; W is unique up to column signs, so compare cosines
    x = _aniso(1000, 1)
    kernel, bias = compute_kernel_bias(x, 5)
    ref = transform_and_normalize(x, kernel, bias)
    ours = Whitening(n_components=5, normalize=True).fit_transform(x)
    np.testing.assert_allclose(ours @ ours.T, ref @ ref.T, atol=1e-10)
    # ddof=0 differs by the scalar sqrt(N/(N-1)) before normalization
    y1, y0 = Whitening(ddof=1).fit_transform(x), Whitening(ddof=0).fit_transform(x)
    np.testing.assert_allclose(y0 / y1, np.sqrt(1000 / 999), rtol=1e-10)


def test_whitening_streaming_equals_batch_and_su_recursion():
    x = _aniso(2000, 2)
    full = Whitening().fit(x)
    stream = Whitening().fit_stream(np.array_split(x, 9))
    np.testing.assert_allclose(stream.covariance_, full.covariance_, atol=1e-10)
    np.testing.assert_allclose(stream.mean_, full.mean_, atol=1e-12)
    mu, sigma, n = streaming_moments([x[:300], x[300:600]])
    assert n == 600
    np.testing.assert_allclose(sigma, np.cov(x[:600].T, ddof=0), atol=1e-10)
    np.testing.assert_allclose(mu, x[:600].mean(axis=0), atol=1e-12)


def test_whitening_rotation_invariance_of_cosines():
    # reference §4.3: cosine is unchanged by an orthogonal rotation of the whitened space
    y = Whitening(normalize=True).fit_transform(_aniso(500, 3))
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(8, 8)))
    np.testing.assert_allclose((y @ q) @ (y @ q).T, y @ y.T, atol=1e-12)


def test_whitening_errors():
    x = np.random.default_rng(0).normal(size=(50, 2)) @ np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 1.0]])
    with pytest.raises(InputError, match="rank 2"):
        Whitening().fit(x).transform(x)
    assert Whitening(n_components=2).fit(x).transform(x).shape == (50, 2)
    with pytest.raises(UsageError, match="not fitted"):
        Whitening().transform(x)
    with pytest.raises(InputError, match="dimensions"):
        Whitening().fit(_aniso(100)).transform(x)


# -- brief items ---------------------------------------------------------------------------------------------------
def test_taylor_softmax_golden():
    from auditkit_plugins.techniques.taylor_softmax import taylor_exp, taylor_exp_minimum, taylor_softmax

    # reference §5.4: k=2 -> [0.25, 0.5, 0.25] exactly; k=4 -> [0.244361, 0.631579, 0.124060]
    np.testing.assert_allclose(taylor_softmax(np.array([1.0, 2.0, -3.0]), 2), [0.25, 0.5, 0.25], atol=1e-15)
    np.testing.assert_allclose(taylor_softmax(np.array([1.0, 2.0, -3.0]), 4), [0.244361, 0.631579, 0.124060],
                               atol=1e-6)
    for k, (fmin, at) in {2: (0.5, -1.0), 4: (0.27039, -1.596), 6: (0.14932, -2.181), 8: (0.08327, -2.759)}.items():
        got, x = taylor_exp_minimum(k)
        assert abs(got - fmin) < 1e-5 and abs(x - at) < 1e-3
    assert taylor_exp(-10.0, 3) == pytest.approx(-125.6666667)
    with pytest.raises(UsageError, match="even"):
        taylor_softmax(np.zeros(3), 3)


def test_taylor_softmax_torch_parity():
    import torch
    from auditkit.backend import get_backend
    from auditkit_plugins.techniques.performer import favor_features, gaussian_features
    from auditkit_plugins.techniques.taylor_softmax import taylor_softmax

    ctx = get_backend("torch", "cpu")
    x = np.random.default_rng(0).normal(size=(7, 11)) * 3
    got = ctx.to_numpy(taylor_softmax(ctx.asarray(x), 4))
    np.testing.assert_allclose(got, taylor_softmax(x, 4), rtol=1e-12)
    w = gaussian_features(16, 11, 0)
    np.testing.assert_allclose(ctx.to_numpy(favor_features(ctx.asarray(x / 5), w)), favor_features(x / 5, w),
                               rtol=1e-12)
    assert isinstance(taylor_softmax(ctx.asarray(x), 2), torch.Tensor)


def test_mitchell_golden():
    from auditkit_plugins.techniques.mitchell import mitchell_multiply, relative_error

    # reference §5.1: 1.5x1.5 -> 2.0, 3x3 -> 8, 12.3x4.56 -> 53.625 (7 bits) / 53.68; max error 1/9
    assert mitchell_multiply(1.5, 1.5) == 2.0 and mitchell_multiply(3, 3) == 8.0
    assert mitchell_multiply(12.3, 4.56, frac_bits=7) == pytest.approx(53.625, abs=1e-12)
    assert mitchell_multiply(12.3, 4.56) == pytest.approx(53.68, abs=1e-9)
    assert relative_error(1.5, 1.5) == pytest.approx(1 / 9)
    x = np.random.default_rng(0).uniform(0.01, 100, size=(2, 10000))
    e = relative_error(x[0], x[1])
    assert e.min() >= 0 and e.max() <= 1 / 9 + 1e-12


def test_eg_step_and_repeated_softmax_and_jl():
    from auditkit_plugins.techniques.exp_gradient import eg_step
    from auditkit_plugins.techniques.jl import entropy_min_dim, jl_min_dim
    from auditkit_plugins.techniques.repeated_softmax import max_deviation_from_uniform, repeated_softmax

    # reference §5.8: [0.186324, 0.307196, 0.506480]
    np.testing.assert_allclose(eg_step(np.full(3, 1 / 3), [1, 0, -1], 0.5), [0.186324, 0.307196, 0.506480],
                               atol=1e-6)
    # reference §5.6: [1, 100] -> [0, 1] after one step; 8.8e-4 after 10; [1,2,3,4] 1.8e-3 after 5
    np.testing.assert_allclose(repeated_softmax([1.0, 100.0], 1), [0, 1], atol=1e-40)
    assert max_deviation_from_uniform([1.0, 100.0], 10) == pytest.approx(8.8e-4, abs=5e-6)
    assert max_deviation_from_uniform([1.0, 2.0, 3.0, 4.0], 5) == pytest.approx(1.8e-3, abs=2e-5)
    # reference §5.3: 22,105 for N=1e4, eps=0.1; 95.9 for 1e5; 128.5 for 5e6
    assert jl_min_dim(1e4, 0.1) == pytest.approx(22105, abs=1)
    assert entropy_min_dim(1e5) == pytest.approx(95.9, abs=0.05)
    assert entropy_min_dim(5e6) == pytest.approx(128.5, abs=0.05)


def test_flooding_and_attention_scale():
    from auditkit_plugins.techniques.attention_scale import entropy_invariant_scale
    from auditkit_plugins.techniques.flooding import descent_ascent_displacement, flood

    # reference §5.7: displacement (-1e-4, 1.8e-3) = -eps^2 A^2 theta
    np.testing.assert_allclose(descent_ascent_displacement(np.diag([1.0, 3.0]), [1.0, -2.0], 0.01),
                               [-1e-4, 1.8e-3], atol=1e-15)
    assert flood(0.01, 0.025) == pytest.approx(0.04)
    # reference §5.5: d=64 -> 0.08333, 0.125, 0.16667
    np.testing.assert_allclose(entropy_invariant_scale([64, 512, 4096], 64), [1 / 12, 1 / 8, 1 / 6])


# -- claims runner -------------------------------------------------------------------------------------------------
def test_compare_values():
    assert compare_values([1.0, 2.0], [1.0, 2.05], 0.1, "close")
    assert not compare_values([1.0, 2.0], [1.0, 2.5], 0.1, "close")
    assert compare_values(0.3, 0.5, 0.0, "le") and not compare_values(0.6, 0.5, 0.05, "le")
    assert compare_values(0.46, 0.5, 0.05, "ge") and not compare_values(0.4, 0.5, 0.05, "ge")
    assert compare_values(True, None, 0, "true") and not compare_values(False, None, 0, "true")
    assert not compare_values(float("nan"), 0.0, 1.0, "close")
    with pytest.raises(UsageError):
        compare_values(1, 1, 0, "approx")


def test_evaluate_claim_fail_and_error():
    bad = auditkit.Claim("x.fails", "one is two", "test", lambda: 1.0, 2.0, 0.1)
    r = evaluate_claim(bad, "x")
    assert r.status == "fails" and r.measured == 1.0

    def boom():
        raise RuntimeError("no data")

    r = evaluate_claim(auditkit.Claim("x.err", "s", "test", boom), "x")
    assert r.status == "error" and "no data" in r.error
    r = evaluate_claim(auditkit.Claim("x.ev", "s", "t", lambda: {"value": 3, "n": 7}, 3, 0), "x")
    assert r.holds and r.evidence == {"n": 7}


def test_run_claims_report_uses_registry_and_other_plugins():
    class Other:
        @auditkit.hookimpl
        def auditkit_register_techniques(self):
            return [auditkit.Technique("other-tech", "a technique from another plugin", claims=(
                auditkit.Claim("other.wrong", "2 + 2 = 5", "test", lambda: 4, 5, 0.0),))]

    reg = auditkit.registry.Registry()
    reg.register(Other(), "other-plugin")
    report = run_claims(["other-tech", "mitchell"], registry=reg)
    by_id = {f.column: f for f in report.findings}
    assert by_id["other.wrong"].severity == "error"
    assert by_id["mitchell.max-relative-error"].severity == "info"
    assert report.exit_code("error") == 1
    assert report.summary["n_fails"] == 1
    with pytest.raises(UsageError, match="unknown technique"):
        run_claims(["nope"], registry=reg)


def test_all_claims_hold_via_cli():
    # `auditkit claims --run` is the CI gate: every claim of every technique holds
    res = CliRunner().invoke(cli, ["claims", "--run", "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    rows = data["tables"]["claims"]
    assert len(rows) >= 30 and all(r["status"] == "holds" for r in rows)
    assert data["summary"]["n_real_data"] >= 2
    names = {r["technique"] for r in rows}
    assert {"can", "bert-whitening", "mitchell", "taylor-softmax", "performer-favor", "flooding",
            "exponentiated-gradient", "johnson-lindenstrauss", "repeated-softmax",
            "entropy-invariant-attention"} <= names
    real = {r["technique"] for r in rows if r["real_data"]}
    assert {"can", "bert-whitening"} <= real


def test_claims_list_and_filter():
    res = CliRunner().invoke(cli, ["claims", "--technique", "can"])
    assert res.exit_code == 0
    assert "can.toy1" in res.output and "mitchell" not in res.output
    res = CliRunner().invoke(cli, ["claims", "--run", "--technique", "nope"])
    assert res.exit_code == 2 and "unknown technique" in res.output


# -- real data -----------------------------------------------------------------------------------------------------
def test_can_real_digits():
    from auditkit_plugins.techniques.realdata import digits_can_experiment

    r = digits_can_experiment()
    assert r["only_doubtful_changed"]
    for s in r["splits"]:
        assert s["n_doubtful"] > 100 and s["n_changed"] > 0
        assert s["acc_confident"] > s["acc_doubtful_before"]
    assert abs(r["delta_pp"]) <= 1.0


# -- CLI -----------------------------------------------------------------------------------------------------------
def test_can_cli(tmp_path):
    np.save(tmp_path / "p.npy", TOY2)
    (tmp_path / "labels.csv").write_text("label\n0\n0\n1\n2\n2\n")
    out = tmp_path / "out.npy"
    res = CliRunner().invoke(cli, ["can", str(tmp_path / "p.npy"), "--prior", "uniform", "--labels",
                                   str(tmp_path / "labels.csv"), "--data-out", str(out), "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)["summary"]
    assert data["n_doubtful"] == 2 and data["n_changed"] == 2
    assert data["accuracy_before"] == pytest.approx(0.6) and data["accuracy_after"] == pytest.approx(1.0)
    np.testing.assert_allclose(np.load(out)[3], [0.164948, 0.185567, 0.649485], atol=1e-6)


def test_can_cli_bad_input(tmp_path):
    (tmp_path / "p.csv").write_text("0.5,0.6\n0.2,0.8\n")
    out = tmp_path / "out.npy"
    res = CliRunner().invoke(cli, ["can", str(tmp_path / "p.csv"), "--prior", "uniform", "--data-out", str(out)])
    assert res.exit_code == 2 and "p.csv" in res.output and "sums to" in res.output
    assert not out.exists()
    (tmp_path / "q.csv").write_text("0.5,0.5\n0.2,0.8\n")
    (tmp_path / "prior.csv").write_text("1\n2\n3\n")
    res = CliRunner().invoke(cli, ["can", str(tmp_path / "q.csv"), "--prior", str(tmp_path / "prior.csv")])
    assert res.exit_code == 2 and "prior.csv" in res.output and "3 values" in res.output
    (tmp_path / "r.csv").write_text("0.5,0.5\n0.5,x\n")
    res = CliRunner().invoke(cli, ["can", str(tmp_path / "r.csv"), "--prior", "uniform"])
    assert res.exit_code == 2 and "line 2" in res.output and "not a number" in res.output


def test_whiten_cli(tmp_path):
    x = _aniso(3000, 5)
    np.save(tmp_path / "emb.npy", x)
    out = tmp_path / "white.npy"
    res = CliRunner().invoke(cli, ["whiten", str(tmp_path / "emb.npy"), "--dim", "4", "--data-out", str(out),
                                   "--chunk-rows", "700", "--format", "json"])
    assert res.exit_code == 0, res.output
    y = np.load(out)
    assert y.shape == (3000, 4)
    np.testing.assert_allclose(np.cov(y.T), np.eye(4), atol=1e-9)
    assert json.loads(res.output)["summary"]["output_dim"] == 4
    res = CliRunner().invoke(cli, ["whiten", str(tmp_path / "emb.npy"), "--dim", "99", "--data-out", str(tmp_path / "z.npy")])
    assert res.exit_code == 2 and "--dim 99" in res.output
    assert not (tmp_path / "z.npy").exists()


# -- escapes of the first mutation study (issue 17): each test kills one realistic bug ------------------------------
def test_attention_entropy_is_per_query_row():
    from auditkit_plugins.techniques.attention_scale import attention_entropy

    # q = 0: every query attends uniformly to the 7 keys, entropy log 7 (summing over the query axis gives 3/7 log 7)
    rng = np.random.default_rng(0)
    assert attention_entropy(np.zeros((3, 4)), rng.normal(size=(7, 4)), 1.0) == pytest.approx(np.log(7), abs=1e-12)
    # two keys with logits 0 and log 3 for every query: p = (1/4, 3/4), H = 0.562335 nats; queries differ in scale
    q = np.array([[1.0], [2.0]])
    k = np.array([[0.0], [np.log(3)]])
    h = np.mean([-(0.25 * np.log(0.25) + 0.75 * np.log(0.75)),
                 -(0.1 * np.log(0.1) + 0.9 * np.log(0.9))])      # query 2: logits 0, 2 log 3 -> (1/10, 9/10)
    assert attention_entropy(q, k, 1.0) == pytest.approx(h, abs=1e-12)


def test_orthogonal_features_have_gaussian_norms_and_orthogonal_blocks():
    from auditkit_plugins.techniques.performer import orthogonal_features

    rng = np.random.default_rng(0)
    w = np.concatenate([orthogonal_features(32, 16, rng) for _ in range(200)])   # 6400 rows, d = 16
    sq = (w ** 2).sum(axis=1)
    # |w|^2 ~ chi^2_16: mean 16, sd sqrt(32); without the rescaled norms every row would have |w| = 1
    assert abs(sq.mean() - 16) < 4 * np.sqrt(32 / sq.size)
    assert abs(sq.var() - 32) < 0.2 * 32
    block = orthogonal_features(16, 16, np.random.default_rng(1))
    u = block / np.linalg.norm(block, axis=1, keepdims=True)
    np.testing.assert_allclose(u @ u.T, np.eye(16), atol=1e-12)


def test_jl_distortion_is_on_squared_distances():
    from auditkit_plugins.techniques.jl import max_distortion

    x = np.random.default_rng(0).normal(size=(20, 5))
    # doubling every vector multiplies squared distances by 4: distortion 3 (on plain distances it would be 1)
    assert max_distortion(x, 2 * x) == pytest.approx(3.0, rel=1e-12)
    assert max_distortion(x, x) == pytest.approx(0.0, abs=1e-12)


def test_taylor_softmax_normalizes_along_the_given_axis():
    from auditkit_plugins.techniques.taylor_softmax import taylor_softmax

    x = np.array([[1.0, 2.0, -3.0], [-3.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(taylor_softmax(x, 2), [[.25, .5, .25], [.25, .25, .5], [1 / 3] * 3], atol=1e-15)
    np.testing.assert_allclose(taylor_softmax(x.T, 2, axis=0), taylor_softmax(x, 2).T, atol=1e-15)


def test_jl_max_distortion_equals_brute_force():
    from auditkit_plugins.techniques.jl import jl_project, max_distortion

    rng = np.random.default_rng(3)
    x = rng.normal(size=(12, 30))
    y = jl_project(x, 8, seed=4)          # a strong projection: ratios above and below 1
    worst = 0.0
    for i in range(12):
        for j in range(i + 1, 12):
            r = np.sum((y[i] - y[j]) ** 2) / np.sum((x[i] - x[j]) ** 2)
            worst = max(worst, abs(r - 1))
    assert max_distortion(x, y) == pytest.approx(worst, rel=1e-12)
    # the projection has variance 1/n: E|Ax|^2 = |x|^2 (mean over many projections of one vector)
    v = rng.normal(size=(1, 30))
    sq = [float(np.sum(jl_project(v, 16, seed=s) ** 2)) for s in range(400)]
    assert abs(np.mean(sq) / np.sum(v ** 2) - 1) < 4 * np.sqrt(2 / 16 / 400)


@pytest.mark.parametrize("eps", [0.0, 1.0, -0.1, 1.5])
def test_jl_min_dim_refuses_eps_outside_open_unit_interval(eps):
    from auditkit_plugins.techniques.jl import jl_min_dim

    with pytest.raises(UsageError, match="eps"):
        jl_min_dim(100, eps)


@pytest.mark.parametrize("p, q", [(0.0, 1.0), (1.0, 0.0), (-1.0, 2.0), (2.0, -3.0)])
def test_mitchell_refuses_zero_and_negative(p, q):
    from auditkit_plugins.techniques.mitchell import mitchell_multiply

    with pytest.raises(DomainError, match="positive"):
        mitchell_multiply(p, q)
    with pytest.raises(DomainError):
        mitchell_multiply([1.0, p], [1.0, q])


def test_can_defaults_are_sus_settings():
    # Su's settings (kexue.fm/archives/8728): k = 3, threshold 0.9, alpha = 1, iters = 1; each default matters here
    rng = np.random.default_rng(11)
    p = rng.dirichlet(np.full(6, 0.6), size=300)
    prior = rng.dirichlet(np.ones(6))
    explicit = can(p, prior, k=3, threshold=0.9, alpha=1.0, iters=1, mode="su").probs
    np.testing.assert_array_equal(can(p, prior).probs, explicit)
    for kw in ({"k": 4}, {"threshold": 0.8}, {"alpha": 2.0}, {"iters": 2}, {"mode": "any-k"}):
        assert not np.array_equal(can(p, prior, **kw).probs, explicit), kw
    np.testing.assert_array_equal(topk_entropy(p), topk_entropy(p, 3))
    assert not np.allclose(topk_entropy(p, 4), topk_entropy(p, 3))
    np.testing.assert_array_equal(canmod.uncertainty(p), topk_entropy(p, 3))
    np.testing.assert_array_equal(canmod.doubtful_mask(p), topk_entropy(p, 3) >= 0.9)


def test_any_k_uses_exactly_j_from_2_to_k():
    # the official rule: max of the top-j entropies for j = 2..min(k, m), no more, no fewer
    p = np.array([[0.4, 0.3, 0.2, 0.1], [0.5, 0.49, 0.005, 0.005], [0.6, 0.2, 0.2, 0.0]])
    np.testing.assert_allclose(canmod.uncertainty(p, 2, "any-k"), topk_entropy(p, 2))
    assert topk_entropy(p, 3)[2] > topk_entropy(p, 2)[2]          # so j = 3 must not be included for k = 2
    np.testing.assert_allclose(canmod.uncertainty(p, 3, "any-k"), np.maximum(topk_entropy(p, 2), topk_entropy(p, 3)))
    assert not np.allclose(topk_entropy(p, 3)[1], topk_entropy(p, 2)[1])
    assert not np.allclose(topk_entropy(p, 4)[0], topk_entropy(p, 3)[0])


def test_jl_project_default_seed_is_zero():
    from auditkit_plugins.techniques.jl import jl_project

    x = np.random.default_rng(0).normal(size=(4, 10))
    np.testing.assert_array_equal(jl_project(x, 5), jl_project(x, 5, seed=0))
    assert not np.array_equal(jl_project(x, 5), jl_project(x, 5, seed=1))


def test_doubtful_at_exactly_the_threshold():
    # "doubtful when uncertainty >= threshold" (Su's code: confident is u < threshold): [0.5, 0.5] has top-2
    # entropy exactly 1
    p = np.array([[0.5, 0.5], [0.9, 0.1]])
    assert topk_entropy(p, 2)[0] == 1.0
    assert canmod.doubtful_mask(p, 2, threshold=1.0).tolist() == [True, False]
    assert can(p, "uniform", k=2, threshold=1.0).doubtful.tolist() == [True, False]


def test_attention_entropy_is_stable_for_large_logits():
    from auditkit_plugins.techniques.attention_scale import attention_entropy

    # logits 0 and 800: p = (e^-800 ~ 0, 1), entropy ~0; logits 800 and 800: p = (1/2, 1/2), entropy log 2 (a shift
    # in the wrong direction overflows exp, and the NaNs would read as entropy 0)
    h = attention_entropy(np.array([[1.0]]), np.array([[0.0], [800.0]]), 1.0)
    assert np.isfinite(h) and h == pytest.approx(0.0, abs=1e-300)
    assert attention_entropy(np.array([[1.0]]), np.array([[800.0], [800.0]]), 1.0) == pytest.approx(np.log(2))


def test_eg_step_validation_boundary_and_overflow():
    from auditkit_plugins.techniques.exp_gradient import eg_step, eg_step_positive

    # a point on the simplex boundary is valid: the zero weight stays zero
    with np.errstate(divide="ignore"):
        out = eg_step(np.array([0.5, 0.5, 0.0]), np.array([1.0, 0.0, -1.0]), 0.5)
    np.testing.assert_allclose(out, [np.exp(-0.5) / (np.exp(-0.5) + 1), 1 / (np.exp(-0.5) + 1), 0.0], atol=1e-15)
    with pytest.raises(DomainError, match="simplex"):
        eg_step(np.array([1.2, -0.2]), np.array([0.0, 0.0]), 0.1)        # sums to 1, one weight negative
    with pytest.raises(DomainError, match="simplex"):
        eg_step(np.array([0.5, 0.6]), np.array([0.0, 0.0]), 0.1)         # non-negative, sums to 1.1
    # huge steps: the max-shift keeps exp finite (w_i exp(-eta g_i) overflows without it)
    np.testing.assert_allclose(eg_step(np.full(3, 1 / 3), np.array([-1000.0, 0.0, 1000.0]), 1.0), [1, 0, 0],
                               atol=1e-300)
    # unnormalized EG for positive parameters: theta * exp(-eta g)
    np.testing.assert_allclose(eg_step_positive([1.0, 2.0], [1.0, -1.0], 0.5), [np.exp(-0.5), 2 * np.exp(0.5)],
                               rtol=1e-15)


def test_evaluate_claim_reports_its_own_duration():
    import time

    claim = auditkit.Claim("x.t", "s", "t", lambda: 1.0, 1.0, 0.0)
    t0 = time.perf_counter()
    r = evaluate_claim(claim, "x")
    elapsed = time.perf_counter() - t0
    assert 0.0 <= r.seconds <= elapsed

    def boom():
        raise RuntimeError("no data")

    t0 = time.perf_counter()
    r = evaluate_claim(auditkit.Claim("x.e", "s", "t", boom), "x")     # the error path reports its time too
    assert r.status == "error" and 0.0 <= r.seconds <= time.perf_counter() - t0


def test_max_deviation_counts_entries_below_uniform():
    from auditkit_plugins.techniques.repeated_softmax import max_deviation_from_uniform

    # softmax([0, 10, 10]) = (1, e^10, e^10) / (1 + 2 e^10): the first entry is 1/3 below uniform, the others only
    # 1/6 above it
    z = 1 + 2 * np.exp(10.0)
    assert max_deviation_from_uniform([0.0, 10.0, 10.0], 1) == pytest.approx(1 / 3 - 1 / z, rel=1e-12)


def test_whitening_small_cases_and_scaled_rank_deficiency():
    # two rows in 1-D: mean 1, covariance (N - 1) 2, W = 1/sqrt(2): y = -+1/sqrt(2)
    np.testing.assert_allclose(Whitening().fit_transform(np.array([[0.0], [2.0]])).ravel(),
                               [-1 / np.sqrt(2), 1 / np.sqrt(2)], atol=1e-15)
    assert Whitening(n_components=1).fit_transform(_aniso(200)).shape == (200, 1)
    # rank 2 in 3-D at a large scale: the null eigenvalue (~1e-3 from rounding) is tiny relative to the largest
    # (~1e13), so the relative test eps * lambda_max refuses it
    x = np.random.default_rng(0).normal(size=(50, 2)) @ np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 1.0]]) * 1e6
    with pytest.raises(InputError, match="rank 2"):
        Whitening().fit(x).transform(x)


def test_jl_max_distortion_of_a_single_pair():
    from auditkit_plugins.techniques.jl import max_distortion

    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    y = np.array([[0.0, 0.0], [6.0, 0.0]])
    assert max_distortion(x, y) == pytest.approx(36 / 25 - 1, rel=1e-15)
