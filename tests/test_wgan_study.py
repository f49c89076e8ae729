"""``auditkit wgan study`` in its reduced (CI) form: files, determinism, and the GN cap of 2 on the estimate.

Oracles: the GN bound |f̂| < 1 (so every GN estimate is < 2, techniques.md §1.1) and the exactness of the
assignment W1 (checked in test_wgan_w1.py); the study itself is seeded, so two runs must agree bit for bit.
"""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from auditkit.cli import cli
from auditkit_plugins.wgan.study import QUICK, run_study, train_run


def test_quick_study_cli_writes_curves_and_plots(tmp_path):
    out = tmp_path / "study"
    res = CliRunner().invoke(cli, ["wgan", "study", "--quick", "--out", str(out), "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    runs = doc["summary"]["runs"]
    assert set(runs) == {f"{d}/{m}" for d in ("gmm", "digits") for m in ("gn", "gran", "gp")}
    for name, s in runs.items():
        assert s["final_exact_w1"] > 0 and s["real_real_w1"] > 0
        if name.endswith("/gn"):
            assert s["max_critic_w1"] < 2.0  # GN cap
    # digits start far above 2, so GN is saturated there
    assert runs["digits/gn"]["initial_exact_w1"] > 2.0
    assert any("saturated" in f["message"] for f in doc["findings"])
    with open(out / "curves.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    per_run = QUICK.steps // QUICK.eval_every + 1
    assert len(rows) == 6 * per_run
    assert {"dataset", "method", "step", "critic_w1", "exact_w1", "real_real_w1"} <= set(rows[0])
    for name in ("curves_gmm.png", "curves_digits.png", "samples_gmm.png", "samples_digits.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert json.loads((out / "curves.json").read_text())["curves"][0]["step"] == 0


def test_study_is_seeded():
    from dataclasses import replace

    cfg = replace(QUICK, steps=10, eval_every=5)
    a = train_run("gmm", "gn", cfg, seed=3)
    b = train_run("gmm", "gn", cfg, seed=3)
    strip = lambda rows: [(r["step"], r["critic_w1"], r["exact_w1"]) for r in rows]  # noqa: E731
    assert strip(a) == strip(b)
    c = train_run("gmm", "gn", cfg, seed=4)
    assert strip(a) != strip(c)


def test_study_bad_names():
    from auditkit.errors import UsageError

    with pytest.raises(UsageError, match="choose one of"):
        run_study(datasets=["cifar"], methods=["gn"], quick=True)
    with pytest.raises(UsageError, match="choose one of"):
        run_study(datasets=["gmm"], methods=["sn"], quick=True)
    res = CliRunner().invoke(cli, ["wgan", "study", "--quick", "--methods", "clip"])
    assert res.exit_code == 2 and "choose one of" in res.output


def test_gradient_penalty_on_a_nonlinear_critic():
    # D(x) = |x|^2 / 2: grad D(x_hat) = x_hat, so the penalty is lam * mean((|x_hat| - 1)^2) at x_hat = t real +
    # (1 - t) fake, computed here with numpy (a linear critic would not see the interpolation)
    import numpy as np
    import torch

    from auditkit_plugins.wgan.study import gradient_penalty

    rng = np.random.default_rng(0)
    real, fake, t = rng.normal(size=(16, 3)) + 2, rng.normal(size=(16, 3)) - 1, rng.uniform(size=(16, 1))
    xh = t * real + (1 - t) * fake
    expect = 10.0 * np.mean((np.linalg.norm(xh, axis=1) - 1) ** 2)
    got = gradient_penalty(lambda x: 0.5 * (x ** 2).sum(dim=1), torch.as_tensor(real), torch.as_tensor(fake),
                           torch.as_tensor(t), 10.0)
    assert float(got.detach()) == pytest.approx(expect, rel=1e-12)
    assert got.grad_fn is not None                                # the graph is kept: the penalty trains D


def test_spearman_edge_cases():
    from auditkit_plugins.wgan.study import _spearman

    assert _spearman([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert _spearman([1, 2], [1, 2]) is None                     # fewer than 3 evaluation steps
    assert _spearman([1, 1, 1, 1], [1, 2, 3, 4]) is None          # constant: undefined
    assert _spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
