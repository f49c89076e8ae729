"""Audits of pairwise data, as :class:`auditkit.Check` records with stable ids (documented in docs/arena.md).

Each ``run(ctx)`` gets an :class:`ArenaContext` and yields :class:`auditkit.Finding` objects; a check that does not
apply to the data (no position information, no categories, no published table) yields at most one ``info`` finding
saying why. The identifiability checks run before any fit; the others use the context's Bradley-Terry fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import auditkit
from auditkit import Finding

from .bt import BTFit, design, identifiability
from .data import PairCounts

DEFAULTS = {
    "max_interval": 20.0,      # arena.few-battles: widest acceptable 95% half-width, rating points
    "alpha": 0.001,            # arena.position-bias: test level
    "min_pair_battles": 30,    # arena.intransitive: battles per edge
    "edge_z": 2.0,             # arena.intransitive / arena.category-flip: z of each edge / difference
    "top": 5,                  # arena.sensitivity / arena.category-flip: size of the top considered
    "min_category_battles": 1000,
    "published_tolerance": 0.5,  # arena.published: rounding of the published table
}


@dataclass
class ArenaContext:
    """What the checks see: the counts, the main BT fit (None when the data is not identified), options, the
    published table (rows of dicts) if any."""

    pc: PairCounts
    fit: BTFit | None = None
    options: dict[str, Any] = field(default_factory=dict)
    published: list[dict[str, Any]] | None = None
    published_source: str | None = None
    _ident: dict | None = None

    def opt(self, key):
        return self.options.get(key, DEFAULTS[key])

    @property
    def ident(self):
        if self._ident is None:
            self._ident = identifiability(design(self.pc, "half"))
        return self._ident


def disconnected(ctx: ArenaContext):
    info = ctx.ident
    if info["weak_components"] <= 1:
        return
    labels = info["weak_labels"]
    sizes = np.bincount(labels)
    comps = []
    for c in np.argsort(-sizes):
        members = [ctx.pc.models[k] for k in np.flatnonzero(labels == c)]
        comps.append(members)
    yield Finding("arena.disconnected", "error",
                  f"the comparison graph has {len(comps)} components that never meet (sizes "
                  f"{', '.join(str(len(c)) for c in comps)}): ratings of models in different components are not "
                  "comparable and no single ranking exists; rate each component on its own",
                  evidence={"components": [c[:20] for c in comps], "sizes": [len(c) for c in comps]})


def never_beaten(ctx: ArenaContext):
    info = ctx.ident
    for k in info["never_beaten"]:
        yield Finding("arena.never-beaten", "error",
                      f"{ctx.pc.models[k]!r} never lost nor tied in {int(info['played'][k])} battles: its maximum-"
                      "likelihood rating is +infinity (the fit does not exist); collect more battles or regularize",
                      system=ctx.pc.models[k], evidence={"battles": int(info["played"][k])})


def never_wins(ctx: ArenaContext):
    info = ctx.ident
    for k in info["never_wins"]:
        yield Finding("arena.never-wins", "error",
                      f"{ctx.pc.models[k]!r} never won nor tied in {int(info['played'][k])} battles: its maximum-"
                      "likelihood rating is -infinity (the fit does not exist)",
                      system=ctx.pc.models[k], evidence={"battles": int(info["played"][k])})
    if not info["never_beaten"].size and not info["never_wins"].size and info["weak_components"] == 1 \
            and info["strong_components"] > 1:
        yield Finding("arena.never-wins", "error",
                      f"the win graph splits into {info['strong_components']} groups where one group never loses "
                      "to another: the maximum-likelihood ratings diverge",
                      evidence={"strong_components": info["strong_components"]})


def few_battles(ctx: ArenaContext):
    fit = ctx.fit
    if fit is None:
        return
    limit = float(ctx.opt("max_interval"))
    half = (fit.upper - fit.lower) / 2
    played = ctx.pc.battles_per_model()
    for k in np.argsort(-half):
        if not half[k] > limit:
            break
        needed = int(math.ceil(played[k] * (half[k] / limit) ** 2))
        yield Finding("arena.few-battles", "warning",
                      f"{fit.models[k]!r}: {int(played[k])} battles give a {fit.level:.0%} interval of "
                      f"+/-{half[k]:.1f} points (limit {limit:g}); about {needed} battles would bring it under the "
                      "limit", system=fit.models[k],
                      evidence={"battles": int(played[k]), "half_width": float(half[k]), "limit": limit,
                                "battles_needed": needed})


def position_bias(ctx: ArenaContext):
    pc = ctx.pc
    if not pc.ordered:
        yield Finding("arena.position-bias", "info",
                      "position bias cannot be tested: the counts do not say which model was shown first")
        return
    a, b = float(pc.wins_a.sum()), float(pc.wins_b.sum())
    n = a + b
    if n == 0:
        return
    pvalue = binomial_test_half(int(round(a)), int(round(n)))
    rate = a / n
    ev = {"model_a_wins": int(a), "decisive_battles": int(n), "rate": rate, "p_value": pvalue,
          "ci": wilson(a, n)}
    if pvalue < float(ctx.opt("alpha")):
        yield Finding("arena.position-bias", "warning",
                      f"the model shown first (model_a) wins {rate:.1%} of {int(n)} decisive battles, not 50% "
                      f"(binomial test p = {pvalue:.2g}): position affects the outcome; check that positions "
                      "were randomized", evidence=ev)


def binomial_test_half(k: int, n: int) -> float:
    """Exact two-sided binomial test of P = 1/2 (symmetric, so twice the smaller tail)."""
    from scipy.special import bdtr, bdtrc

    lower = float(bdtr(k, n, 0.5))
    upper = float(bdtrc(k - 1, n, 0.5)) if k > 0 else 1.0
    return min(1.0, 2 * min(lower, upper))


def wilson(k: float, n: float, z: float = 1.959963984540054) -> list[float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [centre - half, centre + half]


def intransitive(ctx: ArenaContext):
    fit = ctx.fit
    if fit is None:
        return
    wm = ctx.pc.win_matrix()
    rate, nb = wm["win_rate"], wm["battles"]
    with np.errstate(invalid="ignore"):
        z = (rate - 0.5) / np.sqrt(0.25 / np.where(nb > 0, nb, np.inf))
    sig = (nb >= int(ctx.opt("min_pair_battles"))) & (z > float(ctx.opt("edge_z")))
    s = sig.astype(np.int64)
    paths = s @ s  # paths[i, k]: number of j with i -> j -> k
    cand = np.argwhere((paths > 0) & sig.T)  # i -> j -> k and k -> i
    cycles = {}
    for i, k in cand:
        for j in np.flatnonzero(sig[i] & sig[:, k]):
            cyc = (int(i), int(j), int(k))
            r = cyc.index(min(cyc))
            key = cyc[r:] + cyc[:r]
            cycles[key] = min(z[key[0], key[1]], z[key[1], key[2]], z[key[2], key[0]])
    if not cycles:
        return
    prob = fit.probability_matrix()
    top = sorted(cycles.items(), key=lambda kv: -kv[1])
    for (i, j, k), zmin in top[:10]:
        names = [fit.models[x] for x in (i, j, k)]
        edges = [(i, j), (j, k), (k, i)]
        obs = [float(rate[p, q]) for p, q in edges]
        fitted = [float(prob[p, q]) for p, q in edges]
        yield Finding("arena.intransitive", "warning",
                      f"cycle {names[0]} > {names[1]} > {names[2]} > {names[0]}: observed win rates "
                      f"{obs[0]:.2f}, {obs[1]:.2f}, {obs[2]:.2f} (each significant, min z {zmin:.1f}); Bradley-"
                      f"Terry cannot represent a cycle and fits {fitted[0]:.2f}, {fitted[1]:.2f}, {fitted[2]:.2f}",
                      system=names[0],
                      evidence={"models": names, "observed": obs, "fitted": fitted,
                                "battles": [int(nb[p, q]) for p, q in edges], "min_z": float(zmin),
                                "cycles_found": len(cycles)})


def category_flip(ctx: ArenaContext):
    fit, bt = ctx.fit, ctx.pc.battles
    if fit is None or bt is None or bt.category is None:
        return
    from .bt import fit_bt

    top = np.argsort(-fit.ratings)[: int(ctx.opt("top")) * 2]
    zc = float(ctx.opt("edge_z"))
    cats, counts = np.unique(bt.category, return_counts=True)
    for cat, count in zip(cats, counts):
        if count < int(ctx.opt("min_category_battles")):
            continue
        sub = bt.subset(bt.category == cat)
        present = np.zeros(len(bt.models), bool)
        present[sub.a] = True
        present[sub.b] = True
        pcs = sub.counts(source=ctx.pc.source).select(present)
        try:
            cf = fit_bt(pcs)
        except auditkit.AuditkitError:
            yield Finding("arena.category-flip", "info", f"category {cat!r}: the ratings are not identified "
                          "within it (disconnected or a model never loses); not compared", column=str(cat))
            continue
        index = {m: q for q, m in enumerate(cf.models)}
        for x in range(len(top)):
            for y in range(x + 1, len(top)):
                p, q = int(top[x]), int(top[y])  # overall p above q
                mp, mq = fit.models[p], fit.models[q]
                if mp not in index or mq not in index:
                    continue
                d_all = fit.ratings[p] - fit.ratings[q]
                se_all = math.sqrt(max(_var_diff(fit, p, q), 1e-300))
                cp, cq = index[mp], index[mq]
                d_cat = cf.ratings[cp] - cf.ratings[cq]
                se_cat = math.sqrt(max(_var_diff(cf, cp, cq), 1e-300))
                if d_all / se_all > zc and -d_cat / se_cat > zc:
                    yield Finding("arena.category-flip", "warning",
                                  f"category {cat!r}: {mq!r} is above {mp!r} ({cf.ratings[cq]:.0f} vs "
                                  f"{cf.ratings[cp]:.0f}, z {-d_cat / se_cat:.1f}) while overall {mp!r} is above "
                                  f"({fit.ratings[p]:.0f} vs {fit.ratings[q]:.0f}, z {d_all / se_all:.1f})",
                                  system=mq, column=str(cat),
                                  evidence={"category": str(cat), "battles": int(count), "overall": [mp, mq],
                                            "overall_diff": float(d_all), "category_diff": float(d_cat)})


def _var_diff(fit, p, q):
    c = fit.cov
    return (c[p, p] + c[q, q] - 2 * c[p, q]) * fit.scale ** 2


def sensitivity(ctx: ArenaContext):
    fit = ctx.fit
    if fit is None:
        return
    from .bt import fit_bt
    from .ties import fit_tie_model

    k = min(int(ctx.opt("top")), fit.ratings.size)
    base_top = [fit.models[i] for i in np.argsort(-fit.ratings, kind="stable")[:k]]
    variants = {}
    variants["ties dropped"] = lambda: fit_bt(ctx.pc, ties="drop")
    if (ctx.pc.ties + ctx.pc.bothbad).sum() > 0:
        variants["Davidson ties"] = lambda: fit_tie_model(ctx.pc, "davidson")
    if ctx.pc.battles is not None and ctx.pc.battles.style:
        from .style import fit_style_bt

        variants["style control"] = lambda: fit_style_bt(ctx.pc)
    last = fit.models[int(np.argmin(fit.ratings))]
    variants[f"anchor {last}"] = lambda: fit_bt(ctx.pc, anchor=last)
    for label, make in variants.items():
        try:
            other = make()
        except auditkit.AuditkitError as exc:
            yield Finding("arena.sensitivity", "info", f"{label}: not fitted ({exc})")
            continue
        top = [other.models[i] for i in np.argsort(-other.ratings, kind="stable")[:k]]
        if top == base_top:
            if label.startswith("anchor"):
                yield Finding("arena.sensitivity", "info",
                              f"{label}: the order is unchanged (an anchor shifts every BT rating by the same "
                              "amount; only the intervals change: the anchor's own is 0 wide)",
                              evidence={"top": top})
            continue
        severity = "warning" if top[0] != base_top[0] else "info"
        moved = [f"{m} {base_top.index(m) + 1}->{top.index(m) + 1 if m in top else '>' + str(k)}"
                 for m in base_top if m not in top or top.index(m) != base_top.index(m)]
        yield Finding("arena.sensitivity", severity,
                      f"{label}: the top {k} changes ({'; '.join(moved)})"
                      + (f"; first place goes to {top[0]!r} instead of {base_top[0]!r}" if severity == "warning"
                         else ""),
                      system=top[0], evidence={"variant": label, "top": top, "baseline_top": base_top})


def published(ctx: ArenaContext):
    if ctx.published is None:
        return
    from .published import compare_published

    yield from compare_published(ctx)


def _battle_check(name, run, description, **fields):
    return auditkit.Check(name, run, description, applies_to="battles", **fields)


CHECKS = (
    _battle_check("arena.disconnected", disconnected,
                   "the comparison graph is disconnected: ratings across components are not identified"),
    _battle_check("arena.never-beaten", never_beaten,
                   "a model that never loses nor ties: its MLE rating is +infinity"),
    _battle_check("arena.never-wins", never_wins,
                   "a model that never wins nor ties (or a group that never beats another): the MLE diverges"),
    _battle_check("arena.few-battles", few_battles,
                   "models whose interval is wider than --max-interval, with the battles that would fix it"),
    _battle_check("arena.position-bias", position_bias,
                   "the model shown first wins more (or less) than half of the decisive battles (binomial test)"),
    _battle_check("arena.intransitive", intransitive,
                   "significant win cycles a > b > c > a that Bradley-Terry cannot represent, observed vs fitted"),
    _battle_check("arena.category-flip", category_flip,
                   "two top models whose order reverses significantly within a category"),
    _battle_check("arena.sensitivity", sensitivity,
                   "how the top of the table moves with ties handling, a tie model, style control and the anchor"),
    _battle_check("arena.published", published,
                   "a published ratings table recomputed from the battles, each mismatch explained",
                   default=False),
)

IDENTIFIABILITY = ("arena.disconnected", "arena.never-beaten", "arena.never-wins")


def battle_checks() -> list:
    """Every registered check that reads battles (``applies_to="battles"``): these and third-party ones."""
    return [c for c in {id(c): c for c in auditkit.get_registry().records("checks").values()}.values()
            if c.applies_to == "battles"]


def run_checks(ctx: ArenaContext, names=None) -> list[Finding]:
    checks = battle_checks()
    chosen = [c for c in checks if (names is None and (c.default or (c.name == "arena.published"
                                                                      and ctx.published is not None)))
              or (names is not None and c.name in names)]
    if names is not None:
        known = {c.name for c in checks}
        bad = [n for n in names if n not in known]
        if bad:
            raise auditkit.errors.unknown_name("arena check", bad[0], known)
    out: list[Finding] = []
    for check in chosen:
        out.extend(check.run(ctx))
    return out
