"""The ratio table: every ``benchmarks/bench_*.py`` module's ``RATIOS`` pairs, timed side by side in one process.

``RATIOS = [(label, "Class.time_a", "Class.time_b", {param_name: value} or None), ...]``. Each class is
instantiated, ``setup_cache`` (if any) and ``setup`` are called with the given parameters as asv would, and both
methods are timed ``timeit``-style: the number of calls per sample grows until a sample takes ``min_time``, and the
reported time per call is the minimum over ``repeat`` samples. A module that fails to import (torch missing, say)
is listed with its error; an entry whose ``setup`` raises ``NotImplementedError`` is listed as skipped, with asv's
meaning.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditkit.errors import UsageError


@dataclass
class RatioRow:
    module: str
    label: str
    a: str
    b: str
    params: dict[str, Any] | None
    time_a: float | None = None
    time_b: float | None = None
    status: str = "ok"  # ok | skipped | error
    message: str = ""

    @property
    def ratio(self) -> float | None:
        if self.time_a is None or not self.time_b:
            return None
        return self.time_a / self.time_b

    def as_dict(self) -> dict[str, Any]:
        return {"module": self.module, "label": self.label, "a": self.a, "b": self.b, "params": self.params,
                "time_a_s": self.time_a, "time_b_s": self.time_b, "ratio": self.ratio, "status": self.status,
                "message": self.message}


@dataclass
class RatioTable:
    rows: list[RatioRow] = field(default_factory=list)
    import_errors: dict[str, str] = field(default_factory=dict)
    source: str = "timed"
    notes: list[str] = field(default_factory=list)

    def render(self, fmt: str = "table") -> str:
        if fmt == "json":
            return json.dumps({"schema": "auditkit.bench.ratios/1", "source": self.source,
                               "rows": [r.as_dict() for r in self.rows], "import_errors": self.import_errors,
                               "notes": self.notes}, indent=2)
        from auditkit.report import markdown_table, text_table

        display = [{"module": r.module, "comparison": r.label, "a": fmt_time(r.time_a), "b": fmt_time(r.time_b),
                    "a/b": "-" if r.ratio is None else f"{r.ratio:.2f}",
                    "note": r.message if r.status != "ok" else ""} for r in self.rows]
        if not any(d["note"] for d in display):
            for d in display:
                del d["note"]
        body = markdown_table(display) if fmt == "markdown" else text_table(display)
        lines = [f"times: {self.source}; a/b < 1 means a (auditkit, or the first named) is faster than b "
                 "(the baseline)", *self.notes]
        lines += [f"not imported: {name}: {err}" for name, err in sorted(self.import_errors.items())]
        if fmt == "markdown":
            return body + "\n\n" + "\n".join(f"- {x}" for x in lines) + "\n"
        return body + "\n\n" + "\n".join(lines) + "\n"


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


def time_call(fn, *, repeat: int, min_time: float) -> float:
    """Seconds per call: min over ``repeat`` samples, each long enough (>= min_time) to time reliably."""
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time or number >= 1_000_000:
            break
        number *= 10 if elapsed < min_time / 10 else 2
    best = elapsed / number
    for _ in range(repeat - 1):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


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


def measure(bench_dir: str | Path | None = None, *, quick: bool = False, match: str | None = None,
            echo=None) -> RatioTable:
    """Time every RATIOS pair found in ``bench_dir``."""
    import re

    bench_dir = find_benchmarks(bench_dir)
    modules, errors = import_modules(bench_dir)
    table = RatioTable(import_errors=errors,
                       source=f"min of {3 if quick else 7} samples per call, measured now in one process "
                              f"({'quick' if quick else 'full'} mode)")
    repeat, min_time = (3, 0.05) if quick else (7, 0.2)
    for name, module in modules.items():
        entries = getattr(module, "RATIOS", None)
        if not entries:
            continue
        instances = _Instances()
        try:
            for entry in entries:
                label, a, b, params = (tuple(entry) + (None,))[:4]
                row = RatioRow(name, label, a, b, params)
                table.rows.append(row)
                if match and not re.search(match, f"{name} {label} {a} {b}"):
                    table.rows.pop()
                    continue
                if echo:
                    echo(f"timing {name}: {label}")
                try:
                    fa = _method(module, instances, a, params)
                    fb = _method(module, instances, b, params)
                    row.time_a = time_call(fa, repeat=repeat, min_time=min_time)
                    row.time_b = time_call(fb, repeat=repeat, min_time=min_time)
                except NotImplementedError as exc:
                    row.status, row.message = "skipped", f"skipped: {exc}"
                except Exception as exc:
                    row.status = "error"
                    row.message = f"{type(exc).__name__}: {exc}".splitlines()[0]
                    if echo:
                        echo(traceback.format_exc())
        finally:
            instances.close()
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
            label, a, b, params = (tuple(entry) + (None,))[:4]
            row = RatioRow(name, label, a, b, params)
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
