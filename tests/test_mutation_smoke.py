"""The mutation tool (scripts/mutate.py) works: it finds the mutation points it promises, changes one thing per
mutant, never touches the file on disk, and a small end-to-end sample of real mutants is killed by the tests. The
full run is a documented command (docs/mutation.md); this smoke stays under about a minute."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mutate():
    spec = importlib.util.spec_from_file_location("auditkit_mutate", ROOT / "scripts" / "mutate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["auditkit_mutate"] = mod             # dataclasses look their module up
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("auditkit_mutate", None)


SAMPLE = '''
THRESHOLD = 2.0

def f(x, axis=-1):
    """docstring 1.5"""
    if x.min() <= 0 or x.max() > 1:
        raise ValueError(f"bad {x} 3")
    y = abs(x) / x.sum(axis=1, keepdims=True)
    return -np.sort(y) + 2 * THRESHOLD
'''


def test_mutation_points_cover_the_operators(mutate, tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(SAMPLE)
    _, points = mutate.mutation_points(path)
    ops = sorted({p[1] for p in points})
    assert ops == ["axis", "binop", "boolop", "compare", "constant", "drop-call", "keepdims", "unary"]
    befores = {(p[1], p[2], p[3]) for p in points}
    assert ("constant", "2.0", "4.0") in befores                  # the module threshold
    assert ("axis", "axis=1", "axis=0") in befores
    assert ("compare", "x.min() <= 0", "x.min() < 0") in befores
    assert ("drop-call", "abs(x)", "x") in befores and ("drop-call", "np.sort(y)", "y") in befores
    # nothing inside the raise, the f-string or the docstring; the default axis=-1 of the signature is a constant
    assert not any("bad" in p[2] or "1.5" == p[2] or "3" == p[2] for p in points)


def test_each_mutant_changes_exactly_one_node(mutate, tmp_path):
    path = tmp_path / "sample.py"
    path.write_text(SAMPLE)
    original = ast.dump(ast.parse(SAMPLE))
    _, points = mutate.mutation_points(path)
    seen = set()
    for i in range(len(points)):
        src = mutate.mutated_source(path, i)
        assert ast.dump(ast.parse(src)) != original
        seen.add(src)
    assert len(seen) == len(points)                                # all distinct
    assert path.read_text() == SAMPLE                              # in memory only


def test_every_target_exists_and_parses(mutate):
    mutants = mutate.list_mutants(list(mutate.TARGETS))
    files = {m.file for m in mutants}
    assert files == set(mutate.TARGETS_ARGS)
    assert len({m.id for m in mutants}) == len(mutants)           # stable, unique ids (for the equivalent list)
    assert set(mutate.EQUIVALENT) <= {m.id for m in mutants}, "equivalent entries for mutants that no longer exist"


def test_sample_of_real_mutants_is_killed(tmp_path):
    target = ROOT / "plugins" / "techniques" / "mitchell.py"
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "mutate.py"), "--package", "techniques",
                           "--file", "plugins/techniques/mitchell.py", "--sample", "6", "--seed", "3",
                           "--tests", "tests/test_techniques.py -k mitchell", "--timeout", "40",
                           "--json", str(out)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.exists(), proc.stdout + proc.stderr
    result = json.loads(out.read_text())
    statuses = [m["status"] for m in result["mutants"]]
    assert len(statuses) == 6 and set(statuses) <= {"killed", "timeout", "equivalent"}, proc.stdout
    assert hashlib.sha256(target.read_bytes()).hexdigest() == digest   # the source on disk is untouched
