"""Scale without timing: the properties that keep reading linear, checked by counting, not by the clock.

(Measured figures: benchmarks/bench_scale.py and docs/reliability.md.)"""

from __future__ import annotations

import numpy as np

from auditkit import cells, leaderboard
from auditkit.leaderboard import read_leaderboard


def wide_table(tmp_path, rows=2000, cols=20):
    rng = np.random.default_rng(0)
    vals = np.char.mod("%.1f", np.round(rng.uniform(1, 99, size=(rows, cols)), 1))
    lines = ["System," + ",".join(f"t{j}" for j in range(cols))]
    lines += [f"system-{i:06d}," + ",".join(r) for i, r in enumerate(vals)]
    p = tmp_path / "wide.csv"
    p.write_text("\n".join(lines) + "\n")
    return str(p)


def test_plain_numeric_columns_never_reach_the_per_cell_parser(tmp_path, monkeypatch):
    lb = read_leaderboard(wide_table(tmp_path))
    calls = []
    real = leaderboard.parse_cell
    monkeypatch.setattr(leaderboard, "parse_cell", lambda raw: calls.append(raw) or real(raw))
    for c in lb.columns[1:]:
        assert lb.numeric(c).values.shape == (2000, 1)
    assert calls == []


def test_constant_flags_of_a_fast_column_take_no_memory(tmp_path):
    lb = read_leaderboard(wide_table(tmp_path))
    pc = lb.numeric("t3")
    for flag in (pc.missing, pc.nan, pc.n_components, pc.half_ulps):
        base = flag if flag.base is None else flag.base
        assert base.nbytes <= 8, flag  # a broadcast view of one value, not one entry per row
    assert not pc.missing.any() and (pc.n_components == 1).all() and np.allclose(pc.half_ulps, 0.05)


def test_equal_cells_share_one_string(tmp_path):
    lb = read_leaderboard(wide_table(tmp_path))
    col = lb.column("t0") + lb.column("t1")
    assert len({id(c) for c in col}) == len(set(col))


def test_system_names_do_not_fill_the_parse_cache(tmp_path):
    cells._CACHE.clear()
    lb = read_leaderboard(wide_table(tmp_path))
    for c in lb.columns:
        lb.parsed(c)
    assert not any(k.startswith("system-") for k in cells._CACHE)


def test_wide_jsonl_header_is_built_once(tmp_path):
    """20,000 keys per object: an ordered set, not a list scan per key."""
    import json

    keys = [f"t{j}" for j in range(20_000)]
    recs = [{"System": "a", **{k: 1.5 for k in keys}}, {"System": "b", **{k: 2.5 for k in keys}}]
    p = tmp_path / "wide.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    lb = read_leaderboard(str(p))
    assert lb.columns == ["System", *keys] and lb.find_column("t19999") == "t19999"
