"""auditkit.testing, the conformance kit: it passes every first-party record and names every problem of broken ones.

Known non-conformances of first-party records are listed in KNOWN with the problem the kit reports; the test
asserts that exact report, so the list fails (and asks to be shortened) the day the record is fixed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import auditkit
from auditkit.testing import (CheckContext, ConformanceError, check_aggregator, check_check, check_plugin,
                              check_reader, check_recipe, check_record, check_technique, conformance_records,
                              make_context, parametrize_conformance)

ROOT = Path(__file__).resolve().parents[1]
CURATED = ROOT / "leaderboards"

# first-party record -> a phrase of each problem the kit reports today (owners: see the helper report)
KNOWN: dict = {}
# named checks a first-party record leaves out on purpose, with the reason (the skip is part of its contract)
SKIPS = {"minimum": ("weights-matter",)}  # the worst task score ignores task weights by definition


def expect_conformance(kind: str, name: str, fn, *args, **kwargs):
    known = KNOWN.get((kind, name))
    if known is None:
        return fn(*args, **kwargs)
    with pytest.raises(ConformanceError) as info:
        fn(*args, **kwargs)
    assert len(info.value.problems) == len(known), info.value
    for phrase, problem in zip(known, info.value.problems):
        assert phrase in problem, f"{name}: expected {phrase!r}, the kit says {problem!r}"
    return None


# -- every first-party record ---------------------------------------------------------------------------------------
@parametrize_conformance("aggregators")
def test_every_registered_aggregator_honours_the_contract(record):
    facts = expect_conformance("aggregators", record.name, check_aggregator, record,
                               skip=SKIPS.get(record.name, ()))
    if facts is not None:
        assert len(facts["scores"]) == 7 and np.isfinite(facts["scores"]).all()


def test_aggregators_agree_across_numpy_and_torch():
    for name in ("arithmetic", "geometric", "harmonic", "power", "median", "minimum"):
        check_aggregator(auditkit.get_registry().get("aggregators", name), backends=("numpy", "torch"),
                         only=["backends"])


RECIPE_SAMPLES = {
    "glue": "glue/glue-2023-benchbench.csv",
    "superglue": "superglue/superglue-2023-benchbench.csv",
    "xtreme": "xtreme/xtreme-2021-11-ranking-nlp-systems.csv",
    "livebench": "livebench/livebench-2024-07-01.csv",
    "openllm-v1": "openllm/openllm-v1-2024-benchbench.csv",
    "value": "value/value-2022-vote-and-rank.csv",
    "xglue-understanding": "xglue/xglue-understanding-2021-04-28.csv",
    "xglue-unique": "xglue/xglue-unique-2021-04-28.csv",
    "xglue-generation": "xglue/xglue-generation-2023-06-15.csv",
}


@parametrize_conformance("recipes")
def test_every_registered_recipe_honours_the_contract(record):
    facts = check_recipe(record)
    assert facts == {}
    sample = RECIPE_SAMPLES.get(record.name)
    if sample is not None:
        # the curated snapshots' published scores (documented in leaderboards/PROVENANCE.md) are the oracle
        facts = check_recipe(record, CURATED / sample, reproduces_published=True)
        assert facts["rows_reproduced"] == facts["rows_compared"] > 0


def test_every_first_party_recipe_with_tasks_has_a_real_sample():
    first_party = {r.name for r in conformance_records("recipes")
                   if auditkit.get_registry().provider("recipes", r.name) == "recipes" and not r.generic}
    # the dated Open LLM v1 eras have no curated snapshot of their own; tests/test_audit_eras.py builds their tables
    eras = {"openllm-v1@2023-06", "openllm-v1@2023-11"}
    assert first_party - eras <= set(RECIPE_SAMPLES), f"add a sample for {sorted(first_party - set(RECIPE_SAMPLES))}"


@pytest.fixture(scope="module")
def reader_samples(tmp_path_factory) -> dict[str, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = tmp_path_factory.mktemp("readers")
    rows = [{"Model": "alpha", "A": "80.1", "B": "70"}, {"Model": "beta", "A": "75", "B": "71.5"}]
    (d / "s.json").write_text(json.dumps(rows))
    (d / "s.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    (d / "s.md").write_text("| Model | A | B |\n|---|---|---|\n| alpha | 80.1 | 70 |\n| beta | 75 | 71.5 |\n")
    pq.write_table(pa.table({"Model": ["alpha", "beta"], "A": [80.1, 75.0], "B": [70.0, 71.5]}), d / "s.parquet")
    return {"csv": CURATED / "glue" / "glue-2023-benchbench.csv", "json": d / "s.json", "jsonl": d / "s.jsonl",
            "markdown": d / "s.md", "parquet": d / "s.parquet"}


@parametrize_conformance("readers")
def test_every_registered_reader_honours_the_contract(record, reader_samples):
    assert record.name in reader_samples, f"add a sample file for reader {record.name!r}"
    facts = expect_conformance("readers", record.name, check_reader, record, reader_samples[record.name])
    if facts is not None:
        assert facts["rows"] >= 2 and facts["columns"] >= 3


@parametrize_conformance("checks")
def test_every_registered_check_honours_the_contract(record):
    check_check(record)
    if getattr(record, "applies_to", "table") == "table":  # battle/instance checks get their own command's context
        check_check(record, make_context(CURATED / "glue" / "glue-2023-benchbench.csv"))


@parametrize_conformance("techniques")
def test_every_registered_technique_is_well_formed(record):
    facts = check_technique(record)
    assert facts["claims"] == len(record.claims)


def test_parametrize_conformance_collapses_aliases_and_sorts():
    names = [r.name for r in conformance_records("aggregators")]
    assert names == sorted(set(names))
    assert "am" not in names and "arithmetic" in names  # "am" is an alias of arithmetic
    mark = parametrize_conformance("aggregator", ["geometric", "hm"])
    assert [r.name for r in mark.args[1]] == ["geometric", "harmonic"]
    assert mark.kwargs["ids"] == ["geometric", "harmonic"]
    with pytest.raises(auditkit.UsageError, match="unknown record kind 'widgets'"):
        parametrize_conformance("widgets")


def test_the_kit_does_not_import_pytest():
    code = "import sys, auditkit.testing; print('pytest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- broken aggregators: every problem is named -----------------------------------------------------------------
def _agg(func, **kw):
    return auditkit.Aggregator(kw.pop("name", "broken"), func, kw.pop("description", "a broken rule"), **kw)


def problems(fn, *args, **kwargs) -> list[str]:
    with pytest.raises(ConformanceError) as info:
        fn(*args, **kwargs)
    assert str(info.value).count("\n") == len(info.value.problems)  # one line per problem after the title
    return info.value.problems


def test_wrong_shape_is_reported_in_plain_words():
    (p,) = problems(check_aggregator, _agg(lambda v, *, xp, weights: xp.sum(v, axis=0)))
    assert p == ("returned shape (5,) for 7 systems x 5 tasks; it must return one score per system, shape (7,)")


def test_several_problems_are_all_listed_not_just_the_first():
    calls = []

    def bad(values, *, xp, weights):
        calls.append(1)
        position = xp.arange(values.shape[0], dtype=xp.float64)           # depends on row position
        first_col = values[:, 0] * 2.0                                    # depends on column order
        return first_col + position + len(calls) % 2                      # not deterministic

    found = problems(check_aggregator, _agg(bad, name="Bad Rule", description=""))
    text = "\n".join(found)
    assert "the aggregator name 'Bad Rule' is not valid" in text
    assert "description is empty" in text
    # a rule that fails the name check is not called at all: the kit stops after the record-level problems
    assert len(found) == 2 and calls == []
    found = problems(check_aggregator, _agg(bad, name="bad-rule"))
    text = "\n".join(found)
    for phrase in ("is not deterministic", "is not permutation-equivariant over systems",
                   "depends on the order of the task columns", "equal rows got different scores",
                   "on a matrix whose rows are all equal the systems did not tie"):
        assert phrase in text, f"missing {phrase!r} in:\n{text}"


def test_integer_scores_and_in_place_changes_are_reported():
    def sloppy(values, *, xp, weights):
        values[:, 0] = 0.0
        return xp.astype(xp.max(values, axis=1), xp.int64)

    text = "\n".join(problems(check_aggregator, _agg(sloppy)))
    assert text.count("changed its input array in place") == 1
    assert "returned dtype int64; scores must be floating point" in text


def test_lower_is_better_rules_are_caught():
    text = "\n".join(problems(check_aggregator, _agg(lambda v, *, xp, weights: -xp.sum(v * weights, axis=1)),
                              idempotent=False))
    assert "higher is not better: raising system 0's score on task 2 by 3 lowered its score" in text


def test_a_zero_cell_must_not_give_infinity_when_the_domain_allows_zeros():
    log_mean = lambda v, *, xp, weights: xp.sum(weights * xp.log(v), axis=1)  # noqa: E731  (-inf at a zero)
    (p,) = problems(check_aggregator, _agg(log_mean, domain="nonnegative"), idempotent=False)
    assert p.startswith("a zero cell gave non-finite scores [")
    check_aggregator(_agg(log_mean, domain="positive"), idempotent=False)  # the pipeline refuses zeros for it


def test_nan_eating_is_caught_only_when_asked():
    check_aggregator(_agg(_nan_eating))
    (p,) = problems(check_aggregator, _agg(_nan_eating), strict_nan=True)
    assert p.startswith("a NaN task score was silently turned into the number")


def test_bad_parameter_values_must_raise_a_usage_error_naming_them():
    def scaled(values, *, xp, weights, k=1.0):
        return xp.sum(values * weights, axis=1) * k

    rec = _agg(scaled, params=(auditkit.Parameter("k", 1.0, "scale"),))
    (p,) = problems(check_aggregator, rec, bad_params={"k": -1.0}, idempotent=False)
    assert p == "k=-1.0 was accepted; a bad parameter must raise auditkit.UsageError naming it"

    def strict(values, *, xp, weights, k=1.0):
        if k <= 0:
            raise ValueError("bad")
        return xp.sum(values * weights, axis=1) * k

    (p,) = problems(check_aggregator, _agg(strict, params=(auditkit.Parameter("k", 1.0, "scale"),)),
                    bad_params={"k": -1.0}, idempotent=False)
    assert p.startswith("k=-1.0 raised ValueError: bad") and "raise auditkit.UsageError" in p


def test_required_parameters_take_a_value_from_the_caller():
    power = auditkit.get_registry().get("aggregators", "power")
    a = check_aggregator(power, params={"p": 1.0})["scores"]
    b = check_aggregator(auditkit.get_registry().get("aggregators", "arithmetic"))["scores"]
    np.testing.assert_allclose(a, b, rtol=1e-12)  # M_1 is the arithmetic mean
    (p,) = problems(check_aggregator, power, params={"q": 2})
    assert p == "params given to the check that the aggregator does not declare: q"


def test_a_non_record_is_refused():
    with pytest.raises(ConformanceError, match=r"expected an auditkit.Aggregator record, got function"):
        check_aggregator(lambda v: v)


# -- broken recipes -----------------------------------------------------------------------------------------------
def test_recipe_structure_problems_are_all_listed():
    T = auditkit.TaskSpec
    rec = auditkit.Recipe(
        "Bad", "", "", nan_in_composite="nan", published_score="score",
        tasks=(T("A", metrics=("F1", "F1")), T("a", weight=0), T("B", metrics=("x", "y"), columns=("B1",)),
               T("C", value_range=(100.0, 0.0), split={"C-a": "zz"}), T("D", diagnostic=True)))
    text = "\n".join(problems(check_recipe, rec))
    for phrase in ("the recipe name 'Bad' is not valid", "version is empty", "title is empty",
                   "nan_in_composite 'nan' is not one of zero, missing",
                   "published_score must be a tuple of regular expressions, not the string 'score'",
                   "task 'A': metric names repeat: F1, F1",
                   "task 'a': weight 0 must be a positive finite number",
                   "the name or alias 'a' is already used by task 'A'",
                   "task 'B': 1 columns for 2 metrics", "task 'C': value_range (100.0, 0.0) must have low < high",
                   "split maps column 'C-a' to 'zz'"):
        assert phrase in text, f"missing {phrase!r} in:\n{text}"


def test_recipe_on_a_leaderboard_names_missing_columns(tmp_path):
    f = tmp_path / "lb.csv"
    f.write_text("Model,A,Score\nx,50,50\ny,60,60\n")
    rec = auditkit.Recipe("two", "1.0", "Two", tasks=(auditkit.TaskSpec("A"), auditkit.TaskSpec("Bee")))
    (p,) = problems(check_recipe, rec, f)
    assert p.startswith(f"on {f}: no column provides the official task(s) Bee; the columns are: Model, A, Score")


def test_recipe_range_and_published_score_are_checked(tmp_path):
    f = tmp_path / "lb.csv"
    f.write_text("Model,A,B,Score\nx,50,150,70\ny,60,70,65\n")
    rec = auditkit.Recipe("two", "1.0", "Two", tasks=(auditkit.TaskSpec("A"), auditkit.TaskSpec("B")))
    found = problems(check_recipe, rec, f, reproduces_published=True)
    assert any("task 'B' has 1 value(s) outside its declared range [0, 100], e.g. 'x' = 150 (line 2)" in p
               for p in found)
    # x: (50 + 150) / 2 = 100 != 70; y: 65 == 65 -> 1 of 2 rows
    assert any("reproduces the published 'Score' within rounding for 1 of 2 rows" in p for p in found)
    wide = auditkit.Recipe("two", "1.0", "Two", tasks=(auditkit.TaskSpec("A"),
                                                       auditkit.TaskSpec("B", value_range=(0.0, 200.0))))
    facts = check_recipe(wide, f, reproduces_published=0.5)
    assert (facts["rows_compared"], facts["rows_reproduced"]) == (2, 1)


# -- broken checks --------------------------------------------------------------------------------------------------
def test_check_problems_are_all_listed():
    def run(context):
        yield auditkit.Finding("other-name", "warning", "found something", evidence={"obj": object()})
        yield "not a finding"

    text = "\n".join(problems(check_check, auditkit.Check("my-check", run, "")))
    assert "description is empty" in text
    assert "a finding carries check 'other-name', but the check is named 'my-check'" in text
    assert "run yielded str 'not a finding', expected auditkit.Finding" in text
    assert "evidence['obj'] holds object <object object at" in text


def test_a_check_returning_none_or_crashing_is_reported():
    (p, *_) = problems(check_check, auditkit.Check("quiet", lambda ctx: None, "returns None"))
    assert p.startswith("on built-in sample 1 (a clean table with a human baseline): run returned None; return a "
                        "list")

    def crash(ctx):
        return [auditkit.Finding("crash", "info", str(ctx.leaderboard.raw[3][0]))]

    (p,) = problems(check_check, auditkit.Check("crash", crash, "indexes out of range"))
    assert p.startswith("on built-in sample 1 (a clean table with a human baseline): run(context) raised "
                        "IndexError: list index out of range")
    assert "test_testing_kit.py:" in p  # the place in the plugin's code


def test_a_check_of_other_evidence_is_not_run_on_the_sample_tables():
    def battles_only(context):
        return [auditkit.Finding("battles-only", "info", f"{len(context.battles)} battles")]

    facts = check_check(auditkit.Check("battles-only", battles_only, "reads battles", applies_to="battles"))
    assert facts == {"findings": []}
    (p,) = problems(check_check, auditkit.Check("odd", battles_only, "reads what?", applies_to="tables"))
    assert p == "applies_to 'tables' is not one of table, battles, instances"


def test_a_nondeterministic_check_is_reported():
    counter = iter(range(100))
    rec = auditkit.Check("flaky", lambda ctx: [auditkit.Finding("flaky", "info", f"run {next(counter)}")], "flaky")
    (p,) = problems(check_check, rec, CheckContext(leaderboard=None))
    assert p == "on the given context: two runs on the same context gave different findings; a check must be " \
                "deterministic"


def test_make_context_detects_the_recipe():
    ctx = make_context(CURATED / "glue" / "glue-2023-benchbench.csv")
    assert ctx.recipe.name == "glue" and ctx.ts.values.shape == (87, 9)
    assert type(ctx).__name__ == "AuditContext"  # the audit plugin's own context, as `auditkit audit` builds it


# -- broken readers and techniques --------------------------------------------------------------------------------
def test_reader_problems_are_all_listed(tmp_path):
    from auditkit.leaderboard import RawTable

    def read(source):
        return RawTable(["Model", "A", "A"], [["x", 1.5, "2"], ["y", "3"]], [3, 2])

    f = tmp_path / "t.weird"
    f.write_bytes(b"anything")
    text = "\n".join(problems(check_reader, auditkit.Reader("weird", read, ("WEIRD",)), f))
    for phrase in ("suffix 'WEIRD' must be a lowercase file ending starting with a dot",
                   "header names repeat: 'A'", "row 0 holds non-string cells ['float']",
                   "line numbers must be increasing 1-based integers",
                   "on an empty file, read returned a table instead of refusing it",
                   "on a file of garbage bytes, read returned a table"):
        assert phrase in text, f"missing {phrase!r} in:\n{text}"


def test_technique_problems_are_all_listed():
    claims = (auditkit.Claim("c1", "", "paper", lambda: 1.0, compare="approx"),
              auditkit.Claim("c1", "two is two", "", lambda: 3.0, expected=2.0, tolerance=-1))
    text = "\n".join(problems(check_technique, auditkit.Technique("tech", "a technique", claims=claims)))
    for phrase in ("claim 'c1': statement is empty", "compare 'approx' is not one of close, le, ge, true",
                   "claim 'c1': the id repeats", "claim 'c1': source is empty",
                   "tolerance -1 must be a finite number >= 0"):
        assert phrase in text, f"missing {phrase!r} in:\n{text}"
    good = auditkit.Technique("tech", "t", claims=(auditkit.Claim("c", "s", "src", lambda: 2.05, 2.0, 0.1),
                                                   auditkit.Claim("d", "s", "src", lambda: 3.0, 2.0, 0.5, "le")))
    (p,) = problems(check_technique, good, run_claims=True)
    assert p == "claim 'd': measured 3.0, expected le 2.0 (tolerance 0.5)"


def test_check_record_dispatches_on_type():
    assert check_record(auditkit.get_registry().get("aggregators", "median"))["scores"]
    metric = auditkit.get_registry().get("metrics", "kendall")
    assert check_record(metric) == {}
    with pytest.raises(ConformanceError, match="is not an auditkit record"):
        check_record(object())


# -- whole plugins --------------------------------------------------------------------------------------------------
def _module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(source, module.__dict__)
    return module


def test_check_plugin_reports_registration_and_record_problems():
    plugin = _module("my_plugin", """
