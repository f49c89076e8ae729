#!/usr/bin/env python
"""auditkit's mutation run: plant realistic one-line bugs, one at a time, and check that the tests catch each.

A small project-local mutator over the AST (see docs/mutation.md for why not mutmut). For every mutant the source
of ONE module is changed **in memory** (an import hook serves the mutated text under the module's name; nothing on
disk is touched), the module's test selection runs in a forked child that has numpy, scipy and torch already
imported, and the mutant is *killed* when a selected test fails (or the child times out), *survived* otherwise.

    python scripts/mutate.py                         # the full run over every target (~15-20 min on 2 cores)
    python scripts/mutate.py --package techniques    # one package: techniques, contrastive, wgan, core
    python scripts/mutate.py --sample 30 --seed 0    # a random sample (the CI smoke uses this)
    python scripts/mutate.py --list                  # the mutants, not run
    python scripts/mutate.py --json out.json         # every result, machine-readable

Operators (each mutant applies exactly one): arithmetic swaps (+ -, * /, ** -> *), comparison boundary swaps
(< <=, > >=, == !=), and/or, a dropped unary minus or ``not``, an integer constant n -> n + 1 and a float
constant c -> 2c, axis/dim keywords (0 <-> 1, -1 -> 0), keepdims True -> False, augmented assignments
(+= -=, *= /=), and dropped wrappers: abs, sqrt and sort calls (``abs(x)``, ``np.sort(x)``, ``x.abs()`` -> ``x``).
Strings, docstrings, ``raise`` statements, messages and the functions listed in ``SKIP_FUNCTIONS`` (CLI, file
loading, plotting, report text) are not mutated.

Equivalent mutants (no test can tell them apart) are listed with the reason in ``EQUIVALENT`` below and in
docs/mutation.md; the score is killed / (total - equivalent).
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib.abc
import importlib.util
import json
import os
import random
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# module path (relative to the repository) -> the pytest arguments of the tests that may exercise it. The run maps
# (coverage, one context per test) which of these tests execute each line, once per distinct selection, and runs
# only those for a mutant of that line, fastest first.
# (test_all_claims_hold_via_cli runs every plugin's claims at once; test_claims_hold.py has them per technique)
_TECH = ["tests/test_techniques.py", "tests/test_claims_hold.py", "-k", "not all_claims_hold_via_cli"]
_CONTR = ["tests/test_contrastive.py", "tests/test_claims_hold.py", "-k",
          "not cheap_to_import and not sweep_table_heatmap and not svg_plot"]
_WGAN = ["tests/test_wgan_w1.py", "tests/test_wgan_critics.py", "tests/test_wgan_evaluate.py",
         "tests/test_wgan_study.py", "tests/test_claims_hold.py", "-k", "not help_does_not_import_torch and not cuda"]
_CORE = ["tests/test_means.py", "tests/test_rerank.py", "tests/test_social_choice.py", "tests/test_stats.py",
         "tests/test_pipeline.py"]
TARGETS: dict[str, dict[str, list[str]]] = {
    "techniques": {f"plugins/techniques/{m}.py": _TECH for m in (
        "can", "whitening", "mitchell", "taylor_softmax", "attention_scale", "performer", "jl", "repeated_softmax",
        "flooding", "exp_gradient", "claims")},
    "contrastive": {"plugins/contrastive/losses.py": _CONTR, "plugins/contrastive/diagnose.py": _CONTR},
    "wgan": {"plugins/wgan/w1.py": _WGAN, "plugins/wgan/critics.py": _WGAN, "plugins/wgan/evaluate.py": _WGAN,
             "plugins/wgan/study.py": _WGAN},
    "core": {"plugins/means/__init__.py": _CORE, "auditkit/ranking.py": _CORE},
}

# functions whose body is I/O, CLI glue, plotting or report text: not mutated
SKIP_FUNCTIONS = {
    "validate_probs", "validate_prior", "prior_from_labels", "_check_params", "_as_2d", "_check_fitted",
    "_xp_of", "parse_dtypes", "_torch", "finding_for", "verdict_text", "precision_table", "_pct", "run_diagnostic",
    "load_samples", "load_factory", "build_critic", "_plots", "_progress", "run_study", "as_points", "_weights",
    "_pair", "check_normalization", "critic_output", "_short", "_expected_text", "list_claims", "collect_claims",
    "extra_repr", "__repr__", "_rng_states", "_flatten", "_sweep_cells", "sweep", "_run_diagnostic",
}

# files whose mutation is limited to these functions (the numeric kernels; the rest is glue, loading or text)
ONLY_FUNCTIONS: dict[str, set[str]] = {
    "plugins/techniques/can.py": {"topk_entropy", "uncertainty", "doubtful_mask", "can", "_pow", "_correct",
                                  "_correct_dense", "_correct_iter", "changed", "n_doubtful"},
    "plugins/techniques/claims.py": {"compare_values", "evaluate_claim", "run_claims", "status"},
    "plugins/contrastive/diagnose.py": {"half_ulp_of_one", "machine_epsilon", "grad_sum_tolerance", "rounds_to_one",
                                        "reference", "in_dtype", "_row_metrics", "measure", "severity_of"},
    "plugins/wgan/evaluate.py": {"norm_stats", "_subsample", "evaluate_critic"},
    "plugins/wgan/study.py": {"gradient_penalty", "summarize", "_spearman"},
}

# mutants no test can distinguish from the original: id -> why (ids are printed by --list and in the results)
EQUIVALENT: dict[str, str] = {}
_EQUIVALENT_FILE = ROOT / "scripts" / "mutation_equivalent.json"
if _EQUIVALENT_FILE.exists():
    EQUIVALENT.update(json.loads(_EQUIVALENT_FILE.read_text()))

_BINOP_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
               ast.FloorDiv: ast.Div}
_CMP_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
             ast.NotEq: ast.Eq}
_AXIS_KEYWORDS = {"axis", "dim"}
_DROP_CALLS = {"abs", "sqrt", "sort"}


@dataclass
class Mutant:
    file: str
    index: int            # position among this file's mutation points
    line: int
    function: str
    operator: str
    before: str
    after: str
    id: str = ""
    status: str = ""      # killed / survived / timeout / equivalent / error
    seconds: float = 0.0
    reason: str = ""
    end_line: int = 0
    tests: int = 0        # how many tests the coverage map selected

    def key(self) -> str:
        return f"{self.file}::{self.function}::{self.operator}::{self.before} -> {self.after}"


# -- finding and applying mutation points ---------------------------------------------------------------------------
def _src(node) -> str:
    try:
        return ast.unparse(node)
    except Exception:                                    # pragma: no cover - unparse handles every node we touch
        return type(node).__name__


class _Points(ast.NodeVisitor):
    """Collect (node, operator, before, after, apply) for every mutation point, in a fixed order."""

    def __init__(self, only: set[str] | None = None):
        self.points = []
        self.func = "<module>"
        self.stack: list[str] = []
        self.skip = 0
        self.only = only
        self.module_level_ok = False        # inside `NAME = number` or a dict of numbers at module level

    def visit_Module(self, node):
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.visit(stmt)
            elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, (ast.Constant, ast.Dict, ast.BinOp,
                                                                           ast.UnaryOp)):
                # module constants (thresholds, format constants); tuples/lists of defaults are not mutated
                self.module_level_ok = True
                self.visit(stmt.value)
                self.module_level_ok = False

    # scoping
    def visit_FunctionDef(self, node):
        prev, self.func = self.func, node.name
        self.stack.append(node.name)
        skipped = node.name in SKIP_FUNCTIONS or (self.only is not None and len(self.stack) == 1
                                                  and node.name not in self.only)
        self.skip += skipped
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]                             # the docstring
        for stmt in body:
            self.visit(stmt)
        for d in node.args.defaults + node.args.kw_defaults:
            if d is not None:
                self.visit(d)
        self.skip -= skipped
        self.stack.pop()
        self.func = prev

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        for stmt in node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.visit(stmt)                       # methods only: field defaults are not behaviour

    def visit_Raise(self, node):
        return                                         # error paths: messages and exception types

    def visit_JoinedStr(self, node):
        return                                         # f-strings (messages)

    def visit_Assert(self, node):
        return

    def _add(self, node, operator, before, after, apply):
        if self.skip or (not self.stack and not self.module_level_ok):
            return
        self.points.append((node, operator, before, after, apply, self.func))

    # operators
    def visit_BinOp(self, node):
        new = _BINOP_SWAP.get(type(node.op))
        if new is not None:
            def apply(n, new=new):
                n.op = new()
            m = copy.copy(node)
            m.op = new()
            self._add(node, "binop", _src(node), _src(m), apply)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        new = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult}.get(type(node.op))
        if new is not None:
            def apply(n, new=new):
                n.op = new()
            m = copy.copy(node)
            m.op = new()
            self._add(node, "augassign", _src(node), _src(m), apply)
        self.generic_visit(node)

    def visit_Compare(self, node):
        for i, op in enumerate(node.ops):
            new = _CMP_SWAP.get(type(op))
            if new is not None:
                def apply(n, i=i, new=new):
                    n.ops = list(n.ops)
                    n.ops[i] = new()
                m = copy.copy(node)
                m.ops = list(node.ops)
                m.ops[i] = new()
                self._add(node, "compare", _src(node), _src(m), apply)
        self.generic_visit(node)

    def visit_BoolOp(self, node):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And

        def apply(n, new=new):
            n.op = new()
        m = copy.copy(node)
        m.op = new()
        self._add(node, "boolop", _src(node), _src(m), apply)
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, (ast.USub, ast.Not)):
            self._add(node, "unary", _src(node), _src(node.operand), "replace-with-operand")
        self.generic_visit(node)

    def visit_Subscript(self, node):
        self.visit(node.value)
        sl = node.slice
        if isinstance(sl, ast.Constant) and isinstance(sl.value, int):
            return                                     # x[0], shape[1]: a wrong index crashes or is caught trivially
        if isinstance(sl, ast.Tuple):
            for e in sl.elts:
                if not (isinstance(e, ast.Constant) or isinstance(e, ast.Slice) and all(
                        p is None or isinstance(p, (ast.Constant, ast.UnaryOp)) for p in (e.lower, e.upper, e.step))):
                    self.visit(e)
            return
        if isinstance(sl, ast.Slice) and all(p is None or isinstance(p, (ast.Constant, ast.UnaryOp))
                                             for p in (sl.lower, sl.upper, sl.step)):
            return
        self.visit(sl)

    def visit_Constant(self, node):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and 0 < abs(v) < 1e-6):
            return                                     # tiny floats are guards (clamp_min(1e-300)), not values
        new = v + 1 if isinstance(v, int) else (v * 2 if v != 0 else 1.0)

        def apply(n, new=new):
            n.value = new
        self._add(node, "constant", repr(v), repr(new), apply)

    def visit_Call(self, node):
        f = node.func
        name = f.id if isinstance(f, ast.Name) else (f.attr if isinstance(f, ast.Attribute) else None)
        if name in _DROP_CALLS and not node.keywords:
            if len(node.args) == 1:                    # abs(x), np.sqrt(x), np.sort(x), math.sqrt(x) -> x
                self._add(node, "drop-call", _src(node), _src(node.args[0]), "replace-with-arg0")
            elif not node.args and isinstance(f, ast.Attribute) and name in ("abs", "sqrt"):
                self._add(node, "drop-call", _src(node), _src(f.value), "replace-with-receiver")  # x.abs() -> x
        for kw in node.keywords:
            if kw.arg in _AXIS_KEYWORDS and isinstance(kw.value, (ast.Constant, ast.UnaryOp)):
                try:
                    val = ast.literal_eval(kw.value)
                except ValueError:
                    val = None
                if isinstance(val, int) and not isinstance(val, bool):
                    new = {0: 1, 1: 0, -1: 0}.get(val)
                    if new is not None:
                        def apply(n, kw_arg=kw.arg, new=new):
                            for k in n.keywords:
                                if k.arg == kw_arg:
                                    k.value = ast.Constant(new)
                        self._add(node, "axis", f"{kw.arg}={val}", f"{kw.arg}={new}", apply)
            if kw.arg == "keepdims" and isinstance(kw.value, ast.Constant) and kw.value.value is True:
                def apply(n):
                    for k in n.keywords:
                        if k.arg == "keepdims":
                            k.value = ast.Constant(False)
                self._add(node, "keepdims", "keepdims=True", "keepdims=False", apply)
        # visit children except the keyword constants handled above (and round()'s digits)
        self.visit(node.func)
        for j, a in enumerate(node.args):
            if not (name == "round" and j == 1):
                self.visit(a)
        for kw in node.keywords:
            if kw.arg not in _AXIS_KEYWORDS and kw.arg != "keepdims":
                self.visit(kw.value)

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return                                     # bare strings / docstrings
        self.generic_visit(node)


def mutation_points(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    try:
        rel = str(path.resolve().relative_to(ROOT))
    except ValueError:
        rel = str(path)
    v = _Points(ONLY_FUNCTIONS.get(rel))
    v.visit(tree)
    return tree, v.points


class _Apply(ast.NodeTransformer):
    def __init__(self, target_index, points_of_copy):
        self.target = points_of_copy[target_index]

    def generic_visit(self, node):
        node = super().generic_visit(node)
        if node is self.target[0]:
            apply = self.target[4]
            if apply == "replace-with-operand":
                return node.operand
            if apply == "replace-with-arg0":
                return node.args[0]
            if apply == "replace-with-receiver":
                return node.func.value
            apply(node)
        return node


def mutated_source(path: Path, index: int) -> str:
    tree, points = mutation_points(path)
    tree = _Apply(index, points).visit(tree)
    ast.fix_missing_locations(tree)
    return ast.unparse(tree)


def list_mutants(packages) -> list[Mutant]:
    out = []
    for pkg in packages:
        for rel in TARGETS[pkg]:
            path = ROOT / rel
            _, points = mutation_points(path)
            seen: dict[str, int] = {}
            for i, (node, op, before, after, _, func) in enumerate(points):
                m = Mutant(rel, i, getattr(node, "lineno", 0), func, op, before, after)
                m.end_line = getattr(node, "end_lineno", None) or m.line
                k = m.key()
                seen[k] = seen.get(k, 0) + 1
                m.id = k if seen[k] == 1 else f"{k} #{seen[k]}"
                out.append(m)
    return out


# -- running ----------------------------------------------------------------------------------------------------
def module_name(rel: str) -> tuple[str, bool]:
    parts = list(Path(rel).with_suffix("").parts)
    if parts[0] == "plugins":
        parts[0] = "auditkit_plugins"
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    return ".".join(parts), is_pkg


class _MutantFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, name, path, source, is_pkg):
        self.name, self.path, self.source, self.is_pkg = name, str(path), source, is_pkg

    def find_spec(self, fullname, path=None, target=None):
        if fullname != self.name:
            return None
        spec = importlib.util.spec_from_loader(fullname, self, origin=self.path, is_package=self.is_pkg)
        if self.is_pkg:
            spec.submodule_search_locations = [str(Path(self.path).parent)]
        spec.has_location = True
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        module.__file__ = self.path
        exec(compile(self.source, self.path, "exec"), module.__dict__)


def _preload():
    """Import the heavy third-party libraries once, before forking (never auditkit itself)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    os.environ["CI"] = "true"            # derandomized hypothesis profile (tests/conftest.py)
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import scipy.optimize  # noqa: F401
    import scipy.spatial  # noqa: F401
    import scipy.stats  # noqa: F401
    for name in ("torch", "pandas", "sklearn.linear_model", "sklearn.datasets", "sklearn.decomposition",
                 "sklearn.feature_extraction.text", "hypothesis", "click", "pluggy", "ot", "pyarrow"):
        try:
            mod = importlib.import_module(name)
            if name == "torch":
                mod.set_num_threads(1)
        except Exception:
            pass


