"""The rating models as :class:`auditkit.RatingModel` records, and :func:`rate`: data + rule -> fit + Ranking.

Each record's ``fit(pair_counts, **params)`` returns a fit object whose ``ratings`` are one number per model (higher
is better); ``numpy.asarray(fit)`` gives them too. Parameters are declared, so ``--model bt:ties=drop,anchor=X``
is validated once by :func:`auditkit.resolve_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import auditkit
from auditkit import Parameter

SCALE = (
    Parameter("scale", 400.0, "points per factor `base` in the odds (LMArena: 400)", low=0, inclusive=(False, True)),
    Parameter("base", 10.0, "odds base (LMArena: 10); one natural-log unit is scale/ln(base) points", low=1,
              inclusive=(False, True)),
    Parameter("offset", 1000.0, "rating of the anchor model, or the mean rating without an anchor"),
    Parameter("anchor", "", "model pinned at `offset` (empty: the mean rating is `offset`)", type=str),
)


def _bt(pc, ties="half", ci="sandwich", **kw):
    from .bt import fit_bt

    return fit_bt(pc, ties=ties, ci=ci, **_anchor(kw))


def _tie_model(name):
    def fit(pc, **kw):
        from .ties import fit_tie_model

        return fit_tie_model(pc, name, **_anchor(kw))

    fit.__name__ = name.replace("-", "_")
    return fit


def _style(pc, features="", reg=0.0, **kw):
    from .style import fit_style_bt

    names = [f for f in features.replace("+", " ").split() if f] or None
    return fit_style_bt(pc, features=names, reg=reg, **_anchor(kw))


@dataclass
class EloFit:
    models: tuple[str, ...]
    ratings: np.ndarray
    reversed: np.ndarray
    order_spread: float
    params: dict[str, Any]

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.ratings, dtype=dtype)


def _elo(pc, **kw):
    from .elo import fit_elo

    res = fit_elo(pc, **kw)
    return EloFit(res["models"], res["ratings"], res["reversed"], res["order_spread"], res["params"])


def _anchor(kw):
    kw = dict(kw)
    kw["anchor"] = kw.get("anchor") or None
    return kw


RATING_MODELS = (
    auditkit.RatingModel(
        "bt", _bt, "Bradley-Terry, exact MLE by Newton on the unique pair counts; ties as half a win (LMArena)",
        params=(Parameter("ties", "half", "half: a tie is half a win for each side; drop: ties left out", type=str,
                          choices=("half", "drop")),
                Parameter("ci", "sandwich", "interval method", type=str, choices=("sandwich", "fisher")),
                *SCALE),
        aliases=("bradley-terry",)),
    auditkit.RatingModel("davidson", _tie_model("davidson"),
                         "Davidson (1970) tie model: P(tie) = nu sqrt(pi_i pi_j) / (pi_i + pi_j + nu sqrt(pi_i pi_j))",
                         params=SCALE),
    auditkit.RatingModel("rao-kupper", _tie_model("rao-kupper"),
                         "Rao-Kupper (1967) tie model: P(i beats j) = pi_i / (pi_i + theta pi_j), theta > 1",
                         params=SCALE, aliases=("rao_kupper",)),
    auditkit.RatingModel(
        "elo", _elo, "online Elo in the order of the battle log (order-dependent: the reversed order is reported)",
        params=(Parameter("k", 4.0, "K factor", low=0, inclusive=(False, True)),
                Parameter("scale", 400.0, "Elo scale", low=0, inclusive=(False, True)),
                Parameter("base", 10.0, "odds base", low=1, inclusive=(False, True)),
                Parameter("init", 1000.0, "initial rating")),
        order_dependent=True),
    auditkit.RatingModel(
        "style-bt", _style, "style control: BT with per-battle covariates (normalized style-feature differences); "
                            "style coefficients and style-adjusted ratings",
        params=(Parameter("features", "", "style features joined by '+' (empty: every feature read)", type=str),
                Parameter("reg", 0.0, "ridge penalty on the style coefficients", low=0),
                *SCALE),
        aliases=("style-control",)),
)


def rate(pc, rule: str | Any = "bt", defaults: dict | None = None):
    """Fit one rating model given as ``NAME[:KEY=VALUE,...]`` (or a RuleSpec); returns ``(fit, Ranking)``.

    ``defaults`` fill parameters the text leaves unset when the model declares them (the command's ``--anchor``
    and ``--offset``)."""
    from auditkit.ranking import ranking_from_scores
    from auditkit.rules import resolve_rules

    registry = auditkit.get_registry()
    name = (rule.name if hasattr(rule, "name") else str(rule).partition(":")[0]).strip().lower()
    record = registry.get("rating_models", name)
    declared = {p.name for p in record.params}
    fill = {k: v for k, v in (defaults or {}).items() if k in declared and v is not None}
    (spec,) = resolve_rules([rule], kind="rating_models", shorthand={record.name: fill})
    fit = record.fit(pc, **spec.params)
    notes = []
    if record.order_dependent:
        notes.append(f"{spec.name} is order-dependent: in reversed battle order the ratings move by up to "
                     f"{fit.order_spread:.1f} points")
    if getattr(fit, "grad_norm", None) is not None:
        notes.append(f"converged: max |gradient| / battles = {fit.grad_norm:.2e} after {fit.iterations} Newton steps")
    rk = ranking_from_scores(fit.models, np.asarray(fit.ratings), spec.name, spec.params, notes=tuple(notes),
                             provider="auditkit_plugins.arena")
    return fit, rk


def short_label(spec_name: str, params: dict) -> str:
    """The model name with only the parameters that differ from their defaults (``bt(ties=drop)``)."""
    record = auditkit.get_registry().get("rating_models", spec_name)
    defaults = {p.name: p.default for p in record.params}
    changed = {k: v for k, v in params.items() if k in defaults and v != defaults[k] and k not in ("anchor", "offset")}
    if not changed:
        return spec_name
    return f"{spec_name}(" + ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                       for k, v in changed.items()) + ")"
