"""Every raw snapshot in shared/leaderboards-raw is read correctly or refused with a clear error; the formats."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from auditkit.errors import ParseError
from auditkit.leaderboard import read_leaderboard

from pathlib import Path

RAW = Path(__file__).resolve().parents[2] / "shared" / "leaderboards-raw"

RAW_FILES = sorted(p for p in RAW.glob("*/*") if p.suffix in (".csv", ".tsv"))


@pytest.mark.parametrize("path", RAW_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_raw_snapshot_reads(path):
    lb = read_leaderboard(str(path))
    assert len(lb) > 0
    assert all(lb.systems), "every row has a system name"
    # every data line of the file became a row: nothing dropped (quoted newlines counted once)
    assert len(lb) == len(set(lb.lines))
    assert len(lb.numeric_columns()) >= 1


def test_ranking_nlp_systems_mixed_tabs_and_commas():
    lb = read_leaderboard(str(RAW / "RankingNLPSystems/data-glue.data.csv"))
    assert lb.columns[:4] == ["Model", "Score", "CoLA", "SST-2"]
    assert lb.systems[0] == "Microsoft Alexander v-team | Turing NLR v5"
    assert lb.numeric("Score").values[0, 0] == 91.2
    assert lb.numeric("MRPC-a").values[0, 0] == 93.8 and lb.numeric("MRPC-b").values[0, 0] == 91.7


def test_superglue_quoted_names_with_tabs():
    lb = read_leaderboard(str(RAW / "RankingNLPSystems/data-superglue.data.csv"))
    assert lb.systems[2] == "ERNIE Team - Baidu | ERNIE 3.0"
    # AX-g is ordered parity, accuracy in this file: header 'AX-g-b ,AX-g-a'
    assert lb.columns[-2:] == ["AX-g-b", "AX-g-a"]
    assert lb.numeric("AX-g-b").values[2, 0] == 92.7


def test_xtreme_header_one_field_short_is_repaired_and_reported():
    lb = read_leaderboard(str(RAW / "RankingNLPSystems/data-xtrem.data.csv"))
    assert any("empty in every row and was dropped" in n for n in lb.notes)
    # Turing ULR v5: Score 84.5, Classification 90.3 (not shifted by one)
    assert lb.numeric("Score").values[0, 0] == 84.5
    assert lb.numeric("Classification").values[0, 0] == 90.3


def test_vtab_unnamed_first_column_is_named_and_reported():
    lb = read_leaderboard(str(RAW / "benchbench-socialfoundations/vtab-leaderboard.tsv"))
    assert lb.system_column == "system" and lb.systems[0] == "Sup-Rotation-100%"
    assert any("had no name" in n for n in lb.notes)
    assert lb.numeric("Mean (selected datasets)").values[0, 0] == 90.2


def test_value_names_with_newlines_and_html_comments():
    lb = read_leaderboard(str(RAW / "vote_and_rank/leaderboards - VALUE.csv"))
    assert lb.systems[0] == "Human VALUE baseline"
    assert all("\n" not in s and "<!--" not in s for s in lb.systems)
    # the raw cell is kept next to the parsed value
    assert "<!--" in lb.raw[0][0]


def test_long_table_is_pivoted_with_nothing_lost():
    lb = read_leaderboard(str(RAW / "seaborn-data/glue.csv"))
    assert len(lb) == 8 and "CoLA" in lb.columns and "Year" in lb.columns
    ernie = lb.row_of("ERNIE")
    assert lb.numeric("MRPC").values[ernie, 0] == 93.9  # first metric only in this lossy copy


def test_long_table_duplicate_is_an_error_naming_both_lines(tmp_path):
    f = tmp_path / "long.csv"
    f.write_text("system,task,value\nA,t1,1\nA,t2,2\nA,t1,3\n")
    with pytest.raises(ParseError) as err:
        read_leaderboard(str(f))
    assert "line 4" in str(err.value) and "line 2" in str(err.value)


def test_ragged_row_is_refused_with_its_line(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("Model,Score,A,B\nx,1,2,3\ny,1,2\n")
    with pytest.raises(ParseError) as err:
        read_leaderboard(str(f))
    assert "line 3" in str(err.value) and "3 fields" in str(err.value)


def test_not_utf8_names_the_line(tmp_path):
    f = tmp_path / "latin1.csv"
    f.write_bytes("Model,Score\nA,1\nB\xe9,2\n".encode("latin-1"))
    with pytest.raises(ParseError, match="line 3.*UTF-8"):
        read_leaderboard(str(f))


def _glue_frame():
    return read_leaderboard(str(RAW / "vote_and_rank/leaderboards - GLUE.csv")).to_pandas()


def test_json_jsonl_parquet_markdown_and_dataframe_agree(tmp_path):
    df = _glue_frame()
    records = df.to_dict(orient="records")
    (tmp_path / "g.json").write_text(json.dumps(records))
    (tmp_path / "g.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    df.to_parquet(tmp_path / "g.parquet")
    md = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns) + "\n"
    md += "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False))
    (tmp_path / "g.md").write_text(md)
    reference = read_leaderboard(str(RAW / "vote_and_rank/leaderboards - GLUE.csv"))
    for name in ("g.json", "g.jsonl", "g.parquet", "g.md"):
        lb = read_leaderboard(str(tmp_path / name))
        assert lb.systems == reference.systems, name
        np.testing.assert_array_equal(lb.parsed("MRPC").values, reference.parsed("MRPC").values)
    from_df = read_leaderboard(df)
    assert from_df.systems == reference.systems


def test_stdin_is_read(tmp_path):
    data = (RAW / "benchbench-socialfoundations/glue-leaderboard.tsv").read_bytes()
    out = subprocess.run([sys.executable, "-m", "auditkit.cli", "rerank", "-", "--format", "json"], input=data,
                         capture_output=True, check=True)
    doc = json.loads(out.stdout)["summary"]
    assert doc["benchmark"] == "glue" and len(doc["rows"]) == 87
