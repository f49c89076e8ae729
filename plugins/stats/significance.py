"""Paired significance of a score difference between two systems under a rule, and all pairs with Holm control.

* Paired bootstrap: resample tasks (or instances) with replacement, the same draw for every system, recompute the
  rule, and take d* = s_a - s_b. Two-sided p-value of H0: no difference by the shift method,
  p = (1 + #{|d* - d| >= |d|}) / (1 + R).
* Paired permutation (sign flip): under H0 the two systems are exchangeable on every unit, so each task (or
  instance) swaps the two systems' values with probability 1/2; the rule is recomputed on the whole table (other
  systems stay, which matters for Borda, Copeland, Kemeny ...), p = (1 + #{|d_perm| >= |d|}) / (1 + P).
* All pairs: paired bootstrap p-values for every pair from one set of resamples, Holm-adjusted over the
  n(n-1)/2 pairs (family-wise error control).
"""

from __future__ import annotations

import numpy as np


def paired_permutation(values, weights, func, a: int, b: int, *, n_permutations: int, seed, params=None,
                       instances=None):
    """Observed difference s_a - s_b and its sign-flip permutation p-value. ``instances`` (InstanceData) flips per
    instance instead of per task."""
    params = dict(params or {})
    values = np.asarray(values, float)
    w = np.asarray(weights, float)
    import array_api_compat.numpy as xpn

    def diff(v):
        s = np.asarray(func(v, xp=xpn, weights=w, **params), float)
        return float(s[a] - s[b])

    observed = diff(values)
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(n_permutations):
        v = values.copy()
        if instances is None:
            flip = rng.random(values.shape[1]) < 0.5
            v[a, flip], v[b, flip] = values[b, flip], values[a, flip]
        else:
            for t, m in enumerate(instances.matrices):
                flip = rng.random(m.shape[1]) < 0.5
                xa = np.where(flip, m[b], m[a])
                xb = np.where(flip, m[a], m[b])
                v[a, t], v[b, t] = xa.mean(), xb.mean()
        hits += abs(diff(v)) >= abs(observed) - 1e-12 * (1 + abs(observed))
    return observed, (1 + hits) / (1 + n_permutations)


def bootstrap_pvalues(boot_scores: np.ndarray, point: np.ndarray) -> np.ndarray:
    """(n, n) two-sided shift-method paired bootstrap p-values from (R, n) bootstrap scores."""
    R, n = boot_scores.shape
    d = point[:, None] - point[None, :]
    p = np.ones((n, n))
    for i in range(n):
        dstar = boot_scores[:, i:i + 1] - boot_scores            # (R, n): d*_{i, j}
        dev = np.abs(dstar - d[i][None, :])
        hits = (dev >= np.abs(d[i])[None, :] - 1e-12 * (1 + np.abs(d[i]))[None, :]).sum(axis=0)
        p[i] = (1 + hits) / (1 + R)
    np.fill_diagonal(p, 1.0)
    return p