import click, auditkit

@auditkit.hookimpl
def auditkit_register_aggregators():
    return [auditkit.Aggregator("rowsum", lambda v, *, xp, weights: xp.sum(v, axis=0), "wrong axis"),
            "not a record"]

@click.command("plugins")
def shadow():
    '''Shadows a core command.'''

@click.command("helpless")
def helpless():
    pass

@auditkit.hookimpl
def auditkit_register_commands(cli):
    cli.add_command(shadow)
    cli.add_command(helpless)
""")
    with pytest.raises(ConformanceError) as info:
        check_plugin(plugin)
    text = "\n".join(info.value.problems)
    assert "auditkit_register_aggregators: returned str 'not a record'" in text
    assert "aggregator 'rowsum': returned shape (5,)" in text
    # today's registry lets the plugin replace the core command; a fixed one refuses it naming both providers
    assert ("command 'plugins' replaces an existing auditkit command" in text
            or "duplicate command name 'plugins': already provided by auditkit" in text)
    assert "command 'helpless' has no help text" in text


def test_check_plugin_reports_hook_typos():
    plugin = _module("typo_plugin", "import auditkit\n@auditkit.hookimpl\ndef auditkit_register_recipe():\n"
                                    "    return []\n")
    with pytest.raises(ConformanceError, match="did you mean 'auditkit_register_recipes'"):
        check_plugin(plugin)


def test_check_plugin_passes_a_first_party_plugin():
    from auditkit_plugins import means, recipes

    assert check_plugin(means, skip=SKIPS)["aggregators"] == ["arithmetic", "geometric", "harmonic", "power", "median",
                                                  "minimum"]
    assert "glue" in check_plugin(recipes)["recipes"]


# -- named checks ---------------------------------------------------------------------------------------------------
def test_named_checks_are_listed_and_each_runs_alone():
    names = list(auditkit.testing.aggregator_checks())
    assert names[:3] == ["record", "name-clash", "shape"]
    for phrase in ("weights-matter", "weights-split", "weights-normalized", "systems-permutation",
                   "tasks-permutation", "scale", "random-tables", "nan", "backends"):
        assert phrase in names
    assert all(auditkit.testing.aggregator_checks().values())  # every check says what it verifies
    arithmetic = auditkit.get_registry().get("aggregators", "arithmetic")
    for name in names:
        facts = check_aggregator(arithmetic, only=[name])
        assert facts["checks"] == ["record", "name-clash", "shape", *([name] if name not in
                                                                      ("record", "name-clash", "shape") else [])]
    with pytest.raises(auditkit.UsageError, match="unknown aggregator check 'weights'; choose one of: .*weights-split"):
        check_aggregator(arithmetic, skip=["weights"])


def test_skip_leaves_a_check_out_and_the_error_names_the_failed_checks():
    minimum = auditkit.get_registry().get("aggregators", "minimum")
    with pytest.raises(ConformanceError) as info:
        check_aggregator(minimum)
    assert info.value.failed == ["weights-matter"]
    assert "  1. [weights-matter] the weights do not decide" in str(info.value)
    assert "weights-matter" not in check_aggregator(minimum, skip=["weights-matter"])["checks"]


# -- the planted wrong means: each is caught, by the check that names its bug ---------------------------------------
def _ignores_weights(v, *, xp, weights):
    return xp.mean(v, axis=1)


def _squares_weights(v, *, xp, weights):
    return xp.sum(v * weights ** 2, axis=1) / xp.sum(weights ** 2)


def _drops_tasks_after_the_fifth(v, *, xp, weights):
    w = weights[:5]
    return xp.sum(v[:, :5] * w, axis=1) / xp.sum(w)


def _depends_on_row_position(v, *, xp, weights):
    return xp.sum(v * weights, axis=1) + 1e-6 * xp.arange(v.shape[0], dtype=v.dtype)


def _first_column_counts_twice(v, *, xp, weights):
    return (xp.sum(v * weights, axis=1) + v[:, 0] * weights[0]) / (1 + weights[0])


def _lower_is_better(v, *, xp, weights):
    return -xp.sum(v * weights, axis=1)


def _wrong_axis(v, *, xp, weights):
    return xp.mean(v, axis=0)


def _sorts_its_input_in_place(v, *, xp, weights):
    v.sort(axis=1)
    return v[:, v.shape[1] // 2]


def _random_noise(v, *, xp, weights):
    return xp.sum(v * weights, axis=1) + np.random.default_rng().normal(0, 1e-6, v.shape[0])


def _sum_not_mean(v, *, xp, weights):
    return xp.sum(v * weights, axis=1) * v.shape[1]


def _log1p_geometric(v, *, xp, weights):
    return xp.exp(xp.sum(weights * xp.log1p(v), axis=1)) - 1


def _nan_eating(v, *, xp, weights):
    missing = xp.isnan(v)
    w = xp.where(missing, 0.0, weights)
    return xp.sum(xp.where(missing, 0.0, v) * w, axis=1) / xp.sum(w, axis=1)


def _breaks_ties(v, *, xp, weights):
    s = xp.sum(v * weights, axis=1)
    return s + 1e-9 * xp.argsort(xp.argsort(s, stable=True), stable=True)


def _overflows(v, *, xp, weights):  # a power mean with p = 80 computed naively: inf for cells above ~7000
    return xp.sum(weights * v ** 80, axis=1) ** (1 / 80)


def _crashes_on_one_system(v, *, xp, weights):
    return xp.squeeze(xp.sum(v * weights, axis=1))


def _rounds_to_whole_points(v, *, xp, weights):
    return xp.round(xp.sum(v * weights, axis=1))


# the 12 of the issue ("ignores weights, squares them, drops tasks after the fifth", and nine the old kit caught),
# then 5 more; each with the named check that must report it
PLANTED = {
    "ignores-weights": (_ignores_weights, "weights-matter"),
    "squares-weights": (_squares_weights, "weights-split"),
    "drops-tasks-after-the-fifth": (_drops_tasks_after_the_fifth, "tasks-permutation"),
    "depends-on-row-position": (_depends_on_row_position, "systems-permutation"),
    "first-column-counts-twice": (_first_column_counts_twice, "tasks-permutation"),
    "lower-is-better": (_lower_is_better, "higher-is-better"),
    "wrong-axis": (_wrong_axis, "shape"),
    "sorts-its-input-in-place": (_sorts_its_input_in_place, "input-unchanged"),
    "random-noise": (_random_noise, "deterministic"),
    "sum-not-mean": (_sum_not_mean, "constant-row"),
    "nan-eating": (_nan_eating, "nan"),
    "breaks-ties": (_breaks_ties, "ties"),
    # more
    "log1p-geometric": (_log1p_geometric, "scale"),
    "overflows-on-large-values": (_overflows, "random-tables"),
    "crashes-on-one-system": (_crashes_on_one_system, "degenerate"),
    "rounds-to-whole-points": (_rounds_to_whole_points, "constant-row"),
}


@pytest.mark.parametrize("name", PLANTED)
def test_every_planted_wrong_mean_is_caught(name):
    func, check = PLANTED[name]
    with pytest.raises(ConformanceError) as info:
        check_aggregator(_agg(func, name=name, domain="positive"), strict_nan=True)
    assert check in info.value.failed, str(info.value)


def test_the_three_the_old_kit_missed_are_caught_by_the_default_call():
    # without strict_nan and with the default domain: what a plugin author writes first
    for name in ("ignores-weights", "squares-weights", "drops-tasks-after-the-fifth"):
        with pytest.raises(ConformanceError):
            check_aggregator(_agg(PLANTED[name][0], name=name))


def test_random_tables_shrink_to_a_small_failing_table():
    with pytest.raises(ConformanceError) as info:
        check_aggregator(_agg(_drops_tasks_after_the_fifth, name="drops"), only=["random-tables"])
    (problem,) = info.value.problems
    # hypothesis shrinks to the smallest table that shows the bug: one system, six tasks
    assert problem.startswith("on a random 1 x 6 table (values up to 1, draw seed 0): reordering the tasks"), problem


def test_a_correct_weighted_mean_passes_every_check():
    def weighted_mean(values, *, xp, weights):
        return xp.sum(values * weights, axis=1) / xp.sum(weights)

    facts = check_aggregator(_agg(weighted_mean, name="my-mean"), strict_nan=True)
    assert facts["checks"][-1] == "random-tables" and "nan" in facts["checks"]


# -- name clashes with first-party records ---------------------------------------------------------------------------
def test_a_plugin_aggregator_named_like_a_first_party_one_is_a_clash():
    def my_harmonic(values, *, xp, weights):
        return 1.0 / xp.sum(weights / values, axis=1)

    with pytest.raises(ConformanceError) as info:
        check_aggregator(_agg(my_harmonic, name="harmonic", domain="positive"))
    assert info.value.failed == ["name-clash"]
    (problem,) = info.value.problems
    assert problem.startswith("the name 'harmonic' is already taken by aggregator 'harmonic' of plugin 'means'")
    assert "declare replaces='harmonic'" in problem
    # an alias clashes too
    with pytest.raises(ConformanceError, match="the name 'gm' is already taken by aggregator 'geometric'"):
        check_aggregator(_agg(my_harmonic, name="my-harmonic", aliases=("gm",), domain="positive"))
    # on purpose: no problem
    check_aggregator(_agg(my_harmonic, name="harmonic", domain="positive", replaces="harmonic"))
    # the first-party record itself is not a clash with itself
    check_aggregator(auditkit.get_registry().get("aggregators", "harmonic"))


def test_recipe_check_and_technique_name_clashes_are_reported():
    recipe = auditkit.Recipe("glue", "1.0", "Not GLUE", tasks=(auditkit.TaskSpec("A"),))
    with pytest.raises(ConformanceError, match="the name 'glue' is already taken by recipe 'glue' of plugin"):
        check_recipe(recipe)
    check_recipe(auditkit.Recipe("glue", "1.0", "My GLUE", tasks=(auditkit.TaskSpec("A"),), replaces="glue"))
    first_check = conformance_records("checks")[0]
    with pytest.raises(ConformanceError, match=f"the name {first_check.name!r} is already taken by check"):
        check_check(auditkit.Check(first_check.name, lambda ctx: [], "same id"))
    metric = auditkit.Metric("kendall", lambda a, b: 0.0, "not kendall")
    with pytest.raises(ConformanceError, match="the name 'kendall' is already taken by metric 'kendall'"):
        check_record(metric)


def test_check_plugin_reports_a_clash_with_a_first_party_record():
    plugin = _module("clash_plugin", """
