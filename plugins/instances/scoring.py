"""Task scores from sufficient statistics: the mean of per-instance scores, and corpus-level metrics.

Mean metrics: score = s / n over per-instance values (the mean over samples first when an instance has several).
Corpus metrics are computed from (prediction, reference) pairs when the log carries them:

* ``f1``: binary F1 of the positive class 1, 2 tp / (2 tp + fp + fn) (scikit-learn's ``f1_score`` default, which
  lm-evaluation-harness calls);
* ``mcc`` / ``matthews_corrcoef``: (tp tn - fp fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)), 0 when a margin is 0
  (scikit-learn's convention);
* ``pearson`` / ``pearsonr``: the sample correlation of prediction and reference;
* ``spearman`` / ``spearmanr``: Pearson's correlation of their average ranks (ties share the mean rank);
* ``acc`` / ``accuracy`` on pairs: (tp + tn) / n for binary labels, where the log has no per-instance score.

A corpus metric with non-binary labels where binary ones are needed (F1, MCC) is refused with the group named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CORPUS_METRICS = {"f1": "f1", "mcc": "mcc", "matthews_corrcoef": "mcc", "pearson": "pearson",
                  "pearsonr": "pearson", "spearman": "spearman", "spearmanr": "spearman",
                  "acc": "accuracy", "accuracy": "accuracy"}


def base_metric(metric: str) -> str:
    """``exact_match,strict-match`` -> ``exact_match`` (lm-eval's metric,filter keys)."""
    return metric.split(",", 1)[0]


@dataclass(frozen=True)
class TaskScore:
    system: str
    task: str
    metric: str
    score: float
    n: int               # instances scored
    rows: int            # rows read (instances x samples)
    kind: str            # "mean" or the corpus metric
    se: float            # standard error of the mean over instances (NaN for corpus metrics)
    se_data: float       # Miller's split: the part from which instances were drawn (data noise)
    se_prediction: float  # ... and the part from sampling the system's answers (prediction noise); NaN w/o samples
    unit_range: bool     # the sums are consistent with every per-instance score in [0, 1] (0 <= q <= s <= n)


def corpus_score(kind: str, f: dict, where: str) -> float:
    from auditkit.errors import InputError

    n = f["n"]
    if kind in ("f1", "mcc", "accuracy") and not f["binary"]:
        raise InputError(f"{where}: corpus {kind} needs binary (0/1) predictions and references; this group has "
                         "other values (multi-class F1/MCC is not supported; give per-instance scores instead)")
    tp, fp, fn, tn = f["tp"], f["fp"], f["fn"], f["tn"]
    if kind == "accuracy":
        return (tp + tn) / n
    if kind == "f1":
        d = 2 * tp + fp + fn
        return 2 * tp / d if d else 0.0
    if kind == "mcc":
        d = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)
        return (tp * tn - fp * fn) / math.sqrt(d) if d else 0.0
    x, y, xx, yy, xy = ((f["sx"], f["sy"], f["sxx"], f["syy"], f["sxy"]) if kind == "pearson"
                        else (f["rx"], f["ry"], f["rxx"], f["ryy"], f["rxy"]))
    cov = xy - x * y / n
    vx, vy = xx - x * x / n, yy - y * y / n
    return cov / math.sqrt(vx * vy) if vx > 0 and vy > 0 else float("nan")


def task_scores(suff) -> list[TaskScore]:
    """One TaskScore per (system, task, metric): corpus groups first (when the metric is a corpus metric and the
    log carries pairs), then mean groups."""
    out = {}
    with_values = set(suff.groups.index())
    for (system, task, metric), f in suff.corpus.rows():
        kind = CORPUS_METRICS.get(base_metric(metric).lower())
        if kind is None or (kind == "accuracy" and (system, task, metric) in with_values):
            continue  # accuracy from pairs only where the log has no per-instance scores
        score = corpus_score(kind, f, f"system {system!r}, task {task!r}, metric {metric!r}")
        nan = float("nan")
        out[(system, task, metric)] = TaskScore(system, task, metric, score, int(f["n"]), int(f["n"]), kind,
                                                nan, nan, nan, False)
    for (system, task, metric), f in suff.groups.rows():
        if (system, task, metric) in out:
            continue
        n = f["n"]
        mean = f["s"] / n
        var = (f["q"] - f["s"] * f["s"] / n) / (n - 1) if n > 1 else float("nan")
        var = max(var, 0.0) if not math.isnan(var) else var
        se = math.sqrt(var / n) if n > 1 else float("nan")
        if suff.has_sample:
            pred = f["w"] / n                      # mean of s_i^2 / k_i: prediction noise in each v_i
            data = max(var - pred, 0.0) if not math.isnan(var) else float("nan")
            se_pred, se_data = math.sqrt(pred / n), math.sqrt(data / n) if not math.isnan(data) else data
        else:
            se_pred, se_data = float("nan"), se
        out[(system, task, metric)] = TaskScore(system, task, metric, mean, int(n), int(f["rows"]), "mean", se,
                                                se_data, se_pred,
                                                0 <= f["q"] <= f["s"] <= n)
    return [out[k] for k in sorted(out)]


def score_matrix(scores: list[TaskScore], metric: str | None = None):
    """(systems, tasks, values) for one metric per task: a plain systems x tasks float64 matrix (NaN where a
    system has no score), the shape ``auditkit.ranking_from_scores`` and the table pipeline take.

    ``metric`` picks the metric (default: per task, the first metric in sorted order)."""
    chosen = {}
    for s in scores:
        if metric is not None and s.metric != metric:
            continue
        chosen.setdefault(s.task, s.metric)
    systems = sorted({s.system for s in scores if s.task in chosen and s.metric == chosen[s.task]})
    tasks = sorted(chosen)
    values = np.full((len(systems), len(tasks)), np.nan)
    si = {s: i for i, s in enumerate(systems)}
    ti = {t: j for j, t in enumerate(tasks)}
    for s in scores:
        if s.task in chosen and s.metric == chosen[s.task]:
            values[si[s.system], ti[s.task]] = s.score
    return systems, [f"{t}" for t in tasks], values
