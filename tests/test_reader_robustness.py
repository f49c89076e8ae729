"""Readers and cells that refuse or report instead of guessing: overflow, locale separators, duplicate headers,
whitespace in names, GFM Markdown, long lines, the padding-column repair, long-format missing metrics, the tensor
text loader, and the vectorized numeric path."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from auditkit import cells, leaderboard
from auditkit.arrays import load_array
from auditkit.cli import cli
from auditkit.errors import InputError, ParseError
from auditkit.leaderboard import read_leaderboard

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT.parent / "shared" / "leaderboards-raw"


def write(tmp_path, name, text):
    p = tmp_path / name
    (p.write_bytes if isinstance(text, bytes) else p.write_text)(text)
    return str(p)


TABLE = "System,A,B\nalpha,80.1,70.2\nbeta,{cell},60.5\ngamma,75.0,65.0\n"


# -- cells: non-finite values ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["1e309", "9e308", "9" * 310, "-1e309", "inf", "-Infinity", "93.9/1e309"])
def test_overflow_and_infinity_are_refused_with_place_and_value(tmp_path, cell):
    path = write(tmp_path, "t.csv", TABLE.format(cell=cell))
    result = CliRunner().invoke(cli, ["rerank", path])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "line 3" in result.output and "column 'A'" in result.output and repr(cell) in result.output


def test_zero_with_a_huge_exponent_is_zero():
    assert cells.parse_cell("0e400").values == (0.0,)


def test_overflow_message_says_why():
    assert "beyond 1.8e308" in cells.parse_cell("1e309").error
    assert cells.parse_cell("1.7e308").values == (1.7e308,)  # the largest finite values still read


# -- cells: locale separators ------------------------------------------------------------------------------------
def test_decimal_comma_in_semicolon_file_is_refused(tmp_path):
    path = write(tmp_path, "t.csv", "System;A;B\nalpha;60,500;70\nbeta;61;72\n")
    with pytest.raises(ParseError) as err:
        read_leaderboard(path)
    e = err.value
    assert (e.line, e.column, e.value) == (2, "A", "60,500") and "ambiguous" in str(e)


def test_thousands_separator_is_read_with_a_note(tmp_path):
    path = write(tmp_path, "t.csv", 'System,Elo,B\nalpha,"1,234.5",70\nbeta,"1,100",72\n')
    lb = read_leaderboard(path)
    assert lb.numeric("Elo").values[:, 0].tolist() == [1234.5, 1100.0]
    assert any("thousands separators removed in 2 cell(s)" in n and "'1,234.5'" in n for n in lb.notes)


def test_plain_column_has_no_thousands_note(tmp_path):
    lb = read_leaderboard(write(tmp_path, "t.csv", "System,A\nalpha,1234.5\nbeta,1100\n"))
    lb.numeric("A")
    assert not any("thousands" in n for n in lb.notes)


# -- duplicate headers, every reader -----------------------------------------------------------------------------
def _parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.Table.from_arrays([pa.array(["a", "b"]), pa.array([1.0, 2.0]), pa.array([3.0, 4.0])],
                                 names=["System", "ARC", "ARC"])
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    return str(path)


@pytest.mark.parametrize("fmt", ["csv", "csv-case", "json-records", "json-columns", "jsonl", "markdown", "parquet"])
def test_duplicate_headers_are_refused_naming_both(tmp_path, fmt):
    if fmt == "csv":
        path = write(tmp_path, "t.csv", "System,ARC,MMLU,ARC\na,1,2,3\nb,4,5,6\n")
    elif fmt == "csv-case":
        path = write(tmp_path, "t.csv", "System,ARC,MMLU,arc \na,1,2,3\nb,4,5,6\n")
    elif fmt == "json-records":
        path = write(tmp_path, "t.json", '[{"System": "a", "ARC": 1, "ARC": 2}]')
    elif fmt == "json-columns":
        path = write(tmp_path, "t.json", '{"columns": ["System", "ARC", "ARC"], "data": [["a", 1, 2]]}')
    elif fmt == "jsonl":
        path = write(tmp_path, "t.jsonl", '{"System": "a", "ARC": 1}\n{"System": "b", "ARC": 1, "ARC": 2}\n')
    elif fmt == "markdown":
        path = write(tmp_path, "t.md", "| System | ARC | ARC |\n|---|---|---|\n| a | 1 | 2 |\n")
    else:
        path = _parquet(tmp_path)
    with pytest.raises(ParseError) as err:
        read_leaderboard(path)
    msg = str(err.value)
    assert "ARC" in msg or "arc" in msg
    assert ("2" in msg and "3" in msg) or ("4" in msg)  # both positions
    if fmt == "jsonl":
        assert err.value.line == 2
    if fmt in ("csv", "markdown"):
        assert err.value.line == 1


# -- system names ------------------------------------------------------------------------------------------------
def test_whitespace_only_name_differences_are_one_system_with_a_note(tmp_path):
    path = write(tmp_path, "t.jsonl", '{"system": "Alpha ", "task": "A", "value": 1}\n'
                                      '{"system": "Alpha", "task": "B", "value": 2}\n'
                                      '{"system": "Beta", "task": "A", "value": 3}\n'
                                      '{"system": "Beta", "task": "B", "value": 4}\n')
    lb = read_leaderboard(path)
    assert lb.systems == ["Alpha", "Beta"]
    assert any("whitespace normalized" in n and "'Alpha '" in n for n in lb.notes)


def test_whitespace_in_wide_json_names_is_noted(tmp_path):
    lb = read_leaderboard(write(tmp_path, "t.json", '[{"System": "Alpha  One", "A": 1}, {"System": "B", "A": 2}]'))
    assert lb.systems == ["Alpha One", "B"]
    assert any("whitespace normalized in 1 name" in n for n in lb.notes)


# -- Markdown per GFM --------------------------------------------------------------------------------------------
def test_markdown_rows_without_outer_pipes(tmp_path):
    path = write(tmp_path, "t.md", "System | A | B\n-|-|-\nalpha | 1 | 2\n| beta | 3 | 4 |\ngamma|5|6\n")
    lb = read_leaderboard(path)
    assert lb.systems == ["alpha", "beta", "gamma"]
    assert lb.numeric("B").values[:, 0].tolist() == [2, 4, 6]


def test_markdown_rows_after_a_blank_line_are_refused_not_dropped(tmp_path):
    path = write(tmp_path, "t.md", "| System | A |\n|---|---|\n| alpha | 1 |\n\n| beta | 2 |\n")
    with pytest.raises(ParseError) as err:
        read_leaderboard(path)
    assert err.value.line == 5 and "blank line" in str(err.value) and "beta" in str(err.value)


def test_markdown_rows_without_pipes_after_a_blank_line_are_refused(tmp_path):
    path = write(tmp_path, "t.md", "System | A\n--- | ---\nalpha | 1\n\nbeta | 2\n")
    with pytest.raises(ParseError) as err:
        read_leaderboard(path)
    assert err.value.line == 5


def test_markdown_second_table_is_refused(tmp_path):
    path = write(tmp_path, "t.md", "| System | A |\n|---|---|\n| a | 1 |\n\nText.\n\n| System | B |\n|---|---|\n"
                                   "| b | 2 |\n")
    with pytest.raises(ParseError, match="second table at line 7"):
        read_leaderboard(path)


def test_markdown_table_ends_at_heading_and_text_is_fine(tmp_path):
    path = write(tmp_path, "t.md", "# Board\n\n| System | A |\n|:--|--:|\n| a | 1 |\n| b | 2 |\n## Notes\nfine\n")
    lb = read_leaderboard(path)
    assert lb.systems == ["a", "b"] and lb.lines == [5, 6]


# -- CSV: long lines, padding repair -----------------------------------------------------------------------------
def test_line_longer_than_the_csv_module_default_limit(tmp_path):
    n = 30_000  # ~ 200k characters in the header line
    header = "System," + ",".join(f"task{j}" for j in range(n))
    row = "alpha," + ",".join("50.5" for _ in range(n))
    row2 = "beta," + ",".join("40.5" for _ in range(n))
    lb = read_leaderboard(write(tmp_path, "t.csv", f"{header}\n{row}\n{row2}\n"))
    assert len(lb.columns) == n + 1 and lb.numeric(f"task{n - 1}").values[1, 0] == 40.5


def test_one_long_cell(tmp_path):
    name = "x" * 200_000
    lb = read_leaderboard(write(tmp_path, "t.csv", f"System,A\n{name},1\nb,2\n"))
    assert lb.systems[0] == name


def test_padding_repair_drops_the_trailing_field_not_an_empty_task(tmp_path):
    # the 'B' column is empty for every system; the trailing delimiter is the padding
    path = write(tmp_path, "t.csv", "System,A,B,C\nalpha,1,,3,\nbeta,4,,6,\n")
    lb = read_leaderboard(path)
    assert lb.numeric("C").values[:, 0].tolist() == [3, 6]
    assert any("trailing field 5" in n for n in lb.notes)


def test_padding_repair_refuses_when_ambiguous(tmp_path):
    path = write(tmp_path, "t.csv", "System,A,B,C\nalpha,1,,,3\nbeta,4,,,6\n")
    with pytest.raises(ParseError, match="which one is padding cannot be told"):
        read_leaderboard(path)


# -- long format -------------------------------------------------------------------------------------------------
def test_long_format_missing_markers_for_a_two_metric_task(tmp_path):
    path = write(tmp_path, "t.csv", "system,task,metric,value\na,MRPC,F1,-\na,MRPC,Acc,n/a\nb,MRPC,F1,90\n"
                                    "b,MRPC,Acc,80\na,RTE,acc,70\nb,RTE,acc,60\nc,MRPC,F1,88\nc,MRPC,Acc,-\n"
                                    "c,RTE,acc,50\n")
    lb = read_leaderboard(path)
    pc = lb.parsed("MRPC")
    assert not pc.errors
    assert pc.missing.tolist() == [True, False, True]
    assert any("metric missing are treated as missing: c MRPC" in n for n in lb.notes)


# -- the tensor text loader --------------------------------------------------------------------------------------
def test_typo_in_the_first_data_row_is_an_error_not_a_header(tmp_path):
    path = write(tmp_path, "p.csv", "0.2,O.8\n0.5,0.5\n")
    with pytest.raises(ParseError) as err:
        load_array(path)
    assert (err.value.line, err.value.column, err.value.value) == (1, "2", "O.8")


def test_header_is_still_skipped(tmp_path):
    assert load_array(write(tmp_path, "p.csv", "p0,p1\n0.2,0.8\n")).tolist() == [[0.2, 0.8]]


@pytest.mark.parametrize("cell", ["inf", "nan", "1e309"])
def test_non_finite_text_cells_are_refused(tmp_path, cell):
    with pytest.raises(ParseError, match="line 2"):
        load_array(write(tmp_path, "p.csv", f"0.2,0.8\n0.5,{cell}\n"))


def test_empty_matrix_is_refused(tmp_path):
    path = tmp_path / "s.npy"
    np.save(path, np.zeros((0, 4)))
    with pytest.raises(InputError, match=r"empty array of shape \(0, 4\)"):
        load_array(str(path))


# -- the vectorized numeric path and the parse cache -------------------------------------------------------------
def test_fast_numeric_path_runs_on_plain_decimals(monkeypatch):
    """The fast path must run whenever every cell is a plain decimal (it never ran before: a -1 from np.char.find
    counted as 'found')."""
    assert leaderboard._fast_numeric(["80.1", "70", " 65.25 ", "-1.5"]) is not None
    for bad in (["1e5", "2"], ["nan", "1"], ["inf", "1"], ["1,234", "1"], ["", "1"], ["1_000", "2"], ["9" * 310]):
        assert leaderboard._fast_numeric(bad) is None, bad


@pytest.mark.parametrize("column", [["80.1", "70", "65.25", "-1.5", "+.5", "3."], ["12", "7", "0", "100"]])
def test_fast_and_careful_paths_agree(column):
    fast = leaderboard._fast_numeric(column)
    assert fast is not None
    careful = [cells.parse_cell(c) for c in column]
    assert fast[0].tolist() == [c.values[0] for c in careful]
    assert fast[1].tolist() == pytest.approx([c.half_ulps[0] for c in careful])


def test_parse_cache_does_not_fill_with_system_names(tmp_path):
    cells._CACHE.clear()
    names = "\n".join(f"system-number-{i},{i % 7}.5" for i in range(500))
    lb = read_leaderboard(write(tmp_path, "t.csv", "System,A\n" + names + "\n"))
    lb.parsed("System")
    lb.numeric("A")
    assert not any(k.startswith("system-number-") for k in cells._CACHE)


def test_bom_and_crlf(tmp_path):
    lb = read_leaderboard(write(tmp_path, "t.csv", b"\xef\xbb\xbfSystem,A\r\nalpha,1.5\r\nbeta,2.5\r\n"))
    assert lb.columns == ["System", "A"] and lb.numeric("A").values[:, 0].tolist() == [1.5, 2.5]


def test_contrastive_diagnose_refuses_an_empty_score_matrix(tmp_path):
    """Was a ZeroDivisionError; now exit 2 naming the file and the shape."""
    path = tmp_path / "scores.npy"
    np.save(path, np.zeros((0, 4)))
    result = CliRunner().invoke(cli, ["contrastive", "diagnose", str(path), "--positive-index", "0"])
    assert result.exit_code == 2, result.output
    assert str(path) in result.output and "(0, 4)" in result.output
