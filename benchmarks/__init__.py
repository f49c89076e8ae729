"""asv benchmark suites for auditkit (see docs/performance.md).

Each ``bench_<plugin>.py`` module holds asv-style classes (``setup``, ``time_*``, ``params``/``param_names``) with
the baseline in the same class as the thing measured, and a module-level ``RATIOS`` list read by
``auditkit bench ratios``. ``rerank_startup.py`` is a plain script (no ``time_*`` names), not an asv suite.

Smoke mode: with ``AUDITKIT_BENCH_SMOKE=1`` in the environment, every parameterized benchmark class of every
``bench_*`` module is cut down to one parameter combination (the smallest numeric value of each parameter, else
its first value) right after the module is imported. ``asv run --quick`` then executes every benchmark once at
its cheapest size: the CI smoke test. Timings from smoke mode mean nothing; results are not recorded by CI.

History mode: ``auditkit bench history`` sets ``AUDITKIT_BENCH_TOLERANT=1``. An old commit may lack a plugin that a
suite imports at module level; asv's discovery would then fail for the whole commit. In this mode a ``bench_*``
module that fails to import is reported on stderr and left empty, so that commit simply has no points for it.
"""

from __future__ import annotations

import importlib.abc
import os
import sys

SMOKE_ENV = "AUDITKIT_BENCH_SMOKE"
TOLERANT_ENV = "AUDITKIT_BENCH_TOLERANT"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0")


def _cheapest(values):
    values = list(values)
    numeric = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if numeric and len(numeric) == len(values):
        return [min(numeric)]
    return values[:1]


def trim_params(module) -> None:
    """Cut each benchmark class (and function) of ``module`` down to its cheapest parameter combination."""
    for obj in list(vars(module).values()):
        params = getattr(obj, "params", None)
        if not isinstance(obj, type) and not callable(obj):
            continue
        if getattr(obj, "__module__", None) != module.__name__ or not params:
            continue
        names = getattr(obj, "param_names", None)
        if isinstance(params, (list, tuple)) and params and isinstance(params[0], (list, tuple)) and \
                (names is None or len(names) == len(params)):
            obj.params = [_cheapest(p) for p in params]
        elif isinstance(params, (list, tuple)):
            obj.params = _cheapest(params)


class _BenchLoader(importlib.abc.Loader):
    def __init__(self, inner):
        self.inner = inner

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        try:
            self.inner.exec_module(module)
        except Exception as exc:
            if not _flag(TOLERANT_ENV):
                raise
            sys.stderr.write(f"auditkit benchmarks: {module.__name__} left empty at this commit: "
                             f"{type(exc).__name__}: {exc}\n")
            for key in [k for k in vars(module) if not k.startswith("__")]:
                delattr(module, key)
            return
        if _flag(SMOKE_ENV):
            trim_params(module)


class _BenchFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if not fullname.startswith(__name__ + ".bench_"):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _BenchLoader(spec.loader)
                return spec
        return None


if (_flag(SMOKE_ENV) or _flag(TOLERANT_ENV)) and not any(isinstance(f, _BenchFinder) for f in sys.meta_path):
    sys.meta_path.insert(0, _BenchFinder())
