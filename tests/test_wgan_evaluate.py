"""``auditkit wgan evaluate`` and the ``wgan-critic`` diagnostic.

Golden values: a translation Y = X + μ has W1 = ‖μ‖ exactly and the optimal critic is x ↦ μ·x/‖μ‖ (so KR = W1);
with independent samples (n = 512, numpy default_rng(0), X drawn first) KR = 5.0447 and batch OT = 5.0475
(../shared/reference/techniques.md §1.6 [C], recomputed in this file).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit.errors import InputError
from auditkit_plugins.wgan.evaluate import evaluate_critic, load_samples

MU = np.array([3.0, 4.0])

FACTORY = textwrap.dedent("""
    import torch

    def unit_linear():
        lin = torch.nn.Linear(2, 1, bias=False)
        with torch.no_grad():
            lin.weight[:] = torch.tensor([[0.6, 0.8]])
        return lin

    def double_linear():
        lin = unit_linear()
        with torch.no_grad():
            lin.weight.mul_(2.0)
        return lin

    def mlp():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))

    def not_a_module():
        return 3
""")


def unit_linear(scale=1.0):
    lin = torch.nn.Linear(2, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        lin.weight[:] = scale * torch.tensor([[0.6, 0.8]], dtype=torch.float64)
    return lin


def small(**kw):
    return dict(n_pairs=512, adv_steps=10, **kw)


def test_translation_same_points_is_exact():
    x = np.random.default_rng(5).standard_normal((300, 2))
    rep = evaluate_critic(unit_linear(), x + MU, x, **small())
    s = rep.summary
    assert s["critic_w1"] == pytest.approx(5.0, abs=1e-12)
    assert s["exact_w1"] == pytest.approx(5.0, abs=1e-12)
    assert s["ratio"] == pytest.approx(1.0, abs=1e-12)
    assert s["gap"] == pytest.approx(0.0, abs=1e-12)
    assert s["lipschitz"]["pairs_max"] <= 1.0 + 1e-12
    assert s["lipschitz"]["adversarial_max"] <= 1.0 + 1e-12
    assert s["grad_norms"]["real"]["mean"] == pytest.approx(1.0)
    assert s["saturated"] is False
    assert [f.severity for f in rep.findings] == ["info"]
    assert rep.exit_code("error") == 0


def test_translation_independent_samples_reference_values():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 2))
    y = rng.standard_normal((512, 2)) + MU
    s = evaluate_critic(unit_linear(), y, x, **small()).summary
    assert s["critic_w1"] == pytest.approx(5.0447, abs=5e-5)
    assert s["exact_w1"] == pytest.approx(5.0475, abs=5e-5)
    assert s["critic_w1"] <= s["exact_w1"]
    assert 0 < s["real_split_w1"] < 1.0  # two halves of one N(0, I) sample: small but positive


def test_breach_is_an_error():
    x = np.random.default_rng(5).standard_normal((100, 2))
    rep = evaluate_critic(unit_linear(2.0), x + MU, x, **small())
    assert rep.summary["critic_w1"] == pytest.approx(10.0)
    sev = {f.severity for f in rep.findings}
    assert "error" in sev and "warning" in sev  # KR > W1 and ratio 2 > 1
    assert rep.exit_code("error") == 1
    # a larger declared bound clears it
    rep2 = evaluate_critic(unit_linear(2.0), x + MU, x, lipschitz=2.0, **small())
    assert rep2.exit_code("warning") == 0


def test_gn_saturates_beyond_two():
    x = np.random.default_rng(5).standard_normal((200, 2))
    rep = evaluate_critic(unit_linear(), x + MU, x, normalization="gn", **small())
    s = rep.summary
    assert s["saturated"] is True
    assert s["critic_w1"] < 2.0 and s["f_hat_abs_max"] < 1.0
    assert s["exact_w1"] == pytest.approx(5.0)
    assert s["grad_norms"]["real"]["max"] <= 1.0 + 1e-12
    assert s["raw_grad_norms"]["real"]["mean"] == pytest.approx(1.0)
    assert s["fast_path_rel_diff"] < 1e-12
    assert any(f.severity == "warning" and "saturated" in f.message for f in rep.findings)
    assert rep.exit_code("error") == 0 and rep.exit_code("warning") == 1


def test_gran_linear_tracks_w1():
    x = np.random.default_rng(5).standard_normal((200, 2))
    s = evaluate_critic(unit_linear(7.0), x + MU, x, normalization="gran", eps=0.0, **small()).summary
    assert s["critic_w1"] == pytest.approx(5.0, abs=1e-12)  # f/‖∇f‖ undoes the scale 7
    assert s["eps"] == 0.0 and s["k"] == 1.0


def test_duplicate_points_never_divide_by_zero():
    real = np.zeros((20, 2))
    fake = np.zeros((20, 2))
    s = evaluate_critic(unit_linear(), real, fake, **small()).summary
    assert s["exact_w1"] == 0.0 and s["ratio"] is None
    assert s["lipschitz"]["pairs_max"] is None
    assert s["lipschitz"]["zero_distance_pairs_skipped"] == 512
    json.dumps(evaluate_critic(unit_linear(), real, fake, **small()).as_dict(), allow_nan=False)


def test_unequal_sizes_use_pot():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((40, 2)), rng.standard_normal((55, 2)) + MU
    s = evaluate_critic(unit_linear(), y, x, **small()).summary
    assert s["critic_w1"] <= s["exact_w1"] + 1e-12
    assert s["n_real"] == 55 and s["n_fake"] == 40


def test_diagnostic_record_runs():
    import auditkit

    diag = auditkit.get_registry().get("diagnostics", "wgan-critic")
    x = np.random.default_rng(5).standard_normal((50, 2))
    rep = diag.run(unit_linear(), x + MU, x, n_pairs=64, adv_steps=0)
    assert rep.summary["exact_w1"] == pytest.approx(5.0)


# -- files and the CLI --------------------------------------------------------------------------------------------
@pytest.fixture()
def workdir(tmp_path):
    (tmp_path / "mycritics.py").write_text(FACTORY)
    x = np.random.default_rng(5).standard_normal((128, 2))
    np.save(tmp_path / "real.npy", x + MU)
    torch.save(torch.as_tensor(x), tmp_path / "fake.pt")
    from safetensors.numpy import save_file

    save_file({"samples": x + MU, "other": x}, str(tmp_path / "both.safetensors"))
    return tmp_path


def invoke(args):
    return CliRunner().invoke(cli, ["wgan", "evaluate", *args], catch_exceptions=False)


def test_cli_json_report_and_keys(workdir):
    crit = f"{workdir / 'mycritics.py'}:unit_linear"
    res = invoke(["--critic", crit, "--real", str(workdir / "real.npy"), "--fake", str(workdir / "fake.pt"),
                  "--pairs", "256", "--adv-steps", "5", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    s = doc["summary"]
    for key in ("critic_w1", "exact_w1", "gap", "ratio", "real_split_w1", "saturated", "lipschitz", "grad_norms"):
        assert key in s
    assert set(s["lipschitz"]) >= {"pairs_max", "adversarial_max"}
    for part in ("real", "fake", "interpolated"):
        assert set(s["grad_norms"][part]) == {"mean", "p50", "p95", "max", "frac_above_1"}
    assert s["critic_w1"] == pytest.approx(5.0) and s["exact_w1"] == pytest.approx(5.0)
    assert set(doc["provenance"]["inputs"]) == {"real", "fake"}
    assert doc["findings"][0]["check"] == "wgan-critic"


def test_cli_weights_safetensors_key_and_breach_exit(workdir):
    torch.save({"weight": torch.tensor([[1.2, 1.6]])}, workdir / "w.pt")
    res = invoke(["--critic", f"{workdir / 'mycritics.py'}:unit_linear", "--weights", str(workdir / "w.pt"),
                  "--real", f"{workdir / 'both.safetensors'}#samples", "--fake", str(workdir / "fake.pt"),
                  "--pairs", "64", "--adv-steps", "0", "--format", "json"])
    assert res.exit_code == 1  # KR = 10 > W1 = 5: breach proven
    doc = json.loads(res.output)
    assert doc["summary"]["critic_w1"] == pytest.approx(10.0)
    assert "weights" in doc["provenance"]["inputs"]


def test_cli_importable_module_from_cwd(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    monkeypatch.delitem(sys.modules, "mycritics", raising=False)
    res = invoke(["--critic", "mycritics:mlp", "--real", "real.npy", "--fake", "fake.pt", "--normalization", "gn",
                  "--pairs", "64", "--adv-steps", "3"])
    assert res.exit_code == 1 or res.exit_code == 0
    assert "WGAN critic evaluation (gn)" in res.output and "saturated: yes" in res.output


@pytest.mark.parametrize("args, message", [
    (["--critic", "nomodule_xyz:f"], "cannot import module"),
    (["--critic", "{d}/mycritics.py:missing"], "no callable 'missing'"),
    (["--critic", "{d}/mycritics.py:not_a_module"], "expected a torch.nn.Module"),
    (["--critic", "nocolon"], "MODULE:FACTORY"),
    (["--real", "{d}/nope.npy"], "does not exist"),
    (["--real", "{d}/both.safetensors"], "name one with"),
    (["--weights", "{d}/real.npy"], "weights_only=True"),
])
def test_cli_bad_input_exits_2(workdir, args, message):
    base = {"--critic": f"{workdir}/mycritics.py:unit_linear", "--real": f"{workdir}/real.npy",
            "--fake": f"{workdir}/fake.pt"}
    opts = dict(base)
    extra = []
    for i in range(0, len(args), 2):
        if args[i] in opts:
            opts[args[i]] = args[i + 1].format(d=workdir)
        else:
            extra += [args[i], args[i + 1].format(d=workdir)]
    argv = [a for kv in opts.items() for a in kv] + extra
    res = CliRunner().invoke(cli, ["wgan", "evaluate", *argv])
    assert res.exit_code == 2, res.output
    assert message in res.output


class NotATensor:
    """A pickled custom object: torch.load(weights_only=True) must refuse it."""


def test_weights_only_refuses_pickled_objects(workdir):
    torch.save({"weight": NotATensor()}, workdir / "evil.pt")
    res = CliRunner().invoke(cli, ["wgan", "evaluate", "--critic", f"{workdir}/mycritics.py:unit_linear",
                                   "--weights", str(workdir / "evil.pt"), "--real", f"{workdir}/real.npy",
                                   "--fake", f"{workdir}/fake.pt"])
    assert res.exit_code == 2 and "weights_only=True" in res.output


def test_load_samples_rejects_nan(tmp_path):
    arr = np.zeros((4, 2))
    arr[2, 1] = np.nan
    np.save(tmp_path / "bad.npy", arr)
    with pytest.raises(InputError, match="row 2"):
        load_samples(str(tmp_path / "bad.npy"))


def test_help_does_not_import_torch():
    code = ("import sys; from auditkit.cli import main\n"
            "try:\n    main(['wgan', '--help'])\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', 'MPL' if 'matplotlib' in sys.modules else '')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "evaluate" in out and "study" in out
    assert "NO-TORCH" in out and "MPL" not in out


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("normalization", ["none", "gn", "gran"])
def test_cuda_parity_evaluate(normalization):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((256, 2)), rng.standard_normal((256, 2)) + MU
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    cpu = evaluate_critic(net, y, x, normalization=normalization, adv_steps=0).summary
    gpu = evaluate_critic(net, y, x, normalization=normalization, adv_steps=0, device="cuda").summary
    for key in ("critic_w1", "exact_w1", "real_split_w1"):
        assert gpu[key] == pytest.approx(cpu[key], abs=1e-10)
    for part in ("real", "fake", "interpolated"):
        assert gpu["grad_norms"][part]["mean"] == pytest.approx(cpu["grad_norms"][part]["mean"], abs=1e-10)


def test_callers_critic_is_not_mutated():
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))  # float32, train mode
    x = np.random.default_rng(0).standard_normal((30, 2))
    evaluate_critic(net, x + MU, x, normalization="gn", n_pairs=32, adv_steps=0)
    assert next(net.parameters()).dtype == torch.float32 and net.training


def test_breach_with_a_negative_estimate_is_an_error():
    # |KR| <= L W1 whatever the sign: -2u gives KR = -10 against W1 = 5 (a test that ignores the sign misses it)
    x = np.random.default_rng(5).standard_normal((100, 2))
    rep = evaluate_critic(unit_linear(-2.0), x + MU, x, **small())
    assert rep.summary["critic_w1"] == pytest.approx(-10.0)
    assert any(f.severity == "error" and "breach" in f.message for f in rep.findings)
    # -u (KR = -5 = -W1) is 1-Lipschitz: no error
    rep = evaluate_critic(unit_linear(-1.0), x + MU, x, **small())
    assert not any(f.severity == "error" for f in rep.findings)


@pytest.mark.parametrize("distance, saturated", [(1.9, False), (2.0, True), (2.1, True)])
def test_gn_saturation_threshold_is_two(distance, saturated):
    # |f_hat| < 1 bounds the GN estimate by 2: saturation is W1 >= 2 exactly (Y = X + d u, so W1 = d)
    x = np.random.default_rng(5).standard_normal((64, 2))
    shift = distance * np.array([0.6, 0.8])
    s = evaluate_critic(unit_linear(), x + shift, x, normalization="gn", n_pairs=64, adv_steps=0).summary
    assert s["exact_w1"] == pytest.approx(distance, abs=1e-12)
    assert s["saturated"] is saturated


def test_documented_defaults():
    import inspect

    p = inspect.signature(evaluate_critic).parameters
    # the CLI's documented defaults (docs/wgan.md): --tol 1e-6, --pairs 4096, --adv-steps 100, --max-samples 4096,
    # --k 1, --lipschitz 1, --seed 0; the adversarial search starts from the 64 worst pairs
    assert {k: p[k].default for k in ("tol", "n_pairs", "adv_steps", "adv_pairs", "max_samples", "k", "lipschitz",
                                       "seed", "normalization")} == {
        "tol": 1e-6, "n_pairs": 4096, "adv_steps": 100, "adv_pairs": 64, "max_samples": 4096, "k": 1.0,
        "lipschitz": 1.0, "seed": 0, "normalization": "none"}


def test_norm_stats_values():
    from auditkit_plugins.wgan.evaluate import norm_stats

    v = np.arange(101, dtype=float) / 50          # 0, 0.02, ..., 2
    s = norm_stats(v)
    assert s["p50"] == pytest.approx(1.0) and s["p95"] == pytest.approx(1.9) and s["max"] == 2.0
    assert s["mean"] == pytest.approx(1.0) and s["frac_above_1"] == pytest.approx(50 / 101)
    assert norm_stats([1 + 1.5e-6])["frac_above_1"] == 1.0 and norm_stats([1 + 0.5e-6])["frac_above_1"] == 0.0


def test_one_dimensional_samples_and_exact_pair_ratios():
    # 1-D samples (shape (n,)) and the identity critic: every pair ratio |x - y| / |x - y| is exactly 1
    x = np.random.default_rng(2).standard_normal(50)
    ident = torch.nn.Linear(1, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        ident.weight[:] = 1.0
    s = evaluate_critic(ident, x + 2.0, x, n_pairs=256, adv_steps=0, max_samples=None).summary
    assert s["dim"] == 1 and s["n_real"] == 50
    assert s["lipschitz"]["pairs_max"] == pytest.approx(1.0, abs=1e-12)
    assert s["lipschitz"]["adversarial_max"] is None                 # adv_steps=0: no search
    assert s["critic_w1"] == pytest.approx(2.0, abs=1e-12) and s["exact_w1"] == pytest.approx(2.0, abs=1e-12)
    sub = evaluate_critic(ident, x + 2.0, x, n_pairs=16, adv_steps=0, max_samples=20).summary
    assert sub["n_real"] == 20 and sub["n_real_input"] == 50


def test_lipschitz_bound_must_be_positive():
    from auditkit.errors import UsageError

    x = np.random.default_rng(5).standard_normal((10, 2))
    with pytest.raises(UsageError, match="lipschitz"):
        evaluate_critic(unit_linear(), x, x + 1, lipschitz=0.0, **small())


def test_interpolates_lie_between_real_and_fake():
    # raw critic relu(x_1): gradient norm 1 wherever x_1 > 0. Real and fake have x_1 in [1, 2] and [3, 4], so every
    # interpolate t real + (1 - t) fake does too: its raw gradient norm is 1 (a wrong interpolation leaves the
    # positive half-line)
    rng = np.random.default_rng(0)
    real = np.c_[rng.uniform(1, 2, 40), rng.normal(size=40)]
    fake = np.c_[rng.uniform(3, 4, 40), rng.normal(size=40)]
    relu = lambda x: torch.relu(x[:, 0])                              # noqa: E731
    s = evaluate_critic(relu, real, fake, normalization="gn", n_pairs=32, adv_steps=0).summary
    assert s["raw_grad_norms"]["interpolated"]["mean"] == pytest.approx(1.0, abs=1e-12)
    assert s["raw_grad_norms"]["interpolated"]["p50"] == pytest.approx(1.0, abs=1e-12)


def test_f_hat_abs_max_covers_the_fake_side():
    # unit critic, GN: f_hat = f / (1 + |f|); the fake sample sits at f ~ -5, the real one at f ~ 0
    x = np.random.default_rng(5).standard_normal((60, 2))
    fake = x - MU
    s = evaluate_critic(unit_linear(), x, fake, normalization="gn", n_pairs=32, adv_steps=0).summary
    f = np.r_[x @ [0.6, 0.8], fake @ [0.6, 0.8]]
    assert s["f_hat_abs_max"] == pytest.approx(np.max(np.abs(f / (1 + np.abs(f)))), abs=1e-12)


def test_pair_ratio_is_unsigned_for_every_pair_order():
    # the identity critic on 1-D points: every pair's ratio |f(a) - f(b)| / |a - b| is 1, whichever way round the
    # random pair is drawn (one pair per run, ten seeds: a signed ratio would give -1 for some of them)
    x = np.random.default_rng(2).standard_normal(10)
    ident = torch.nn.Linear(1, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        ident.weight[:] = 1.0
    for seed in range(10):
        s = evaluate_critic(ident, x + 1.0, x, n_pairs=1, adv_steps=0, seed=seed).summary
        assert s["lipschitz"]["pairs_max"] == pytest.approx(1.0, abs=1e-12), seed


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message when CUDA is absent")
def test_gpu_device_asked_for_but_absent_is_a_usage_error():
    from auditkit.errors import UsageError

    x = np.random.default_rng(5).standard_normal((10, 2))
    with pytest.raises(UsageError, match="CUDA"):
        evaluate_critic(unit_linear(), x, x + 1, device="cuda", **small())
