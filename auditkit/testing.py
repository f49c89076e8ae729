"""The conformance kit: check that a plugin's records honour auditkit's contract.

In the spirit of scikit-learn's ``check_estimator``: a plugin author calls these from their own tests. Each
``check_*`` function runs a list of small **named checks** (``aggregator_checks()`` lists an aggregator's), collects
*all* the problems, and raises one :class:`ConformanceError` that lists them in plain words, each tagged with the
check that found it (it is an ``AssertionError``, so pytest shows it as a test failure). Every named check can be
run alone (``only=[...]``) or left out (``skip=[...]``). When everything holds, the function returns a small dict of
facts it measured (useful in a test or a notebook).

::

    import auditkit
    from auditkit.testing import check_aggregator, check_recipe, parametrize_conformance

    def test_my_mean():
        check_aggregator(auditkit.get_registry().get("aggregators", "my-mean"))

    @parametrize_conformance("aggregators")          # one test per registered aggregator
    def test_every_aggregator(record):
        check_aggregator(record)

What each check covers is listed in its docstring and in ``docs/testing-plugins.md``. This module imports numpy
and the core only; pytest is imported by :func:`parametrize_conformance` alone, hypothesis (optional) by the
``random-tables`` check alone.
"""

from __future__ import annotations

import json
import math
import re
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from .errors import AuditkitError
from .records import (NAME_PATTERN, RECORD_KINDS, Aggregator, Check, Claim, Parameter, Reader, Recipe, TaskSpec,
                      Technique)

__all__ = ["ConformanceError", "CheckContext", "make_context", "SAMPLE_TABLES", "check_aggregator",
           "aggregator_checks", "check_recipe", "check_check", "check_reader", "check_technique", "judge_claim",
           "ClaimVerdict", "check_record", "check_plugin", "parametrize_conformance", "conformance_records"]

DOMAINS = ("any", "nonnegative", "positive")
COMPARES = ("close", "le", "ge", "true")
NAN_IN_COMPOSITE = ("zero", "missing")
APPLIES_TO = ("table", "battles", "instances")  # Check.applies_to: the evidence a check reads
RTOL = 1e-12  # "equal" for scores: the tie rule compares to 12 significant digits


class ConformanceError(AssertionError):
    """A record breaks the plugin contract. ``problems`` lists every problem found, one sentence each;
    ``checks`` names the check that found each one (same order), ``failed`` the distinct names."""

    def __init__(self, subject: str, problems: list[str], checks: list[str] | None = None):
        self.subject = subject
        self.problems = list(problems)
        self.checks = list(checks) if checks is not None else [""] * len(self.problems)
        lines = "\n".join(f"  {i}. {f'[{c}] ' if c else ''}{p}"
                          for i, (c, p) in enumerate(zip(self.checks, self.problems), 1))
        super().__init__(f"{subject} does not honour the auditkit plugin contract "
                         f"({len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}):\n{lines}")

    @property
    def failed(self) -> list[str]:
        """The names of the checks that found a problem, in order, each once."""
        return list(dict.fromkeys(c for c in self.checks if c))


