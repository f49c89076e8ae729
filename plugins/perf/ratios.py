"""The ratio table: every ``benchmarks/bench_*.py`` module's ``RATIOS`` pairs, timed side by side in one process.

``RATIOS = [(label, "Class.time_a", "Class.time_b", {param_name: value} or None[, extras]), ...]``; ``extras`` may
name a ``limit`` (``"Class.time_memcpy"``: what the hardware allows for the same bytes, e.g. a memcpy), a
``goal`` for a/b and a ``limit_goal`` for a/limit, and ``repeat`` (rounds for an entry whose sides take seconds).

Each class is instantiated, ``setup_cache`` (if any) and ``setup`` are called with the given parameters as asv
would. Each side is calibrated ``timeit``-style (calls per sample grow until a sample takes ``min_time``; the
calibration is the warm-up), then the sides are timed in **interleaved rounds** (A B [L], then B [L] A, ...), so
that machine load lands on both alike. Per side: the minimum and the median over the rounds; per row: a/b of the
minima, and the median and interquartile range of the per-round ratios a_r/b_r (the paired figure that load moves
least). The BLAS/OpenMP thread settings (threadpoolctl) and torch's, when torch is loaded, are recorded with the
table and with every row. A module that fails to import (torch missing, say) is listed with its error; an entry
whose ``setup`` raises ``NotImplementedError`` is listed as skipped, with asv's meaning (a missing GPU, or data in
``../shared`` that is not there).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditkit.errors import UsageError


def _quantile(xs: list[float], q: float) -> float:
    ys = sorted(xs)
    pos = q * (len(ys) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ys) - 1)
    return ys[lo] + (ys[hi] - ys[lo]) * (pos - lo)


@dataclass
class RatioRow:
    module: str
    label: str
    a: str
    b: str
    params: dict[str, Any] | None
    time_a: float | None = None          # seconds per call, minimum over the rounds
    time_b: float | None = None
    status: str = "ok"  # ok | skipped | error
    message: str = ""
    samples_a: list[float] = field(default_factory=list)     # seconds per call, one per round
    samples_b: list[float] = field(default_factory=list)
    limit: str | None = None             # the method timing what the hardware allows (memcpy of the bytes)
    samples_limit: list[float] = field(default_factory=list)
    goal: float | None = None            # a/b goal (a/b <= goal)
    limit_goal: float | None = None      # a/limit goal
    threads: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.time_a is None or not self.time_b:
            return None
        return self.time_a / self.time_b

    def _paired(self, other: list[float]) -> list[float]:
        return [x / y for x, y in zip(self.samples_a, other) if y]

    @property
    def ratio_median(self) -> float | None:
        r = self._paired(self.samples_b)
        return _quantile(r, 0.5) if r else None

    @property
    def ratio_spread(self) -> tuple[float, float] | None:
        r = self._paired(self.samples_b)
        return (_quantile(r, 0.25), _quantile(r, 0.75)) if r else None

    @property
    def time_limit(self) -> float | None:
        return min(self.samples_limit) if self.samples_limit else None

    @property
    def limit_ratio(self) -> float | None:
        """a / limit, minima (the gap to what the hardware allows)."""
        if self.time_a is None or not self.time_limit:
            return None
        return self.time_a / self.time_limit

    @property
    def limit_ratio_median(self) -> float | None:
        r = self._paired(self.samples_limit)
        return _quantile(r, 0.5) if r else None

    def goal_met(self) -> bool | None:
        checks = []
        if self.goal is not None and self.ratio_median is not None:
            checks.append(self.ratio_median <= self.goal)
        if self.limit_goal is not None and self.limit_ratio_median is not None:
            checks.append(self.limit_ratio_median <= self.limit_goal)
        return all(checks) if checks else None

    def as_dict(self) -> dict[str, Any]:
        med = lambda xs: _quantile(xs, 0.5) if xs else None  # noqa: E731
        return {"module": self.module, "label": self.label, "a": self.a, "b": self.b, "params": self.params,
                "time_a_s": self.time_a, "time_b_s": self.time_b, "ratio": self.ratio,
                "median_a_s": med(self.samples_a), "median_b_s": med(self.samples_b),
                "ratio_median": self.ratio_median, "ratio_iqr": self.ratio_spread, "rounds": len(self.samples_a),
                "limit": self.limit, "time_limit_s": self.time_limit, "limit_ratio": self.limit_ratio,
                "limit_ratio_median": self.limit_ratio_median, "goal": self.goal, "limit_goal": self.limit_goal,
                "goal_met": self.goal_met(), "samples_a_s": self.samples_a, "samples_b_s": self.samples_b,
                "samples_limit_s": self.samples_limit, "threads": self.threads,
                "status": self.status, "message": self.message}


@dataclass
class RatioTable:
    rows: list[RatioRow] = field(default_factory=list)
    import_errors: dict[str, str] = field(default_factory=dict)
    source: str = "timed"
    notes: list[str] = field(default_factory=list)
    threads: dict[str, Any] = field(default_factory=dict)

    def render(self, fmt: str = "table") -> str:
        if fmt == "json":
            return json.dumps({"schema": "auditkit.bench.ratios/2", "source": self.source, "threads": self.threads,
                               "rows": [r.as_dict() for r in self.rows], "import_errors": self.import_errors,
                               "notes": self.notes}, indent=2)
        from auditkit.report import markdown_table, text_table

        def ratio(x):
            return "-" if x is None else f"{x:.2f}"

        display = []
        for r in self.rows:
            spread = r.ratio_spread
            met = r.goal_met()
            goals = [f"a/b <= {r.goal:g}" if r.goal is not None else "",
                     f"a/limit <= {r.limit_goal:g}" if r.limit_goal is not None else ""]
            display.append({
                "module": r.module, "comparison": r.label, "a": fmt_time(r.time_a), "b": fmt_time(r.time_b),
                "a/b": ratio(r.ratio),
                "a/b median [IQR]": "-" if spread is None else
                f"{r.ratio_median:.2f} [{spread[0]:.2f}, {spread[1]:.2f}]",
                "limit": fmt_time(r.time_limit) if r.limit else "",
                "a/limit": ratio(r.limit_ratio_median) if r.limit else "",
                "goal": " ".join(g for g in goals if g) + ("" if met is None else (": met" if met else ": NOT met")),
                "note": r.message if r.status != "ok" else ""})
        for key in ("note", "limit", "a/limit", "goal"):
            if not any(d[key] for d in display):
                for d in display:
                    del d[key]
        body = markdown_table(display) if fmt == "markdown" else text_table(display)
        lines = [f"times: {self.source}; a and b are minima per call; a/b < 1 means a (auditkit, or the first "
                 "named) is faster than b (the baseline); the median and IQR are of the per-round ratios",
                 f"threads: {format_threads(self.threads)}", *self.notes]
        lines += [f"not imported: {name}: {err}" for name, err in sorted(self.import_errors.items())]
        if fmt == "markdown":
            return body + "\n\n" + "\n".join(f"- {x}" for x in lines) + "\n"
        return body + "\n\n" + "\n".join(lines) + "\n"


def thread_settings() -> dict[str, Any]:
    """The thread pools in this process: each BLAS/OpenMP library threadpoolctl sees (api, library, threads) and
    torch's intra-op threads when torch is already imported (it is not imported here)."""
    out: dict[str, Any] = {}
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            name = f"{info.get('user_api')}:{info.get('internal_api')}"
            key, i = name, 2
            while key in out:
                key, i = f"{name}#{i}", i + 1
            out[key] = info.get("num_threads")
    except ImportError:
        out["threadpoolctl"] = "not installed"
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "get_num_threads"):
        out["torch"] = torch.get_num_threads()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE"):
        if os.environ.get(var):
            out[f"env:{var}"] = os.environ[var]
    return out


