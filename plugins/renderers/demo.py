"""``auditkit demo-data DIR``: the sample files the README and docs examples name, so every example runs as
written (``cd DIR`` first; the curated ``leaderboards/`` of a source checkout are not copied).

Everything is generated from a fixed seed with numpy (torch only for ``critic.pt``, when installed): small, offline,
and the same on every machine.
"""

from __future__ import annotations

from pathlib import Path

SEED = 20240814
SUPERGLUE_TASKS = ("BoolQ", "CB", "COPA", "MultiRC", "ReCoRD", "RTE", "WiC", "WSC", "AX-b", "AX-g")
CRITICS = '''"""Critic factories for `auditkit wgan evaluate --critic mycritics:make_critic` (demo data)."""
import torch


def make_critic():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
'''


def _table(rng, systems, tasks, lo=55.0, hi=95.0, pairs=()):
    import numpy as np

    skill = np.sort(rng.uniform(0.0, 1.0, len(systems)))[::-1]
    rows = []
    for s, k in zip(systems, skill):
        cells = []
        for t in tasks:
            v = lo + (hi - lo) * (0.55 * k + 0.45 * rng.uniform())
            cells.append(f"{v:.1f}/{min(v + rng.uniform(-2, 2), 100):.1f}" if t in pairs else f"{v:.1f}")
        rows.append((s, cells))
    return rows


def write_demo(directory: str | Path, *, force: bool = False) -> list[Path]:
    """Write the sample files into ``directory`` (created); refuse to overwrite unless ``force``."""
    import numpy as np

    from auditkit.errors import UsageError
    from auditkit.output import write_output

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    files: dict[str, bytes] = {}

    # a raw leaderboard as users paste it (tab-separated, no recipe): `cat some-table.tsv | auditkit rerank -`
    systems = ["Model A", "Model B", "Model C", "Model D", "Model E", "Model F"]
    tasks = ["QA", "NLI", "Summarization", "Code"]
    lines = ["System\t" + "\t".join(tasks)]
    lines += [s + "\t" + "\t".join(c) for s, c in _table(rng, systems, tasks)]
    files["some-table.tsv"] = ("\n".join(lines) + "\n").encode()

    # a SuperGLUE-shaped table (docs/compare.md, docs/social-choice.md)
    names = ["ERNIE 3.0", "T5 + UDG, Single Model (Google Brain)", "DeBERTa / TuringNLRv4", "T5", "RoBERTa-iCETS",
             "PAI Albert", "RoBERTa", "ADAPET (ALBERT) - few-shot", "GPT-3 few-shot - OpenAI", "BERT++", "BERT-mtl",
             "Most Frequent Class"]  # names as on SuperGLUE, synthetic scores
    sg = _table(rng, names, SUPERGLUE_TASKS, pairs=("CB", "MultiRC", "ReCoRD", "AX-g"))
    text = "Rank,System,Score," + ",".join(SUPERGLUE_TASKS) + "\n"
    scored = []
    for s, cells in sg:
        vals = [float(np.mean([float(x) for x in c.split("/")])) for c in cells]
        scored.append((round(float(np.mean(vals[:8])), 1), s, cells))
    scored.sort(key=lambda r: -r[0])
    text += "".join(f"{i},{_csv(s)},{score}," + ",".join(cells) + "\n" for i, (score, s, cells) in enumerate(scored, 1))
    files["leaderboards - SuperGLUE.csv"] = text.encode()
    files["SuperGLUE.csv"] = text.encode()

    # contrastive: a (batch, 1 + negatives) score matrix with the positive in column 0, scaled by 1/0.05
    sim = rng.uniform(-0.2, 0.4, (64, 128))
    sim[:, 0] = rng.uniform(0.6, 0.95, 64)
    files["scores.npy"] = _npy(sim / 0.05)

    # WGAN: real and fake 2-D samples, a critic factory and its weights
    files["real.npy"] = _npy(rng.standard_normal((256, 2)) + np.array([2.0, -1.0]))
    files["fake.npy"] = _npy(rng.standard_normal((256, 2)) * 1.3)
    files["mycritics.py"] = CRITICS.encode()

    # CAN: dev-set class probabilities, their labels and the training prior
    logits = rng.normal(0, 1.2, (200, 3))
    labels = rng.integers(0, 3, 200)
    logits[np.arange(200), labels] += 1.5
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    files["dev_probs.npy"] = _npy(probs)
    files["dev_labels.csv"] = ("label\n" + "\n".join(map(str, labels)) + "\n").encode()
    files["train_prior.csv"] = b"0.5\n0.3\n0.2\n"

    # BERT-whitening: anisotropic sentence vectors (600 x 384)
    basis = rng.standard_normal((384, 384))
    files["sentence_vectors.npy"] = _npy((rng.standard_normal((600, 384)) * np.linspace(3, 0.1, 384)) @ basis
                                         + 0.5, np.float32)

    # arena: pairwise battles of 8 models (Bradley-Terry with ties), with a category and a length covariate
    models = [f"model-{c}" for c in "abcdefgh"]
    strength = np.linspace(1.0, -1.0, len(models))
    import json

    rows = []
    for _ in range(4000):
        a, b = rng.choice(len(models), 2, replace=False)
        p = 1 / (1 + np.exp(-(strength[a] - strength[b])))
        u = rng.uniform()
        winner = "tie" if u < 0.1 else ("model_a" if u < 0.1 + 0.9 * p else "model_b")
        rows.append(json.dumps({"model_a": models[a], "model_b": models[b], "winner": winner,
                                "language": "en" if rng.uniform() < 0.7 else "zh",
                                "length_a": int(rng.integers(50, 900)), "length_b": int(rng.integers(50, 900))}))
    files["battles.jsonl"] = ("\n".join(rows) + "\n").encode()

    existing = [n for n in files if (out / n).exists()]
    if existing and not force:
        raise UsageError(f"{out}: {', '.join(existing)} already exist; use --force to overwrite")
    written = []
    for name, data in files.items():
        write_output(str(out / name), data, inputs=[])
        written.append(out / name)
    try:  # the critic's weights need torch; without it the example that uses them says so itself
        import io

        import torch

        ns: dict = {}
        exec(compile(CRITICS, "mycritics.py", "exec"), ns)  # noqa: S102 - our own constant source
        buf = io.BytesIO()
        torch.save(ns["make_critic"]().state_dict(), buf)
        write_output(str(out / "critic.pt"), buf.getvalue(), inputs=[])
        written.append(out / "critic.pt")
    except ImportError:
        pass
    return written


def _csv(text: str) -> str:
    return f'"{text}"' if "," in text or '"' in text else text


def _npy(array, dtype=None) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.asarray(array, dtype=dtype or np.float64))
    return buf.getvalue()
