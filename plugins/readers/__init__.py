"""Readers: CSV/TSV (delimiter sniffed), Parquet, JSON/JSONL and Markdown tables.

Each returns a :class:`auditkit.leaderboard.RawTable`. Malformed input is refused with the line and the problem;
the only repairs are the two documented ones (an all-empty padding column, an unnamed first column), each written to
the table's notes so every output shows it.
"""

from __future__ import annotations

import auditkit

from .delimited import read_delimited, sniff_delimited
from .structured import read_json, read_jsonl, read_markdown, read_parquet, sniff_json, sniff_markdown, sniff_parquet


@auditkit.hookimpl
def auditkit_register_readers():
    return [
        auditkit.Reader("parquet", read_parquet, (".parquet", ".pq"), sniff_parquet, "Apache Parquet (pyarrow)"),
        auditkit.Reader("json", read_json, (".json",), sniff_json,
                        "JSON: a list of row objects, or {'columns': [...], 'data': [[...]]}"),
        auditkit.Reader("jsonl", read_jsonl, (".jsonl", ".ndjson"), None, "JSON Lines: one row object per line"),
        auditkit.Reader("markdown", read_markdown, (".md", ".markdown"), sniff_markdown, "Markdown pipe tables"),
        auditkit.Reader("csv", read_delimited, (".csv", ".tsv", ".tab", ".txt", ".data"), sniff_delimited,
                        "Delimited text; the delimiter (comma, tab, semicolon, pipe) is sniffed"),
    ]
