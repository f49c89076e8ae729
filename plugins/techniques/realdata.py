"""Real-data experiments behind the ``real_data=True`` claims. They need scikit-learn (imported lazily) and use
only data that ships inside the scikit-learn wheel, so they run offline:

* CAN: a LogisticRegression trained on the handwritten-digits dataset (``sklearn.datasets.load_digits``, 1,797
  8x8 images, 10 classes) with a held-out split; the test-set probabilities are corrected with Su's settings
  (k = 3, threshold 0.9, alpha = 1, iters = 1, prior = train-label frequencies) and the accuracy is reported with
  and without CAN, as Su did on CLUE (kexue.fm/archives/8728).
* Whitening: sentence embeddings of the ~3,000 English sentences of the Python reference documentation that ships
  with CPython (``pydoc_data.topics``): LSA word vectors (truncated SVD of the sentence x word counts) averaged over
  each sentence's words, the analogue of BERT's average pooling. Like BERT's pooled vectors they are strongly
  anisotropic (mean pairwise cosine ~0.8), the problem BERT-whitening addresses. No small sentence-encoder model
  ships in a registry package we can use offline, so these stand in for BERT embeddings.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from .can import can, prior_from_labels

__all__ = ["digits_can_experiment", "pydoc_sentences", "sentence_embeddings", "whitening_experiment"]


@functools.lru_cache(maxsize=None)
def digits_can_experiment(seeds: tuple[int, ...] = (0, 1, 2, 3, 4), C: float = 1e-3, k: int = 3,
                          threshold: float = 0.9) -> dict:
    """Accuracy before and after CAN on held-out digits, per split and averaged (percent)."""
    from auditkit.errors import require

    require("sklearn", "the real-data CAN claims", "test")
    import warnings

    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    rows = []
    only_doubtful = True
    for seed in seeds:
        xtr, xte, ytr, yte = train_test_split(x, y, train_size=0.5, random_state=seed, stratify=y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = LogisticRegression(C=C, max_iter=5000).fit(xtr / 16.0 * 4, ytr)
        probs = model.predict_proba(xte / 16.0 * 4)
        res = can(probs, prior_from_labels(ytr, 10), k=k, threshold=threshold)
        before = probs.argmax(1) == yte
        after = res.probs.argmax(1) == yte
        changed = res.changed(probs)
        only_doubtful &= bool(np.all(res.doubtful[changed])) and bool(np.allclose(res.probs[~res.doubtful],
                                                                                 probs[~res.doubtful]))
        rows.append({"seed": seed, "n_test": int(len(yte)), "n_doubtful": res.n_doubtful,
                     "n_changed": int(changed.sum()),
                     "acc_before": 100 * float(before.mean()), "acc_after": 100 * float(after.mean()),
                     "acc_confident": 100 * float(before[~res.doubtful].mean()),
                     "acc_doubtful_before": 100 * float(before[res.doubtful].mean()) if res.n_doubtful else None,
                     "acc_doubtful_after": 100 * float(after[res.doubtful].mean()) if res.n_doubtful else None})
    acc_b = float(np.mean([r["acc_before"] for r in rows]))
    acc_a = float(np.mean([r["acc_after"] for r in rows]))
    return {"dataset": "sklearn load_digits (10 classes), 50/50 stratified split",
            "model": f"LogisticRegression(C={C})", "settings": {"k": k, "threshold": threshold, "alpha": 1,
                                                              "iters": 1, "prior": "train labels"},
            "splits": rows, "acc_before": acc_b, "acc_after": acc_a, "delta_pp": acc_a - acc_b,
            "only_doubtful_changed": only_doubtful}


def pydoc_sentences(min_words: int = 6) -> tuple[list[str], np.ndarray]:
    """English sentences of the Python reference documentation shipped with CPython (``pydoc_data.topics``), and
    the index of the topic each comes from."""
    from pydoc_data.topics import topics

    sentences, labels = [], []
    for i, key in enumerate(sorted(topics)):
        text = re.sub(r"\s+", " ", topics[key])
        for s in re.split(r"(?<=[.!?])\s+", text):
            if len(re.findall(r"[A-Za-z]{2,}", s)) >= min_words:
                sentences.append(s)
                labels.append(i)
    return sentences, np.asarray(labels)


@functools.lru_cache(maxsize=None)
def sentence_embeddings(dim: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Average-pooled word vectors of :func:`pydoc_sentences`: word vectors are the LSA term vectors (truncated SVD
    of the sentence x word count matrix, scaled by the singular values); a sentence is the mean of its words'
    vectors, the analogue of BERT's average pooling. Returns (embeddings (N, dim), topic labels (N,))."""
    from auditkit.errors import require

    require("sklearn", "the real-data whitening claims", "test")
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import CountVectorizer

    sentences, labels = pydoc_sentences()
    counts = CountVectorizer(min_df=3).fit_transform(sentences).astype(np.float64)
    svd = TruncatedSVD(n_components=dim, random_state=0).fit(counts)
    word_vectors = svd.components_.T * svd.singular_values_
    n_words = np.asarray(counts.sum(axis=1)).ravel()
    keep = n_words > 0
    pooled = np.asarray(counts[keep].multiply(1 / n_words[keep][:, None]).tocsr() @ word_vectors)
    return pooled, labels[keep]


def _mean_pairwise_cosine(x):
    u = x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-8, None)
    g = u @ u.T
    n = g.shape[0]
    return float((g.sum() - np.trace(g)) / (n * (n - 1)))


def _same_topic_at_1(x, labels):
    u = x / np.clip(np.linalg.norm(x, axis=1, keepdims=True), 1e-8, None)
    g = u @ u.T
    np.fill_diagonal(g, -np.inf)
    return float(np.mean(labels[g.argmax(axis=1)] == labels))


@functools.lru_cache(maxsize=None)
def whitening_experiment(dim: int = 64, k: int | None = None) -> dict:
    """Whiten the real sentence embeddings: covariance error, anisotropy (mean pairwise cosine) and the share of
    sentences whose cosine nearest neighbour comes from the same documentation topic, before and after."""
    from .whitening import Whitening

    x, labels = sentence_embeddings(dim)
    w = Whitening(n_components=k).fit(x)
    y = w.transform(x)
    kk = y.shape[1]
    return {"embeddings": f"average-pooled LSA word vectors ({dim} dims) of {x.shape[0]} sentences of CPython's "
                          "pydoc topics",
            "n": int(x.shape[0]), "dim": int(dim), "k": int(kk),
            "max_abs_cov_minus_identity": float(np.max(np.abs(np.cov(y.T) - np.eye(kk)))),
            "max_abs_mean": float(np.max(np.abs(y.mean(axis=0)))),
            "mean_cosine_before": _mean_pairwise_cosine(x), "mean_cosine_after": _mean_pairwise_cosine(y),
            "same_topic_at_1_before": _same_topic_at_1(x, labels), "same_topic_at_1_after": _same_topic_at_1(y, labels)}
