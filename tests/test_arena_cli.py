"""Readers (battle logs and pair counts in every format), bad input (file, line, column, value; exit 2), and the
``auditkit arena`` command: formats, exit codes, the forest plot, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import auditkit
from auditkit.cli import cli
from auditkit_plugins.arena.readers import Columns, read_any, read_battles
from auditkit_plugins.arena.synthetic import simulate, write_battles

BATTLES = "model_a,model_b,winner\nx,y,model_a\ny,z,tie\nz,x,tie (bothbad)\nx,z,model_b\ny,x,model_b\n"


def run(*args):
    return CliRunner().invoke(cli, ["arena", *map(str, args)], catch_exceptions=False)


@pytest.fixture(scope="module")
def battles_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("arena")
    b = simulate(6, 3000, seed=31, categories=2)
    for suffix in ("csv", "tsv", "jsonl", "json", "parquet"):
        write_battles(b, str(d / f"battles.{suffix}"))
    return d, b


@pytest.mark.parametrize("suffix", ["csv", "tsv", "jsonl", "json", "parquet"])
def test_every_format_reads_to_the_same_counts(battles_dir, suffix):
    d, b = battles_dir
    pc = read_battles(str(d / f"battles.{suffix}"), Columns(category="category", style=("length",)))
    ref = b.counts()
    assert pc.models == ref.models and pc.n_battles == len(b)
    np.testing.assert_array_equal(pc.wins_a, ref.wins_a)
    np.testing.assert_array_equal(pc.bothbad, ref.bothbad)
    assert pc.battles.category is not None and pc.battles.style["length"].shape == (len(b), 2)
    assert len(pc.sha256) == 64


def test_column_names_are_configurable(tmp_path):
    p = tmp_path / "renamed.csv"
    p.write_text(BATTLES.replace("model_a,model_b,winner", "left,right,result"))
    pc = read_battles(str(p), Columns("left", "right", "result"))
    assert pc.n_battles == 5 and pc.models == ("x", "y", "z")
    out = run(p, "--model-a", "left", "--model-b", "right", "--winner", "result", "--format", "json")
    assert out.exit_code == 0, out.output


def test_pair_counts_tables_and_leaderbot_json(tmp_path):
    p = tmp_path / "counts.csv"
    p.write_text("model_a,model_b,wins_a,wins_b,ties,bothbad\nx,y,3,1,1,\ny,z,2,2,0,1\nz,x,1,4,0,0\nx,y,1,0,0,0\n")
    pc = read_any(str(p))
    assert pc.n_battles == 16 and pc.ordered
    assert any("summed" in n for n in pc.notes)  # the repeated x,y row
    j = tmp_path / "lb.json"
    j.write_text(json.dumps({"models": ["x", "y", "z"], "X": [[0, 1], [1, 2], [0, 2]],
                             "Y": [[3, 1, 1, 0], [2, 2, 0, 1], [4, 1, 0, 0]]}))
    lb = read_any(str(j))
    assert lb.n_battles == 15 and not lb.ordered


@pytest.mark.parametrize("text,line,column,value", [
    ("model_a,model_b,winner\nx,y,model_a\nx,y,draw\n", 3, "winner", "draw"),
    ("model_a,model_b,winner\nx,y,model_a\n,y,tie\n", 3, "model_a", ""),
    ("model_a,model_b,winner\nx,y,model_a\ny,y,tie\n", 3, "model_b", "y"),
])
def test_bad_battle_rows_name_file_line_column_and_value(tmp_path, text, line, column, value):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(auditkit.ParseError) as err:
        read_battles(str(p))
    e = err.value
    assert (e.source, e.line, e.column, e.value) == (str(p), line, column, value)
    out = run(p)
    assert out.exit_code == 2
    assert f"line {line}" in out.output and repr(column) in out.output and str(p) in out.output


def test_bad_input_of_every_kind_exits_2_with_a_clear_message(tmp_path):
    missing = tmp_path / "missing.csv"
    missing.write_text("a,b,winner\nx,y,model_a\n")
    out = run(missing)
    assert out.exit_code == 2 and "no column 'model_a'" in out.output and "a, b, winner" in out.output
    jl = tmp_path / "bad.jsonl"
    jl.write_text('{"model_a": "x", "model_b": "y", "winner": "model_a"}\n{"model_a": "x", \n')
    out = run(jl)
    assert out.exit_code == 2 and "line 2" in out.output and "not valid JSON" in out.output
    neg = tmp_path / "neg.csv"
    neg.write_text("model_a,model_b,wins_a,wins_b,ties\nx,y,3,-1,0\n")
    out = run(neg)
    assert out.exit_code == 2 and "line 2" in out.output and "'wins_b'" in out.output and "'-1'" in out.output
    out = run(tmp_path / "nope.csv")
    assert out.exit_code == 2 and "no such file" in out.output
    lb = tmp_path / "lb.json"
    lb.write_text(json.dumps({"models": ["x", "y"], "X": [[0, 5]], "Y": [[1, 1, 0, 0]]}))
    out = run(lb)
    assert out.exit_code == 2 and "X[0]" in out.output


def test_usage_errors_exit_2(tmp_path):
    p = tmp_path / "b.csv"
    p.write_text(BATTLES)
    for args, text in [(["--anchor", "nobody"], "anchor model 'nobody'"),
                       (["--model", "elo:k=-1"], "out of range"),
                       (["--model", "nosuch"], "unknown"),
                       (["--checks", "arena.nope"], "unknown arena check")]:
        out = run(p, *args)
        assert out.exit_code == 2 and text in out.output, (args, out.output)


@pytest.fixture(scope="module")
def leaderbot():
    pytest.importorskip("leaderbot")
    from auditkit_plugins.arena.readers import leaderbot_path

    return leaderbot_path()


def test_arena_on_the_real_counts_prints_ratings_tiers_and_findings(leaderbot):
    out = run(leaderbot, "--anchor", "mixtral-8x7b-instruct-v0.1", "--offset", 1114, "--model", "davidson")
    assert out.exit_code == 0, out.output
    text = out.output
    first = [ln for ln in text.splitlines() if ln.strip().startswith("1  ")][0]
    assert "chatgpt-4o-latest" in first
    for needle in ("rank set", "tier", "ratings by model", "davidson", "arena.position-bias",
                   "max |gradient| / battles", "competition ranking"):
        assert needle in text, needle


def test_json_report_has_the_ratings_table_and_exit_codes_follow_fail_on(tmp_path):
    b = simulate(6, 20000, seed=32, position_bias=0.4)
    p = write_battles(b, str(tmp_path / "biased.csv"))
    out = run(p, "--format", "json", "--bootstrap", 100)
    assert out.exit_code == 0
    doc = json.loads(out.output)
    rows = doc["tables"]["ratings"]
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows) and len(rows) == 6
    assert {"rating", "lower", "upper", "rank interval", "rank set", "tier", "battles"} <= set(rows[0])
    assert any(f["check"] == "arena.position-bias" for f in doc["findings"])
    assert doc["provenance"]["inputs"][p]
    assert run(p, "--fail-on", "warning").exit_code == 1


def test_disconnected_data_reports_and_exits_1_without_ratings(tmp_path):
    p = tmp_path / "split.csv"
    p.write_text("model_a,model_b,winner\na,b,model_a\nb,a,model_a\nc,d,model_b\nd,c,tie\n")
    out = run(p, "--format", "json")
    assert out.exit_code == 1
    doc = json.loads(out.output)
    assert [f["check"] for f in doc["findings"]] == ["arena.disconnected"]
    assert "ratings" not in doc["tables"]


def test_style_and_elo_models_from_the_command(tmp_path):
    b = simulate(5, 8000, seed=33, style_effect=0.5, tie_rate=0.0)
    p = write_battles(b, str(tmp_path / "styled.jsonl"))
    out = run(p, "--style", "length", "--model", "style-bt", "--model", "elo:k=8", "--format", "json")
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    (coef,) = doc["tables"]["style coefficients (style-bt)"]
    assert coef["feature"] == "length" and coef["coefficient"] > 0.3
    assert "order-dependent" in doc["summary"]["elo(k=8)"]


def test_html_has_an_inline_svg_forest_plot(tmp_path):
    p = write_battles(simulate(7, 5000, seed=34), str(tmp_path / "b.csv"))
    page = tmp_path / "arena.html"
    out = run(p, "--format", "html", "-o", page)
    assert out.exit_code == 0
    html = page.read_text()
    assert html.count("<circle class='rating'") == 7 and html.count("<line class='ci'") == 7
    # self-contained: nothing loaded from elsewhere (no CDN, no external script, stylesheet or image)
    for attr in ("src=", "href="):
        for quote in ("'", '"'):
            assert f"{attr}{quote}http" not in html and f"{attr}{quote}//" not in html


def test_importing_the_plugin_is_cheap():
    # the plugin's own modules only (other plugins' imports are theirs): the hooks and the command's module
    code = ("import sys, auditkit_plugins.arena as a; a.auditkit_register_rating_models(); "
            "import auditkit_plugins.arena.command; "
            "bad = [m for m in ('torch', 'pandas', 'scipy', 'jax') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_battle_checks_are_registered_records_and_a_third_party_one_runs(tmp_path, restore_registry):
    # the arena's checks come from the registry (applies_to="battles"), so a plugin's battle check runs in
    # `auditkit arena` like a first-party one, and `auditkit audit` (score tables) never runs them
    seen = []

    def count_models(ctx):
        seen.append(ctx)
        yield auditkit.Finding("akt.models", "info", "counted the models")

    class Plugin:
        @auditkit.hookimpl
        def auditkit_register_checks(self):
            return [auditkit.Check("akt.models", count_models, "counts models", applies_to="battles")]

    auditkit.get_registry().register(Plugin(), "akt-battle-check")
    p = tmp_path / "b.csv"
    p.write_text(BATTLES)
    doc = json.loads(run(p, "--format", "json").output)
    assert "akt.models" in [f["check"] for f in doc["findings"]] and len(seen) == 1
    battle = {n for n, c in auditkit.get_registry().records("checks").items() if c.applies_to == "battles"}
    assert {"arena.disconnected", "arena.position-bias", "akt.models"} <= battle
    from auditkit_plugins.audit.context import selected_checks

    assert not {c.name for c in selected_checks(None, have_claims=True)} & battle
