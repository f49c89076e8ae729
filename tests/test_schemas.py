"""Every JSON document auditkit writes validates against the JSON Schemas it ships (auditkit/schemas/, draft
2020-12): each command's `--format json` (the auditkit.report/1 envelope, whose summary is checked against the
command's own schema: auditkit.rerank/2, auditkit.compare/1, auditkit.significance/1, the audit summary), every line
of `--format jsonl`, and the schemas reject documents that break them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditkit import schemas
from auditkit.cli import cli

jsonschema = pytest.importorskip("jsonschema")

ROOT = Path(__file__).resolve().parents[1]
LB = ROOT / "leaderboards"
GLUE = LB / "glue" / "glue-2021-vote-and-rank.csv"
GLUE23 = LB / "glue" / "glue-2023-benchbench.csv"
SUPERGLUE = LB / "superglue" / "superglue-2021-vote-and-rank.csv"
LIVEBENCH = (LB / "livebench" / "livebench-2024-07-01.csv", LB / "livebench" / "livebench-2024-08-29.csv")
CLAIMS = ROOT / "tests" / "data" / "claims" / "glue_paper_like.csv"
INSTANCES = ROOT / "tests" / "fixtures" / "instances"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from auditkit_plugins.renderers.demo import write_demo

    d = tmp_path_factory.mktemp("demo")
    write_demo(d)
    return d


def commands(demo: Path) -> dict[str, list[str]]:
    d = demo
    return {
        "rerank": ["rerank", str(GLUE), "--mean", "harmonic"],
        "rerank-three-rules": ["rerank", str(SUPERGLUE), "--mean", "arithmetic,geometric,harmonic"],
        "rerank-power-pair": ["rerank", str(GLUE), "--mean", "power:p=-2", "--mean", "power:p=2"],
        "rerank-generic-tsv": ["rerank", str(d / "some-table.tsv"), "--mean", "power", "--p", "-2"],
        "rerank-social-choice": ["rerank", str(d / "SuperGLUE.csv"), "--mean", "kemeny", "--mean", "borda"],
        "audit": ["audit", str(GLUE)],
        "audit-compare-with": ["audit", str(GLUE), "--compare-with", str(GLUE23)],
        "audit-claims": ["audit", str(GLUE), "--claims", str(CLAIMS)],
        "diff": ["diff", *map(str, LIVEBENCH)],
        "compare": ["compare", str(SUPERGLUE), "--rules", "arithmetic,harmonic,borda"],
        "compare-bootstrap": ["compare", str(SUPERGLUE), "--rules", "arithmetic,harmonic", "--bootstrap", "100",
                              "--seed", "0"],
        "significance": ["significance", str(SUPERGLUE), "T5", "BERT++", "--resamples", "200",
                         "--permutations", "200"],
        "significance-all-pairs": ["significance", str(d / "SuperGLUE.csv"), "--all-pairs", "--resamples", "100"],
        "arena": ["arena", str(d / "battles.jsonl"), "--category", "language", "--style", "length", "--model", "bt",
                  "--model", "style-bt"],
        "rescore": ["rescore", str(INSTANCES / "lmeval"), "--no-progress"],
        "claims-list": ["claims"],
        "can": ["can", str(d / "dev_probs.npy"), "--prior", str(d / "train_prior.csv"), "--labels",
                str(d / "dev_labels.csv"), "--data-out", str(d / "dev_probs_can.npy")],
        "whiten": ["whiten", str(d / "sentence_vectors.npy"), "--dim", "16", "--data-out", str(d / "white.npy")],
        "contrastive": ["contrastive", "diagnose", str(d / "scores.npy"), "--positive-index", "0", "--dtypes",
                        "float16,float32"],
        "wgan": ["wgan", "evaluate", "--critic", f"{d / 'mycritics.py'}:make_critic", "--real",
                 str(d / "real.npy"), "--fake", str(d / "fake.npy"), "--pairs", "128", "--adv-steps", "3"],
    }


NAMES = list(commands(Path("x")))
NEEDS_TORCH = {"contrastive", "wgan"}


def run(args: list[str], fmt: str) -> str:
    res = CliRunner().invoke(cli, [*args, "--format", fmt])
    assert res.exit_code in (0, 1), f"{' '.join(args)} exited {res.exit_code}: {res.output[-2000:]}"
    return res.stdout if hasattr(res, "stdout") else res.output


@pytest.mark.parametrize("name", NAMES)
def test_every_json_output_validates(name, demo):
    if name in NEEDS_TORCH:
        pytest.importorskip("torch")
    doc = json.loads(run(commands(demo)[name], "json"))
    schemas.validate(doc)
    tag = doc["summary"].get("schema")
    if name.startswith(("rerank", "compare", "significance")):  # the command's own schema was applied
        assert tag == {"rerank": "auditkit.rerank/2", "compare": "auditkit.compare/1",
                       "significance": "auditkit.significance/1"}[name.split("-")[0]]


@pytest.mark.parametrize("name", ["rerank-three-rules", "audit", "compare-bootstrap", "arena", "diff"])
def test_every_jsonl_line_validates(name, demo):
    text = run(commands(demo)[name], "jsonl")
    v = schemas.validator("jsonl-row-1")
    lines = [json.loads(x) for x in text.splitlines()]
    assert lines
    for line in lines:
        v.validate(line)


def test_schemas_are_valid_draft_2020_12_and_shipped():
    for name in schemas.NAMES:
        doc = schemas.load(name)
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(doc)


@pytest.fixture(scope="module")
def rerank_doc():
    return json.loads(run(["rerank", str(GLUE), "--mean", "harmonic,arithmetic"], "json"))


@pytest.mark.parametrize("breakage", [
    lambda d: d.pop("provenance"),
    lambda d: d.update(schema="auditkit.report/9"),
    lambda d: d["summary"]["counts"].update(error=-1),
    lambda d: d["tables"]["ranking"][0].update(system={"nested": 1}),
    lambda d: d["summary"]["rows"][0]["rules"]["harmonic"].update(rank=0),
    lambda d: d["summary"]["rows"][0].pop("published_rank"),
    lambda d: d["summary"].update(input_sha256="not-a-hash"),
    lambda d: d["summary"]["kendall_tau"][0].update(tau=1.5),
    lambda d: d["summary"]["policies"].pop("negatives"),
])
def test_the_schemas_reject_broken_documents(rerank_doc, breakage):
    doc = copy.deepcopy(rerank_doc)
    schemas.validate(doc)
    breakage(doc)
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate(doc)


def test_the_audit_and_compare_summaries_are_checked_by_their_schemas(demo):
    audit = json.loads(run(commands(demo)["audit"], "json"))
    audit["summary"]["by_check"]["published-score"]["error"] = "many"
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate(audit)
    comp = json.loads(run(commands(demo)["compare-bootstrap"], "json"))
    rule = next(iter(comp["summary"]["bootstrap"]["rank_intervals"]))
    system = next(iter(comp["summary"]["bootstrap"]["rank_intervals"][rule]))
    comp["summary"]["bootstrap"]["rank_intervals"][rule][system]["interval"] = [0, 3]
    with pytest.raises(jsonschema.ValidationError):
        schemas.validate(comp)