class _Problems:
    """Collects problems (tagged with the running check's name); ``guard`` turns an unexpected exception inside
    one contract item into a problem."""

    def __init__(self, subject: str):
        self.subject = subject
        self.items: list[str] = []
        self.tags: list[str] = []
        self.check = ""

    def add(self, text: str) -> None:
        if text not in self.items:
            self.items.append(text)
            self.tags.append(self.check)

    def extend(self, texts: Iterable[str], tags: Iterable[str]) -> None:
        for text, tag in zip(texts, tags):
            if text not in self.items:
                self.items.append(text)
                self.tags.append(tag)

    def guard(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ConformanceError:
            raise
        except Exception as exc:  # the plugin's code raised: report it, keep checking the rest
            self.add(f"{what} raised {_exc_text(exc)}")
            return _FAILED

    def raise_if_any(self) -> None:
        if self.items:
            raise ConformanceError(self.subject, self.items, self.tags)


_FAILED = object()


def _exc_text(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {frame[0].filename.rsplit('/', 1)[-1]}:{frame[0].lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _check_name(p: _Problems, record: Any, what: str) -> None:
    name = getattr(record, "name", None)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        p.add(f"the {what} name {name!r} is not valid: use lowercase letters, digits, '-', '_' or '.', starting "
              "with a letter (it is typed on the command line)")


def _check_type(record: Any, expected: type, subject: str) -> None:
    if not isinstance(record, expected):
        raise ConformanceError(subject, [f"expected an auditkit.{expected.__name__} record, got "
                                         f"{type(record).__name__} {record!r:.80}"], ["record"])


def _subject(kind: str, record: Any) -> str:
    return f"{kind} {getattr(record, 'name', record)!r}"


def _clash_problems(record: Any, kind: str, registry: Any = None, own_module: Any = None) -> list[str]:
    """Names of ``record`` (name and aliases) already taken by a different record of ``kind`` in the loaded
    registry (first-party plugins included), unless the record says ``replaces=`` that name on purpose."""
    from .registry import get_registry

    reg = registry if registry is not None else get_registry()
    own_module = own_module or (_UNDER_TEST[-1] if _UNDER_TEST else None)
    own = {getattr(own_module, "__name__", own_module), getattr(own_module, "__file__", None)} - {None}
    try:
        taken = reg.records(kind)
    except Exception:  # noqa: BLE001 - a broken registry is reported by `auditkit plugins`, not here
        return []
    replaces = getattr(record, "replaces", None)
    out = []
    for name in (record.name, *getattr(record, "aliases", ())):
        other = taken.get(name)
        if other is None or _same_record(other, record) or name == replaces:
            continue
        owner = reg.provider(kind, name) or "?"
        info = reg.plugins.get(owner)
        if info is not None and info.module in own:
            continue  # the plugin under test is installed too: that is its own record
        dist = f" ({info.distribution} {info.version})" if info is not None and info.distribution else ""
        out.append(f"the name {name!r} is already taken by {kind[:-1]} {other.name!r} of plugin {owner!r}{dist}: "
                   f"auditkit keeps the first one and ignores this record; choose another name, or declare "
                   f"replaces={name!r} to replace it on purpose")
    return out


def _same_record(a: Any, b: Any) -> bool:
    """The same record, also when its plugin's hook built it again (a fresh registry makes new closures): same
    type, equal plain fields, and callables defined by the same code."""
    import dataclasses

    if a is b or a == b:
        return True
    if type(a) is not type(b) or not dataclasses.is_dataclass(a):
        return False
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if callable(x) and callable(y):
            if getattr(x, "__code__", x) is not getattr(y, "__code__", y) and (
                    getattr(x, "__module__", None), getattr(x, "__qualname__", None)) != (
                    getattr(y, "__module__", None), getattr(y, "__qualname__", None)):
                return False
        elif x != y:
            return False
    return True


_UNDER_TEST: list[Any] = []  # the module check_plugin is checking: its own installed records are no clash


# -- aggregators ---------------------------------------------------------------------------------------------------
def _sample_matrix(seed: int) -> np.ndarray:
    """7 systems x 5 tasks of positive, leaderboard-like scores (two decimals), rows 1 and 4 equal (a tie)."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.uniform(20.0, 95.0, size=(7, 5)), 2)
    x[4] = x[1]
    return x


W5 = np.array([0.1, 0.3, 0.2, 0.25, 0.15])  # non-uniform task weights (sum 1)


@dataclass
class _AggTrial:
    """What every named aggregator check gets: the record, a safe caller, the base matrix and its scores."""

    record: Aggregator
    p: _Problems
    call: Callable[..., Any]
    x: np.ndarray
    first: np.ndarray
    idempotent: bool
    bad_params: dict[str, Any]
    backends: tuple[str, ...]
    seed: int
    examples: int
    mutated: list[bool]
    facts: dict[str, Any]


def _agg_deterministic(t: _AggTrial) -> None:
    """two calls on the same input give identical scores"""
    again = t.p.guard("a second call", lambda: t.call(t.x))
    if again is not _FAILED and not np.array_equal(np.asarray(again, float), t.first, equal_nan=True):
        t.p.add("is not deterministic: two calls on the same input gave different scores "
                f"({t.first.tolist()} then {np.asarray(again).tolist()}); seed any randomness from the input")


def _agg_input_unchanged(t: _AggTrial) -> None:
    """func leaves its input array unchanged (the pipeline reuses it for every rule)"""
    if t.mutated:
        t.p.add("func changed its input array in place; work on a copy (the pipeline reuses the matrix for every "
                "aggregator)")


def _agg_systems_permutation(t: _AggTrial) -> None:
    """permutation-equivariant over systems: reordering the rows reorders the scores, nothing else"""
    perm = np.array([3, 0, 6, 1, 5, 2, 4])
    shuffled = t.p.guard("calling func with the systems in another order", lambda: t.call(t.x[perm]))
    if shuffled is not _FAILED and not _close(shuffled, t.first[perm]):
        t.p.add("is not permutation-equivariant over systems: reordering the rows changed the scores (a system's "
                "score must not depend on its row position)")


def _wide_matrix(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """6 systems x 9 tasks and non-uniform weights: wider than the 5-task sample, so a rule that looks at the
    first few columns only is caught."""
    rng = np.random.default_rng(seed + 1)
    x = np.round(rng.uniform(15.0, 98.0, size=(6, 9)), 2)
    w = rng.uniform(0.5, 2.0, size=9)
    return x, w / w.sum()


def _agg_tasks_permutation(t: _AggTrial) -> None:
    """invariant to the order of task columns (uniform weights, and non-uniform weights permuted with their
    columns), on the 7 x 5 sample and on a 6 x 9 table"""
    cols = np.array([2, 4, 0, 3, 1])
    swapped = t.p.guard("calling func with the task columns in another order", lambda: t.call(t.x[:, cols]))
    if swapped is not _FAILED and not _close(swapped, t.first):
        t.p.add("depends on the order of the task columns (uniform weights): reordering tasks changed the scores")
    weighted = t.p.guard("calling func with non-uniform weights", lambda: t.call(t.x, W5))
    if weighted is not _FAILED:
        weighted_swapped = t.p.guard("calling func with non-uniform weights in another column order",
                                     lambda: t.call(t.x[:, cols], W5[cols]))
        if weighted_swapped is not _FAILED and not _close(weighted_swapped, weighted):
            t.p.add("with non-uniform weights, reordering the task columns together with their weights changed "
                    "the scores: the weight of task j must follow column j")
    wide, w = _wide_matrix(t.seed)
    rev = np.array([8, 6, 4, 2, 0, 1, 3, 5, 7])
    base = t.p.guard("calling func on a 6 x 9 table", lambda: t.call(wide, w))
    other = t.p.guard("calling func on a 6 x 9 table with its columns in another order",
                      lambda: t.call(wide[:, rev], w[rev]))
    if base is not _FAILED and other is not _FAILED and not _close(base, other):
        t.p.add("on a 6 x 9 table, reordering the task columns with their weights changed the scores: every task "
                "must count the same wherever its column is (a rule that reads only the first columns fails here)")


def _agg_ties(t: _AggTrial) -> None:
    """equal rows get equal scores (ties are the ranking's business, not broken by the aggregator)"""
    if np.isfinite(t.first).all() and not _close(t.first[[4]], t.first[[1]]):
        t.p.add(f"equal rows got different scores ({t.first[1]!r} and {t.first[4]!r}): two systems with identical "
                "task scores must tie")


def _agg_higher_is_better(t: _AggTrial) -> None:
    """raising one task score of a system never lowers its score (every task of a 6 x 9 table tried)"""
    better = t.x.copy()
    better[0, 2] += 3.0
    improved = t.p.guard("calling func after raising one task score", lambda: t.call(better))
    if improved is not _FAILED and np.asarray(improved)[0] < t.first[0] - RTOL * max(1.0, abs(t.first[0])):
        t.p.add(f"higher is not better: raising system 0's score on task 2 by 3 lowered its score from "
                f"{t.first[0]!r} to {np.asarray(improved)[0]!r}")
        return
    wide, w = _wide_matrix(t.seed)
    base = t.p.guard("calling func on a 6 x 9 table", lambda: t.call(wide, w))
    if base is _FAILED:
        return
    base = np.asarray(base, float)
    for j in range(wide.shape[1]):
        up = wide.copy()
        up[2, j] += 1.5
        got = t.p.guard(f"calling func after raising task {j} of a 6 x 9 table", lambda: t.call(up, w))
        if got is not _FAILED and np.asarray(got, float)[2] < base[2] - RTOL * max(1.0, abs(base[2])):
            t.p.add(f"higher is not better: on a 6 x 9 table raising system 2's score on task {j} by 1.5 lowered "
                    f"its score from {base[2]!r} to {np.asarray(got, float)[2]!r}")
            return


def _agg_weights_matter(t: _AggTrial) -> None:
    """the weights decide: system A best on task 0 only, B on the other four; with 0.8 of the weight on task 0, A
    must rank first, with uniform weights B (skip it for a rule that ignores weights by design, e.g. minimum)"""
    table = np.array([[90.0, 10.0, 10.0, 10.0, 10.0], [20.0, 30.0, 30.0, 30.0, 30.0]])
    heavy = np.array([0.8, 0.05, 0.05, 0.05, 0.05])
    uniform = t.p.guard("calling func on a 2 x 5 table", lambda: t.call(table))
    weighted = t.p.guard("calling func on a 2 x 5 table with 0.8 of the weight on task 0",
                         lambda: t.call(table, heavy))
    if uniform is _FAILED or weighted is _FAILED:
        return
    u, w = np.asarray(uniform, float), np.asarray(weighted, float)
    if u.shape == w.shape == (2,) and not (u[1] > u[0] and w[0] > w[1]):
        t.p.add(f"the weights do not decide: system A = [90, 10, 10, 10, 10], B = [20, 30, 30, 30, 30] scored "
                f"{u.tolist()} with uniform weights and {w.tolist()} with weights [0.8, 0.05, 0.05, 0.05, 0.05]; A "
                "must win under the second and B under the first (use `weights`; skip 'weights-matter' only for a "
                "rule that ignores weights by definition)")


def _agg_weights_split(t: _AggTrial) -> None:
    """a weight is a mass: splitting a task into two identical columns of half its weight leaves every score
    unchanged (catches squared weights, weights used as exponents, unnormalized sums)"""
    base = t.p.guard("calling func with non-uniform weights", lambda: t.call(t.x, W5))
    for j in (1, 3):
        x2 = np.insert(t.x, j + 1, t.x[:, j], axis=1)
        w2 = np.insert(W5, j + 1, W5[j] / 2)
        w2[j] = W5[j] / 2
        split = t.p.guard(f"calling func with task {j} split into two columns", lambda: t.call(x2, w2))
        if base is _FAILED or split is _FAILED:
            return
        if not _close(split, base):
            t.p.add(f"splitting task {j} (weight {W5[j]:g}) into two identical columns of weight {W5[j] / 2:g} each "
                    f"changed the scores from {np.asarray(base).tolist()} to {np.asarray(split).tolist()}: a task's "
                    "weight must act as its share of the score (sum w_j * f(x_j), not w_j ** 2 or a count of tasks)")
            return


def _agg_weights_normalized(t: _AggTrial) -> None:
    """weights arrive summing to 1 and are used as such: with non-uniform weights a constant row c scores c
    (means only; a rule that divides by the number of tasks or by the sum of squared weights fails)"""
    if not t.idempotent:
        return
    flat = np.full((3, 5), 61.25)
    got = t.p.guard("calling func on a constant table with non-uniform weights", lambda: t.call(flat, W5))
    if got is not _FAILED and not _close(got, np.full(3, 61.25)):
        t.p.add(f"with weights {W5.tolist()} (summing to 1) a constant row of 61.25 scored "
                f"{np.asarray(got).tolist()}: the weights are already normalized, a mean of equal values is that "
                "value")


def _agg_constant_row(t: _AggTrial) -> None:
    """equal cells: all systems tie, and for a mean a constant row c scores c and one task gives that task"""
    flat = np.full((4, 5), 61.25)
    same = t.p.guard("calling func on a matrix whose cells are all equal", lambda: t.call(flat))
    if same is not _FAILED:
        same = np.asarray(same, float)
        if same.shape != (4,) or not np.isfinite(same).all():
            t.p.add(f"on a 4 x 5 matrix of equal cells returned {same.tolist()}; expected 4 finite scores")
        elif not _close(same, np.full(4, same[0])):
            t.p.add(f"on a matrix whose rows are all equal the systems did not tie: {same.tolist()}")
        elif t.idempotent and not _close(same, np.full(4, 61.25)):
            t.p.add(f"a constant row (every task 61.25) scored {same[0]!r}, not 61.25: a mean of equal values is "
                    "that value (pass idempotent=False if this rule is not a mean)")
    one_task = t.p.guard("calling func with a single task", lambda: t.call(t.x[:, :1], np.ones(1)))
    if one_task is not _FAILED:
        one_task = np.asarray(one_task, float)
        if one_task.shape != (7,):
            t.p.add(f"with a single task returned shape {one_task.shape}, expected (7,)")
        elif t.idempotent and not _close(one_task, t.x[:, 0]):
            t.p.add("with a single task the scores are not that task's scores (a mean of one value is the value)")


def _agg_degenerate(t: _AggTrial) -> None:
    """one system, and two systems with one task, give the right shapes"""
    one_row = t.p.guard("calling func with a single system", lambda: t.call(t.x[:1]))
    if one_row is not _FAILED and np.asarray(one_row).shape != (1,):
        t.p.add(f"with a single system returned shape {np.asarray(one_row).shape}, expected (1,)")
    two = t.p.guard("calling func with 2 systems and 1 task", lambda: t.call(t.x[:2, :1], np.ones(1)))
    if two is not _FAILED and np.asarray(two).shape != (2,):
        t.p.add(f"with 2 systems and 1 task returned shape {np.asarray(two).shape}, expected (2,)")


def _agg_scale(t: _AggTrial) -> None:
    """scores in [0, 1] or [0, 100] rank alike: multiplying every cell by 100 or 0.01 keeps the ranking, and a
    mean's scores scale with it (a hidden constant such as log(1 + x) fails)"""
    from .ranking import competition_rank

    ranks = competition_rank(t.first)
    for factor in (0.01, 100.0):
        got = t.p.guard(f"calling func with every cell multiplied by {factor:g}", lambda: t.call(t.x * factor))
        if got is _FAILED:
            continue
        got = np.asarray(got, float)
        if got.shape != t.first.shape:
            continue
        if not np.array_equal(competition_rank(got), ranks):
            t.p.add(f"multiplying every cell by {factor:g} changed the ranking from {ranks.astype(int).tolist()} to "
                    f"{competition_rank(got).astype(int).tolist()}: a leaderboard on a 0-1 scale must rank as on "
                    "0-100")
        elif t.idempotent and not np.allclose(got, t.first * factor, rtol=1e-9, atol=0):
            t.p.add(f"multiplying every cell by {factor:g} gave scores {got.tolist()}, not {factor:g} x "
                    f"{t.first.tolist()}: a mean must scale with its values (skip 'scale' for a rule that is "
                    "deliberately not scale-equivariant)")


def _agg_zero_and_negative(t: _AggTrial) -> None:
    """a zero cell gives finite scores when the domain allows zeros; negative cells too for domain 'any'"""
    record = t.record
    if record.domain in ("any", "nonnegative"):
        z = t.x.copy()
        z[2, 3] = 0.0
        zero = t.p.guard("calling func with a zero cell (its domain allows zeros)", lambda: t.call(z))
        if zero is not _FAILED and not np.isfinite(np.asarray(zero, float)).all():
            t.p.add(f"a zero cell gave non-finite scores {np.asarray(zero).tolist()}; domain {record.domain!r} "
                    "allows zeros (geometric/harmonic-style rules return their limit 0)")
    if record.domain == "any":
        neg = t.x - 60.0
        negative = t.p.guard("calling func with negative cells (domain 'any')", lambda: t.call(neg))
        if negative is not _FAILED and not np.isfinite(np.asarray(negative, float)).all():
            t.p.add("negative cells gave non-finite scores; declare domain='nonnegative' or 'positive' if the rule "
                    "needs them, and the pipeline will refuse or apply the user's policy")


def _agg_nan(t: _AggTrial) -> None:
    """(off unless strict_nan=True) a NaN cell gives NaN for its row or raises, never a number"""
    n = t.x.copy()
    n[5, 1] = np.nan
    try:
        out = np.asarray(t.call(n), float)
    except Exception:  # noqa: BLE001 - raising on NaN is allowed
        return
    if out.shape == (7,) and np.isfinite(out[5]):
        t.p.add(f"a NaN task score was silently turned into the number {out[5]!r} for that system; return NaN "
                "for the row or raise")


def _agg_bad_params(t: _AggTrial) -> None:
    """each of ``bad_params`` raises an auditkit.AuditkitError whose message names the parameter"""
    for name, value in t.bad_params.items():
        try:
            t.call(t.x, **{name: value})
        except AuditkitError as exc:
            if name not in str(exc):
                t.p.add(f"{name}={value!r} raised {type(exc).__name__} but the message does not name the "
                        f"parameter {name!r}: {exc}")
        except Exception as exc:  # noqa: BLE001
            t.p.add(f"{name}={value!r} raised {_exc_text(exc)}; raise auditkit.UsageError naming the parameter, "
                    "the value and the allowed range")
        else:
            t.p.add(f"{name}={value!r} was accepted; a bad parameter must raise auditkit.UsageError naming it")


def _agg_backends(t: _AggTrial) -> None:
    """every backend in ``backends`` besides numpy agrees with numpy within 1e-9 relative"""
    from .backend import get_backend

    for name in (b for b in t.backends if b != "numpy"):
        other = t.p.guard(f"getting backend {name!r}", lambda: get_backend(name, "cpu"))
        if other is _FAILED:
            continue
        out = t.p.guard(f"calling func on backend {name!r}", lambda: t.call(t.x, ctx=other))
        if out is not _FAILED and not np.allclose(np.asarray(out, float), t.first, rtol=1e-9, atol=0):
            t.p.add(f"backend {name!r} gave {np.asarray(out).tolist()}, numpy gave {t.first.tolist()} (beyond 1e-9 "
                    "relative): write the function with xp.* calls only, no numpy-specific ones")


def _random_table(n: int, k: int, seed: int, scale: float, positive: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lo = 0.02 if positive else -0.5
    x = rng.uniform(lo, 1.0, size=(n, k)) * scale
    if scale >= 1:
        x = np.round(x, 2)
        if positive:
            x = np.maximum(x, 0.01)
    if n > 2:
        x[-1] = x[0]  # a tie
    w = rng.uniform(0.2, 3.0, size=k)
    return x, w / w.sum()


def _random_problem(t: _AggTrial, n: int, k: int, seed: int, scale: float) -> str | None:
    """The first contract item a random n x k table breaks, or None."""
    x, w = _random_table(n, k, seed, scale, t.record.domain != "any")
    try:
        base = np.asarray(t.call(x, w), float)
    except Exception as exc:  # noqa: BLE001
        return f"func raised {_exc_text(exc)}"
    if base.shape != (n,):
        return f"returned shape {base.shape}, expected ({n},)"
    if not np.isfinite(base).all():
        return f"returned non-finite scores {base.tolist()}"
    if n > 2 and not _close(base[[0]], base[[-1]]):
        return f"equal rows 0 and {n - 1} got different scores {base[0]!r} and {base[-1]!r}"
    rng = np.random.default_rng(seed + 7)
    rows, cols = rng.permutation(n), rng.permutation(k)
    try:
        by_rows = np.asarray(t.call(x[rows], w), float)
        by_cols = np.asarray(t.call(x[:, cols], w[cols]), float)
    except Exception as exc:  # noqa: BLE001
        return f"func raised {_exc_text(exc)} on the same table reordered"
    if not _close(by_rows, base[rows]):
        return f"reordering the systems as {rows.tolist()} changed their scores"
    if not _close(by_cols, base):
        return f"reordering the tasks (with their weights) as {cols.tolist()} changed the scores"
    if t.idempotent:
        try:
            flat = np.asarray(t.call(np.tile(x[:, :1], (1, k)), w), float)
        except Exception as exc:  # noqa: BLE001
            return f"func raised {_exc_text(exc)} on rows of equal cells"
        if not _close(flat, x[:, 0]):
            return f"rows whose {k} cells all equal the first column scored {flat.tolist()}, not {x[:, 0].tolist()}"
    return None


def _agg_random_tables(t: _AggTrial) -> None:
    """random shapes (1-6 systems x 1-12 tasks), values on scales from 0.001 to 10^4 and random weights (with
    hypothesis when it is installed, shrunk to the smallest failing table; seeded draws otherwise): right shape,
    finite, ties kept, equivariant over systems and tasks, a mean of equal cells is that value"""
    found: list[tuple] = []

    def probe(n: int, k: int, seed: int, scale: float) -> None:
        problem = _random_problem(t, n, k, seed, scale)
        if problem is not None:
            found.append((n, k, seed, scale, problem))
            raise AssertionError(problem)

    try:
        from hypothesis import HealthCheck, given, settings, strategies as st
    except ImportError:
        st = None
    if st is not None:
        test = settings(max_examples=t.examples, derandomize=True, database=None, deadline=None,
                        suppress_health_check=list(HealthCheck), print_blob=False)(
            given(st.integers(1, 6), st.integers(1, 12), st.integers(0, 2 ** 16),
                  st.sampled_from([1.0, 100.0, 0.001, 10_000.0]))(probe))
        try:
            test()
        except AssertionError:
            pass
    else:
        rng = np.random.default_rng(t.seed)
        for _ in range(t.examples):
            try:
                probe(int(rng.integers(1, 7)), int(rng.integers(1, 13)), int(rng.integers(0, 2 ** 16)),
                      float(rng.choice([1.0, 100.0, 0.001, 10_000.0])))
            except AssertionError:
                break
    if found:
        n, k, seed, scale, problem = found[-1]  # hypothesis re-runs the shrunk example last
        t.p.add(f"on a random {n} x {k} table (values up to {scale:g}, draw seed {seed}): {problem}")


# name -> check, in the order they run; the docstring is the check's description
_AGGREGATOR_CHECKS: dict[str, Callable[[_AggTrial], None]] = {
    "input-unchanged": _agg_input_unchanged,
    "deterministic": _agg_deterministic,
    "systems-permutation": _agg_systems_permutation,
    "tasks-permutation": _agg_tasks_permutation,
    "ties": _agg_ties,
    "higher-is-better": _agg_higher_is_better,
    "weights-matter": _agg_weights_matter,
    "weights-split": _agg_weights_split,
    "weights-normalized": _agg_weights_normalized,
    "constant-row": _agg_constant_row,
    "degenerate": _agg_degenerate,
    "scale": _agg_scale,
    "zero-and-negative": _agg_zero_and_negative,
    "nan": _agg_nan,
    "bad-params": _agg_bad_params,
    "backends": _agg_backends,
    "random-tables": _agg_random_tables,
}
_ALWAYS = ("record", "name-clash", "shape")  # run first; the other checks need a working call
_OFF_BY_DEFAULT = ("nan",)                    # on with strict_nan=True or only=["nan"]


def aggregator_checks() -> dict[str, str]:
    """The named checks of :func:`check_aggregator`, in order, with what each verifies (``record``,
    ``name-clash`` and ``shape`` always run first)."""
    described = {"record": "a valid name and aliases, callable func, a known domain, Parameter params, a "
                           "description",
                 "name-clash": "no other registered aggregator (first-party ones included) has this name or an "
                               "alias, unless the record declares replaces= that name",
                 "shape": "on a 7 x 5 table of positive scores: shape (n_systems,), floating dtype, finite"}
    described.update({name: " ".join((fn.__doc__ or "").split()) for name, fn in _AGGREGATOR_CHECKS.items()})
    return described


def _selected(only: Iterable[str] | None, skip: Iterable[str], strict_nan: bool) -> list[str]:
    from .errors import unknown_name

    known = list(aggregator_checks())
    for name in [*(only or ()), *skip]:
        if name not in known:
            raise unknown_name("aggregator check", name, known)
    if only is not None:
        chosen = [n for n in _AGGREGATOR_CHECKS if n in set(only)]
    else:
        chosen = [n for n in _AGGREGATOR_CHECKS if n not in _OFF_BY_DEFAULT or (n == "nan" and strict_nan)]
    return [n for n in chosen if n not in set(skip)]


def check_aggregator(record: Aggregator, *, params: dict[str, Any] | None = None,
                     bad_params: dict[str, Any] | None = None, idempotent: bool | None = None,
                     strict_nan: bool = False, backends: Iterable[str] = ("numpy",), seed: int = 0,
                     skip: Iterable[str] = (), only: Iterable[str] | None = None, examples: int = 40
                     ) -> dict[str, Any]:
    """Check an :class:`auditkit.Aggregator` against the contract, as a list of named checks.

    ``aggregator_checks()`` lists them with what each verifies: ``record``, ``name-clash``, ``shape`` (always),
    then ``input-unchanged``, ``deterministic``, ``systems-permutation``, ``tasks-permutation``, ``ties``,
    ``higher-is-better``, ``weights-matter``, ``weights-split``, ``weights-normalized``, ``constant-row``,
    ``degenerate``, ``scale``, ``zero-and-negative``, ``nan`` (only with ``strict_nan=True``), ``bad-params``,
    ``backends``, ``random-tables``.

    ``only`` runs just the named checks (besides the three that always run), ``skip`` leaves some out; an unknown
    name is a UsageError listing the known ones. ``idempotent`` (default: True unless ``candidate_dependent``,
    i.e. for means) turns on the "a mean of equal values is that value" items. ``params`` gives values for the
    aggregator's parameters (required ones default to 1.0 for the check); ``bad_params`` must each raise an
    :class:`auditkit.AuditkitError` naming the parameter; ``backends`` (e.g. ``("numpy", "torch")``) must agree
    with numpy within 1e-9 relative; ``examples`` is the number of random tables.
    Returns ``{"scores": [...], "checks": [names run]}``.
    """
    subject = _subject("aggregator", record)
    _check_type(record, Aggregator, subject)
    skip = tuple(skip)
    selected = _selected(None if only is None else tuple(only), skip, strict_nan)
    p = _Problems(subject)
    p.check = "record"
    _check_name(p, record, "aggregator")
    for alias in record.aliases:
        if not isinstance(alias, str) or not NAME_PATTERN.match(alias):
            p.add(f"alias {alias!r} is not a valid name (lowercase letters, digits, '-', '_', '.')")
    if not callable(record.func):
        p.add(f"func is {type(record.func).__name__}, not a function func(values, *, xp, weights, **params)")
        p.raise_if_any()
    if record.domain not in DOMAINS:
        p.add(f"domain {record.domain!r} is not one of {', '.join(DOMAINS)}")
    if not isinstance(record.candidate_dependent, bool):
        p.add(f"candidate_dependent must be True or False, got {record.candidate_dependent!r}")
    if not (isinstance(record.description, str) and record.description.strip()):
        p.add("description is empty: `auditkit plugins` and the docs show it; say in one line what the rule does")
    call_params: dict[str, Any] = {}
    for prm in record.params:
        if not isinstance(prm, Parameter):
            p.add(f"params must hold auditkit.Parameter records, got {type(prm).__name__} {prm!r:.60}")
            continue
        value = (params or {}).get(prm.name, prm.default)
        call_params[prm.name] = 1.0 if value is None else value
    unknown = set(params or {}) - {q.name for q in record.params if isinstance(q, Parameter)}
    if unknown:
        p.add(f"params given to the check that the aggregator does not declare: {', '.join(sorted(unknown))}")
    p.raise_if_any()
    if "name-clash" not in skip:
        p.check = "name-clash"
        for problem in _clash_problems(record, "aggregators"):
            p.add(problem)

    from .backend import get_backend, to_numpy

    ctx = get_backend("numpy", "cpu")
    mutated: list[bool] = []

    def call(values, weights=None, ctx=ctx, **extra):
        kw = {**call_params, **extra}
        values = np.array(values, dtype=np.float64)
        if weights is None:
            weights = np.full(values.shape[1], 1.0 / values.shape[1])
        arr = ctx.asarray(values.copy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = record.func(arr, xp=ctx.xp, weights=ctx.asarray(np.asarray(weights, float)), **kw)
        if not np.array_equal(np.asarray(to_numpy(arr)), values, equal_nan=True):
            mutated.append(True)
        return to_numpy(out)

    p.check = "shape"
    x = _sample_matrix(seed)
    first = p.guard("calling func on a 7 x 5 matrix of positive scores", lambda: call(x))
    if first is _FAILED:
        p.raise_if_any()
    first = np.asarray(first)
    if first.shape != (7,):
        p.add(f"returned shape {first.shape} for 7 systems x 5 tasks; it must return one score per system, "
              "shape (7,)")
        p.raise_if_any()
    if first.dtype.kind != "f":
        p.add(f"returned dtype {first.dtype}; scores must be floating point (float64)")
    first = first.astype(np.float64)
    if not np.isfinite(first).all():
        p.add(f"returned non-finite scores {first.tolist()} for finite positive input")
    facts: dict[str, Any] = {"scores": first.tolist(), "checks": [*_ALWAYS, *selected]}
    if idempotent is None:
        idempotent = not record.candidate_dependent
    trial = _AggTrial(record, p, call, x, first, bool(idempotent), dict(bad_params or {}), tuple(backends), seed,
                      examples, mutated, facts)
    for name in selected:
        p.check = name
        before = len(mutated)
        _AGGREGATOR_CHECKS[name](trial)
        if name != "input-unchanged" and len(mutated) > before and "input-unchanged" in selected and \
                not any("changed its input array in place" in q for q in p.items):
            p.check = "input-unchanged"
            p.add("func changed its input array in place on some of the calls; work on a copy")
    p.raise_if_any()
    return facts


def _close(a, b) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL, atol=1e-12, equal_nan=True))


# -- recipes ----------------------------------------------------------------------------------------------------
def check_recipe(record: Recipe, leaderboard_path: Any = None, *,
                 reproduces_published: float | bool | None = None) -> dict[str, Any]:
    """Check an :class:`auditkit.Recipe` against the contract, and optionally against a real leaderboard.

    Without a leaderboard: a valid name, non-empty version and title, :class:`auditkit.TaskSpec` tasks with unique
    names (case- and spacing-insensitive, aliases included), non-empty unique metric names, ``columns`` matching
    the metrics, ``split`` naming known metrics, positive finite weights, a value range lo < hi,
    ``nan_in_composite`` one of zero/missing, regexes (published score, reference) that compile, and at least one
    official task unless the recipe is generic.

    With ``leaderboard_path`` (a file auditkit can read): every official task resolves to a column, the published
    score column is found, task scores are computed with at least one scorable row, and every cell lies in its
    task's declared range. ``reproduces_published``: True requires every scored row with a published score to be
    reproduced by the weighted arithmetic mean within rounding (half a unit of the published value's last digit
    plus the weighted half units of the task cells); a number in (0, 1] requires that fraction of rows.
    Returns facts: rows, scorable, published_column, rows_reproduced, rows_compared, max_abs_difference.
    """
    subject = _subject("recipe", record)
    _check_type(record, Recipe, subject)
    p = _Problems(subject)
    p.check = "record"
    _check_name(p, record, "recipe")
    for attr in ("version", "title"):
        value = getattr(record, attr)
        if not (isinstance(value, str) and value.strip()):
            p.add(f"{attr} is empty: every output names the recipe by name and {attr}")
    if record.nan_in_composite not in NAN_IN_COMPOSITE:
        p.add(f"nan_in_composite {record.nan_in_composite!r} is not one of {', '.join(NAN_IN_COMPOSITE)}")
    if not (isinstance(record.scale, (int, float)) and math.isfinite(record.scale) and record.scale > 0):
        p.add(f"scale {record.scale!r} must be a positive number (100 for percentages)")
    if not isinstance(record.higher_is_better, bool):
        p.add(f"higher_is_better must be True or False, got {record.higher_is_better!r}")
    for what, patterns in (("published_score", record.published_score), ("reference", (record.reference,))):
        if isinstance(patterns, str):
            p.add(f"{what} must be a tuple of regular expressions, not the string {patterns!r} (add a comma)")
            patterns = (patterns,)
        for pattern in patterns:
            if not pattern:
                continue
            try:
                re.compile(pattern)
            except (re.error, TypeError) as exc:
                p.add(f"{what} pattern {pattern!r} is not a valid regular expression: {exc}")
    if isinstance(record.tasks, (str, TaskSpec)) or not isinstance(record.tasks, (tuple, list)):
        p.add(f"tasks must be a tuple of auditkit.TaskSpec, got {type(record.tasks).__name__}")
        p.raise_if_any()
    seen: dict[str, str] = {}
    for task in record.tasks:
        if not isinstance(task, TaskSpec):
            p.add(f"tasks must hold auditkit.TaskSpec records, got {type(task).__name__} {task!r:.60}")
            continue
        _check_task(p, task)
        for key in (task.name, *task.aliases):
            norm = " ".join(str(key).lower().replace("_", " ").split())
            if norm in seen:
                p.add(f"task {task.name!r}: the name or alias {key!r} is already used by task {seen[norm]!r} "
                      "(column names are matched ignoring case, spaces and underscores)")
            seen.setdefault(norm, task.name)
    if record.tasks and not record.official_tasks:
        p.add("every task is a diagnostic: a recipe needs at least one official task (or none at all for a generic "
              "recipe)")
    p.check = "name-clash"
    for problem in _clash_problems(record, "recipes"):
        p.add(problem)
    p.raise_if_any()
    p.check = "leaderboard"
    facts: dict[str, Any] = {}
    if leaderboard_path is not None:
        facts = _recipe_on_leaderboard(p, record, leaderboard_path, reproduces_published)
    p.raise_if_any()
    return facts


def _check_task(p: _Problems, task: TaskSpec) -> None:
    where = f"task {task.name!r}"
    if not (isinstance(task.name, str) and task.name.strip()):
        p.add(f"a task has the empty name {task.name!r}")
    for attr in ("metrics", "columns", "aliases"):
        value = getattr(task, attr)
        if isinstance(value, str):
            p.add(f"{where}: {attr} must be a tuple of strings, not the string {value!r} (write ({value!r},))")
    metrics = task.metrics if not isinstance(task.metrics, str) else (task.metrics,)
    if not metrics:
        p.add(f"{where}: metrics is empty; name at least one, e.g. ('score',)")
    if len(set(metrics)) != len(metrics):
        p.add(f"{where}: metric names repeat: {', '.join(metrics)}")
    if task.columns and not isinstance(task.columns, str) and len(task.columns) != len(metrics):
        p.add(f"{where}: {len(task.columns)} columns for {len(metrics)} metrics; give one column per metric")
    for col, metric in dict(task.split).items():
        if metric not in metrics:
            p.add(f"{where}: split maps column {col!r} to {metric!r}, which is not one of its metrics "
                  f"{', '.join(metrics)}")
    if not (isinstance(task.weight, (int, float)) and math.isfinite(task.weight) and task.weight > 0):
        p.add(f"{where}: weight {task.weight!r} must be a positive finite number")
    try:
        lo, hi = task.value_range
        if not lo < hi:
            p.add(f"{where}: value_range {task.value_range!r} must have low < high")
    except (TypeError, ValueError):
        p.add(f"{where}: value_range {task.value_range!r} must be a pair (low, high)")


def _recipe_on_leaderboard(p: _Problems, record: Recipe, path: Any, reproduces: float | bool | None
                           ) -> dict[str, Any]:
    from .leaderboard import Leaderboard, read_leaderboard
    from .taskscores import resolve_task, task_scores

    lb = path if isinstance(path, Leaderboard) else p.guard(f"reading {path}", lambda: read_leaderboard(path))
    if lb is _FAILED:
        return {}
    missing = [t.name for t in record.official_tasks if resolve_task(lb, t) is None]
    if missing:
        p.add(f"on {lb.source}: no column provides the official task(s) {', '.join(missing)}; the columns are: "
              f"{', '.join(lb.columns)} (add the column name to the task's aliases)")
        return {}
    ts = p.guard(f"computing task scores on {lb.source}", lambda: task_scores(lb, record))
    if ts is _FAILED:
        return {}
    facts: dict[str, Any] = {"rows": len(lb), "scorable": int(ts.scorable.sum()),
                             "published_column": ts.published_column, "tasks": list(ts.tasks)}
    if not ts.scorable.any():
        p.add(f"on {lb.source}: no row can be scored; reasons: {'; '.join(list(ts.reasons.values())[:3])}")
        return facts
    if record.published_score and not record.generic and ts.published_column is None:
        p.add(f"on {lb.source}: no column matches the published score pattern(s) "
              f"{', '.join(record.published_score)}; the columns are: {', '.join(lb.columns)}")
    ok = ts.scorable
    for j, (lo, hi) in enumerate(ts.value_ranges):
        col = ts.values[ok, j]
        bad = np.flatnonzero((col < lo) | (col > hi))
        if bad.size:
            i = np.flatnonzero(ok)[bad[0]]
            p.add(f"on {lb.source}: task {ts.tasks[j]!r} has {bad.size} value(s) outside its declared range "
                  f"[{lo:g}, {hi:g}], e.g. {ts.systems[i]!r} = {ts.values[i, j]:g} (line {lb.lines[i]}); fix "
                  "value_range or the recipe's scale")
    if ts.published_column is not None:
        est = ts.values @ ts.weights
        bound = ts.published_half_ulp + ts.half_ulps @ ts.weights + 1e-9
        compared = ok & np.isfinite(ts.published_score)
        diff = np.abs(est - ts.published_score)
        hit = compared & (diff <= bound)
        facts.update(rows_compared=int(compared.sum()), rows_reproduced=int(hit.sum()),
                     max_abs_difference=float(diff[compared].max()) if compared.any() else None)
        if reproduces and compared.any():
            need = 1.0 if reproduces is True else float(reproduces)
            if hit.sum() < need * compared.sum():
                worst = int(np.flatnonzero(compared)[np.argmax(diff[compared])])
                p.add(f"on {lb.source}: the weighted mean of the tasks reproduces the published "
                      f"{ts.published_column!r} within rounding for {int(hit.sum())} of {int(compared.sum())} rows "
                      f"(required: {need:.0%}); worst {ts.systems[worst]!r}: recomputed {est[worst]:.4f}, published "
                      f"{ts.published_score[worst]:g}. Check the task set and the weights")
    elif reproduces:
        p.add(f"on {lb.source}: reproduces_published was asked for but no published score column was found")
    return facts


# -- checks -----------------------------------------------------------------------------------------------------
@dataclass
class CheckContext:
    """The minimum a check's ``run(context)`` can rely on, mirroring the audit plugin's ``AuditContext``.

    ``leaderboard`` (:class:`auditkit.Leaderboard`), ``recipe`` (:class:`auditkit.Recipe`), ``ts`` (the official
    :class:`auditkit.TaskScores`), ``claims`` (a claims table or None), ``compare_with`` (other snapshots),
    ``options`` (dict), plus ``tables``/``summary``/``notes`` a check may add to. :func:`make_context` returns the
    real ``AuditContext`` of ``auditkit audit`` when the audit plugin is installed, and this class otherwise.
    """

    leaderboard: Any
    recipe: Any = None
    ts: Any = None
    claims: Any = None
    compare_with: list = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def systems(self) -> list[str]:
        return self.leaderboard.systems

    def add_table(self, name: str, rows: list[dict[str, Any]]) -> None:
        self.tables[name] = rows

    def task_scores(self, tasks: list[str] | None = None):
        from .taskscores import task_scores

        try:
            return task_scores(self.leaderboard, self.recipe, tasks=list(tasks) if tasks else None)
        except AuditkitError:
            return None

    def line(self, row: int) -> int:
        return self.leaderboard.lines[row]

    def raw(self, row: int, column: str) -> str:
        return self.leaderboard.raw[row][self.leaderboard.columns.index(column)]


def make_context(data: Any, benchmark: str | None = None, **options: Any) -> Any:
    """The context ``auditkit audit`` would pass to checks, for a leaderboard path, DataFrame or Leaderboard
    (recipe auto-detected unless ``benchmark``): whatever the ``auditkit_make_check_context`` hook returns (the
    audit plugin provides it), or a plain :class:`CheckContext` when no plugin answers."""
    from .leaderboard import Leaderboard, read_leaderboard
    from .registry import get_registry
    from .loading import resolve_recipe
    from .taskscores import task_scores

    context = get_registry().pm.hook.auditkit_make_check_context(data=data, benchmark=benchmark,
                                                                 options=dict(options))
    if context is not None:
        return context
    lb = data if isinstance(data, Leaderboard) else read_leaderboard(data)
    recipe, notes = resolve_recipe(lb, benchmark)
    return CheckContext(leaderboard=lb, recipe=recipe, ts=task_scores(lb, recipe), options=dict(options),
                        notes=list(notes))


SAMPLE_TABLES = (
    ("a clean table with a human baseline",
     ["Model", "A", "B", "C", "Score"],
     [["alpha", "80.0", "70.0", "60.0", "70.0"], ["beta", "75.5", "71.5", "62.0", "69.7"],
      ["Human baselines", "95.0", "90.0", "92.0", "92.3"]]),
    ("a table with a missing cell, a tie and a zero",
     ["Model", "A", "B", "Score"],
     [["alpha", "80.0", "", "80.0"], ["beta", "70.0", "60.0", "65.0"], ["gamma", "70.0", "60.0", "65.0"],
      ["delta", "0.0", "50.0", "25.0"]]),
)


def _default_contexts() -> list[tuple[str, Any]]:
    """Small in-memory leaderboards every check must survive."""
    from .leaderboard import Leaderboard

    return [(f"on built-in sample {n} ({label})",
             make_context(Leaderboard(cols, rows, source=f"<auditkit.testing sample {n}>")))
            for n, (label, cols, rows) in enumerate(SAMPLE_TABLES, 1)]


def _json_problem(value: Any, path: str = "evidence") -> str | None:
    """Why ``value`` is not plain JSON data (numpy numbers and arrays are fine), or None."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{path} has the non-string key {k!r}"
            problem = _json_problem(v, f"{path}[{k!r}]")
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        return next((q for i, v in enumerate(value) if (q := _json_problem(v, f"{path}[{i}]"))), None)
    if value is None or isinstance(value, (str, bool, int, float, np.generic, np.ndarray)):
        return None
    return f"{path} holds {type(value).__name__} {value!r:.40}"


def check_check(record: Check, context: Any = None) -> dict[str, Any]:
    """Check an :class:`auditkit.Check`: a valid name, callable ``run``, a description, boolean ``default`` and
    ``needs_claims``, ``applies_to`` one of table/battles/instances; and for ``run(context)`` on ``context`` (or,
    when None and the check reads score tables, on two small built-in leaderboards, one with a missing cell and a
    tie, that a check must survive without crashing): it returns an iterable (a list,
    or a generator that yields), every item is an :class:`auditkit.Finding` whose ``check`` is the record's name,
    with a known severity, a non-empty message and JSON-serializable evidence, and two runs give the same findings.
    Returns {"findings": [finding dicts of the last context]}.
    """
    from .report import Finding

    subject = _subject("check", record)
    _check_type(record, Check, subject)
    p = _Problems(subject)
    p.check = "record"
    _check_name(p, record, "check")
    if not callable(record.run):
        p.add(f"run is {type(record.run).__name__}, not a function run(context)")
        p.raise_if_any()
    if not (isinstance(record.description, str) and record.description.strip()):
        p.add("description is empty: say in one line what the check looks for")
    for attr in ("default", "needs_claims"):
        if not isinstance(getattr(record, attr), bool):
            p.add(f"{attr} must be True or False, got {getattr(record, attr)!r}")
    p.check = "name-clash"
    for problem in _clash_problems(record, "checks"):
        p.add(problem)
    applies_to = getattr(record, "applies_to", "table")
    if applies_to not in APPLIES_TO:
        p.add(f"applies_to {applies_to!r} is not one of {', '.join(APPLIES_TO)}")
    p.check = "run"
    if context is not None:
        contexts = [("on the given context", context)]
    elif applies_to != "table":  # the built-in samples are score tables: pass a context of the check's evidence
        contexts = []
    else:
        contexts = p.guard("building the sample contexts", _default_contexts)
        if contexts is _FAILED:
            p.raise_if_any()
    dicts: list[dict[str, Any]] = []
    for where, ctx in contexts:

        def run_once():
            result = record.run(ctx)
            if result is None:
                p.add(f"{where}: run returned None; return a list (empty when there is nothing to report) or "
                      "yield findings")
                return []
            if isinstance(result, (str, bytes, Finding)) or not hasattr(result, "__iter__"):
                p.add(f"{where}: run returned {type(result).__name__}, not an iterable of auditkit.Finding "
                      "(return a list or yield)")
                return []
            return list(result)

        first = p.guard(f"{where}: run(context)", run_once)
        if first is _FAILED:
            continue
        dicts = []
        for item in first:
            if not isinstance(item, Finding):
                p.add(f"{where}: run yielded {type(item).__name__} {item!r:.60}, expected auditkit.Finding")
                continue
            if item.check != record.name:
                p.add(f"{where}: a finding carries check {item.check!r}, but the check is named {record.name!r}; "
                      "use the record's name so --fail-on and filters see it")
            if item.severity not in ("info", "warning", "error"):
                p.add(f"{where}: severity {item.severity!r} is not info, warning or error")
            if not (isinstance(item.message, str) and item.message.strip()):
                p.add(f"{where}: a finding has an empty message; say what is wrong, where, and what to do")
            problem = _json_problem(item.evidence) if isinstance(item.evidence, dict) else \
                f"evidence is {type(item.evidence).__name__}, not a dict"
            if problem:
                p.add(f"{where}: {problem}, which JSON output can only write as its str(); use numbers, strings, "
                      "lists and dicts")
            dicts.append(item.as_dict())
        second = p.guard(f"{where}: a second run(context)", run_once)
        if second is not _FAILED:
            again = [f.as_dict() for f in second if isinstance(f, Finding)]
            try:
                same = json.dumps(again, sort_keys=True, default=str) == json.dumps(dicts, sort_keys=True,
                                                                                 default=str)
            except (TypeError, ValueError):
                same = True  # already reported above
            if not same:
                p.add(f"{where}: two runs on the same context gave different findings; a check must be "
                      "deterministic")
    p.raise_if_any()
    return {"findings": dicts}


# -- readers ----------------------------------------------------------------------------------------------------
def check_reader(record: Reader, sample_path: Any) -> dict[str, Any]:
    """Check an :class:`auditkit.Reader` on a sample file it should read.

    Contract items: a valid name, callable ``read``, ``suffixes`` a tuple of lowercase endings starting with a dot,
    ``sniff`` None or callable returning a bool; ``read(source)`` returns a RawTable whose header is non-empty,
    unique strings, whose rows are lists of strings as long as the header, with one 1-based source line per row
    (increasing); reading twice gives the same table; the table builds a Leaderboard; and an empty file and a file
    of garbage bytes are refused with an :class:`auditkit.InputError` (or ParseError) whose message names the file.
    """
    from .leaderboard import RawTable, Source, from_table

    subject = _subject("reader", record)
    _check_type(record, Reader, subject)
    p = _Problems(subject)
    p.check = "record"
    _check_name(p, record, "reader")
    if not callable(record.read):
        p.add(f"read is {type(record.read).__name__}, not a function read(source) -> RawTable")
        p.raise_if_any()
    if isinstance(record.suffixes, str):
        p.add(f"suffixes must be a tuple, not the string {record.suffixes!r} (write ({record.suffixes!r},))")
    else:
        for s in record.suffixes:
            if not (isinstance(s, str) and s.startswith(".") and s == s.lower()):
                p.add(f"suffix {s!r} must be a lowercase file ending starting with a dot, e.g. '.csv'")
    if record.sniff is not None and not callable(record.sniff):
        p.add("sniff must be None or a function sniff(source) -> bool")
    p.check = "name-clash"
    for problem in _clash_problems(record, "readers"):
        p.add(problem)
    p.check = "read"
    with open(sample_path, "rb") as fh:
        data = fh.read()
    name = str(sample_path)
    source = Source(name, data)
    table = p.guard(f"read({name})", lambda: record.read(source))
    facts: dict[str, Any] = {}
    if table is not _FAILED:
        if not isinstance(table, RawTable):
            p.add(f"read returned {type(table).__name__}, expected auditkit.leaderboard.RawTable(header, rows, "
                  "lines, notes)")
        else:
            _check_table(p, table, name)
            facts = {"columns": len(table.header), "rows": len(table.rows)}
            again = p.guard(f"a second read({name})", lambda: record.read(Source(name, data)))
            if isinstance(again, RawTable) and (again.header, again.rows, again.lines) != (table.header, table.rows,
                                                                                          table.lines):
                p.add("reading the same bytes twice gave different tables; a reader must be deterministic")
            if not p.items:
                p.guard("building a Leaderboard from the table", lambda: from_table(table, source=name))
    if record.sniff is not None and callable(record.sniff):
        sniffed = p.guard(f"sniff({name})", lambda: record.sniff(source))
        if sniffed is not _FAILED and not isinstance(sniffed, (bool, np.bool_)):
            p.add(f"sniff returned {type(sniffed).__name__}, expected True or False")
    suffix = (record.suffixes[0] if record.suffixes and not isinstance(record.suffixes, str) else ".dat")
    for label, payload in (("an empty file", b""), ("a file of garbage bytes", b"\x00\xff\xfe garbage \x80\x81")):
        bad_name = f"bad-input{suffix}"
        try:
            record.read(Source(bad_name, payload))
        except AuditkitError as exc:
            if bad_name not in str(exc):
                p.add(f"on {label}, read raised {type(exc).__name__} without naming the file: {exc!s:.120} "
                      "(pass source=source.name to ParseError)")
        except Exception as exc:
            p.add(f"on {label}, read raised {_exc_text(exc)}; refuse bad input with auditkit.ParseError naming the "
                  "file, line and problem")
        else:
            p.add(f"on {label}, read returned a table instead of refusing it with auditkit.ParseError")
    p.raise_if_any()
    return facts


def _check_table(p: _Problems, table: Any, name: str) -> None:
    if not table.header:
        p.add(f"read({name}) returned an empty header")
    if not all(isinstance(h, str) for h in table.header):
        p.add("header names must be strings")
    dupes = sorted({h for h in table.header if table.header.count(h) > 1})
    if dupes:
        p.add(f"header names repeat: {', '.join(map(repr, dupes))}")
    if len(table.lines) != len(table.rows):
        p.add(f"{len(table.rows)} rows but {len(table.lines)} line numbers; give one source line per row")
    for i, row in enumerate(table.rows):
        if len(row) != len(table.header):
            p.add(f"row {i} has {len(row)} cells for {len(table.header)} header names")
            break
        if not all(isinstance(c, str) for c in row):
            p.add(f"row {i} holds non-string cells {[type(c).__name__ for c in row if not isinstance(c, str)]}; "
                  "a reader returns raw text, the core parses numbers")
            break
    lines = list(table.lines)
    if lines and (not all(isinstance(n, (int, np.integer)) and n >= 1 for n in lines)
                  or any(b <= a for a, b in zip(lines, lines[1:]))):
        p.add("line numbers must be increasing 1-based integers (the line each row starts on)")
    if not all(isinstance(n, str) for n in table.notes):
        p.add("notes must be strings")


# -- techniques ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClaimVerdict:
    """How a claim came out: ``holds``; ``measured`` (the value, unwrapped from ``{"value": v, ...}``);
    ``evidence`` (the dict's other keys); ``error`` (what ``measure()`` or the comparison raised, else None)."""

    holds: bool
    measured: Any = None
    evidence: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def compare_claim_values(measured: Any, expected: Any, tolerance: float, compare: str) -> bool:
    """The one comparison of a claim's measured and expected values (``close``, ``le``, ``ge``, ``true``)."""
    if compare not in COMPARES:
        from .errors import unknown_name

        raise unknown_name("claim comparison", compare, COMPARES)
    if compare == "true":
        return bool(np.all(np.asarray(measured)))
    m = np.asarray(measured, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if m.shape != e.shape and e.ndim and m.ndim:
        return False
    if not np.all(np.isfinite(m)):
        return False
    if compare == "close":
        return bool(np.all(np.abs(m - e) <= tolerance))
    if compare == "le":
        return bool(np.all(m <= e + tolerance))
    return bool(np.all(m >= e - tolerance))


def judge_claim(claim: Claim) -> ClaimVerdict:
    """Measure ``claim`` and judge it: the one judge of a :class:`auditkit.Claim`.

    ``measure()`` returns the value or ``{"value": v, **evidence}``. ``compare``: ``"close"`` (|m - e| <=
    tolerance elementwise, shapes must match), ``"le"`` (m <= e + tolerance), ``"ge"`` (m >= e - tolerance),
    ``"true"`` (every element truthy); a non-finite measured number never holds. An exception in ``measure()`` or
    in the comparison is a verdict that does not hold, carrying the error.
    """
    import time

    start = time.perf_counter()
    try:
        out = claim.measure()
    except Exception as exc:  # noqa: BLE001 - a broken measurement is a failing claim, not a crash
        return ClaimVerdict(False, error=f"{type(exc).__name__}: {exc}", seconds=time.perf_counter() - start)
    seconds = time.perf_counter() - start
    evidence: dict[str, Any] = {}
    if isinstance(out, dict) and "value" in out:
        evidence = {k: v for k, v in out.items() if k != "value"}
        out = out["value"]
    try:
        holds = compare_claim_values(out, claim.expected, claim.tolerance, claim.compare)
    except Exception as exc:  # noqa: BLE001
        return ClaimVerdict(False, out, evidence, f"{type(exc).__name__}: {exc}", seconds)
    return ClaimVerdict(holds, out, evidence, None, seconds)


def check_technique(record: Technique, *, run_claims: bool = False) -> dict[str, Any]:
    """Check an :class:`auditkit.Technique`: a valid name, a description, :class:`auditkit.Claim` claims with unique
    non-empty ids, a statement and a source each, a callable ``measure``, ``compare`` one of close/le/ge/true and a
    finite tolerance >= 0, and a name no other technique has (``name-clash``). ``run_claims=True`` also measures
    every claim with :func:`judge_claim` (the judge ``auditkit claims --run`` uses; slow for claims that train
    models); failing claims are listed with measured and expected values.
    """
    subject = _subject("technique", record)
    _check_type(record, Technique, subject)
    p = _Problems(subject)
    p.check = "record"
    _check_name(p, record, "technique")
    if not (isinstance(record.description, str) and record.description.strip()):
        p.add("description is empty")
    if isinstance(record.claims, Claim) or not isinstance(record.claims, (tuple, list)):
        p.add(f"claims must be a tuple of auditkit.Claim, got {type(record.claims).__name__}")
        p.raise_if_any()
    ids: set[str] = set()
    results = {}
    for claim in record.claims:
        p.check = "claims"
        if not isinstance(claim, Claim):
            p.add(f"claims must hold auditkit.Claim records, got {type(claim).__name__} {claim!r:.60}")
            continue
        where = f"claim {claim.id!r}"
        if not (isinstance(claim.id, str) and claim.id.strip()):
            p.add(f"a claim has the empty id {claim.id!r}")
        if claim.id in ids:
            p.add(f"{where}: the id repeats; claim ids must be unique within a technique")
        ids.add(claim.id)
        for attr in ("statement", "source"):
            if not (isinstance(getattr(claim, attr), str) and getattr(claim, attr).strip()):
                p.add(f"{where}: {attr} is empty (say what is claimed and where it was published)")
        if not callable(claim.measure):
            p.add(f"{where}: measure is not callable")
        if claim.compare not in COMPARES:
            p.add(f"{where}: compare {claim.compare!r} is not one of {', '.join(COMPARES)}")
        if not (isinstance(claim.tolerance, (int, float)) and math.isfinite(claim.tolerance)
                and claim.tolerance >= 0):
            p.add(f"{where}: tolerance {claim.tolerance!r} must be a finite number >= 0")
        if run_claims and callable(claim.measure) and claim.compare in COMPARES:
            p.check = "run-claims"
            verdict = judge_claim(claim)
            results[claim.id] = verdict.holds
            if verdict.error is not None and verdict.measured is None:
                p.add(f"{where}: measure() raised {verdict.error}")
            elif verdict.error is not None:
                p.add(f"{where}: measured {verdict.measured!r:.80} cannot be compared with {claim.expected!r:.80}: "
                      f"{verdict.error}")
            elif not verdict.holds:
                p.add(f"{where}: measured {verdict.measured!r:.80}, expected {claim.compare} "
                      f"{claim.expected!r:.80} (tolerance {claim.tolerance:g})")
    p.check = "name-clash"
    for problem in _clash_problems(record, "techniques"):
        p.add(problem)
    p.raise_if_any()
    return {"claims": len(record.claims), "held": results}


# -- dispatch, whole plugins, pytest ------------------------------------------------------------------------------
_CHECKERS: dict[str, Callable[..., Any]] = {
    "aggregators": check_aggregator, "recipes": check_recipe, "checks": check_check, "readers": check_reader,
    "techniques": check_technique,
}


def _kind(kind: str) -> str:
    key = kind if kind in RECORD_KINDS else f"{kind}s"
    if key not in RECORD_KINDS:
        from .errors import unknown_name

        raise unknown_name("record kind", kind, RECORD_KINDS)
    return key


def check_record(record: Any, **options: Any) -> dict[str, Any]:
    """Run the check that fits the record's type (readers need ``sample_path=``)."""
    for kind, rtype in RECORD_KINDS.items():
        if isinstance(record, rtype):
            if kind not in _CHECKERS:
                return _basic(record, kind)
            return _CHECKERS[kind](record, **options)
    raise ConformanceError(repr(record)[:60], [f"{type(record).__name__} is not an auditkit record; expected one "
                                               f"of {', '.join(t.__name__ for t in RECORD_KINDS.values())}"])


def _basic(record: Any, kind: str) -> dict[str, Any]:
    p = _Problems(_subject(kind[:-1], record))
    p.check = "record"
    _check_name(p, record, kind[:-1])
    for attr in ("func", "run", "namespace", "devices", "fit", "read"):
        if hasattr(record, attr) and not callable(getattr(record, attr)):
            p.add(f"{attr} is not callable")
    p.check = "name-clash"
    for problem in _clash_problems(record, kind):
        p.add(problem)
    p.raise_if_any()
    return {}


def check_plugin(plugin: Any, *, name: str = "plugin-under-test", samples: dict[str, Any] | None = None,
                 skip: dict[str, Iterable[str]] | None = None) -> dict[str, Any]:
    """Register ``plugin`` (a module or object with hook implementations, or the name of an installed entry point)
    alone in a fresh registry, the way the entry point would, and check everything it provides: registration
    errors (hook typos, wrong record types, invalid names), each record with the matching ``check_*`` function
    (names taken by an installed plugin other than this one are reported), and its CLI commands (each must be a
    click command with help text, and must not replace a core command). ``samples`` maps a reader name to a sample
    file; ``skip`` maps an aggregator's name to the named checks it leaves out (``{"my-min": ["weights-matter"]}``).
    Returns {kind: [names]} of what it provides.
    """
    import click

    from .cli import cli as core_cli
    from .registry import Registry

    if isinstance(plugin, str):  # an entry-point name: load it the way the registry does
        from importlib.metadata import entry_points

        from .registry import ENTRY_POINT_GROUP

        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == plugin]
        if not found:
            names = sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})
            raise ConformanceError(f"plugin {plugin!r}", [f"no entry point {plugin!r} in the {ENTRY_POINT_GROUP!r} "
                                                          f"group; installed: {', '.join(names)}"])
        name = plugin
        try:
            plugin = found[0].load()
        except Exception as exc:
            raise ConformanceError(f"plugin {name!r}", [f"failed to import {found[0].value}: {_exc_text(exc)}"])
    p = _Problems(f"plugin {getattr(plugin, '__name__', name)!r}")
    p.check = "register"
    reg = Registry(load_entry_points=False)
    info = p.guard("registering the plugin", lambda: reg.register(plugin, name))
    if info is _FAILED:
        p.raise_if_any()
    reg.collect_all()
    for err in info.errors:
        p.add(err)
    provided: dict[str, list[str]] = {k: list(v) for k, v in info.provides.items()}
    for kind, names in provided.items():
        for rname in names:
            record = reg.records(kind)[rname]
            options = {}
            if kind == "readers":
                sample = (samples or {}).get(rname)
                if sample is None:
                    p.add(f"reader {rname!r}: pass samples={{{rname!r}: path}} so the kit can read a sample file")
                    continue
                options["sample_path"] = sample
            if kind == "aggregators" and rname in (skip or {}):
                options["skip"] = tuple(skip[rname])
            _UNDER_TEST.append(plugin)
            try:
                check_record(record, **options)
            except ConformanceError as exc:
                p.extend((f"{exc.subject}: {q}" for q in exc.problems), exc.checks)
            finally:
                _UNDER_TEST.pop()
    from .registry import get_registry

    p.check = "commands"
    group = click.Group("auditkit-test")
    # the core's own commands only: plugin commands may already sit on the real group if the CLI was used
    added_by_plugins = {c for i in get_registry().plugins.values() for c in i.commands}
    for cname, cmd in core_cli.commands.items():
        if cname not in added_by_plugins:
            group.add_command(cmd, cname)
    before = dict(group.commands)
    reg.add_commands(group)
    for err in info.errors:
        p.add(err)
    for cname, cmd in group.commands.items():
        if cname in before and before[cname] is cmd:
            continue
        if cname in before:
            p.add(f"command {cname!r} replaces an existing auditkit command; choose another name")
        if not isinstance(cmd, click.Command):
            p.add(f"command {cname!r} is {type(cmd).__name__}, not a click command")
        elif not (cmd.help or cmd.short_help):
            p.add(f"command {cname!r} has no help text (its docstring is shown by `auditkit --help`)")
        provided.setdefault("commands", []).append(cname)
    p.raise_if_any()
    return provided


def conformance_records(kind: str, names: Iterable[str] | None = None, registry: Any = None) -> list[Any]:
    """The distinct records of ``kind`` (aliases collapsed), optionally only ``names``, from the loaded registry."""
    from .registry import get_registry

    reg = registry if registry is not None else get_registry()
    recs = reg.records(_kind(kind))
    unique = {r.name: r for r in recs.values()}
    if names is None:
        return [unique[n] for n in sorted(unique)]
    return [reg.get(_kind(kind), n) for n in names]


def parametrize_conformance(kind: str, names: Iterable[str] | None = None, *, argname: str = "record",
                            registry: Any = None):
    """``pytest.mark.parametrize`` over every registered record of ``kind`` (or only ``names``), one test per
    record, with the record's name as the test id::

        @parametrize_conformance("aggregators")
        def test_aggregator_contract(record):
            check_aggregator(record)
    """
    import pytest

    records = conformance_records(kind, names, registry)
    return pytest.mark.parametrize(argname, records, ids=[r.name for r in records])
