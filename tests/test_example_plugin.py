"""The example third-party plugin (plugins/example_plugin, distribution ``auditkit-example``) through real discovery.

CI installs it (``pip install ./plugins/example_plugin``) before the tests. When it is not installed, the fixture
below makes it discoverable the way pip would (a ``auditkit_example-0.1.0.dist-info`` with its entry_points.txt in
a temporary directory, its ``src`` on the path), so the same tests run either way, always through
``importlib.metadata`` entry points. A separate test turns it off with AUDITKIT_DISABLE_PLUGINS and checks the
tool still works without it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import auditkit
from auditkit.registry import DISABLE_ENV, DISTRIBUTION, Registry
from auditkit.testing import check_aggregator, check_check, check_plugin, check_recipe, make_context

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "plugins" / "example_plugin"
MTEB = ROOT.parent / "shared" / "leaderboards-raw" / "benchbench-socialfoundations" / "mteb-leaderboard.tsv"
GLUE = ROOT / "leaderboards" / "glue" / "glue-2023-benchbench.csv"


def _installed() -> bool:
    try:
        importlib.metadata.distribution("auditkit-example")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.fixture(scope="session")
def example_path(tmp_path_factory) -> list[str]:
    """Extra sys.path entries that make the example discoverable ([] when pip installed it)."""
    if _installed():
        return []
    site = tmp_path_factory.mktemp("example-site")
    info = site / "auditkit_example-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: auditkit-example\nVersion: 0.1.0\n")
    # the entry point exactly as declared in plugins/example_plugin/pyproject.toml
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import pip._vendor.tomli as tomllib

    eps = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]["entry-points"]["auditkit"]
    (info / "entry_points.txt").write_text("[auditkit]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()))
    return [str(site), str(PLUGIN / "src")]


@pytest.fixture(scope="session")
def registry(example_path) -> Registry:
    added = [p for p in example_path if p not in sys.path]
    sys.path[:0] = added
    env = os.environ.pop(DISABLE_ENV, None)
    try:
        reg = Registry()
        reg.collect_all()
    finally:
        for p in added:
            sys.path.remove(p)
        if env is not None:
            os.environ[DISABLE_ENV] = env
    return reg


def run_cli(example_path, *args, disable: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop(DISABLE_ENV, None)
    if example_path:
        env["PYTHONPATH"] = os.pathsep.join([*example_path, env.get("PYTHONPATH", "")])
    if disable is not None:
        env[DISABLE_ENV] = disable
    return subprocess.run([sys.executable, "-m", "auditkit.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120)


# -- discovery --------------------------------------------------------------------------------------------------
def test_auditkit_plugins_lists_the_example_with_everything_it_provides(example_path):
    out = run_cli(example_path, "plugins", "--format", "json")
    assert out.returncode == 0, out.stderr
    (example,) = [p for p in json.loads(out.stdout) if p["name"] == "example"]
    assert example["distribution"] == "auditkit-example" and example["version"] == "0.1.0"
    assert example["module"] == "auditkit_example" and example["errors"] == [] and not example["disabled"]
    assert example["provides"] == {"aggregators": ["trimmed-mean"], "recipes": ["mteb"],
                                   "checks": ["mteb-dataset-count"]}
    assert example["commands"] == ["mteb-weights"]


def test_registry_finds_the_example_through_its_entry_point(registry):
    info = registry.plugins["example"]
    assert info.ok and info.distribution == "auditkit-example"
    assert registry.provider("aggregators", "trimmed-mean") == "example"
    assert registry.get("aggregators", "trimmed") is registry.get("aggregators", "trimmed-mean")  # alias


# -- the aggregator ---------------------------------------------------------------------------------------------
def test_trimmed_mean_honours_the_contract_on_numpy_and_torch(registry):
    agg = registry.get("aggregators", "trimmed-mean")
    check_aggregator(agg, bad_params={"trim": 0.5}, strict_nan=True, backends=("numpy", "torch"))
    check_aggregator(agg, params={"trim": 0.0})
    check_aggregator(agg, params={"trim": 0.3})


@pytest.mark.parametrize("trim", [0.1, 0.2, 0.3])
def test_trimmed_mean_equals_scipy_trim_mean_when_whole_tasks_are_cut(registry, trim):
    from scipy.stats import trim_mean  # the oracle: scipy cuts int(trim * n) values from each end

    rng = np.random.default_rng(7)
    values = np.round(rng.uniform(30, 90, size=(6, 10)), 2)
    func = registry.get("aggregators", "trimmed-mean").func
    got = func(values, xp=np, weights=np.full(10, 0.1), trim=trim)
    np.testing.assert_allclose(got, trim_mean(values, trim, axis=1), rtol=1e-13)


def test_trimmed_mean_with_weights_matches_an_independent_expansion(registry):
    # integer weights w_j = task j repeated w_j times; cutting 2 of 8 copies per end = trim 0.25
    values = np.array([[10.0, 50.0, 20.0, 90.0], [70.0, 60.0, 65.0, 30.0]])
    counts = np.array([1, 3, 2, 2])
    func = registry.get("aggregators", "trimmed-mean").func
    got = func(values, xp=np, weights=counts / counts.sum(), trim=0.25)
    expanded = [np.sort(np.repeat(row, counts))[2:-2].mean() for row in values]
    np.testing.assert_allclose(got, expanded, rtol=1e-13)
    # trim 0 is the weighted arithmetic mean
    np.testing.assert_allclose(func(values, xp=np, weights=counts / 8, trim=0.0), values @ (counts / 8), rtol=1e-13)


# -- the recipe ---------------------------------------------------------------------------------------------------
def test_mteb_recipe_honours_the_contract_and_reproduces_every_published_average(registry):
    # oracle: the published "Average (56 datasets)" column of the benchbench MTEB snapshot (83 rows)
    facts = check_recipe(registry.get("recipes", "mteb"), MTEB, reproduces_published=True)
    assert facts["rows"] == facts["rows_compared"] == facts["rows_reproduced"] == 83
    assert facts["published_column"] == "Average (56 datasets)"
    assert facts["max_abs_difference"] < 0.0075


def test_dataset_count_weights_matter(registry):
    """Independent recomputation from the raw file: the count-weighted mean matches the published Average within
    half a unit of its last digit for 74 of 83 rows (all 83 within the rounding of every displayed value); the
    unweighted mean of the 7 categories matches none."""
    import csv

    with open(MTEB, newline="") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    header, body = rows[0], rows[1:]
    cats = [(i, int(re.search(r"\((\d+) datasets?\)", h)[1])) for i, h in enumerate(header)
            if "Average (" in h and not h.startswith("Average")]
    assert [n for _, n in cats] == [12, 11, 3, 4, 15, 10, 1]
    pub = np.array([float(r[header.index("Average (56 datasets)")]) for r in body])
    vals = np.array([[float(r[i]) for i, _ in cats] for r in body])
    w = np.array([n for _, n in cats], float)
    weighted = np.abs(vals @ (w / w.sum()) - pub)
    unweighted = np.abs(vals.mean(axis=1) - pub)
    assert int((weighted <= 0.005 + 1e-9).sum()) == 74 and len(pub) == 83
    assert weighted.max() < 0.0075
    assert int((unweighted <= 0.005).sum()) == 0


def test_rerank_with_the_example_recipe_and_mean_through_the_cli(example_path):
    out = run_cli(example_path, "rerank", str(MTEB), "--benchmark", "mteb", "--mean", "trimmed-mean",
                  "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)["summary"]
    (rule,) = doc["rules"]
    assert doc["benchmark"] == "mteb" and rule["name"] == "trimmed-mean"
    assert rule["params"] == {"trim": 0.1} and rule["label"] == "trimmed-mean(trim=0.1)"
    assert rule["provider"].startswith("auditkit-example ")  # provenance names the distribution
    np.testing.assert_allclose(doc["task_weights"], np.array([12, 11, 3, 4, 15, 10, 1]) / 56, rtol=1e-12)
    assert len(doc["rows"]) == 83 and all(r["status"] == "scored" for r in doc["rows"])
    # SFR-Embedding-Mistral (published rank 1): weights 12..1 over 78.33, 51.67, 88.54, 60.64, 59, 85.05, 31.16;
    # trim 0.1 cuts 5.6/56 from each end: all of Summarization (1) and 4.6 of Clustering at the bottom, 3 of Pair
    # Classification and 2.6 of STS at the top (computed by hand from the raw row)
    top = next(r for r in doc["rows"] if r["system"] == "SFR-Embedding-Mistral")
    expected = (12 * 78.33 + 6.4 * 51.67 + 4 * 60.64 + 15 * 59 + 7.4 * 85.05) / 44.8
    assert top["rules"]["trimmed-mean(trim=0.1)"]["score"] == pytest.approx(expected, rel=1e-12)


def test_mteb_is_auto_detected(example_path):
    out = run_cli(example_path, "rerank", str(MTEB), "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["summary"]["benchmark"] == "mteb"


# -- the check and the command ------------------------------------------------------------------------------------
def test_dataset_count_check_is_quiet_on_the_real_file_and_names_a_miscount(registry):
    check = registry.get("checks", "mteb-dataset-count")
    check_check(check)
    lb = auditkit.read_leaderboard(MTEB)
    assert check_check(check, make_context(lb, benchmark="generic"))["findings"] == []
    # drop the Retrieval column (15 datasets): 41 counted, 56 published
    i = lb.columns.index("Retrieval Average (15 datasets)")
    cut = auditkit.Leaderboard([c for j, c in enumerate(lb.columns) if j != i],
                               [[v for j, v in enumerate(r) if j != i] for r in lb.raw], source="cut.tsv")
    (finding,) = check_check(check, make_context(cut, benchmark="generic"))["findings"]
    assert finding["severity"] == "error" and finding["column"] == "Average (56 datasets)"
    assert finding["message"].startswith("the category columns count 41 datasets (Classification 12, Clustering "
                                         "11, Pair Classification 3, Reranking 4, STS 10, Summarization 1) but the "
                                         "published column 'Average (56 datasets)' says 56")
    assert finding["evidence"]["sum"] == 41


def test_mteb_weights_command(example_path):
    out = run_cli(example_path, "mteb-weights", str(MTEB), "--format", "json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["count_sum"] == doc["published_count"] == 56
    assert (doc["rows"], doc["rows_within_published_rounding"], doc["rows_within_rounding_bound"]) == (83, 74, 83)
    assert doc["outside_bound"] == []
    table = run_cli(example_path, "mteb-weights", str(MTEB))
    assert "Summarization          1 dataset  weight 0.0179" in table.stdout
    bad = run_cli(example_path, "mteb-weights", str(GLUE))
    assert bad.returncode == 2 and "no MTEB-style columns" in bad.stderr


def test_the_whole_plugin_passes_check_plugin(example_path):
    added = [p for p in example_path if p not in sys.path]
    sys.path[:0] = added
    try:
        import auditkit_example

        provided = check_plugin(auditkit_example)
        by_entry_point = check_plugin("example")  # loads the installed entry point by its name
        with pytest.raises(auditkit.testing.ConformanceError,
                           match="no entry point 'exampel' in the 'auditkit' group; installed: .*example"):
            check_plugin("exampel")
    finally:
        for p in added:
            sys.path.remove(p)
    assert provided["commands"] == ["mteb-weights"] and provided["recipes"] == ["mteb"]
    assert by_entry_point == provided


def test_the_plugin_ships_the_real_mteb_snapshot():
    """The plugin's tests and the tutorial read tests/data/mteb-leaderboard.tsv: byte for byte the benchbench file
    (sha256 as recorded in shared/leaderboards-raw/benchbench-socialfoundations/PROVENANCE.md)."""
    import hashlib

    shipped = (PLUGIN / "tests" / "data" / "mteb-leaderboard.tsv").read_bytes()
    assert shipped == MTEB.read_bytes()
    assert hashlib.sha256(shipped).hexdigest() == "3aae7353524b9275e6fc3fc0e5a22dbdfd904ca0875fd250c2c1f916f1af7e88"


def test_the_one_off_plugin_file_of_the_tutorial(example_path):
    out = run_cli(example_path, "--plugins-dir", str(PLUGIN / "one_off"), "rerank", str(MTEB), "--mean",
                  "best-k:k=3", "--format", "json")
    (rule,) = json.loads(out.stdout)["summary"]["rules"]
    assert rule["label"] == "best-k(k=3)" and rule["provider"].startswith("file:")
    from auditkit.testing import check_aggregator

    sys.path.insert(0, str(PLUGIN / "one_off"))
    try:
        import best_k
    finally:
        sys.path.pop(0)
    record = best_k.auditkit_register_aggregators()[0]
    # it ignores task weights on purpose: the two weight checks are skipped by name, everything else holds
    check_aggregator(record, skip=["weights-matter", "weights-split"])
    with pytest.raises(auditkit.testing.ConformanceError) as info:
        check_aggregator(record)
    assert info.value.failed == ["weights-matter", "weights-split"]


def test_the_plugins_own_test_suite_passes(example_path):
    env = dict(os.environ)
    if example_path:
        env["PYTHONPATH"] = os.pathsep.join([*example_path, env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-m", "pytest", str(PLUGIN / "tests"), "-q", "-p", "no:cacheprovider",
                          "-p", "no:xdist"], capture_output=True, text=True, env=env, cwd=PLUGIN, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]
    assert re.search(r"\b29 passed\b", out.stdout), out.stdout[-500:]


# -- without it ---------------------------------------------------------------------------------------------------
def test_the_tool_works_with_the_example_disabled(example_path):
    listed = json.loads(run_cli(example_path, "plugins", "--format", "json", disable="example").stdout)
    (example,) = [p for p in listed if p["name"] == "example"]
    assert example["disabled"] is True and example["provides"] == {} and example["commands"] == []
    assert all(not p["errors"] for p in listed if p["distribution"] == DISTRIBUTION), \
        [(p["name"], p["errors"]) for p in listed if p["errors"]]
    glue = run_cli(example_path, "rerank", str(GLUE), "--mean", "harmonic", "--format", "json", disable="example")
    assert glue.returncode == 0 and json.loads(glue.stdout)["summary"]["benchmark"] == "glue"
    generic = run_cli(example_path, "rerank", str(MTEB), "--format", "json", disable="example")
    assert generic.returncode == 0 and json.loads(generic.stdout)["summary"]["benchmark"] == "generic"
    gone = run_cli(example_path, "rerank", str(MTEB), "--benchmark", "mteb", disable="example")
    assert gone.returncode == 2 and "unknown recipe 'mteb'; choose one of:" in gone.stderr
    no_mean = run_cli(example_path, "rerank", str(GLUE), "--mean", "trimmed-mean", disable="example")
    assert no_mean.returncode == 2 and "unknown aggregator 'trimmed-mean'" in no_mean.stderr
    no_cmd = run_cli(example_path, "mteb-weights", str(MTEB), disable="example")
    assert no_cmd.returncode == 2 and "No such command 'mteb-weights'" in no_cmd.stderr


def test_registry_without_the_example(example_path):
    os.environ[DISABLE_ENV] = "example"
    try:
        reg = Registry()
    finally:
        del os.environ[DISABLE_ENV]
    assert "mteb" not in reg.records("recipes") and "trimmed-mean" not in reg.records("aggregators")
    assert {"glue", "superglue"} <= set(reg.records("recipes"))
