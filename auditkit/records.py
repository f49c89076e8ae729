"""Typed records that registration hooks return.

Every record has a ``name``; the registry validates the type and refuses a second record of the same kind and name,
naming both providers. Records are frozen dataclasses so a plugin cannot change another plugin's record after
registration. Callables inside records are called lazily: importing a plugin must stay cheap.

Every registered record ends with ``replaces`` (None): set it to the name of a record of the same kind (a built-in
``harmonic``, say) to take that name over on purpose instead of clashing with it; ``auditkit plugins`` shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.@-]*$")  # "@" for versions: openllm-v1@2023-11


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
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)


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
    higher_is_better: bool | None = None  # None: the recipe's direction


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
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)

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
    """A declared parameter of a record (``p`` of the power mean): its type, default and valid range.

    ``default=None`` makes the parameter required. ``low``/``high`` bound numeric values (``None``: unbounded;
    ``inclusive`` says whether the bounds themselves are allowed); ``choices`` restricts a string parameter.
    Non-finite numbers are always refused. :meth:`validate` is the one place a value is checked.
    """

    name: str
    default: float | int | str | None
    help: str = ""
    type: type = float
    low: float | None = None
    high: float | None = None
    inclusive: tuple[bool, bool] = (True, True)
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is None

    def range_text(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.type is str:
            return "a string"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        left = "[" if self.low is not None and self.inclusive[0] else "("
        right = "]" if self.high is not None and self.inclusive[1] else ")"
        kind = "an integer" if self.type is int else "a finite number"
        return f"{kind} in {left}{lo}, {hi}{right}"

    def validate(self, value: Any, owner: str) -> Any:
        """The value converted to ``type`` and checked against the range; ``ValueError`` naming ``owner``, the
        parameter, the value and the valid range otherwise."""
        import math

        where = f"{owner}: parameter {self.name}={value!r}"
        if self.type is str:
            text = str(value)
            if self.choices and text not in self.choices:
                raise ValueError(f"{where} is not {self.range_text()}")
            return text
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{where} is not a number; expected {self.range_text()}") from None
        if not math.isfinite(number):
            raise ValueError(f"{where} is not finite; expected {self.range_text()}")
        if self.type is int:
            if number != int(number):
                raise ValueError(f"{where} is not an integer; expected {self.range_text()}")
            number = int(number)
        lo_ok = self.low is None or (number >= self.low if self.inclusive[0] else number > self.low)
        hi_ok = self.high is None or (number <= self.high if self.inclusive[1] else number < self.high)
        if not (lo_ok and hi_ok):
            raise ValueError(f"{where} is out of range; expected {self.range_text()}")
        return number


@dataclass(frozen=True)
class Aggregator:
    """Turns a systems x tasks matrix into one score per system (higher is better).

    ``func(values, *, xp, weights, **params)`` gets a float64 array of shape (n_systems, n_tasks) with no NaN, on
    the array namespace ``xp`` (numpy or torch through array-api-compat), and returns shape (n_systems,).
    ``domain``: ``"any"``, ``"nonnegative"`` (zeros allowed: geometric/harmonic give their limit 0) or
    ``"positive"``. ``candidate_dependent`` is True for rules whose score of one system depends on which other
    systems take part (Borda, Copeland, Kemeny, ...): reference rows are then scored one at a time against the
    systems so they cannot change the systems' relative order.

    Optional forms that let other stages use the rule without a copy of it:

    - ``monotone``: the score is nondecreasing in every task value, so the interval of scores over task values in
      ``[lo, hi]`` is ``[func(lo), func(hi)]`` (the audit's interval arithmetic relies on this).
    - ``transform`` / ``link``: a quasi-linear form, ``func(values) == link(sum_t w_t * transform(values)[:, t])``
      with ``transform(values, *, xp, **params) -> (n, k)`` (``-inf`` allowed where the score's limit is the
      minimum) and ``link(mean, *, xp, **params)`` nondecreasing (``None``: the identity). The bootstrap resamples
      tasks with one matrix product per batch through it. For a candidate-dependent rule ``transform`` sees the
      whole table (Borda points), so it applies to task resampling only.
    """

    name: str
    func: Callable[..., Any]
    description: str = ""
    domain: str = "any"
    params: tuple[Parameter, ...] = ()
    candidate_dependent: bool = False
    aliases: tuple[str, ...] = ()
    monotone: bool = False
    transform: Callable[..., Any] | None = None
    link: Callable[..., Any] | None = None
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)


@dataclass(frozen=True)
class Check:
    """An audit check with a stable id (its ``name``).

    ``run(context)`` receives the context built by the ``auditkit_make_check_context`` hook (the audit plugin's
    AuditContext: leaderboard, recipe, task scores, claims, options) and yields
    :class:`auditkit.report.Finding` objects. ``needs_claims`` checks run only when a claims table is given.
    ``applies_to`` says which evidence the check reads: ``"table"`` (a score table; ``auditkit audit`` runs these),
    ``"battles"`` (pairwise battles; ``auditkit arena`` runs these with its context) or ``"instances"``
    (per-instance logs; ``auditkit rescore``).
    """

    name: str
    run: Callable[[Any], Any]
    description: str = ""
    default: bool = True
    needs_claims: bool = False
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)
    applies_to: str = "table"


@dataclass(frozen=True)
class Metric:
    """A rank-agreement or comparison metric between two score or rank vectors (Kendall tau, Spearman, ...).

    ``func(a, b) -> float``. ``auditkit compare`` reports a matrix of every registered metric between the rules;
    ``label`` names it there (default: the name).
    """

    name: str
    func: Callable[[Any, Any], float]
    description: str = ""
    label: str = ""
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)


@dataclass(frozen=True)
class Diagnostic:
    """A tensor-side diagnostic that produces a :class:`auditkit.report.Report` (contrastive, WGAN, ...).

    ``requires`` names the importable modules it needs; :func:`auditkit.run_diagnostic` checks them first (a
    missing one is a clear error naming it) and ``auditkit plugins`` shows which are missing."""

    name: str
    run: Callable[..., Any]
    description: str = ""
    requires: tuple[str, ...] = ()
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)


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
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)


@dataclass(frozen=True)
class Function:
    """A public Python entry point a plugin provides (``audit``, ``compare``, ...), re-exported as
    ``auditkit.<name>`` so users and notebooks reach it without importing a plugin by module."""

    name: str
    func: Callable[..., Any]
    description: str = ""
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)


@dataclass(frozen=True)
class Backend:
    """An array backend: ``namespace(device)`` returns an array-API namespace; ``devices()`` lists usable devices."""

    name: str
    namespace: Callable[[str], Any]
    devices: Callable[[], tuple[str, ...]]
    description: str = ""
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)


@dataclass(frozen=True)
class RatingModel:
    """A rating model over pairwise battles (Bradley-Terry, Davidson, Elo, ...): an aggregator whose evidence is
    battles instead of a score table.

    ``fit(battles, **params)`` receives the arena plugin's aggregated battle counts and returns one rating per
    model (higher is better). ``order_dependent`` marks models whose result depends on battle order (online Elo).
    """

    name: str
    fit: Callable[..., Any]
    description: str = ""
    params: tuple[Parameter, ...] = ()
    order_dependent: bool = False
    aliases: tuple[str, ...] = ()
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)


@dataclass(frozen=True)
class LogReader:
    """Reads per-instance evaluation logs (lm-evaluation-harness, Inspect, HELM, long tables).

    ``read(path, **options)`` returns the instances plugin's instance table; ``sniff(path)`` says whether a path
    (file or directory) is in this format, for auto-detection.
    """

    name: str
    read: Callable[..., Any]
    sniff: Callable[[Any], bool] | None = None
    description: str = ""
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)


@dataclass(frozen=True)
class Renderer:
    """An output format for a :class:`auditkit.Report` (``--format NAME``).

    ``render(report, **options)`` returns ``str`` (text formats) or ``bytes`` (binary ones such as Parquet);
    options a renderer does not know are ignored (``digits``, ``width``, ``color``, ``table``). ``media_type``
    (``text/csv``) and ``suffix`` (``.csv``) describe what it writes; ``binary`` renderers refuse a terminal.
    Import heavy dependencies inside ``render`` so listing the formats stays cheap.
    """

    name: str
    render: Callable[..., Any]
    media_type: str = "text/plain"
    suffix: str = ".txt"
    description: str = ""
    binary: bool = False
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)
    replaces: str | None = None  # replace the record of this kind with this name on purpose (see docs/hooks.md)


RECORD_KINDS: dict[str, type] = {
    "readers": Reader,
    "recipes": Recipe,
    "aggregators": Aggregator,
    "checks": Check,
    "metrics": Metric,
    "diagnostics": Diagnostic,
    "techniques": Technique,
    "backends": Backend,
    "rating_models": RatingModel,
    "log_readers": LogReader,
    "functions": Function,
    "renderers": Renderer,
}
