"""Fuzzing the readers on real leaderboards, checked against an independent oracle.

The base tables are the Vote'n'Rank copies of the GLUE and SuperGLUE leaderboards (see
``../shared/leaderboards-raw/vote_and_rank/PROVENANCE.md``). Each case mutates one of them the way an attacker or a
careless user would (a cell replaced by ``inf``, ``1e309``, a 310-digit integer, a typo, a thousands separator, an
empty cell; a duplicated header; whitespace around a name; a BOM; CRLF; a 200,000-character cell; another
delimiter; a Markdown rendering of the table, with or without outer pipes, or with a blank line inside; JSON and
JSON Lines renderings, with a key given twice in one object) and runs
``auditkit rerank FILE --benchmark generic --tasks ... --format json`` in-process.

The oracle is written here and shares no code with auditkit: the ``csv`` module, a strict number grammar and a
plain mean. Every outcome must be one of

- **right**: exit 0, the same rows scored as the oracle scores, each score equal to the oracle's within 1e-9, and
  a note when the oracle says a thousands separator was read;
- **refused**: exit 2, when the oracle refuses too, with a message naming the line, and for a bad cell its column
  and value.

Anything else is a failure: a traceback or another exit code (**crash**), exit 0 where the oracle refuses or with
other scores (**silent misparse**), or exit 2 where the oracle reads the table (**false refusal**). A failure that
was found and fixed is kept as a JSON case in ``tests/fuzz_corpus/`` and replayed by
``test_corpus_case``. Under CI the property test is derandomized (``tests/conftest.py``) and bounded by
``max_examples``.

Run ``python tests/test_fuzz.py N`` to explore N random cases and print the outcome classes.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT.parent / "shared" / "leaderboards-raw" / "vote_and_rank"
CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"
BASES = {
    "glue": ("leaderboards - GLUE.csv", ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI-m", "MNLI-mm", "QNLI",
                                         "RTE", "WNLI"]),
    "superglue": ("leaderboards - SuperGLUE.csv", ["BoolQ", "CB", "COPA", "MultiRC", "ReCoRD", "RTE", "WiC", "WSC"]),
}
NAME_COLUMN = "Model"


# -- the oracle ----------------------------------------------------------------------------------------------------
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
MISSING = {"", "-", "n/a", "N/A"}


class Refuse(Exception):
    def __init__(self, line, column=None, value=None):
        super().__init__(f"line {line} column {column} value {value!r}")
        self.line, self.column, self.value = line, column, value


def oracle_number(text: str) -> tuple[float, bool]:
    """(value, thousands separator used) or ValueError. The documented grammar: a decimal or exponent number,
    optionally with ',' thousands groups; beyond float64 is an error."""
    thousands = bool(_GROUPED.match(text))
    if thousands:
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        raise ValueError(text)
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(text)
    return v, thousands


def oracle(rows: list[list[str]], lines: list[int], tasks: list[str]) -> dict:
    """{"scores": {line: score}, "thousands": bool} or raises Refuse."""
    header = [h.strip() for h in rows[0]]
    keys = [re.sub(r"[\s_]+", " ", h.lower()) for h in header]
    for i, k in enumerate(keys):
        if keys.index(k) != i:
            raise Refuse(lines[0], header[i])
    for r, line in zip(rows[1:], lines[1:]):
        if len(r) != len(header):
            raise Refuse(line)
    cols = [header.index(t) for t in tasks]
    width = {j: Counter(len(r[j].split("/")) for r in rows[1:] if r[j].strip() not in MISSING).most_common(1)[0][0]
             for j in cols}
    scores, thousands = {}, False
    for r, line in zip(rows[1:], lines[1:]):
        task_scores = []
        for j in cols:
            cell = r[j].strip()
            if cell in MISSING:
                task_scores.append(None)
                continue
            parts = [p.strip() for p in cell.split("/")]
            if len(parts) != width[j]:  # one number where the column holds pairs: which metric is it?
                raise Refuse(line, header[j], r[j])
            if any(p.lower() == "nan" for p in parts):
                task_scores.append(None)  # the table says NaN: not a score (either refused or the row unscored)
                continue
            try:
                got = [oracle_number(p) for p in parts]
            except ValueError:
                raise Refuse(line, header[j], r[j]) from None
            thousands |= any(t for _, t in got)
            task_scores.append(sum(v for v, _ in got) / len(got))
        if all(s is not None for s in task_scores):
            scores[line] = sum(task_scores) / len(task_scores)
    return {"scores": scores, "thousands": thousands}


def split_rows(text: str, delimiter: str = ",") -> tuple[list[list[str]], list[int]]:
    csv.field_size_limit(1 << 30)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, lines, end = [], [], 0
    for row in reader:
        start, end = end + 1, reader.line_num
        if any(c.strip() for c in row):
            rows.append(row)
            lines.append(start)
    return rows, lines


# -- mutations -----------------------------------------------------------------------------------------------------
SPECIALS = ["inf", "-inf", "Infinity", "1e309", "9e308", "-1e309", "9" * 310, "1" + "0" * 400, "0e400", "NaN",
            "nan", "", "-", "n/a", "N/A", "1,234.5", "12,345", "91,2", "9.12e1", "-5.0", " 91.2 ", "91..2",
            "9 1.2", "O.8", "1,2,3"]


def typo(value: str, k: int) -> str:
    if not value:
        return "x"
    i = k % len(value)
    return value[:i] + "O" + value[i + 1:] if value[i].isdigit() else value[:i] + "l" + value[i:]


def render(rows, delimiter=",", lineterminator="\n"):
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator=lineterminator).writerows(rows)
    return buf.getvalue()


def markdown(rows, outer: bool, blank_after: int | None = None) -> str:
    def line(cells):
        body = " | ".join(c.replace("|", "\\|") for c in cells)
        return f"| {body} |" if outer else body
    out = [line(rows[0]), line(["---"] * len(rows[0]))]
    for i, r in enumerate(rows[1:]):
        out.append(line(r))
        if blank_after is not None and i == blank_after:
            out.append("")
    return "\n".join(out) + "\n"


def build(case: dict) -> tuple[str, bytes, dict]:
    """The mutated file (suffix, bytes) and the oracle's verdict for it."""
    fname, tasks = BASES[case["base"]]
    text = (RAW / fname).read_text(encoding="utf-8-sig")
    rows, _ = split_rows(text)
    rows = [list(r) for r in rows]
    kind, r, t = case["kind"], case.get("row", 0) % (len(rows) - 1) + 1, case.get("task", 0) % len(tasks)
    col = rows[0].index(tasks[t])
    name_col = rows[0].index(NAME_COLUMN)
    suffix, delimiter, eol, prefix = ".csv", ",", "\n", ""
    if kind == "cell":
        value = case["value"]
        if case.get("component") and "/" in rows[r][col]:
            parts = rows[r][col].split("/")
            parts[case["component"] % len(parts)] = value
            value = "/".join(parts)
        rows[r][col] = value
    elif kind == "typo":
        rows[r][col] = typo(rows[r][col], case.get("k", 0))
    elif kind == "dup_header":
        other = rows[0].index(tasks[(t + 1) % len(tasks)])
        rows[0][other] = rows[0][col] if not case.get("case") else rows[0][col].lower() + " "
    elif kind == "name_space":
        rows[r][name_col] = "  " + rows[r][name_col] + " "
    elif kind == "long_name":
        rows[r][name_col] = rows[r][name_col] + "x" * 200_000
    elif kind == "extra_field":
        rows[r].append("5")
    elif kind == "bom":
        prefix = "\ufeff"
    elif kind == "crlf":
        eol = "\r\n"
    elif kind == "delimiter":
        delimiter = case["delimiter"]
        suffix = ".tsv" if delimiter == "\t" else ".txt"
    if kind == "markdown":
        data = markdown(rows, case.get("outer", True), case.get("blank_after"))
        suffix = ".md"
        with_blank = case.get("blank_after") is not None and case["blank_after"] < len(rows) - 2
        lines = [1] + [i + 3 + (with_blank and i > case["blank_after"]) for i in range(len(rows) - 1)]
        verdict = _verdict(rows, lines, tasks)
        if not case.get("outer", True):  # GFM: a row starting or ending with an empty cell loses it (read as a pipe)
            ragged = next((line for r, line in zip(rows[1:], lines[1:]) if not r[0].strip() or not r[-1].strip()),
                          None)
            if ragged is not None and ("refuse" not in verdict or verdict["refuse"]["line"] > ragged):
                verdict = {"refuse": {"line": ragged}}
        if with_blank and ("refuse" not in verdict or verdict["refuse"]["line"] > case["blank_after"] + 5):
            verdict = {"refuse": {"line": case["blank_after"] + 5}}  # the first row after the blank line
        return suffix, data.encode(), verdict
    if kind in ("json", "jsonl"):
        records = [dict(zip(rows[0], r)) for r in rows[1:]]
        lines = [0, *range(1, len(records) + 1)]  # row k of the data is line (JSONL) or record (JSON) k
        verdict = _verdict(rows, lines, tasks)
        if kind == "json":
            return ".json", json.dumps(records).encode(), verdict
        text_lines = [json.dumps(rec) for rec in records]
        if case.get("dup"):  # a key twice in one object: json.loads would keep the last silently
            k = r - 1
            text_lines[k] = text_lines[k][:-1] + f", {json.dumps(tasks[t])}: \"1\"}}"
            verdict = {"refuse": {"line": k + 1}}
        return ".jsonl", ("\n".join(text_lines) + "\n").encode(), verdict
    data = prefix + render(rows, delimiter, eol)
    reread, lines = split_rows(data.lstrip("\ufeff"), delimiter)
    return suffix, data.encode("utf-8"), _verdict(reread, lines, tasks)