def _child(rel: str, source: str | None, args: list[str]) -> int:
    os.chdir(ROOT)
    if source is not None:
        name, is_pkg = module_name(rel)
        sys.meta_path.insert(0, _MutantFinder(name, ROOT / rel, source, is_pkg))
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    import pytest

    return int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--no-header",
                            "-W", "ignore", *args]))


def _split_args(args: list[str]) -> tuple[list[str], str | None]:
    paths, k = [], None
    it = iter(args)
    for a in it:
        if a == "-k":
            k = next(it)
        else:
            paths.append(a)
    return paths, k


def _child_map(rels: list[str], args: list[str], out: str) -> int:
    """Run a selection once under coverage with one context per test: which tests execute which line of each of
    ``rels``."""
    os.chdir(ROOT)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    import coverage
    import pytest

    targets = {rel: str(ROOT / rel) for rel in rels}
    cov = coverage.Coverage(data_file=None, include=list(targets.values()))
    durations: dict[str, float] = {}

    class _Contexts:
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_protocol(self, item, nextitem):
            cov.switch_context(item.nodeid)
            t = time.perf_counter()
            yield
            durations[item.nodeid] = time.perf_counter() - t
            cov.switch_context("")

    cov.start()
    code = int(pytest.main(["-q", "-p", "no:cacheprovider", "--no-header", "-W", "ignore", *args],
                           plugins=[_Contexts()]))
    cov.stop()
    data = cov.get_data()
    files = {}
    for rel, target in targets.items():
        fname = next((f for f in data.measured_files() if os.path.samefile(f, target)), None)
        by_line = {}
        if fname is not None:
            for line, ctxs in data.contexts_by_lineno(fname).items():
                by_line[str(line)] = sorted({c for c in ctxs if c}, key=lambda c: durations.get(c, 1e9))
        files[rel] = by_line
    Path(out).write_text(json.dumps({"files": files, "durations": durations, "exit": code}))
    return code


