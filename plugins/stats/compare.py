"""``auditkit compare``: would the ranking survive another reasonable aggregation rule?

Runs every rule through the core pipeline (``auditkit.load_task_scores`` then ``auditkit.rank`` per rule), then
reports agreement (Kendall tau-b and Spearman rho matrices), each system's rank range, the winners, the pairs whose
order flips, the stable top-k, the Kemeny certificate and, with ``--bootstrap N``, rank intervals, rank probabilities
and simultaneous rank sets per rule. The summary keys are documented in docs/compare.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SCHEMA = "auditkit.compare/1"
DEFAULT_RULES = ("arithmetic", "geometric", "harmonic", "borda", "copeland", "kemeny")


def flips(ranks: dict[str, np.ndarray], rows: np.ndarray) -> list[tuple[int, int, list[str], list[str]]]:
    """Pairs (a, b) of rows that some rule orders a above b and another b above a."""
    rules = list(ranks)
    R = np.stack([ranks[r][rows] for r in rules])           # (m, n)
    above = R[:, :, None] < R[:, None, :]                   # rule puts a above b
    some = above.any(axis=0)
    out = []
    for a, b in zip(*np.nonzero(some & some.T)):
        if a < b:
            out.append((int(rows[a]), int(rows[b]), [rules[m] for m in range(len(rules)) if above[m, a, b]],
                        [rules[m] for m in range(len(rules)) if above[m, b, a]]))
    return out


def stable_top_k(ranks: dict[str, np.ndarray], rows: np.ndarray) -> tuple[int, int, list[int]]:
    """(stable_top_k, stable_top_k_order, stable_cuts).

    stable_cuts: every k < n whose top-k SET ({rank <= k}, exactly k systems) is the same under every rule;
    stable_top_k: the smallest of them (the top group whose membership no rule changes; 0 if none);
    stable_top_k_order: the largest k whose first k systems have identical ranks under every rule (0 when the
    winner differs)."""
    R = np.stack([ranks[r][rows] for r in ranks])           # (m, n)
    n = R.shape[1]
    cuts = []
    for k in range(1, n):
        sets = [frozenset(np.flatnonzero(R[m] <= k).tolist()) for m in range(R.shape[0])]
        if all(s == sets[0] for s in sets) and len(sets[0]) == k:
            cuts.append(k)
    k_order = 0
    by_first = np.argsort(R[0], kind="stable")
    for k in range(1, n + 1):
        top = by_first[:k]
        if (R[:, top] == R[0, top]).all() and (R[0, top] <= k).all() and \
                all(len(np.flatnonzero(R[m] <= k)) == k for m in range(R.shape[0])):
            k_order = k
        else:
            break
    return (cuts[0] if cuts else 0), k_order, cuts


def compare(data, rules=DEFAULT_RULES, *, benchmark=None, tasks=None, exclude=None, negatives="refuse",
            missing="exclude-row", out_of_range="refuse", lower_is_better=None, params=None, bootstrap: int = 0, seed: int | None = 0,
            unit: str = "task", level: float = 0.95, include_reference: bool = False, backend: str = "numpy",
            device: str = "cpu", system_column=None, input_format=None, command: str | None = None,
            plot: bool = False, progress: bool | None = None):
    """Compare rankings under several rules (texts like ``"power:p=-2"``); returns an :class:`auditkit.Report`.

    Rule labels (``power(p=-2)``) key every table, so one rule may appear twice with different parameters."""
    from auditkit import TIE_RULE, Finding, Report, UsageError, kendall_tau, load_task_scores, provenance
    from auditkit import rank as rank_under
    from auditkit import spearman_rho

    if not 0 < level < 1:
        raise UsageError(f"--level must be between 0 and 1 (got {level})")
    loaded = load_task_scores(data, rules, benchmark=benchmark, tasks=tasks, exclude=exclude, negatives=negatives,
                              missing=missing, out_of_range=out_of_range, lower_is_better=lower_is_better,
                              system_column=system_column,
                              input_format=input_format, shorthand=params)
    ts, policy, notes = loaded.task_scores, loaded.policies["negatives"], list(loaded.notes)
    lb = ts.leaderboard
    names = [s + (" (reference)" if ts.reference[i] else "") for i, s in enumerate(ts.systems)]
    rankings = [rank_under(ts, spec, backend=backend, device=device, policies=loaded.policies)
                for spec in loaded.rules]
    rules = [r.label for r in rankings]
    specs = {r.label: spec for r, spec in zip(rankings, loaded.rules)}
    used = {r.label: dict(r.params) for r in rankings}
    # higher is better for every rule below (a lower-is-better mean is negated, its ranks unchanged)
    scores = {r.label: (r.scores if r.higher_is_better else -r.scores) for r in rankings}
    ranks = {r.label: r.ranks for r in rankings}
    notes += [n for r in rankings for n in r.notes if n not in notes]
    scored = np.flatnonzero(ts.scorable)
    if scored.size < 2:
        raise UsageError(f"{lb.source}: fewer than two rows can be scored; nothing to compare")

    # agreement ------------------------------------------------------------------------------------------------
    # every registered agreement metric (auditkit_register_metrics), one matrix each
    from auditkit import get_registry

    metrics = {id(m): m for m in get_registry().records("metrics").values()}.values()
    agreement = {m.name: {a: {b: float(m.func(scores[a], scores[b])) for b in rules} for a in rules}
                 for m in metrics}
    agreement_tables = {f"agreement ({m.label or m.name})": [
        {"rule": a, **{b: round(agreement[m.name][a][b], 4) for b in rules}} for a in rules] for m in metrics}
    tau = agreement.get("kendall") or {a: {b: kendall_tau(scores[a], scores[b]) for b in rules} for a in rules}
    rho = agreement.get("spearman") or {a: {b: spearman_rho(scores[a], scores[b]) for b in rules} for a in rules}

    # ranks across rules -----------------------------------------------------------------------------------------
    first = rules[0]
    order = sorted(scored, key=lambda i: (ranks[first][i], lb.lines[i]))
    rank_rows, rank_range = [], {}
    for i in order:
        rs = [int(ranks[r][i]) for r in rules]
        rank_range[names[i]] = [min(rs), max(rs)]
        rank_rows.append({"system": names[i], **{r: int(ranks[r][i]) for r in rules},
                          "best": min(rs), "worst": max(rs), "range": max(rs) - min(rs),
                          "published rank": None if not np.isfinite(ts.published_rank[i])
                          else int(ts.published_rank[i])})
    winners = {r: [names[i] for i in scored if ranks[r][i] == 1] for r in rules}
    any_winner = sorted({w for ws in winners.values() for w in ws}, key=lambda s: min(
        ranks[r][names.index(s)] for r in rules))
    winner_rows = [{"rule": r, "winner": ", ".join(winners[r]),
                    "score": float(np.nanmax(scores[r][scored]))} for r in rules]
    flip_list = flips(ranks, scored)
    flip_rows = [{"system a": names[a], "system b": names[b], "a above b under": ", ".join(ra),
                  "b above a under": ", ".join(rb),
                  "best rank of pair": int(min(ranks[first][a], ranks[first][b]))}
                 for a, b, ra, rb in flip_list]
    flip_rows.sort(key=lambda d: (d["best rank of pair"], d["system a"], d["system b"]))
    k_set, k_order, cuts = stable_top_k(ranks, scored)

    summary: dict[str, Any] = {
        "schema": SCHEMA, "benchmark": ts.recipe.name, "recipe_version": ts.recipe.version, "rules": rules,
        "rule_params": {r: p for r, p in used.items() if p}, "tie_rule": TIE_RULE,
        "policies": dict(loaded.policies),
        "providers": {r.label: r.provider for r in rankings},
        "tie_semantics": "inside a rule, a tie on a task counts one half to each system",
        "tasks": ts.tasks, "negative_policy": policy, "n_systems": int(scored.size),
        "n_reference": int((ts.reference & ts.scorable).sum()),
        "kendall_tau": tau, "spearman_rho": rho, "agreement": agreement,
        "min_kendall_tau": float(min(tau[a][b] for a in rules for b in rules)),
        "ranks": {names[i]: {r: int(ranks[r][i]) for r in rules} for i in scored},
        "rank_range": rank_range, "winners": winners, "winners_any_rule": any_winner,
        "n_winners_any_rule": len(any_winner),
        "flips": [[names[a], names[b]] for a, b, _, _ in flip_list], "n_flips": len(flip_list),
        "stable_top_k": k_set, "stable_top_k_order": k_order, "stable_cuts": cuts,
        "notes": [*lb.notes, *ts.notes, *notes],
    }
    findings = []
    if len(any_winner) > 1:
        findings.append(Finding("compare.winner", "warning",
                                f"the winner depends on the rule: {', '.join(any_winner)}",
                                evidence={"winners": winners}))
    else:
        findings.append(Finding("compare.winner", "info", f"{any_winner[0]} wins under every rule"))
    findings.append(Finding("compare.flips", "info", f"{len(flip_list)} pair(s) change order across rules; "
                            f"smallest stable top-k set: {k_set}; stable top-k order: {k_order}",
                            evidence={"n_flips": len(flip_list), "stable_top_k": k_set}))

    tables: dict[str, list] = {
        "ranks by rule": rank_rows,
        **agreement_tables,
        "winners": winner_rows,
        "stable top-k": [{"stable top-k set": k_set, "stable top-k order": k_order,
                          "systems in stable top-k": ", ".join(names[i] for i in order[:k_set]),
                          "all stable cuts": ", ".join(map(str, cuts))}],
        "order flips": flip_rows,
    }

    # Kemeny certificate -----------------------------------------------------------------------------------------
    if "kemeny" in rules:
        from auditkit import get_registry

        kemeny_certificate = get_registry().get("functions", "kemeny-certificate").func
        systems = np.flatnonzero(ts.scorable & ~ts.reference)
        cert = kemeny_certificate(ts.values[systems], ts.weights).as_dict() if systems.size else {}
        if cert:  # row indices of the systems-only table -> names
            system_names = [names[i] for i in systems]
            cert["possible_winners"] = [system_names[k] for k in cert.get("possible_winners", [])]
            for key in ("best_position", "worst_position"):
                if isinstance(cert.get(key), list):
                    cert[key] = dict(zip(system_names, cert[key]))
            if len(cert.get("possible_winners", [])) > 1:
                findings.append(Finding("compare.kemeny", "warning",
                                        f"{len(cert['possible_winners'])} systems are first in some optimal Kemeny "
                                        f"order ({', '.join(cert['possible_winners'])}): they share rank 1",
                                        evidence={"possible_winners": cert["possible_winners"],
                                                  "n_optimal_orders": cert.get("n_optimal_orders")}))
        summary["kemeny"] = cert
        tables["kemeny certificate"] = [{k: (", ".join(v) if k == "possible_winners" else v)
                                         for k, v in cert.items() if not isinstance(v, dict)}]
        if cert and not cert["exact"]:
            findings.append(Finding("compare.kemeny", "info",
                                    f"Kemeny order for {cert['n_systems']} systems is a heuristic: cost "
                                    f"{cert['cost']:.4g}, lower bound {cert['lower_bound']:.4g}, gap "
                                    f"{cert['gap']:.4g}", evidence=cert))

    # bootstrap --------------------------------------------------------------------------------------------------
    if bootstrap:
        tables["rank intervals"], summary["bootstrap"] = _bootstrap_section(
            ts, rules, specs, names, bootstrap=bootstrap, seed=seed, unit=unit, level=level,
            include_reference=include_reference, backend=backend, device=device, progress=progress)
    prov = provenance(command=command, inputs={lb.source: lb.sha256},
                      recipe=f"{ts.recipe.name} {ts.recipe.version}", rules=rules,
                      policies=dict(loaded.policies), providers={r.label: r.provider for r in rankings},
                      rule_params={r: p for r, p in used.items() if p} or None, backend=backend, device=device,
                      seed=seed if bootstrap else None, bootstrap=bootstrap or None,
                      unit=unit if bootstrap else None)
    report = Report(f"auditkit compare: {ts.recipe.title} ({lb.source.rsplit('/', 1)[-1]})", findings, prov,
                    summary, tables)
    if plot:
        from .plot import bump_chart

        report.images["ranks across rules (bump chart)"] = ("image/png", bump_chart(
            [names[i] for i in order], [[int(ranks[r][i]) for r in rules] for i in order], rules, fmt="png"))
    report.rank_data = ([names[i] for i in order], [[int(ranks[r][i]) for r in rules] for i in order], rules)
    return report


def _bootstrap_section(ts, rules, specs, names, *, bootstrap, seed, unit, level, include_reference, backend,
                       device, progress):
    from .bootstrap import bootstrap_ranks, instance_data

    from auditkit import get_registry, oriented_values

    rows = np.flatnonzero(ts.scorable & (True if include_reference else ~ts.reference))
    inst = instance_data(ts, rows) if unit == "instance" else None
    table, out = [], {"n_resamples": bootstrap, "seed": seed, "unit": unit, "level": level,
                      "include_reference": include_reference, "backend": backend, "device": device,
                      "method": {"intervals": "percentile of the bootstrap rank",
                                 "simultaneous": "pairwise z-tests with bootstrap standard errors, Holm over all "
                                                 "pairs; set = [1 + #significantly better, n - #significantly "
                                                 "worse]",
                                 "max_t": "csranks step-down max-t over all pairs (simultaneous coverage, never "
                                          "wider than Holm's)",
                                 "marginal": "csranks max-t over the pairs involving the system (its own coverage)",
                                 "shared_rank": "first position of the system's group of systems that the max-t "
                                                "sets cannot separate"},
                      "rank_intervals": {}, "rank_probabilities": {}}
    for r in rules:
        values, higher, _ = oriented_values(ts, get_registry().get("aggregators", specs[r].name))
        if not higher:
            from auditkit import UsageError

            raise UsageError(f"--bootstrap ranks higher scores first; {r} ranks ascending (every task is "
                             "lower-is-better): give the tasks' direction as a declared range or use a rank-based "
                             "rule")
        res = bootstrap_ranks(values[rows], ts.weights, specs[r].name, params=dict(specs[r].params),
                              n_resamples=bootstrap, seed=seed,
                              unit=unit, instances=inst, backend=backend, device=device, level=level,
                              progress=progress)
        ci = res.rank_intervals()
        sim, _ = res.simultaneous_rank_sets()
        # csranks (Mogstad, Romano, Shaikh & Wilhelm): step-down max-t simultaneous sets, never wider than Holm's,
        # marginal sets, top-1 candidates, and the groups of systems the data cannot separate (shared ranks)
        from .ranksets import inseparable_groups, marginal_sets, max_t_sets

        max_t, better = max_t_sets(res.point_scores, res.score_cov, level, seed=seed)
        marginal = marginal_sets(res.point_scores, res.score_cov, level, seed=seed)
        groups = inseparable_groups(res.point_scores, better)
        shared = np.empty(len(rows), int)
        for first, _, members in groups:
            shared[members] = first
        probs = res.rank_probabilities
        per = {}
        for j, i in enumerate(rows):
            point = int(res.point_ranks[j])
            entry = {"rank": point, "interval": [int(ci[j, 0]), int(ci[j, 1])],
                     "simultaneous": [int(sim[j, 0]), int(sim[j, 1])],
                     "max_t": [int(max_t[j, 0]), int(max_t[j, 1])],
                     "marginal": [int(marginal[j, 0]), int(marginal[j, 1])], "shared_rank": int(shared[j]),
                     "p_first": float(probs[j, 0]), "p_rank": float(probs[j, point - 1])}
            per[names[i]] = entry
            table.append({"rule": r, "system": names[i], "rank": point, "shared rank": int(shared[j]),
                          f"{level:.0%} interval": f"{ci[j, 0]}-{ci[j, 1]}",
                          "simultaneous set": f"{sim[j, 0]}-{sim[j, 1]}",
                          "max-t set": f"{max_t[j, 0]}-{max_t[j, 1]}",
                          "marginal set": f"{marginal[j, 0]}-{marginal[j, 1]}",
                          "P(rank 1)": round(float(probs[j, 0]), 4), "P(this rank)": round(float(probs[j, point - 1]), 4)})
        out.setdefault("top1_candidates", {})[r] = [names[rows[j]] for j in np.flatnonzero(max_t[:, 0] == 1)]
        out.setdefault("inseparable_groups", {})[r] = [[names[rows[m]] for m in members]
                                                        for _, _, members in groups]
        out["rank_intervals"][r] = per
        out["rank_probabilities"][r] = {names[i]: probs[j].round(6).tolist() for j, i in enumerate(rows)}
        out.setdefault("paths", {})[r] = res.path
    table.sort(key=lambda d: (rules.index(d["rule"]), d["rank"], d["system"]))
    return table, out