def _verdict(rows, lines, tasks) -> dict:
    try:
        return oracle(rows, lines, tasks)
    except Refuse as exc:
        return {"refuse": {"line": exc.line, "column": exc.column, "value": exc.value}}


# -- running auditkit and classifying the outcome -----------------------------------------------------------------
def run_auditkit(path: Path, tasks: list[str]):
    from click.testing import CliRunner

    from auditkit.cli import cli

    return CliRunner().invoke(cli, ["rerank", str(path), "--benchmark", "generic", "--tasks", ",".join(tasks),
                                    "--format", "json"])


def _rows(doc: dict) -> list[dict]:
    summary = doc.get("summary", doc)
    return summary.get("rows") or doc.get("rows") or []


def _score(row: dict):
    rules = row.get("rules") or {}
    got = rules.get("arithmetic") or {}
    return got.get("score", row.get("arithmetic_score"))


def classify(case: dict, tmp_path: Path) -> tuple[str, str]:
    """(outcome class, detail): right, refused, crash, silent-misparse, false-refusal, bad-message."""
    suffix, data, verdict = build(case)
    path = tmp_path / f"case{suffix}"
    path.write_bytes(data)
    result = run_auditkit(path, BASES[case["base"]][1])
    out = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return "crash", f"{type(result.exception).__name__}: {result.exception}"
    if "Traceback" in out or result.exit_code not in (0, 2):
        return "crash", f"exit {result.exit_code}: {out[-400:]}"
    if "refuse" in verdict:
        if result.exit_code == 0:
            return "silent-misparse", f"oracle refuses {verdict['refuse']}, auditkit exit 0"
        want = verdict["refuse"]
        message = out.strip().splitlines()[-1] if out.strip() else ""
        if f"line {want['line']}" not in message:
            return "bad-message", f"expected line {want['line']} in: {message[:300]}"
        if want.get("value") is not None and want["column"] not in message:
            return "bad-message", f"expected column {want['column']!r} in: {message[:300]}"
        if want.get("value") is not None and repr(want["value"].strip())[:60] not in message \
                and repr(want["value"])[:60] not in message:
            return "bad-message", f"expected value {want['value']!r:.60} in: {message[:300]}"
        return "refused", message[:120]
    if result.exit_code == 2:
        return "false-refusal", out.strip()[-300:]
    doc = json.loads(result.stdout if hasattr(result, "stdout") else out)
    got = {row["line"]: _score(row) for row in _rows(doc)}
    scored = {line: s for line, s in got.items() if s is not None}
    if set(scored) != set(verdict["scores"]):
        return "silent-misparse", (f"scored lines differ: auditkit only {sorted(set(scored) - set(verdict['scores']))}"
                                   f", oracle only {sorted(set(verdict['scores']) - set(scored))}")
    bad = [(line, scored[line], v) for line, v in verdict["scores"].items() if abs(scored[line] - v) > 1e-9]
    if bad:
        return "silent-misparse", f"scores differ (line, auditkit, oracle): {bad[:3]}"
    if verdict["thousands"] and "thousands" not in out:
        return "silent-misparse", "a thousands separator was read without a note"
    return "right", ""