def build_maps(rels: list[str], timeout: float) -> dict[str, dict]:
    """Coverage maps for ``rels``: one run per distinct selection. Returns {rel: {"lines", "durations", "exit"}}."""
    groups: dict[tuple, list[str]] = {}
    for rel in rels:
        groups.setdefault(tuple(TARGETS_ARGS[rel]), []).append(rel)
    maps = {}
    for args, members in groups.items():
        out = f"/tmp/auditkit-mutation-map-{os.getpid()}-{abs(hash(args))}.json"
        t = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                code = _child_map(members, list(args), out)
            finally:
                os._exit(code)
        _wait(pid, time.perf_counter() + timeout)
        try:
            data = json.loads(Path(out).read_text()) if os.path.exists(out) else {"files": {}, "durations": {},
                                                                                   "exit": "timeout"}
        finally:
            if os.path.exists(out):
                os.remove(out)
        print(f"baseline {' '.join(args)}: {'ok' if data['exit'] == 0 else 'FAILED'} "
              f"({time.perf_counter() - t:.0f}s, {len(data['durations'])} tests)", flush=True)
        for rel in members:
            maps[rel] = {"lines": data["files"].get(rel, {}), "durations": data["durations"], "exit": data["exit"]}
    return maps


def _wait(pid, deadline):
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.perf_counter() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.02)


