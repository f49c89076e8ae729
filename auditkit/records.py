"""Typed records that registration hooks return.

Every record has a ``name``; the registry validates the type and refuses a second record of the same kind and name,
naming both providers. Records are frozen dataclasses so a plugin cannot change another plugin's record after
registration. Callables inside records are called lazily: importing a plugin must stay cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]*$")


@dataclass(frozen=True)
class Reader:
    """Reads a file format into a :class:`auditkit.leaderboard.RawTable`.

    ``read(source)`` receives an :class:`auditkit.leaderboard.Source` (name + bytes) and returns a RawTable.
    ``suffixes`` are the file endings it claims (``".csv"``); ``sniff(source)`` may claim content without a suffix
    (used for stdin).
    """

    name: str
    read: Callable[[Any], Any]
    suffixes: tuple[str, ...] = ()
    sniff: Callable[[Any], bool] | None = None
    description: str = ""


@dataclass(frozen=True)
class TaskSpec:
    """One task of a benchmark recipe.

    ``metrics`` names the components of the task, in the order the leaderboard displays them (``("F1", "Acc")``
    for an MRPC cell ``93.9/91.8``). They are found either in one column whose cells are composite (``a/b``), in
    ``columns`` (one column per metric, e.g. MNLI-m and MNLI-mm), or in pre-split columns ``<task>-a``,
    ``<task>-b`` (``split`` maps a column name to a metric where the order differs). The task score is the
    unweighted mean of its metrics. ``value_range`` is the range a cell may take on the recipe's scale;
    a correlation has a negative lower bound.
    """

    name: str
    metrics: tuple[str, ...] = ("score",)
    columns: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    split: Mapping[str, str] = field(default_factory=dict)
    value_range: tuple[float, float] = (0.0, 100.0)
    diagnostic: bool = False
    weight: float = 1.0
    description: str = ""


@dataclass(frozen=True)
class Recipe:
    """A benchmark definition: which columns are tasks and how a published score is computed from them.

    ``tasks`` empty means "generic": every numeric column that is not a rank or a published score is a task.
    ``nan_in_composite`` says what a NaN inside a composite cell does to its task: ``"zero"`` scores the task 0
    (as the GLUE server did), ``"missing"`` makes it missing. ``detect`` lists column names whose presence
    identifies the benchmark (all must be present, case-insensitive) for auto-detection.
    """

    name: str
    version: str
    title: str
    tasks: tuple[TaskSpec, ...] = ()
    published_score: tuple[str, ...] = ("Score",)
    reference: str = r"human"
    nan_in_composite: str = "zero"
    scale: float = 100.0
    higher_is_better: bool = True
    detect: tuple[str, ...] = ()
    source: str = ""
    description: str = ""

    @property
    def generic(self) -> bool:
        return not self.tasks

    @property
    def official_tasks(self) -> tuple[TaskSpec, ...]:
        return tuple(t for t in self.tasks if not t.diagnostic)

    @property
    def diagnostic_tasks(self) -> tuple[TaskSpec, ...]:
        return tuple(t for t in self.tasks if t.diagnostic)


@dataclass(frozen=True)
class Parameter:
    """A numeric parameter of an aggregator (``p`` of the power mean)."""

    name: str
    default: float | int | str | None
    help: str = ""
    type: type = float


@dataclass(frozen=True)
class Aggregator:
    """Turns a systems x tasks matrix into one score per system (higher is better).

    ``func(values, *, xp, **params)`` gets a float64 array of shape (n_systems, n_tasks) with no NaN, on the array
    namespace ``xp`` (numpy or torch through array-api-compat), and returns shape (n_systems,).
    ``domain``: ``"any"``, ``"nonnegative"`` (zeros allowed: geometric/harmonic give their limit 0) or
    ``"positive"``. ``candidate_dependent`` is True for rules whose score of one system depends on which other
    systems take part (Borda, Copeland, Kemeny, ...): reference rows are then scored one at a time against the
    systems so they cannot change the systems' relative order.
    """

    name: str
    func: Callable[..., Any]
    description: str = ""
    domain: str = "any"
    params: tuple[Parameter, ...] = ()
    candidate_dependent: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """An audit check with a stable id (its ``name``).

    ``run(context)`` receives the context built by the ``auditkit_make_check_context`` hook (the audit plugin's
    AuditContext: leaderboard, recipe, task scores, claims, options) and yields
    :class:`auditkit.report.Finding` objects. ``needs_claims`` checks run only when a claims table is given.
    """

    name: str
    run: Callable[[Any], Any]
    description: str = ""
    default: bool = True
    needs_claims: bool = False


@dataclass(frozen=True)
class Metric:
    """A rank-agreement or comparison metric between two score or rank vectors (Kendall tau, Spearman, ...).

    ``func(a, b) -> float``.
    """

    name: str
    func: Callable[[Any, Any], float]
    description: str = ""


@dataclass(frozen=True)
class Diagnostic:
    """A tensor-side diagnostic that produces a :class:`auditkit.report.Report` (contrastive, WGAN, ...)."""

    name: str
    run: Callable[..., Any]
    description: str = ""
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Claim:
    """A checkable published claim: ``measure()`` returns the measured value, compared with ``expected``.

    ``compare`` is one of ``"close"`` (|measured - expected| <= tolerance, elementwise), ``"le"``
    (measured <= expected + tolerance), ``"ge"`` (measured >= expected - tolerance) or ``"true"`` (measured is
    truthy). ``source`` names the post or paper the claim comes from.
    """

    id: str
    statement: str
    source: str
    measure: Callable[[], Any]
    expected: Any = True
    tolerance: float = 0.0
    compare: str = "close"
    real_data: bool = False


@dataclass(frozen=True)
class Technique:
    """A technique (CAN, BERT-whitening, ...) with the claims that test it."""

    name: str
    description: str
    source: str = ""
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True)
class Backend:
    """An array backend: ``namespace(device)`` returns an array-API namespace; ``devices()`` lists usable devices."""

    name: str
    namespace: Callable[[str], Any]
    devices: Callable[[], tuple[str, ...]]
    description: str = ""


RECORD_KINDS: dict[str, type] = {
    "readers": Reader,
    "recipes": Recipe,
    "aggregators": Aggregator,
    "checks": Check,
    "metrics": Metric,
    "diagnostics": Diagnostic,
    "techniques": Technique,
    "backends": Backend,
}
