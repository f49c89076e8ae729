"""The arena pipeline: pair counts -> rating models -> intervals, ranks, tiers -> checks -> Report.

:func:`analyse` is what ``auditkit arena`` runs and what Python callers use::

    from auditkit_plugins.arena import read_any, analyse
    result = analyse(read_any("battles.jsonl"), models=["bt", "davidson"], bootstrap=1000)
    result.report.render("markdown"); result.fit.ratings; result.ranking
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

import auditkit

from .checks import IDENTIFIABILITY, ArenaContext, run_checks
from .data import PairCounts


@dataclass
class ArenaResult:
    report: auditkit.Report
    fit: Any = None
    ranking: Any = None
    others: dict[str, Any] = field(default_factory=dict)
    boot: Any = None
    rank_sets: tuple | None = None
    tiers: np.ndarray | None = None

    def forest(self) -> str:
        from .forest import forest_svg

        if self.fit is None:
            return ""
        return forest_svg(self.fit.models, self.fit.ratings, self.lower, self.upper, self.tiers,
                          title=f"Bradley-Terry ratings with {self.fit.level:.0%} intervals, coloured by tier")

    @property
    def lower(self):
        return self.boot.lower if self.boot is not None else self.fit.lower

    @property
    def upper(self):
        return self.boot.upper if self.boot is not None else self.fit.upper

    def html(self) -> str:
        from .forest import html_with_forest

        if self.fit is None:
            return self.report.render("html")
        method = "bootstrap percentile" if self.boot is not None else self.fit.ci
        return html_with_forest(self.report, self.forest(),
                                f"forest plot: {self.ranking.label} ratings, {self.fit.level:.0%} {method} "
                                "intervals, coloured by tier")


def analyse(pc: PairCounts, *, models: Sequence[str] = ("bt",), ci: str = "sandwich", bootstrap: int = 0,
            seed: int = 0, level: float = 0.95, anchor: str | None = None, offset: float = 1000.0,
            ties: str = "half", backend: str = "numpy", device: str = "cpu", checks: Sequence[str] | None = None,
            options: dict | None = None, published: list[dict] | None = None, published_source: str | None = None,
            top: int = 10, command: str | None = None) -> ArenaResult:
    from auditkit.ranking import ranking_from_scores

    from .bt import fit_bt
    from .intervals import gaussian_draws, rank_intervals, simultaneous_rank_sets, tiers as make_tiers
    from .models import rate, short_label

    if not 0 < level < 1:
        raise auditkit.UsageError(f"--level must be in (0, 1), got {level}")
    if ci not in ("sandwich", "fisher", "bootstrap"):
        raise auditkit.errors.unknown_name("interval method", ci, ("sandwich", "fisher", "bootstrap"))
    if ci == "bootstrap" and bootstrap <= 0:
        bootstrap = 1000
    opts = dict(options or {})
    ctx = ArenaContext(pc, None, opts, published, published_source)
    prov = auditkit.provenance(command=command, inputs={pc.source: pc.sha256 or ""}, model="bt", ties=ties,
                               anchor=anchor, offset=offset, ci=ci, bootstrap=bootstrap or None,
                               seed=seed if bootstrap else None, backend=f"{backend}:{device}", level=level)
    report = auditkit.Report(f"arena: {pc.source}", provenance=prov)
    report.summary.update({"battles": pc.n_battles, "models": pc.n_models, "pairs": pc.n_pairs,
                           "positions known": pc.ordered})
    for note in pc.notes:
        report.summary.setdefault("notes", []).append(note)
    ident = [f for f in run_checks(ctx, [c for c in IDENTIFIABILITY if checks is None or c in checks])]
    for f in ident:
        report.add(f)
    if any(f.severity == "error" for f in ident):
        report.summary["ratings"] = "not computed: the data does not identify them (see the findings)"
        return ArenaResult(report)
    fit = fit_bt(pc, ties=ties, anchor=anchor, offset=offset, ci="fisher" if ci == "fisher" else "sandwich",
                 level=level, backend=backend, device=device)
    ctx.fit = fit
    notes = [f"ties: {'half a win each' if ties == 'half' else 'left out'}",
             f"converged: max |gradient| / battles = {fit.grad_norm:.2e} after {fit.iterations} Newton steps"]
    result = ArenaResult(report, fit)
    if bootstrap:
        from .bootstrap import bootstrap as run_bootstrap

        result.boot = run_bootstrap(pc, fit.theta, n_resamples=bootstrap, seed=seed, ties=ties, factor=fit.scale,
                                    offset=offset, anchor=None if anchor is None else fit.models.index(anchor),
                                    level=level, backend=backend, device=device)
        draws = result.boot.samples
        report.summary["bootstrap"] = (f"{bootstrap} multinomial resamples of the pair counts, seed {seed}, "
                                       f"{result.boot.method}, max |gradient| / battles {result.boot.max_gradient:.1e}")
    else:
        draws = gaussian_draws(fit.ratings, fit.cov * fit.scale ** 2, 2000, seed)
    if ci == "bootstrap":
        fit.lower, fit.upper = result.boot.lower, result.boot.upper
    rk = ranking_from_scores(fit.models, fit.ratings, "bt", fit.params, notes=tuple(notes),
                             provider="auditkit_plugins.arena")
    result.ranking = rk
    rlo, rhi = rank_intervals(draws, level)
    slo, shi, crit = simultaneous_rank_sets(fit.ratings, draws, level)
    result.rank_sets = (slo, shi)
    result.tiers = make_tiers(fit.ratings, result.lower, result.upper)
    played = pc.battles_per_model()
    rows = []
    for k in rk.order():
        rows.append({"rank": int(rk.ranks[k]), "model": fit.models[k], "rating": round(float(fit.ratings[k]), 2),
                     "lower": round(float(result.lower[k]), 2), "upper": round(float(result.upper[k]), 2),
                     "rank interval": f"{rlo[k]}-{rhi[k]}", "rank set": f"{slo[k]}-{shi[k]}",
                     "tier": int(result.tiers[k]), "battles": int(played[k])})
    report.tables["ratings"] = rows
    # more rating models
    others = [m for m in models if m.split(":")[0].strip().lower() not in ("bt", "bradley-terry")
              or ":" in m]
    comparison = {}
    for text in others:
        other_fit, other_rk = rate(pc, text, {"anchor": anchor or "", "offset": offset})
        label = short_label(other_rk.rule, dict(other_rk.params))
        result.others[label] = (other_fit, other_rk)
        comparison[label] = (other_fit, other_rk)
        if other_rk.notes:
            report.summary[label] = "; ".join(other_rk.notes)
        if hasattr(other_fit, "extra") and "coefficients" in other_fit.extra:
            ex = other_fit.extra
            report.tables[f"style coefficients ({label})"] = [
                {"feature": f, "coefficient": round(float(b), 5), "se": round(float(s), 5),
                 "points per sd": round(float(b) * other_fit.scale, 2)}
                for f, b, s in zip(ex["features"], ex["coefficients"], ex["coefficient_se"])]
        if hasattr(other_fit, "extra") and "tie_parameter" in other_fit.extra:
            report.summary[f"{label} tie parameter"] = round(float(other_fit.extra["tie_parameter"]), 5)
    if comparison:
        table = []
        for k in rk.order():
            row = {"model": fit.models[k], "bt": round(float(fit.ratings[k]), 1), "bt rank": int(rk.ranks[k])}
            for label, (of, ork) in comparison.items():
                q = list(ork.systems).index(fit.models[k])
                row[label] = round(float(ork.scores[q]), 1)
                row[f"{label} rank"] = int(ork.ranks[q])
            table.append(row)
        report.tables["ratings by model"] = table
    # predicted win probabilities among the top
    order = rk.order()[: max(0, min(top, fit.ratings.size))]
    if len(order) > 1:
        prob = fit.probability_matrix()
        report.tables[f"predicted win probability (top {len(order)}, row beats column)"] = [
            {"model": fit.models[p], **{fit.models[q]: (None if p == q else round(float(prob[p, q]), 3))
                                         for q in order}} for p in order]
    for f in run_checks(ctx, [c for c in (checks or _default_names(ctx)) if c not in IDENTIFIABILITY]):
        report.add(f)
    report.summary.update({
        "model": rk.label, "tie rule": rk.tie_rule, "log-likelihood": round(fit.loglik, 4),
        "max |gradient| / battles": fit.grad_norm, "Newton steps": fit.iterations,
        "scale": f"{fit.scale:.4f} points per natural-log unit (400/ln 10 on LMArena's scale)",
        "anchor": anchor or f"none (mean rating {offset:g})",
        "intervals": f"{level:.0%} " + ("bootstrap percentile" if ci == "bootstrap" else ci),
        "rank sets": f"simultaneous (max-t, critical value {crit:.2f}) from "
                     + ("the bootstrap" if bootstrap else "Gaussian draws of the sandwich covariance"),
        "tiers": int(result.tiers.max()),
    })
    return result


def _default_names(ctx):
    from .checks import battle_checks

    return [c.name for c in battle_checks()
            if c.default or (c.name == "arena.published" and ctx.published is not None)]


def top_order(fit, k: int = 10) -> list[str]:
    return [fit.models[i] for i in np.argsort(-fit.ratings, kind="stable")[:k]]


__all__ = ["analyse", "ArenaResult", "top_order"]