def selection_for(m: Mutant, node_lines: tuple[int, int], cmap: dict) -> list[str] | None:
    """The tests that execute the mutated lines, fastest first; None when no test executes them."""
    lo, hi = node_lines
    tests: list[str] = []
    for line in range(lo, hi + 1):
        for t in cmap["lines"].get(str(line), []):
            if t not in tests:
                tests.append(t)
    if not tests:
        return None
    durations = cmap["durations"]
    return sorted(tests, key=lambda t: durations.get(t, 1e9))


def run_one(rel: str, source: str | None, args: list[str], timeout: float) -> tuple[str, float]:
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:                                        # child
        code = 3
        try:
            code = _child(rel, source, args)
        finally:
            os._exit(code)
    deadline = start + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.perf_counter() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", time.perf_counter() - start
        time.sleep(0.02)
    code = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if code == 0:
        return "survived", seconds
    if code in (1, 2):                                  # failures, or collection/import errors
        return "killed", seconds
    return f"error (pytest exit {code})", seconds


def score(mutants: list[Mutant]) -> dict:
    by_pkg: dict[str, dict[str, int]] = {}
    for m in mutants:
        pkg = next(p for p, files in TARGETS.items() if m.file in files)
        d = by_pkg.setdefault(pkg, {"total": 0, "killed": 0, "survived": 0, "equivalent": 0, "error": 0})
        d["total"] += 1
        key = "killed" if m.status in ("killed", "timeout") else m.status if m.status in d else "error"
        d[key] += 1
    for d in by_pkg.values():
        live = d["total"] - d["equivalent"] - d["error"]
        d["score"] = round(d["killed"] / live, 4) if live else None
    return by_pkg


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", default="techniques,contrastive,wgan,core",
                    help="comma-separated: techniques, contrastive, wgan, core")
    ap.add_argument("--file", action="append", default=None, help="only mutants of this file (repeatable)")
    ap.add_argument("--sample", type=int, default=None, help="run a random sample of this many mutants")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=90.0, help="seconds per mutant (a timeout counts as killed)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--json", default=None, help="write every result to this file")
    ap.add_argument("--budget", type=float, default=None, help="stop starting new mutants after this many seconds")
    ap.add_argument("--tests", default=None, metavar="ARGS",
                    help="pytest arguments replacing the selection of every chosen file (e.g. for a quick smoke)")
    ap.add_argument("--rerun", default=None, metavar="JSON",
                    help="run only the mutants that survived (or were not run) in these earlier --json results "
                         "(comma-separated)")
    opts = ap.parse_args(argv)
    packages = [p.strip() for p in opts.package.split(",") if p.strip()]
    unknown = [p for p in packages if p not in TARGETS]
    if unknown:
        ap.error(f"unknown package(s) {unknown}; choose from {', '.join(TARGETS)}")
    mutants = list_mutants(packages)
    if opts.tests:
        import shlex

        for files in TARGETS.values():
            for rel in files:
                TARGETS_ARGS[rel] = shlex.split(opts.tests)
    if opts.file:
        mutants = [m for m in mutants if m.file in opts.file]
    if opts.rerun:
        earlier = {}
        for part in opts.rerun.split(","):
            earlier.update({m["id"]: m["status"] for m in json.loads(Path(part).read_text())["mutants"]})
        mutants = [m for m in mutants if m.id in earlier and earlier[m.id] not in ("killed", "timeout")]
    if opts.sample is not None and opts.sample < len(mutants):
        mutants = sorted(random.Random(opts.seed).sample(mutants, opts.sample), key=lambda m: (m.file, m.index))
    if opts.list:
        for m in mutants:
            eq = "  [equivalent]" if m.id in EQUIVALENT else ""
            print(f"{m.file}:{m.line} {m.function} {m.operator}: {m.before!s:.70} -> {m.after!s:.70}{eq}")
        print(f"{len(mutants)} mutants")
        return 0
    _preload()
    t0 = time.perf_counter()
    # baseline: every selection must pass unmutated; it also maps which tests execute which line (coverage)
    maps = build_maps(sorted({m.file for m in mutants}), opts.timeout * 10)
    failed = sorted(rel for rel, mp in maps.items() if mp["exit"] != 0)
    if failed:
        print(f"the tests selected for {', '.join(failed)} fail without any mutant; fix them first", file=sys.stderr)
        return 2
    for i, m in enumerate(mutants):
        if opts.budget is not None and time.perf_counter() - t0 > opts.budget:
            m.status = "not run"
            continue
        if m.id in EQUIVALENT:
            m.status, m.reason = "equivalent", EQUIVALENT[m.id]
            continue
        tests = None if m.function == "<module>" else selection_for(m, (m.line, m.end_line or m.line),
                                                                     maps[m.file])
        if tests is None:
            # module constants and default arguments run at import (no test context), and a line no test executes:
            # run the whole selection, fastest first
            durations = maps[m.file]["durations"]
            tests = sorted(durations, key=durations.get)
            m.reason = "whole selection (line not attributed to a test)"
        m.tests = len(tests)
        source = mutated_source(ROOT / m.file, m.index)
        m.status, m.seconds = run_one(m.file, source, tests, opts.timeout)
        if m.status == "survived":
            print(f"SURVIVED {m.file}:{m.line} {m.function} {m.operator}: {m.before} -> {m.after}\n    id: {m.id}",
                  flush=True)
        if (i + 1) % 25 == 0:
            print(f"... {i + 1}/{len(mutants)} ({time.perf_counter() - t0:.0f}s)", flush=True)
    ran = [m for m in mutants if m.status != "not run"]
    summary = score(ran)
    for pkg, d in summary.items():
        print(f"{pkg}: {d['killed']} killed, {d['survived']} survived, {d['equivalent']} equivalent, "
              f"{d['error']} errors of {d['total']}: score {d['score']}")
    print(f"{len(ran)} mutants in {time.perf_counter() - t0:.0f}s")
    if opts.json:
        Path(opts.json).write_text(json.dumps({"summary": summary, "mutants": [asdict(m) for m in mutants]},
                                              indent=1))
    return 0 if all(d["survived"] == 0 and d["error"] == 0 for d in summary.values()) else 1


TARGETS_ARGS = {rel: args for files in TARGETS.values() for rel, args in files.items()}

if __name__ == "__main__":
    sys.exit(main())
