"""Readers of pairwise evidence: battle logs (one row per battle) and aggregated pair counts.

Formats by suffix: ``.csv``, ``.tsv``, ``.jsonl``/``.ndjson``, ``.json`` (a list of records, or leaderbot's
``{"models", "X", "Y"}`` counts), ``.parquet``. Column names are configurable. A malformed row stops the read with
:class:`auditkit.ParseError` naming the file, the line (record or row for JSON/Parquet), the column and the value.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

import auditkit

from .data import A_WINS, B_WINS, BOTHBAD, TIE, Battles, PairCounts

WINNER_VALUES = {"model_a": A_WINS, "a": A_WINS, "model_b": B_WINS, "b": B_WINS, "tie": TIE,
                 "tie (bothbad)": BOTHBAD, "tie(bothbad)": BOTHBAD, "bothbad": BOTHBAD, "both_bad": BOTHBAD,
                 "both bad": BOTHBAD}
ALLOWED_WINNERS = "model_a, model_b, tie, tie (bothbad)"
COUNT_COLUMNS = ("wins_a", "wins_b", "ties", "bothbad")


@dataclass(frozen=True)
class Columns:
    """Column names of a battle log (``style`` names features read from ``<feature>_a`` / ``<feature>_b``)."""

    model_a: str = "model_a"
    model_b: str = "model_b"
    winner: str = "winner"
    category: str | None = None
    judge: str | None = None
    timestamp: str | None = None
    style: tuple[str, ...] = ()
    style_suffixes: tuple[str, str] = ("_a", "_b")


def outcome_codes(values, *, source: str = "<battles>", lines=None, column: str = "winner") -> np.ndarray:
    """Winner texts -> outcome codes; the first unknown value raises ParseError with its line."""
    v = np.asarray(values, dtype=object)
    uniq, inv = np.unique(v.astype(str), return_inverse=True)
    table = np.empty(uniq.size, np.int64)
    for k, text in enumerate(uniq):
        code = WINNER_VALUES.get(text.strip().lower())
        if code is None:
            bad = int(np.flatnonzero(inv == k)[0])
            raise auditkit.ParseError(f"unknown winner; expected one of {ALLOWED_WINNERS}", source=source,
                                      line=None if lines is None else int(lines[bad]), column=column,
                                      value=str(v[bad]))
        table[k] = code
    return table[inv]


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _frame(path: str):
    """(DataFrame, line numbers, what a 'line' is) for a tabular file."""
    import pandas as pd

    suffix = os.path.splitext(path)[1].lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            df = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=str, keep_default_na=False)
            return df, np.arange(len(df)) + 2, "line"
        if suffix in (".jsonl", ".ndjson"):
            rows, lines = [], []
            with open(path, encoding="utf-8") as fh:
                for number, text in enumerate(fh, 1):
                    if not text.strip():
                        continue
                    try:
                        record = json.loads(text)
                    except json.JSONDecodeError as exc:
                        raise auditkit.ParseError(f"not valid JSON ({exc.msg})", source=path, line=number,
                                                  value=text.strip()[:80]) from None
                    if not isinstance(record, dict):
                        raise auditkit.ParseError("a JSONL line must be an object", source=path, line=number,
                                                  value=text.strip()[:80])
                    rows.append(record)
                    lines.append(number)
            return pd.DataFrame(rows), np.asarray(lines), "line"
        if suffix == ".parquet":
            df = pd.read_parquet(path)
            return df, np.arange(len(df)) + 1, "row"
    except auditkit.ParseError:
        raise
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise auditkit.InputError(f"{path}: cannot read as {suffix[1:] or 'table'}: {exc}") from None
    raise auditkit.InputError(f"{path}: unknown battle file format {suffix!r}; use .csv, .tsv, .jsonl, .json or "
                              ".parquet")


def _json(path: str):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise auditkit.ParseError(f"not valid JSON ({exc.msg})", source=path, line=exc.lineno) from None


def _need(df, column: str, path: str) -> None:
    if column not in df.columns:
        raise auditkit.ParseError(f"no column {column!r}; the file has: {', '.join(map(str, df.columns))}",
                                  source=path, column=column,
                                  hint="name the column with --model-a/--model-b/--winner (or the counts options)")


def _names(df, column, path, lines):
    values = df[column].to_numpy(dtype=object)
    text = np.array(["" if x is None or (isinstance(x, float) and np.isnan(x)) else str(x).strip()
                     for x in values], dtype=object)
    empty = np.flatnonzero(text == "")
    if empty.size:
        k = int(empty[0])
        raise auditkit.ParseError("empty model name", source=path, line=int(lines[k]), column=column,
                                  value=str(values[k]))
    return text


def _numbers(df, column, path, lines, *, allow_missing=False):
    import pandas as pd

    raw = df[column]
    num = np.array(pd.to_numeric(raw, errors="coerce"), dtype=float)
    bad = ~np.isfinite(num)
    if allow_missing:
        blank = raw.isna().to_numpy() | (raw.astype(str).str.strip() == "").to_numpy()
        num[blank] = 0.0
        bad &= ~blank
    bad |= num < 0
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise auditkit.ParseError("expected a nonnegative number", source=path, line=int(lines[k]), column=column,
                                  value=str(raw.iloc[k]))
    return num


def _index(names_a, names_b):
    models, inv = np.unique(np.concatenate([names_a, names_b]).astype(str), return_inverse=True)
    n = names_a.size
    return tuple(str(m) for m in models), inv[:n].astype(np.int64), inv[n:].astype(np.int64)


def read_battles(path: str, columns: Columns | None = None) -> PairCounts:
    """A battle log -> :class:`PairCounts` (with the per-battle :class:`Battles` kept for Elo, categories, style).

    Also accepts a counts file (leaderbot JSON or a table with ``wins_a``...): see :func:`read_any`."""
    cols = columns or Columns()
    if not os.path.exists(path):
        raise auditkit.InputError(f"{path}: no such file")
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".json":
        import pandas as pd

        data = _json(path)
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise auditkit.ParseError("a JSON battle file must be a list of objects (one per battle)", source=path)
        df, lines = pd.DataFrame(data), np.arange(len(data)) + 1
    else:
        df, lines, _ = _frame(path)
    if not len(df):
        raise auditkit.InputError(f"{path}: no battles")
    for c in (cols.model_a, cols.model_b, cols.winner):
        _need(df, c, path)
    a_names = _names(df, cols.model_a, path, lines)
    b_names = _names(df, cols.model_b, path, lines)
    same = np.flatnonzero(a_names == b_names)
    if same.size:
        k = int(same[0])
        raise auditkit.ParseError("a model cannot battle itself", source=path, line=int(lines[k]),
                                  column=cols.model_b, value=str(b_names[k]))
    outcome = outcome_codes(df[cols.winner].to_numpy(dtype=object), source=path, lines=lines, column=cols.winner)
    models, ia, ib = _index(a_names, b_names)
    optional = {}
    for key in ("category", "judge", "timestamp"):
        name = getattr(cols, key)
        if name is not None:
            _need(df, name, path)
            optional[key] = df[name].astype(str).to_numpy(dtype=object)
    style = {}
    for feature in cols.style:
        pair = []
        for suffix_ in cols.style_suffixes:
            name = f"{feature}{suffix_}"
            _need(df, name, path)
            pair.append(_numbers(df, name, path, lines))
        style[feature] = np.column_stack(pair)
    battles = Battles(models, ia, ib, outcome, optional.get("category"), optional.get("judge"),
                      optional.get("timestamp"), style, lines)
    return battles.counts(source=path, sha256=_sha256(path))


def read_counts(path: str, *, model_a: str = "model_a", model_b: str = "model_b",
                count_columns: Sequence[str] = COUNT_COLUMNS, ordered: bool | None = None) -> PairCounts:
    """Aggregated counts -> :class:`PairCounts`: a table with one row per ordered pair and columns
    ``wins_a, wins_b, ties, bothbad`` (``bothbad`` optional), or leaderbot's JSON ``{"models", "X", "Y"}`` with
    ``Y = [wins, losses, ties, both-bad]`` per pair ``X = [i, j]``."""
    if not os.path.exists(path):
        raise auditkit.InputError(f"{path}: no such file")
    sha = _sha256(path)
    if os.path.splitext(path)[1].lower() == ".json":
        data = _json(path)
        if isinstance(data, dict) and {"models", "X", "Y"} <= set(data):
            return _leaderbot(data, path, sha, ordered)
        import pandas as pd

        if not isinstance(data, list):
            raise auditkit.ParseError("expected leaderbot's {models, X, Y} or a list of pair records", source=path)
        df, lines = pd.DataFrame(data), np.arange(len(data)) + 1
    else:
        df, lines, _ = _frame(path)
    for c in (model_a, model_b, *count_columns[:3]):
        _need(df, c, path)
    a_names = _names(df, model_a, path, lines)
    b_names = _names(df, model_b, path, lines)
    same = np.flatnonzero(a_names == b_names)
    if same.size:
        k = int(same[0])
        raise auditkit.ParseError("a model cannot battle itself", source=path, line=int(lines[k]), column=model_b,
                                  value=str(b_names[k]))
    counts = [_numbers(df, c, path, lines) for c in count_columns[:3]]
    if len(count_columns) > 3 and count_columns[3] in df.columns:
        counts.append(_numbers(df, count_columns[3], path, lines, allow_missing=True))
    else:
        counts.append(np.zeros(len(df)))
    models, ia, ib = _index(a_names, b_names)
    pc = PairCounts(models, ia, ib, *counts, ordered=True if ordered is None else ordered, source=path, sha256=sha)
    return _merge_duplicates(pc)


def _merge_duplicates(pc: PairCounts) -> PairCounts:
    n = pc.n_models
    key = pc.ia * n + pc.ib
    uniq, inv = np.unique(key, return_inverse=True)
    if uniq.size == key.size:
        return pc
    s = lambda v: np.bincount(inv, v, uniq.size)  # noqa: E731
    return PairCounts(pc.models, uniq // n, uniq % n, s(pc.wins_a), s(pc.wins_b), s(pc.ties), s(pc.bothbad),
                      pc.ordered, pc.source, pc.sha256, None,
                      pc.notes + (f"{key.size - uniq.size} repeated pair rows were summed",))


def _leaderbot(data: Mapping, path: str, sha: str, ordered: bool | None) -> PairCounts:
    models = tuple(str(m) for m in data["models"])
    try:
        X = np.asarray(data["X"], dtype=np.int64).reshape(-1, 2)
        Y = np.asarray(data["Y"], dtype=float).reshape(-1, 4)
    except (TypeError, ValueError) as exc:
        raise auditkit.ParseError(f"X must be [i, j] pairs and Y [wins, losses, ties, both-bad] counts ({exc})",
                                  source=path) from None
    if X.shape[0] != Y.shape[0]:
        raise auditkit.ParseError(f"X has {X.shape[0]} pairs but Y has {Y.shape[0]} rows", source=path)
    bad = np.flatnonzero((X < 0).any(1) | (X >= len(models)).any(1) | (X[:, 0] == X[:, 1]))
    if bad.size:
        k = int(bad[0])
        raise auditkit.ParseError(f"pair index out of range 0..{len(models) - 1} or a self-pair", source=path,
                                  line=None, column=f"X[{k}]", value=str(X[k].tolist()))
    badY = np.flatnonzero(~np.isfinite(Y).all(1) | (Y < 0).any(1))
    if badY.size:
        k = int(badY[0])
        raise auditkit.ParseError("counts must be nonnegative numbers", source=path, column=f"Y[{k}]",
                                  value=str(Y[k].tolist()))
    pc = PairCounts(models, X[:, 0], X[:, 1], Y[:, 0], Y[:, 1], Y[:, 2], Y[:, 3],
                    ordered=bool(ordered) if ordered is not None else False, source=path, sha256=sha,
                    notes=("leaderbot counts: pairs listed as i < j, so which model was shown first is not known",))
    return _merge_duplicates(pc)


def looks_like_counts(path: str, count_columns: Sequence[str] = COUNT_COLUMNS) -> bool:
    """Whether a file holds aggregated counts (leaderbot JSON, or a header with the count columns)."""
    suffix = os.path.splitext(path)[1].lower()
    try:
        if suffix == ".json":
            with open(path, encoding="utf-8") as fh:
                head = fh.read(4096)
            return head.lstrip().startswith("{") and '"models"' in head
        if suffix in (".csv", ".tsv", ".txt"):
            with open(path, encoding="utf-8") as fh:
                header = fh.readline()
            return count_columns[0] in header and count_columns[1] in header
        if suffix in (".jsonl", ".ndjson"):
            with open(path, encoding="utf-8") as fh:
                first = fh.readline()
            return count_columns[0] in first
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return count_columns[0] in pq.read_schema(path).names
    except (OSError, UnicodeDecodeError):
        return False
    return False


def read_any(path: str, columns: Columns | None = None, **count_options) -> PairCounts:
    """Battle log or counts, whichever the file holds."""
    if os.path.exists(path) and looks_like_counts(path, count_options.get("count_columns", COUNT_COLUMNS)):
        return read_counts(path, **count_options)
    return read_battles(path, columns)


def leaderbot_path() -> str:
    """The Chatbot Arena counts of 2024-08-14 shipped inside the ``leaderbot`` wheel (BSD-3)."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("leaderbot")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise auditkit.MissingDependencyError("leaderbot", "the Chatbot Arena 2024-08-14 counts")
    path = os.path.join(list(spec.submodule_search_locations)[0], "data", "chatbotarena_20240814.json")
    if not os.path.exists(path):
        raise auditkit.InputError(f"leaderbot is installed but {path} is missing")
    return path