def format_threads(threads: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in threads.items()) or "unknown"


def fmt_time(t: float | None) -> str:
    if t is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-9:.3g} ns"


def find_benchmarks(explicit: str | Path | None = None) -> Path:
    if explicit is not None:
        path = Path(explicit)
        if not path.is_dir():
            raise UsageError(f"--benchmarks {explicit}: not a directory")
        return path.resolve()
    from .history import find_root

    try:
        root = find_root()
    except UsageError:
        raise UsageError("cannot find benchmarks/: run from the auditkit checkout or pass --benchmarks DIR") from None
    return root / "benchmarks"


def import_modules(bench_dir: Path, pattern: str = "bench_*.py") -> tuple[dict[str, Any], dict[str, str]]:
    """Import ``bench_dir/bench_*.py`` as ``<dirname>.<module>`` (as asv does). Returns (modules, errors)."""
    parent, package = str(bench_dir.parent), bench_dir.name
    if parent not in sys.path:
        sys.path.insert(0, parent)
    modules, errors = {}, {}
    for path in sorted(bench_dir.glob(pattern)):
        name = path.stem
        try:
            if (bench_dir / "__init__.py").is_file():
                modules[name] = importlib.import_module(f"{package}.{name}")
            else:
                spec = importlib.util.spec_from_file_location(f"_auditkit_bench_{name}", path)
                mod = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(mod)
                modules[name] = mod
        except BaseException as exc:  # a broken or unavailable suite must not stop the others
            if isinstance(exc, KeyboardInterrupt):
                raise
            errors[name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return modules, errors


def calibrate(fn, min_time: float) -> int:
    """Calls per sample so that one sample takes at least ``min_time`` (the calibration calls warm ``fn`` up)."""
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time or number >= 1_000_000:
            return number
        number *= 10 if elapsed < min_time / 10 else 2


def sample(fn, number: int) -> float:
    """Seconds per call over ``number`` calls."""
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def time_interleaved(fns: list, *, rounds: int, min_time: float) -> list[list[float]]:
    """Per-call times of each function, one per round, the functions taking turns within every round and the
    order rotating between rounds (A B C, B C A, C A B, ...), so slow stretches of a loaded machine hit all."""
    numbers = [calibrate(fn, min_time) for fn in fns]
    out: list[list[float]] = [[] for _ in fns]
    m = len(fns)
    for r in range(rounds):
        for j in range(m):
            i = (r + j) % m
            out[i].append(sample(fns[i], numbers[i]))
    return out


def time_call(fn, *, repeat: int, min_time: float) -> float:
    """Seconds per call: min over ``repeat`` samples, each long enough (>= min_time) to time reliably."""
    return min(time_interleaved([fn], rounds=repeat, min_time=min_time)[0])


class _Instances:
    """One set-up instance per (module, class, params), torn down at the end."""

    def __init__(self):
        self._made: dict[tuple, tuple[Any, tuple]] = {}

    def get(self, module, cls_name: str, params: dict[str, Any] | None):
        key = (module.__name__, cls_name, json.dumps(params, sort_keys=True, default=str))
        if key in self._made:
            return self._made[key]
        cls = getattr(module, cls_name, None)
        if cls is None:
            raise LookupError(f"{module.__name__} has no class {cls_name}")
        inst = cls()
        names = list(getattr(cls, "param_names", []) or [])
        params = dict(params or {})
        unknown = set(params) - set(names)
        if unknown:
            raise LookupError(f"{cls_name} has no parameter(s) {', '.join(sorted(unknown))}; "
                              f"its parameters: {', '.join(names) or 'none'}")
        missing = [n for n in names if n not in params]
        if missing:
            raise LookupError(f"RATIOS entry for {cls_name} must give {', '.join(missing)}")
        args = tuple(params[n] for n in names)
        if hasattr(inst, "setup_cache"):
            args = (inst.setup_cache(), *args)
        if hasattr(inst, "setup"):
            inst.setup(*args)
        self._made[key] = (inst, args)
        return inst, args

    def close(self):
        for inst, args in self._made.values():
            if hasattr(inst, "teardown"):
                try:
                    inst.teardown(*args)
                except Exception:
                    pass
        self._made.clear()


def _method(module, instances: _Instances, target: str, params):
    if "." not in target:
        fn = getattr(module, target, None)
        if fn is None:
            raise LookupError(f"{module.__name__} has no function {target}")
        return fn
    cls_name, meth = target.split(".", 1)
    inst, args = instances.get(module, cls_name, params)
    bound = getattr(inst, meth, None)
    if bound is None:
        raise LookupError(f"{cls_name} has no method {meth}")
    return lambda: bound(*args)


def _entry(entry) -> tuple[str, str, str, dict | None, dict]:
    label, a, b, params, extras = (tuple(entry) + (None, None))[:5]
    return label, a, b, params, dict(extras or {})


def measure(bench_dir: str | Path | None = None, *, quick: bool = False, match: str | None = None,
            echo=None, progress=None, rounds: int | None = None, threads: int | None = None) -> RatioTable:
    """Time every RATIOS pair found in ``bench_dir``, A and B (and the limit) interleaved in rounds.

    ``progress`` (a callable taking a line) hears one line per entry as it starts and as it ends; ``echo`` also
    gets tracebacks. ``threads`` caps the BLAS/OpenMP pools (threadpoolctl) and torch's for the whole run."""
    import contextlib
    import re

    bench_dir = find_benchmarks(bench_dir)
    modules, errors = import_modules(bench_dir)
    default_rounds, min_time = (5, 0.05) if quick else (9, 0.2)
    rounds = rounds or default_rounds
    table = RatioTable(import_errors=errors,
                       source=f"{rounds} interleaved rounds per entry, each sample >= {min_time:g} s, measured now "
                              f"in one process ({'quick' if quick else 'full'} mode)")
    todo = []
    for name, module in modules.items():
        for entry in getattr(module, "RATIOS", None) or []:
            label, a, b, params, extras = _entry(entry)
            if match and not re.search(match, f"{name} {label} {a} {b}"):
                continue
            todo.append((name, module, label, a, b, params, extras))
    limits = contextlib.ExitStack()
    if threads:
        from threadpoolctl import threadpool_limits

        limits.enter_context(threadpool_limits(threads))
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(threads)
    say = progress or echo
    with limits:
        table.threads = thread_settings()
        instances: dict[str, _Instances] = {}
        try:
            for i, (name, module, label, a, b, params, extras) in enumerate(todo, 1):
                row = RatioRow(name, label, a, b, params, limit=extras.get("limit"), goal=extras.get("goal"),
                               limit_goal=extras.get("limit_goal"))
                table.rows.append(row)
                if say:
                    say(f"[{i}/{len(todo)}] {name}: {label} ...")
                t0 = time.perf_counter()
                try:
                    inst = instances.setdefault(name, _Instances())
                    fns = [_method(module, inst, a, params), _method(module, inst, b, params)]
                    if row.limit:
                        fns.append(_method(module, inst, row.limit, params))
                    n_rounds = min(rounds, int(extras.get("repeat", rounds)))
                    times = time_interleaved(fns, rounds=n_rounds, min_time=min_time)
                    row.samples_a, row.samples_b = times[0], times[1]
                    row.samples_limit = times[2] if row.limit else []
                    row.time_a, row.time_b = min(row.samples_a), min(row.samples_b)
                    row.threads = thread_settings()
                except NotImplementedError as exc:
                    row.status, row.message = "skipped", f"skipped: {exc}"
                except Exception as exc:
                    row.status = "error"
                    row.message = f"{type(exc).__name__}: {exc}".splitlines()[0]
                    if echo:
                        echo(traceback.format_exc())
                if say:
                    spent = time.perf_counter() - t0
                    if row.status == "ok":
                        spread = row.ratio_spread
                        say(f"    a/b {row.ratio:.2f} (min), {row.ratio_median:.2f} median "
                            f"[{spread[0]:.2f}, {spread[1]:.2f}] over {len(row.samples_a)} rounds"
                            + (f"; a/limit {row.limit_ratio_median:.2f}" if row.limit else "") + f" ({spent:.1f} s)")
                    else:
                        say(f"    {row.status}: {row.message} ({spent:.1f} s)")
                if i == len(todo) or todo[i][0] != name:
                    instances.pop(name).close()     # tear a module's instances down once its entries are done
        finally:
            for inst in instances.values():
                inst.close()
    return table


def from_asv(root: Path, machine: str | None = None, bench_dir: str | Path | None = None) -> RatioTable:
    """The same table from the newest asv results file (no timing now)."""
    from asv.results import Results

    from .history import load_config

    config = load_config(root)
    results_dir = root / config.get("results_dir", "results")
    files = [p for p in results_dir.glob(f"{machine or '*'}/*.json") if p.name != "machine.json"]
    if not files:
        raise UsageError(f"no asv results under {results_dir}; run `auditkit bench history` or `asv run` first")
    newest = max(files, key=lambda p: json.loads(p.read_text()).get("date") or 0)
    res = Results.load(str(newest))
    bench_dir = find_benchmarks(bench_dir if bench_dir is not None else root / "benchmarks")
    modules, errors = import_modules(bench_dir)
    table = RatioTable(import_errors=errors, source=f"asv results {newest.relative_to(root)} "
                                                    f"(commit {res.commit_hash[:8]})")
    for name, module in modules.items():
        for entry in getattr(module, "RATIOS", None) or []:
            label, a, b, params, extras = _entry(entry)
            row = RatioRow(name, label, a, b, params, goal=extras.get("goal"))
            table.rows.append(row)
            try:
                row.time_a = _asv_value(res, f"{name}.{a}", params)
                row.time_b = _asv_value(res, f"{name}.{b}", params)
            except LookupError as exc:
                row.status, row.message = "error", str(exc)
            if row.status == "ok" and (row.time_a is None or row.time_b is None):
                row.status, row.message = "error", "failed or skipped in that asv run"
    return table


def _asv_value(res, key: str, params: dict[str, Any] | None) -> float | None:
    import itertools

    if key not in set(res.get_all_result_keys()):
        raise LookupError(f"{key} is not in the asv results")
    grid = res.get_result_params(key)
    values = [None if v is None or v != v else float(v) for v in res.get_result_value(key, grid)]  # NaN: skipped
    if not grid:
        return values[0]
    wanted = list((params or {}).values())
    for combo, value in zip(itertools.product(*grid), values):
        if len(combo) == len(wanted) and all(c == repr(w) or c == str(w) for c, w in zip(combo, wanted)):
            return value
    raise LookupError(f"{key}: no result for {params}")