OK = {"right", "refused"}

# -- the strategies ------------------------------------------------------------------------------------------------
bases = st.sampled_from(sorted(BASES))
rows_ = st.integers(0, 200)
tasks_ = st.integers(0, 20)
cases = st.one_of(
    st.fixed_dictionaries({"base": bases, "kind": st.just("cell"), "row": rows_, "task": tasks_,
                           "value": st.sampled_from(SPECIALS), "component": st.integers(0, 2)}),
    st.fixed_dictionaries({"base": bases, "kind": st.just("typo"), "row": rows_, "task": tasks_,
                           "k": st.integers(0, 6)}),
    st.fixed_dictionaries({"base": bases, "kind": st.just("dup_header"), "task": tasks_, "case": st.booleans()}),
    st.fixed_dictionaries({"base": bases, "kind": st.sampled_from(["name_space", "long_name", "extra_field"]),
                           "row": rows_}),
    st.fixed_dictionaries({"base": bases, "kind": st.sampled_from(["bom", "crlf"])}),
    st.fixed_dictionaries({"base": bases, "kind": st.just("delimiter"), "delimiter": st.sampled_from(["\t", ";"])}),
    st.fixed_dictionaries({"base": bases, "kind": st.just("markdown"), "outer": st.booleans(),
                           "blank_after": st.none() | st.integers(0, 30)}),
    st.fixed_dictionaries({"base": bases, "kind": st.just("jsonl"), "row": rows_, "task": tasks_,
                           "dup": st.booleans()}),
    st.fixed_dictionaries({"base": bases, "kind": st.just("json")}),
)


