"""Applying a recipe to a leaderboard: the systems x tasks matrix that aggregators consume.

A task's score is the unweighted mean of its metrics (``93.9/91.8`` -> 92.85). Rows that cannot be scored keep a
NaN row and a reason; nothing is dropped. Each task score carries the half-width of its displayed precision
(``half_ulps``) for interval arithmetic in audits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .errors import ParseError, UsageError, unknown_name
from .leaderboard import Leaderboard, normalize
from .records import Recipe, TaskSpec

# "pos" is not a rank column: XGLUE's POS (part-of-speech tagging) task is called that
RANK_COLUMN = re.compile(r"^(rank|#|position|place|ranking)$")
METADATA_COLUMN = re.compile(r"param|size|dimension|tokens|throughput|year|date|release|license|url|link|"
                             r"mean[- ]rank|^t$|^type$|^(id|idx|index|no\.?|number|row|system|model)$|[ _-]id$")
GENERIC_SCORE = (r"score", r"average", r"avg", r"mean", r"overall", r"meta-ave", r"mean win rate", r"average .*",
                 r".* score", r"average_score", r"win")


@dataclass
class TaskScores:
    """The systems x tasks matrix for one recipe and task set, with everything needed to explain it."""

    leaderboard: Leaderboard
    recipe: Recipe
    tasks: list[str]
    values: np.ndarray          # (n_systems, n_tasks) float64, NaN in unscorable rows
    half_ulps: np.ndarray       # same shape: half a unit of the displayed precision
    weights: np.ndarray         # (n_tasks,), sum 1
    value_ranges: list[tuple[float, float]]
    reference: np.ndarray       # (n_systems,) bool: human / reference rows
    reasons: dict[int, str]     # row -> why it cannot be scored
    published_score: np.ndarray  # (n_systems,) NaN where absent
    published_half_ulp: np.ndarray
    published_rank: np.ndarray  # (n_systems,) NaN where absent
    published_column: str | None
    components: dict[str, np.ndarray] = field(default_factory=dict)  # task -> (n, k) metric values
    nan_zeroed: list[tuple[int, str]] = field(default_factory=list)  # (row, task) scored 0 for a NaN inside
    notes: list[str] = field(default_factory=list)
    observed: np.ndarray | None = None     # (n, k) task values before unscorable rows were blanked; NaN = missing
    missing: np.ndarray | None = None      # (n, k) bool: the cell is missing in the input
    missing_rows: frozenset = frozenset()  # rows unscored only because of missing cells (--missing decides)
    higher_is_better: np.ndarray | None = None  # (k,) bool: the direction of each task
    out_of_range: tuple = ()  # (row, task, column, raw cell, lo, hi) for cells outside the task's declared range

    def lower_is_better_names(self) -> list[str]:
        return [t for t, h in zip(self.tasks, self.directions) if not h]

    @property
    def directions(self) -> np.ndarray:
        return (np.ones(len(self.tasks), bool) if self.higher_is_better is None
                else np.asarray(self.higher_is_better, bool))

    def to_pandas(self):
        """The parsed systems x tasks matrix as a DataFrame (float64 columns, one per task, indexed by system),
        with ``reference`` and ``unscored_reason`` columns; unscored rows keep their NaN cells."""
        import pandas as pd

        frame = pd.DataFrame(self.values, columns=list(self.tasks),
                             index=pd.Index(list(self.systems), name="system"))
        frame["reference"] = self.reference
        frame["unscored_reason"] = [self.reasons.get(i) for i in range(len(self.systems))]
        return frame

    @property
    def systems(self) -> list[str]:
        return self.leaderboard.systems

    @property
    def scorable(self) -> np.ndarray:
        mask = np.ones(len(self.systems), bool)
        mask[list(self.reasons)] = False
        return mask

    @property
    def reduction(self) -> str:
        multi = [f"{t}: mean of {'/'.join(self.recipe_task(t).metrics)}" for t in self.tasks
                 if len(self.recipe_task(t).metrics) > 1]
        text = "; ".join(multi) if multi else "one value per task"
        if self.recipe.nan_in_composite == "zero":
            text += "; a NaN inside a composite cell scores the task 0"
        return text

    def recipe_task(self, name: str) -> TaskSpec:
        for t in self.recipe.tasks:
            if t.name == name:
                return t
        return TaskSpec(name)


def _mostly_numeric_with_text(lb: Leaderboard, col: str) -> bool:
    """Mostly numbers with a few text cells: a data error to report, not a text column to pass over."""
    pc = lb.parsed(col)
    present = int((~pc.missing).sum()) + len(pc.errors)
    return bool(pc.errors) and len(pc.errors) < present / 2


def _published_column(lb: Leaderboard, recipe: Recipe) -> str | None:
    patterns = recipe.published_score if not recipe.generic else (*recipe.published_score, *GENERIC_SCORE)
    for pattern in patterns:
        rx = re.compile(pattern, re.I)
        for col in lb.columns:
            if col == lb.system_column or not rx.fullmatch(normalize(col)):
                continue
            if _mostly_numeric_with_text(lb, col):
                lb.numeric(col)  # a text cell among the published scores: ParseError naming line and value
            if lb.is_numeric(col):
                return col
    return None


def rank_column(lb: Leaderboard) -> str | None:
    """The column holding the published rank: named like a rank and holding positive integers only."""
    for col in lb.columns:
        if RANK_COLUMN.match(normalize(col)) and lb.is_numeric(col):
            v = lb.parsed(col).values[:, 0]
            v = v[np.isfinite(v)]
            if v.size and np.all(v == np.round(v)) and np.all(v >= 1):
                return col
    return None



def resolve_task(lb: Leaderboard, task: TaskSpec) -> list[tuple[str, int]] | None:
    """Where each metric of ``task`` lives: a list of (column, component index), or None if absent."""
    k = len(task.metrics)
    if task.columns:
        cols = [lb.find_column(c) for c in task.columns]
        return None if None in cols else [(c, 0) for c in cols]
    for name in (task.name, *task.aliases):
        col = lb.find_column(name)
        if col is not None:
            return [(col, j) for j in range(k)]
    if k > 1:
        by_metric = {}
        for col_name, metric in task.split.items():
            col = lb.find_column(col_name)
            if col is not None:
                by_metric[metric] = col
        for j, metric in enumerate(task.metrics):
            if metric not in by_metric:
                col = lb.find_column(f"{task.name}-{'abcdefgh'[j]}")
                if col is not None and col not in by_metric.values():
                    by_metric[metric] = col
        if len(by_metric) == k:
            return [(by_metric[m], 0) for m in task.metrics]
    return None


def generic_tasks(lb: Leaderboard, recipe: Recipe) -> tuple[list[TaskSpec], list[str]]:
    """Every numeric column that is not the system, team, rank, published score or metadata; and the skipped ones."""
    skip = {lb.system_column, lb.team_column, rank_column(lb), _published_column(lb, recipe)}
    tasks, skipped = [], []
    for col in lb.columns:
        if col in skip:
            continue
        if _mostly_numeric_with_text(lb, col):
            lb.numeric(col)  # mostly numbers with a few text cells: a data error, not a text column
        pc = lb.parsed(col)
        numbers = int((~pc.missing).sum())
        if pc.errors and numbers:  # half or more text: not a task, and the note says why
            row, raw, _ = pc.errors[0]
            skipped.append(f"{col} ({len(pc.errors)} of {numbers + len(pc.errors)} cells are text, e.g. "
                           f"{raw!r} on line {lb.lines[row]})")
    for col in lb.numeric_columns():
        if col in skip:
            continue
        if METADATA_COLUMN.search(normalize(col)):
            skipped.append(f"{col} (a name, id or metadata column)")
            continue
        pc = lb.parsed(col)
        k = int(pc.n_components.max()) if len(pc.n_components) else 1
        tasks.append(TaskSpec(col, metrics=tuple(f"m{j + 1}" for j in range(k)) if k > 1 else ("score",),
                              value_range=(-np.inf, np.inf)))
    return tasks, skipped


def detect_recipe(lb: Leaderboard, recipes: dict[str, Recipe]) -> tuple[Recipe, list[str]]:
    """The recipe for ``lb`` when ``--benchmark`` is not given, and notes saying why.

    A recipe matches when all its official tasks resolve to columns and, if it declares ``detect`` columns, all of
    those are present. Among matching recipes the choice is deterministic: a recipe whose ``detect`` columns are
    present first, then one whose published score column exists, then more tasks, then the name (alphabetical);
    the note names the runners-up. With no match the generic recipe is used (and near misses are named)."""
    matches, near = [], []
    for recipe in sorted({id(r): r for r in recipes.values()}.values(), key=lambda r: r.name):
        if recipe.generic:
            continue
        found = [resolve_task(lb, t) is not None for t in recipe.official_tasks]
        detected = bool(recipe.detect) and all(lb.find_column(c) is not None for c in recipe.detect)
        if all(found) and (detected or not recipe.detect):
            key = (detected, _published_column(lb, recipe) is not None, len(found))
            matches.append((key, recipe))
        elif sum(found) >= max(3, len(found) - 2):
            missing = [t.name for t, ok in zip(recipe.official_tasks, found) if not ok]
            if recipe.detect and not detected:
                missing += [f"column {c}" for c in recipe.detect if lb.find_column(c) is None]
            near.append(f"looks like {recipe.title} but lacks {', '.join(missing)}; used the generic recipe "
                        f"(choose --benchmark {recipe.name} to see why it does not apply)")
    if matches:
        best = max(key for key, _ in matches)
        chosen = next(r for key, r in matches if key == best)  # sorted by name: the first of equal keys
        others = [r.name for _, r in matches if r is not chosen]
        notes = ([f"recipe {chosen.name} chosen over {', '.join(others)}, which also match these columns (order: "
                  "detect columns present, published score column present, more tasks, name); choose another "
                  "with --benchmark"] if others else [])
        return chosen, notes
    generic = next((r for r in recipes.values() if r.generic), None)
    if generic is None:
        raise UsageError("no recipe matches these columns and no generic recipe is installed")
    return generic, near


def task_scores(lb: Leaderboard, recipe: Recipe, tasks: list[str] | None = None,
                exclude: list[str] | None = None, lower_is_better: list[str] | None = None) -> TaskScores:
    """Apply ``recipe`` to ``lb``. ``tasks`` replaces the official task set (recipe task names, diagnostics
    included, or plain numeric columns); ``exclude`` removes tasks from it; ``lower_is_better`` names tasks whose
    lower values are better (on top of the recipe's own directions)."""
    notes: list[str] = []
    not_tasks = {c for c in (rank_column(lb), _published_column(lb, recipe)) if c is not None}
    if recipe.generic:
        available, skipped = generic_tasks(lb, recipe)
        if skipped:
            notes.append(f"columns not used as tasks: {'; '.join(skipped)}; name one with --tasks to use it")
        official = list(available)
    else:
        available = list(recipe.tasks)
        official = list(recipe.official_tasks)
    by_name = {normalize(t.name): t for t in available}
    if tasks:
        chosen = []
        for name in tasks:
            t = by_name.get(normalize(name))
            if t is None:
                col = lb.find_column(name)
                if col in not_tasks:
                    role = "published rank" if col == rank_column(lb) else "published score"
                    raise UsageError(f"{lb.source}: --tasks {name!r} is the {role} column, not a task; averaging "
                                     "it with the task scores mixes the result into its inputs. Choose task "
                                     "columns only")
                if col is not None:
                    lb.numeric(col)  # a text cell in the named column: ParseError naming line, column, value
                if col is None or not lb.is_numeric(col):
                    raise unknown_name("task", name, {t.name for t in available} | set(lb.numeric_columns()))
                t = TaskSpec(col, value_range=(-np.inf, np.inf))
            chosen.append(t)
        seen: dict[str, str] = {}
        for name, t in zip(tasks, chosen):
            if normalize(t.name) in seen:
                raise UsageError(f"{lb.source}: --tasks names task {t.name!r} twice ({seen[normalize(t.name)]!r} and "
                                 f"{name!r}); a repeated task would weigh double. Name each task once, or give the "
                                 "recipe task weights")
            seen[normalize(t.name)] = name
    else:
        chosen = official
    if exclude:
        drop = {normalize(x) for x in exclude}
        unknown = drop - {normalize(t.name) for t in chosen}
        if unknown:
            raise unknown_name("task to exclude", sorted(unknown)[0], [t.name for t in chosen])
        chosen = [t for t in chosen if normalize(t.name) not in drop]
    if not chosen:
        raise UsageError(f"{lb.source}: no tasks left to aggregate")
    lower = {normalize(x) for x in (lower_is_better or [])}
    unknown_lower = lower - {normalize(t.name) for t in chosen}
    if unknown_lower:
        raise unknown_name("task for --lower-is-better", sorted(unknown_lower)[0], [t.name for t in chosen])
    directions = np.array([False if normalize(t.name) in lower else
                           (recipe.higher_is_better if t.higher_is_better is None else t.higher_is_better)
                           for t in chosen], bool)

    n = len(lb)
    values = np.full((n, len(chosen)), np.nan)
    ulps = np.zeros((n, len(chosen)))
    reasons: dict[int, str] = {}
    components: dict[str, np.ndarray] = {}
    nan_zeroed: list[tuple[int, str]] = []
    located = [resolve_task(lb, task) for task in chosen]
    absent = [t for t, w in zip(chosen, located) if w is None]
    if absent:
        raise UsageError(f"{lb.source}: recipe {recipe.name!r} needs task(s) "
                         f"{', '.join(f'{t.name} ({chr(47).join(t.metrics)})' for t in absent)}, but no column "
                         f"provides them; columns are: {', '.join(lb.columns)}")
    outside: list[tuple] = []
    for j, (task, where) in enumerate(zip(chosen, located)):
        comp, comp_ulp, missing, has_nan = _components(lb, task, where)
        components[task.name] = comp
        lo, hi = task.value_range
        with np.errstate(invalid="ignore"):
            bad = (comp < lo) | (comp > hi)
        for i, c in zip(*np.nonzero(bad)):
            col = where[c][0] if len(where) > 1 else where[0][0]
            outside.append((int(i), task.name, col, lb.raw[i][lb.columns.index(col)], lo, hi))
        task_value = comp.mean(axis=1)
        task_ulp = comp_ulp.mean(axis=1)
        if recipe.nan_in_composite == "zero":
            zero = has_nan & ~missing
            task_value[zero] = 0.0
            nan_zeroed += [(int(i), task.name) for i in np.flatnonzero(zero)]
        else:
            missing = missing | has_nan
        values[:, j] = task_value
        ulps[:, j] = task_ulp
        for i in np.flatnonzero(missing):
            reasons.setdefault(int(i), f"{task.name} is missing ({lb.raw[i][lb.columns.index(where[0][0])]!r})")
    observed = values.copy()
    missing_cells = np.isnan(observed)
    missing_rows = frozenset(int(i) for i in reasons)
    for i in reasons:
        values[i, :] = np.nan
    weights = np.array([t.weight for t in chosen], float)
    weights = weights / weights.sum()

    pattern = re.compile(recipe.reference, re.I) if recipe.reference else None
    teams = lb.teams()
    reference = np.array([bool(pattern and (pattern.search(s) or (tm and pattern.search(tm))))
                          for s, tm in zip(lb.systems, teams)])
    pub_col = _published_column(lb, recipe)
    if pub_col is not None:
        pc = lb.parsed(pub_col)
        published, pub_ulp = pc.values[:, 0].copy(), pc.half_ulps[:, 0].copy()
        published[pc.missing] = np.nan
    else:
        published, pub_ulp = np.full(n, np.nan), np.zeros(n)
    rank_col = rank_column(lb)
    if rank_col is not None and not lb.parsed(rank_col).errors:
        pr = lb.parsed(rank_col)
        published_rank = np.where(pr.missing, np.nan, pr.values[:, 0])
    else:
        from .ranking import competition_rank

        published_rank = competition_rank(published) if pub_col is not None else np.full(n, np.nan)
    if nan_zeroed:
        notes.append("NaN inside a composite cell scored the task 0: "
                     + "; ".join(f"{lb.systems[i]} ({t})" for i, t in nan_zeroed))
    return TaskScores(lb, recipe, [t.name for t in chosen], values, ulps, weights,
                      [t.value_range for t in chosen], reference, reasons, published, pub_ulp, published_rank,
                      pub_col, components, nan_zeroed, notes, observed, missing_cells, missing_rows, directions,
                      tuple(outside))


def _components(lb: Leaderboard, task: TaskSpec, where: list[tuple[str, int]]):
    """(values (n, k), half_ulps (n, k), missing (n,), has_nan (n,)) for one task; refuses a cell whose number of
    components does not match the recipe, naming line, column and value."""
    n, k = len(lb), len(where)
    out, ulp = np.full((n, k), np.nan), np.zeros((n, k))
    missing = np.zeros(n, bool)
    for j, (col, comp) in enumerate(where):
        pc = lb.numeric(col)
        expected = k if len(set(c for c, _ in where)) == 1 else 1
        bad = np.flatnonzero(~pc.missing & (pc.n_components != expected))
        if bad.size:
            i = int(bad[0])
            shape = "/".join(task.metrics) if expected > 1 else "a single number"
            raise ParseError(f"{task.name} cells hold {shape} for this recipe, this one holds "
                             f"{pc.n_components[i]} value(s)", source=lb.source, line=lb.lines[i], column=col,
                             value=lb.raw[i][lb.columns.index(col)],
                             hint=f"system {lb.systems[i]!r}; check the column order or choose another recipe with "
                                  "--benchmark")
        if comp < pc.values.shape[1]:  # a column with no composite cell at all has one component slot
            out[:, j] = pc.values[:, comp]
            ulp[:, j] = pc.half_ulps[:, comp]
        missing |= pc.missing
    has_nan = np.isnan(out).any(axis=1) & ~missing
    return out, ulp, missing, has_nan
