"""Log readers of the instances plugin: each fixture format reproduces its reported aggregates; what each reader
found; malformed files refused naming file and line."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import auditkit
from auditkit.errors import InputError, ParseError
from auditkit_plugins.instances import read_instances, rescore

FIX = Path(__file__).parent / "fixtures" / "instances"


@pytest.fixture
def lmeval(tmp_path):
    dest = tmp_path / "lmeval"
    shutil.copytree(FIX / "lmeval", dest)
    return dest


def statuses(result):
    return {(r["system"], r["task"], r["metric"]): r["status"] for r in result.comparison}


def test_readers_are_registered_through_the_hook():
    records = auditkit.get_registry().records("log_readers")
    assert {"lm-eval", "inspect", "helm", "long"} <= set(records)
    assert all(isinstance(r, auditkit.LogReader) for r in records.values())


@pytest.mark.parametrize("fixture,reader,n_reported", [("lmeval", "lm-eval", 15), ("inspect", "inspect", 3),
                                                       ("helm", "helm", 4)])
def test_each_format_reproduces_its_reported_aggregates(fixture, reader, n_reported):
    result = rescore(FIX / fixture, progress=False)
    assert {f.reader for f in result.instances.found} == {reader}
    assert len(result.comparison) == n_reported
    assert set(statuses(result).values()) == {"reproduced"}
    assert not [f for f in result.findings if f.severity != "info"]


def test_lmeval_reader_finds_models_tasks_metrics_and_corpus_pairs():
    iset = read_instances(FIX / "lmeval")
    systems = {s for f in iset.found for s in f.systems}
    assert systems == {"EleutherAI/pythia-160m", "EleutherAI/pythia-410m", "gpt2"}  # gpt2: from model_args
    f = iset.found[0]
    assert f.tasks == ("arc_easy", "cola", "gsm8k")
    assert f.metrics == ("acc", "acc_norm", "exact_match,flexible-extract", "exact_match,strict-match", "mcc")
    assert f.instances == 40 + 30 + 32
    t = iset.table
    cola = [i for i, task in enumerate(t.column("task").to_pylist()) if task == "cola"]
    assert all(t.column("value")[i].as_py() is None and t.column("prediction")[i].as_py() is not None for i in cola)


def test_lmeval_mcc_matches_scikit_learn():
    from sklearn.metrics import matthews_corrcoef

    rows = [json.loads(x) for x in (FIX / "lmeval" / "gpt2").glob("samples_cola_*.jsonl").__next__().open()]
    golds, preds = [r["mcc"][0] for r in rows], [r["mcc"][1] for r in rows]
    score = {(s.system, s.task): s for s in rescore(FIX / "lmeval", progress=False).scores}[("gpt2", "cola")]
    assert score.kind == "mcc"
    assert score.score == pytest.approx(matthews_corrcoef(golds, preds), abs=1e-12)


def test_inspect_reads_json_and_both_eval_compressions_with_epochs():
    iset = read_instances(FIX / "inspect")
    assert [f.source.rsplit("/", 1)[1] for f in iset.found] == ["sys-a.json", "sys-b.eval", "sys-c.eval"]
    assert all(f.rows == 24 and f.instances == 12 for f in iset.found)  # 12 samples x 2 epochs
    assert iset.has_sample
    samples = set(iset.table.column("sample").to_pylist())
    assert samples == {1, 2}


def test_inspect_scores_letters_as_inspect_does():
    from auditkit_plugins.instances.read_inspect import value_to_float

    assert [value_to_float(v, {}) for v in ("C", "I", "P", "N", True, 0.25, "0.5")] == [1, 0, 0.5, 0, 1, 0.25, 0.5]
    with pytest.raises(ParseError, match="score value"):
        value_to_float("maybe", {"source": "x.json"})


def test_helm_task_drops_the_model_argument():
    from auditkit_plugins.instances.read_helm import task_name

    assert task_name("mmlu:subject=anatomy,method=multiple_choice_joint,model=openai_gpt2") == \
        "mmlu:subject=anatomy,method=multiple_choice_joint"
    iset = read_instances(FIX / "helm")
    assert {s for f in iset.found for s in f.systems} == {"openai/gpt2", "meta/llama-3-8b"}
    # the perturbed aggregate in stats.json is not taken as the reported score
    assert len(iset.reported) == 4


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_long_format_in_each_container(tmp_path, suffix):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [("A", "t", "acc", f"i{i}", float(i % 2)) for i in range(6)] + \
           [("B", "t", "acc", f"i{i}", float(i % 3 == 0)) for i in range(6)]
    path = tmp_path / f"long{suffix}"
    if suffix == ".csv":
        path.write_text("system,task,metric,instance,value\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    elif suffix == ".jsonl":
        path.write_text("".join(json.dumps(dict(zip(("model", "task", "metric", "instance", "score"), r))) + "\n"
                                for r in rows))
    else:
        pq.write_table(pa.table({k: [r[j] for r in rows] for j, k in
                                 enumerate(("system", "task", "metric", "instance", "value"))}), path)
    result = rescore(path, progress=False)
    assert {(s.system, s.score) for s in result.scores} == {("A", 0.5), ("B", 2 / 6)}
    assert result.instances.found[0].reader == f"long-{suffix[1:]}"
    (pair,) = result.pairs
    assert pair.n == 6 and pair.difference == pytest.approx(0.5 - 2 / 6)


# -- malformed input -------------------------------------------------------------------------------------------------
def test_lmeval_bad_json_line_names_file_and_line(lmeval):
    f = next((lmeval / "gpt2").glob("samples_arc_easy_*.jsonl"))
    lines = f.read_text().splitlines()
    lines[4] = lines[4][:30]
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParseError) as exc:
        read_instances(lmeval)
    assert exc.value.source == str(f) and exc.value.line == 5


def test_lmeval_non_numeric_score_names_column_and_value(lmeval):
    f = next((lmeval / "gpt2").glob("samples_gsm8k_*.jsonl"))
    lines = f.read_text().splitlines()
    rec = json.loads(lines[2])
    rec["exact_match"] = None
    lines[2] = json.dumps(rec)
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParseError) as exc:
        read_instances(lmeval)
    assert (exc.value.line, exc.value.column, exc.value.value) == (3, "exact_match", "None")


def test_lmeval_results_that_are_not_json(lmeval):
    f = next((lmeval / "gpt2").glob("results_*.json"))
    f.write_text('{"results": {"arc_easy": \n')
    with pytest.raises(ParseError, match="not valid JSON") as exc:
        read_instances(lmeval)
    assert exc.value.source == str(f) and exc.value.line == 2


def test_long_csv_bad_cell_names_line_column_value(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("system,task,metric,instance,value\nA,t,acc,1,1\nA,t,acc,2,oops\n")
    with pytest.raises(ParseError) as exc:
        read_instances(p)
    assert (exc.value.line, exc.value.column, exc.value.value) == (3, "value", "oops")
    assert str(p) in str(exc.value)


def test_long_missing_columns_are_named(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("system,task,value\nA,t,1\n")
    with pytest.raises(ParseError, match="missing column.*metric.*instance|missing column.*instance.*metric"):
        read_instances(p)


def test_duplicate_rows_without_sample_column_are_refused(tmp_path):
    p = tmp_path / "dup.csv"
    p.write_text("system,task,metric,instance,value\nA,t,acc,1,1\nA,t,acc,1,0\nB,t,acc,1,1\n")
    with pytest.raises(InputError, match="appears 2 times"):
        rescore(p, progress=False)


def test_inspect_eval_that_is_not_a_zip(tmp_path):
    p = tmp_path / "broken.eval"
    p.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ParseError):
        read_instances(p, reader="inspect")


def test_helm_run_without_run_spec(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(next((FIX / "helm").iterdir()), run)
    (run / "run_spec.json").unlink()
    with pytest.raises(ParseError, match="run_spec.json"):
        read_instances(run, reader="helm")


def test_unrecognized_path_lists_the_readers(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    with pytest.raises(ParseError, match="lm-eval, inspect, helm, long"):
        read_instances(p)


def test_a_third_party_log_reader_is_used_through_the_hook(tmp_path, monkeypatch):
    """A plugin registers its own format with auditkit_register_log_readers; rescore finds it by sniff."""
    from auditkit.registry import Registry

    from auditkit_plugins.instances.table import InstanceSet, TableBuilder

    def read_pipe(path, **options):
        b = TableBuilder()
        for line in Path(path).read_text().splitlines():
            system, instance, value = line.split("|")
            b.add(system, "pipe-task", "acc", instance, float(value))
        return InstanceSet(b.table(), found=[b.found(str(path), "pipe")], nbytes=1)

    class PipePlugin:
        @auditkit.hookimpl
        def auditkit_register_log_readers(self):
            return [auditkit.LogReader("pipe", read_pipe, lambda p: str(p).endswith(".pipe"), "a|b|c lines")]

    reg = Registry()
    reg.register(PipePlugin(), "pipe-plugin")
    monkeypatch.setattr(auditkit, "get_registry", lambda: reg)
    p = tmp_path / "scores.pipe"
    p.write_text("A|1|1\nA|2|0\nB|1|1\nB|2|1\n")
    res = rescore(p, progress=False)
    assert res.instances.found[0].reader == "pipe"
    assert [(s.system, s.score) for s in res.scores] == [("A", 0.5), ("B", 1.0)]
