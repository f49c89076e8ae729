"""The one loader every table command uses: input -> Leaderboard -> recipe -> TaskScores -> policies.

``rerank``, ``compare``, ``significance`` and ``audit`` all call :func:`load_task_scores`, so one option means the
same thing everywhere and every policy in effect is recorded the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .policies import DEFAULT_MISSING, DEFAULT_NEGATIVES, DEFAULT_RANGE, apply_missing, apply_negatives, \
    apply_out_of_range
from .rules import RuleSpec, resolve_rules


@dataclass(frozen=True)
class Loaded:
    """Task scores ready for ranking, the rules they were prepared for, the policies applied and the notes."""

    task_scores: Any
    rules: tuple[RuleSpec, ...]
    policies: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    recipe_source: str = "auto-detected"


def resolve_recipe(lb, benchmark: str | None):
    """The recipe named ``benchmark`` (``name`` or ``name@version``), or the auto-detected one; and notes."""
    from .registry import get_registry
    from .taskscores import detect_recipe

    if benchmark:
        return get_registry().get("recipes", benchmark), []
    return detect_recipe(lb, get_registry().records("recipes"))


def load_task_scores(data, rules=("arithmetic",), *, benchmark: str | None = None, tasks=None, exclude=None,
                     negatives: str = DEFAULT_NEGATIVES, missing: str = DEFAULT_MISSING,
                     out_of_range: str = DEFAULT_RANGE, lower_is_better=None,
                     system_column: str | None = None, input_format: str | None = None,
                     shorthand: dict | None = None) -> Loaded:
    """Read ``data`` (path, ``"-"``, DataFrame or Leaderboard), apply the recipe and the policies for ``rules``
    (rule texts such as ``"power:p=-2"`` or :class:`RuleSpec` s; validated here, once)."""
    from .leaderboard import Leaderboard, read_leaderboard
    from .registry import get_registry
    from .taskscores import task_scores

    specs = resolve_rules(rules, shorthand=shorthand) if rules else []
    records = [get_registry().get("aggregators", s.name) for s in specs]
    lb = data if isinstance(data, Leaderboard) else read_leaderboard(data, format=input_format,
                                                                     system_column=system_column)
    recipe, notes = resolve_recipe(lb, benchmark)
    ts = task_scores(lb, recipe, tasks=list(tasks) if tasks else None, exclude=list(exclude) if exclude else None,
                     lower_is_better=list(lower_is_better) if lower_is_better else None)
    ts, range_text = apply_out_of_range(ts, out_of_range)
    ts, missing_text = apply_missing(ts, missing, records)
    rebuilt, negatives_text, more = apply_negatives(ts, negatives, records)
    if rebuilt.tasks != ts.tasks:  # --negatives exclude-task rebuilt the table: the same policies again
        rebuilt, _ = apply_out_of_range(rebuilt, out_of_range)
        rebuilt, missing_text = apply_missing(rebuilt, missing, records)
    ts = rebuilt
    lower = ts.lower_is_better_names()
    policies = {"negatives": negatives_text, "missing": missing_text, "out_of_range": range_text,
                "direction": ("higher is better on every task" if not lower else
                              f"lower is better on {', '.join(lower)}")}
    return Loaded(ts, tuple(specs), policies, tuple([*notes, *more]),
                  "--benchmark" if benchmark else "auto-detected")