import auditkit

def my_harmonic(values, *, xp, weights):
    return 1.0 / xp.sum(weights / values, axis=1)

@auditkit.hookimpl
def auditkit_register_aggregators():
    return [auditkit.Aggregator("harmonic", my_harmonic, "my harmonic mean", domain="positive")]
""")
    with pytest.raises(ConformanceError) as info:
        check_plugin(plugin)
    assert info.value.failed == ["name-clash"]
    assert info.value.problems[0].startswith("aggregator 'harmonic': the name 'harmonic' is already taken")


# -- one claim judge -------------------------------------------------------------------------------------------------
def test_the_value_dict_claim_form_is_judged_not_crashed_on():
    claims = (auditkit.Claim("dict-close", "s", "src", lambda: {"value": [1.0, 2.0], "n": 3}, [1.0, 2.05], 0.1),
              auditkit.Claim("dict-fails", "s", "src", lambda: {"value": 5.0, "n": 3}, 1.0, 0.5, "le"),
              auditkit.Claim("dict-true", "s", "src", lambda: {"value": True}, compare="true"),
              auditkit.Claim("raises", "s", "src", lambda: 1 / 0, 1.0))
    with pytest.raises(ConformanceError) as info:
        check_technique(auditkit.Technique("tech", "t", claims=claims), run_claims=True)
    assert info.value.problems == ["claim 'dict-fails': measured 5.0, expected le 1.0 (tolerance 0.5)",
                                   "claim 'raises': measure() raised ZeroDivisionError: division by zero"]
    verdict = auditkit.testing.judge_claim(claims[0])
    assert verdict.holds and verdict.measured == [1.0, 2.0] and verdict.evidence == {"n": 3}


JUDGE_CASES = [  # (measured, expected, tolerance, compare)
    (1.0, 1.0, 0.0, "close"), ([1.0, 2.0], [1.0, 2.2], 0.1, "close"), ([1.0, 2.0], [1.0], 0.1, "close"),
    ({"value": 0.3, "x": 1}, 0.5, 0.0, "le"), ({"value": [0.3, 0.9]}, 0.5, 0.0, "le"), (float("nan"), 0.0, 1.0, "ge"),
    (float("inf"), 0.0, 1.0, "ge"), (2.0, 1.0, 0.5, "ge"), ([True, False], True, 0.0, "true"), (1, True, 0.0, "true"),
    ({"value": [2.0, 3.0]}, [2.0, 3.0], 0.0, "close"), ("text", 1.0, 0.0, "close"), (None, 1.0, 0.0, "close"),
]


@pytest.mark.parametrize("case", JUDGE_CASES, ids=[f"{c[3]}-{i}" for i, c in enumerate(JUDGE_CASES)])
def test_the_kit_and_claims_run_judge_alike(case):
    """`auditkit claims --run` (the techniques plugin) and check_technique give the same verdict: one judge."""
    claims = pytest.importorskip("auditkit_plugins.techniques.claims")
    measured, expected, tolerance, compare = case
    claim = auditkit.Claim("c", "s", "src", lambda: measured, expected, tolerance, compare)
    kit, plugin = auditkit.testing.judge_claim(claim), claims.evaluate_claim(claim)
    assert (kit.holds, kit.error is None) == (plugin.holds, plugin.error is None)


@pytest.mark.parametrize("record", conformance_records("techniques"), ids=lambda r: r.name)
def test_every_first_party_claim_form_is_judged_without_a_type_error(record):
    """Not running the claims (slow): every claim's expected value works with each measured shape the judge may
    meet, so `check_technique(run_claims=True)` cannot crash on a claim's form."""
    for claim in record.claims:
        for measured in (claim.expected, {"value": claim.expected, "extra": 1}):
            probe = auditkit.Claim(claim.id, claim.statement, claim.source, lambda m=measured: m, claim.expected,
                                   claim.tolerance, claim.compare)
            verdict = auditkit.testing.judge_claim(probe)
            assert verdict.error is None and verdict.holds, (record.name, claim.id, verdict)