@pytest.mark.parametrize("base", sorted(BASES))
def test_unmutated_tables_agree_with_the_oracle(base, tmp_path):
    assert classify({"base": base, "kind": "none"}, tmp_path) == ("right", "")


def test_the_oracle_catches_a_planted_misparse(tmp_path, monkeypatch):
    """The check can fail: with auditkit's cell parser made to read 'inf' as a huge number, the case is classed as
    a silent misparse (not as right or refused)."""
    from auditkit import cells

    real = cells._number
    monkeypatch.setattr(cells, "_number", lambda t: (1e300, 0.05, "", False, False) if t.strip() == "1e309"
                        else real(t))
    cells._CACHE.clear()
    case = {"base": "superglue", "kind": "cell", "row": 3, "task": 0, "value": "1e309"}
    assert classify(case, tmp_path)[0] == "silent-misparse"
    cells._CACHE.clear()


@settings(max_examples=600, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=cases)
def test_fuzz_outcome_is_right_or_refused(case, tmp_path):
    outcome, detail = classify(case, tmp_path)
    assert outcome in OK, f"{outcome}: {detail}\ncase: {json.dumps(case)}"


CORPUS_CASES = sorted(CORPUS.glob("*.json"))


@pytest.mark.parametrize("path", CORPUS_CASES, ids=[p.stem for p in CORPUS_CASES])
def test_corpus_case(path, tmp_path):
    entry = json.loads(path.read_text())
    outcome, detail = classify(entry["case"], tmp_path)
    assert outcome == entry["expect"], f"{outcome}: {detail} ({entry['was']})"


def explore(n: int, seed: int = 0) -> Counter:
    """Run n random cases; print each failure as a corpus entry; return the outcome counts."""
    import random
    import tempfile

    rng = random.Random(seed)
    counts: Counter = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(n):
            case = _draw(rng)
            outcome, detail = classify(case, Path(tmp))
            counts[outcome] += 1
            if outcome not in OK:
                print(json.dumps({"case": case, "expect": "right|refused", "was": f"{outcome}: {detail}"}))
    return counts


def _draw(rng) -> dict:
    base = rng.choice(sorted(BASES))
    kind = rng.choice(["cell", "cell", "cell", "typo", "dup_header", "name_space", "long_name", "extra_field", "bom",
                       "crlf", "delimiter", "markdown", "jsonl", "json"])
    case = {"base": base, "kind": kind, "row": rng.randrange(200), "task": rng.randrange(20)}
    if kind == "cell":
        case.update(value=rng.choice(SPECIALS), component=rng.randrange(3))
    elif kind == "typo":
        case["k"] = rng.randrange(7)
    elif kind == "dup_header":
        case["case"] = rng.random() < 0.5
    elif kind == "delimiter":
        case["delimiter"] = rng.choice(["\t", ";"])
    elif kind == "markdown":
        case.update(outer=rng.random() < 0.5, blank_after=rng.choice([None, rng.randrange(30)]))
    elif kind == "jsonl":
        case["dup"] = rng.random() < 0.5
    return case


if __name__ == "__main__":
    counts = explore(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
    print(dict(counts), file=sys.stderr)