def significance(data, system_a=None, system_b=None, *, rule="arithmetic", params=None, all_pairs=False,
                 n_resamples=2000, n_permutations=2000, seed=0, unit="task", level=0.95, benchmark=None,
                 tasks=None, exclude=None, negatives="refuse", missing="exclude-row", out_of_range="refuse",
                 lower_is_better=None,
                 include_reference=False, backend="numpy", device="cpu", system_column=None, input_format=None,
                 command=None, progress=None, adjust: str = "holm"):
    """A Report with the paired bootstrap and permutation tests for two named systems, or (``all_pairs``) the
    Holm-adjusted paired bootstrap p-values for every pair."""
    from auditkit import Finding, Report, UsageError, get_registry, load_task_scores, oriented_values, provenance
    from auditkit.rules import split_rule_tokens

    from .bootstrap import bootstrap_ranks, instance_data
    from .multiple import adjust as adjust_pvalues

    label = {"holm": "Holm", "bonferroni": "Bonferroni", "bh": "Benjamini-Hochberg"}.get(adjust)
    if label is None:
        from auditkit.errors import unknown_name

        raise unknown_name("multiple-comparison correction", adjust, ("holm", "bonferroni", "bh"))

    if not isinstance(rule, str) or len(split_rule_tokens(rule)) != 1:
        raise UsageError(f"significance tests one rule at a time (got {rule!r}); run it once per rule")
    shorthand = {get_registry().get("aggregators", rule.split(":")[0]).name: dict(params)} if params else None
    loaded = load_task_scores(data, [rule], benchmark=benchmark, tasks=tasks, exclude=exclude, negatives=negatives,
                              missing=missing, out_of_range=out_of_range, lower_is_better=lower_is_better,
                              system_column=system_column,
                              input_format=input_format, shorthand=shorthand)
    spec = loaded.rules[0]
    agg = get_registry().get("aggregators", spec.name)
    rule, used = spec.name, dict(spec.params)
    ts, policy, notes = loaded.task_scores, loaded.policies["negatives"], list(loaded.notes)
    values, higher, direction_note = oriented_values(ts, agg)
    if not higher:
        raise UsageError(f"significance compares higher scores; {rule} ranks ascending here (every task is "
                         "lower-is-better): declare the tasks' range or use a rank-based rule")
    if direction_note:
        notes.append(direction_note)
    lb = ts.leaderboard
    rows = np.flatnonzero(ts.scorable & (True if include_reference else ~ts.reference))
    names = [lb.systems[i] for i in rows]
    inst = instance_data(ts, rows) if unit == "instance" else None
    alpha = 1 - level
    if not all_pairs:
        if not system_a or not system_b:
            raise UsageError("name two systems (SYSTEM_A SYSTEM_B), or pass --all-pairs")
        pos = []
        for s in (system_a, system_b):
            r = lb.row_of(s)
            if r not in rows:
                why = ts.reasons.get(r, "it is a reference row (add --include-reference)")
                raise UsageError(f"{lb.source}: system {s!r} cannot be tested: {why}")
            pos.append(int(np.flatnonzero(rows == r)[0]))
        if pos[0] == pos[1]:
            raise UsageError("the two systems are the same row")
    res = bootstrap_ranks(values[rows], ts.weights, rule, params=used, n_resamples=n_resamples, seed=seed,
                          unit=unit, instances=inst, backend=backend, device=device, level=level,
                          progress=progress, keep_scores=True)
    boot = res.extra["scores"]
    point = res.point_scores
    summary = {"schema": "auditkit.significance/1", "benchmark": ts.recipe.name, "rule": rule,
               "rule_params": used, "unit": unit, "n_resamples": n_resamples, "seed": seed, "level": level,
               "negative_policy": policy, "policies": dict(loaded.policies), "tasks": ts.tasks, "notes": [*lb.notes, *ts.notes, *notes]}
    findings, tables = [], {}
    if not all_pairs:
        a, b = pos
        d = float(point[a] - point[b])
        dstar = boot[:, a] - boot[:, b]
        p_boot = float((1 + (np.abs(dstar - d) >= abs(d) - 1e-12 * (1 + abs(d))).sum()) / (1 + n_resamples))
        lo, hi = np.quantile(dstar, [alpha / 2, 1 - alpha / 2])
        _, p_perm = paired_permutation(values[rows], ts.weights, agg.func, a, b, n_permutations=n_permutations,
                                       seed=seed, params=used, instances=inst)
        summary.update({"system_a": names[a], "system_b": names[b], "score_a": float(point[a]),
                        "score_b": float(point[b]), "difference": d, "difference_interval": [float(lo), float(hi)],
                        "p_bootstrap": p_boot, "p_permutation": float(p_perm), "n_permutations": n_permutations,
                        "p_bootstrap_resolution": 1 / (1 + n_resamples)})
        tables["paired test"] = [{"system a": names[a], "system b": names[b], f"{rule} a": float(point[a]),
                                  f"{rule} b": float(point[b]), "a - b": d,
                                  f"{level:.0%} interval": f"[{lo:.4g}, {hi:.4g}]", "p (bootstrap)": p_boot,
                                  "p (permutation)": float(p_perm)}]
        significant = max(p_boot, p_perm) <= alpha
        findings.append(Finding("significance.pair", "info",
                                f"{names[a]} vs {names[b]} under {rule}: difference {d:.4g}, p = {p_boot:.4g} "
                                f"(paired bootstrap), {p_perm:.4g} (permutation): "
                                + ("significant" if significant else "not significant") + f" at {alpha:g}"))
    else:
        p = bootstrap_pvalues(boot, point)
        iu = np.triu_indices(len(rows), 1)
        adj = adjust_pvalues(p[iu], adjust)
        column = f"p ({label})"
        pairs = []
        for (i, j), pv, pa in zip(zip(*iu), p[iu], adj):
            hi_, lo_ = (i, j) if point[i] >= point[j] else (j, i)
            pairs.append({"better": names[hi_], "worse": names[lo_], "difference": float(point[hi_] - point[lo_]),
                          "p": float(pv), column: float(pa), "significant": bool(pa <= alpha)})
        pairs.sort(key=lambda r: (r[column], -r["difference"]))
        tables[f"all pairs (paired bootstrap, {label})"] = pairs
        n_sig = sum(r["significant"] for r in pairs)
        summary.update({"n_pairs": len(pairs), "n_significant": n_sig, "correction": adjust,
                        "pairs": pairs})
        if 1 / (1 + n_resamples) > alpha / max(len(pairs), 1):
            findings.append(Finding("significance.resolution", "warning",
                                    f"with {n_resamples} resamples the smallest p-value is {1 / (1 + n_resamples):.2g}"
                                    f", above the first Holm threshold {alpha / len(pairs):.2g} for {len(pairs)} "
                                    f"pairs: no pair can be declared significant; use --resamples "
                                    f"{int(np.ceil(len(pairs) / alpha))} or more"))
        findings.append(Finding("significance.all-pairs", "info",
                                f"{n_sig} of {len(pairs)} pairs differ significantly under {rule} "
                                f"(paired bootstrap, {label}, "
                                + ("false discovery rate" if adjust == "bh" else "family-wise") + f" {alpha:g})"))
    prov = provenance(command=command, inputs={lb.source: lb.sha256}, recipe=f"{ts.recipe.name} "
                      f"{ts.recipe.version}", rule=rule, seed=seed, backend=backend, device=device)
    return Report(f"auditkit significance: {ts.recipe.title} under {rule}", findings, prov, summary, tables)
