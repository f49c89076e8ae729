"""Output renderers as plugins (auditkit_register_renderers): every first-party format, every table of a report in
each, the terminal layout (width, display width, decimals, severity order, colour), LaTeX, Parquet, JSONL, CSV,
the dynamic --format, and the Jupyter fragment."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import auditkit
from auditkit.cli import cli
from auditkit.records import Renderer
from auditkit.report import Finding, Report

ROOT = Path(__file__).resolve().parents[1]
GLUE = ROOT / "leaderboards" / "glue" / "glue-2021-vote-and-rank.csv"
FORMATS = ("table", "csv", "json", "jsonl", "markdown", "html", "latex", "parquet")


def sample() -> Report:
    r = Report("auditkit test: sample", provenance={"auditkit_version": "0", "command": "x", "inputs": {}},
               summary={"benchmark": "demo", "systems": 3})
    r.add(Finding("c.info", "info", "just context", system="A"))
    r.add(Finding("c.err", "error", "the published score is wrong", system="B", column="T1", evidence={"line": 7}))
    r.add(Finding("c.warn", "warning", "a warning between", system="C", evidence={"line": 9}))
    r.tables["ranks by rule"] = [{"system": "A", "score": 89.96, "published": 91, "Δ": "+1"},
                                 {"system": "B", "score": 88.913, "published": 90.8, "Δ": "-1"},
                                 {"system": "C", "score": 0.0, "published": None, "Δ": "0"}]
    r.tables["winners"] = [{"rule": "mean", "winner": "A"}]
    return r


def test_every_first_party_format_is_a_registered_renderer():
    found = auditkit.get_registry().records("renderers")
    assert set(FORMATS) <= set(found)
    assert all(isinstance(found[n], Renderer) and found[n].suffix.startswith(".") for n in FORMATS)
    assert found["parquet"].binary and not found["csv"].binary


@pytest.mark.parametrize("fmt", ["table", "csv", "jsonl", "markdown", "html", "latex"])
def test_every_format_carries_every_table(fmt):
    text = sample().render(fmt)
    for needle in ("88.9", "winners" if fmt not in ("csv", "jsonl") else "mean", "the published score is wrong"):
        assert needle in text, (fmt, needle)


def test_terminal_puts_verdict_first_groups_by_severity_and_shows_lines():
    text = sample().render("table", width=100, color=False)
    lines = text.splitlines()
    assert lines[3].startswith("ERROR:")  # the verdict under the title
    assert text.index("ERROR (1)") < text.index("WARNING (1)") < text.index("INFO (1)") < text.index("ranks by rule")
    assert "line 7" in text and "line 9" in text


def test_terminal_numbers_have_fixed_decimals_per_column():
    text = sample().render("table", width=100, color=False)
    block = text[text.index("ranks by rule"):text.index("winners")]
    assert "89.960" in block and "88.913" in block and " 0.000" in block  # score: 3 decimals for all
    assert "91.0" in block and "90.8" in block  # published: 1 decimal, 91 -> 91.0
    fixed = sample().render("table", width=100, color=False, digits=1)
    assert "88.9 " in fixed and "89.96" not in fixed


def test_terminal_fits_its_width_and_counts_wide_characters():
    from auditkit_plugins.renderers.terminal import display_width

    r = Report("t", tables={"t": [{"system": "文杰" * 30, "note": "x " * 200, "score": 1.5},
                                  {"system": "Model", "note": "short", "score": 10.25}]},
               findings=[Finding("c", "warning", "word " * 100)])
    for width in (60, 100):
        text = r.render("table", width=width, color=False)
        assert max(display_width(line) for line in text.splitlines() if not line.startswith("  ")
                   or "word" in line) <= width
    table = r.render("table", width=60, color=False).split("\n\nt\n")[1].splitlines()
    assert len({display_width(line) for line in table[2:4]}) == 1  # rows align by display width, CJK included
    assert "…" in r.render("table", width=60, color=False)


def test_terminal_width_from_columns_and_unlimited_when_piped(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    long = Report("t", findings=[Finding("c", "info", "word " * 60)])
    monkeypatch.setenv("COLUMNS", "50")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr("sys.stdout", Tty())
    assert max(len(x) for x in long.render("table").splitlines()) <= 50
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert max(len(x) for x in long.render("table").splitlines()) > 250  # a pipe gets whole lines, COLUMNS or not


def test_colour_only_on_a_tty_without_no_color(monkeypatch):
    from auditkit_plugins.renderers import terminal

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdout", Tty())
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert terminal.use_colour() and "\x1b[" in sample().render("table")
    monkeypatch.setenv("NO_COLOR", "1")
    assert not terminal.use_colour() and "\x1b[" not in sample().render("table")
    monkeypatch.setattr("sys.stdout", io.StringIO())
    monkeypatch.delenv("NO_COLOR")
    assert "\x1b[" not in sample().render("table")


def test_colour_never_reaches_a_file(tmp_path):
    from auditkit.cli import emit

    out = tmp_path / "t.txt"
    emit(sample().render("table", color=True), str(out), inputs=[])
    assert "\x1b" not in out.read_text() and "ERROR" in out.read_text()


def test_latex_is_booktabs_with_best_in_bold_and_arrows():
    tex = sample().render("latex")
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"\textbf{89.960}" in tex and r"\textbf{88.913}" not in tex
    assert r"$\uparrow$1" in tex and r"$\downarrow$1" in tex and r"$\Delta$" in tex
    evil = Report("t", tables={"t": [{"system": "a_b & 50% #1 $x$ {y}", "score": 1.0}]}).render("latex")
    assert r"a\_b \& 50\% \#1 \$x\$ \{y\}" in evil


def test_parquet_and_jsonl_load_in_pandas(tmp_path):
    import pandas as pd

    rr = auditkit.rerank(str(GLUE), ["arithmetic", "harmonic"]).to_report()
    data = rr.render("parquet")
    assert isinstance(data, bytes) and data[:4] == b"PAR1"
    df = pd.read_parquet(io.BytesIO(data))
    assert {"system", "harmonic_rank", "arithmetic_score"} <= set(df.columns) and len(df) == len(rr.records)
    lines = pd.read_json(io.StringIO(sample().render("jsonl")), lines=True)
    assert set(lines["table"]) == {"ranks by rule", "winners", "findings"}


def test_csv_of_a_report_with_tables_has_every_table_in_long_form():
    import csv

    rows = list(csv.DictReader(io.StringIO(sample().render("csv"))))
    assert {r["table"] for r in rows} == {"ranks by rule", "winners", "findings"}
    assert [r["system"] for r in rows if r["table"] == "ranks by rule"] == ["A", "B", "C"]
    only = list(csv.DictReader(io.StringIO(sample().render("csv", table="winners"))))
    assert only == [{"rule": "mean", "winner": "A"}]
    bare = Report("t", findings=[Finding("c", "info", "m")])
    assert bare.render("csv").splitlines()[0] == "check,severity,system,column,message"


def test_cli_lists_and_validates_formats():
    res = CliRunner().invoke(cli, ["rerank", str(GLUE), "--format", "nope"])
    assert res.exit_code == 2 and "latex" in res.output and "parquet" in res.output
    res = CliRunner().invoke(cli, ["rerank", str(GLUE), "--format", "latex", "--digits", "1"])
    assert res.exit_code == 0 and r"\toprule" in res.output and r"\textbf{91.1}" in res.output
    assert "91.09" not in res.output
    res = CliRunner().invoke(cli, ["rerank", str(GLUE), "--format", "latex"])  # --digits does not stick
    assert r"\textbf{91.09}" in res.output


def test_parquet_to_a_file_and_refused_on_a_terminal(tmp_path):
    out = tmp_path / "r.parquet"
    res = CliRunner().invoke(cli, ["rerank", str(GLUE), "--format", "parquet", "-o", str(out)])
    assert res.exit_code == 0 and out.read_bytes()[:4] == b"PAR1"


def test_repr_html_is_a_scoped_fragment_cut_like_pandas():
    rows = [{"system": f"s{i}", "score": float(i)} for i in range(100)]
    frag = Report("t", tables={"big": rows})._repr_html_()
    assert not frag.lstrip().lower().startswith(("<!doctype", "<html")) and "<body" not in frag
    styles = re.findall(r"<style>(.*?)</style>", frag, re.S)
    selectors = [s.strip() for css in styles for s in re.findall(r"([^{}]+)\{", css)]
    assert selectors and all(s.startswith(".ak-report") for sel in selectors for s in sel.split(","))
    assert "s0<" in frag and "s99<" in frag and "s50<" not in frag and "100 rows" in frag


def test_a_third_party_renderer_is_used_by_the_cli(tmp_path):
    class Plugin:
        @auditkit.hookimpl
        def auditkit_register_renderers(self):
            return [Renderer("shout", lambda report, **o: report.title.upper() + "\n", "text/plain", ".txt")]

    auditkit.get_registry().register(Plugin(), "shout-test")
    res = CliRunner().invoke(cli, ["rerank", str(GLUE), "--format", "shout"])
    assert res.exit_code == 0 and res.output.startswith("AUDITKIT RERANK: GLUE")


def test_the_core_falls_back_without_the_renderer_plugin(monkeypatch):
    monkeypatch.setenv("AUDITKIT_DISABLE_PLUGINS", "renderers")
    auditkit.reset_registry()
    text = sample().render("markdown")
    assert text.startswith("## auditkit test: sample")
    with pytest.raises(auditkit.UsageError):
        sample().render("latex")
    auditkit.reset_registry()


def test_html_page_is_self_contained_and_marks_numbers_and_deltas():
    page = sample().render("html")
    assert "http://" not in page and "https://" not in page and "<script src" not in page
    assert "class='num'" in page and "class='num up'" in page and "class='num down'" in page
    assert page.index("ak-verdict") < page.index("Findings") < page.index("ranks by rule")


def test_ranking_is_joined_with_task_scores_on_the_html_page():
    r = Report("t", footer=["fact"], tables={
        "ranking": [{"rank": 1, "score": 2.0, "system": "A"}, {"rank": 2, "score": 1.0, "system": "B (reference)"}],
        "task scores": [{"system": "A", "T1": 3.0, "T2": 1.0}, {"system": "B", "T1": 1.0, "T2": 1.0}]})
    page = r.render("html")
    assert "<h2>task scores</h2>" not in page and "ak-task" in page and page.count("rgba(31,119,180") == 4


def test_demo_data_writes_the_example_files_and_refuses_to_overwrite(tmp_path):
    res = CliRunner().invoke(cli, ["demo-data", str(tmp_path / "d")])
    assert res.exit_code == 0, res.output
    names = {p.name for p in (tmp_path / "d").iterdir()}
    assert {"scores.npy", "real.npy", "fake.npy", "mycritics.py", "some-table.tsv", "battles.jsonl",
            "SuperGLUE.csv", "dev_probs.npy", "sentence_vectors.npy"} <= names
    res = CliRunner().invoke(cli, ["demo-data", str(tmp_path / "d")])
    assert res.exit_code == 2 and "--force" in res.output
    assert CliRunner().invoke(cli, ["demo-data", str(tmp_path / "d"), "--force"]).exit_code == 0
