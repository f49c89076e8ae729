"""Build auditkit's curated leaderboards from the raw snapshots in ../shared/leaderboards-raw.

Run from the repository root: ``python leaderboards/curate.py [RAW_DIR]``. It rewrites every CSV listed in
``SNAPSHOTS`` and ``catalog.json``. The curated format (docs/leaderboards.md): UTF-8 CSV, one row per system,
columns ``Rank, Team, System, <published score>, <task columns>``; composite cells keep the leaderboard's ``a/b``
form and its metric order; pre-split ``-a``/``-b`` columns are joined back; values are the snapshot's text,
unchanged; names are cleaned (tabs, newlines, HTML comments). ``catalog.json`` records the provenance.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
from pathlib import Path

from auditkit.leaderboard import clean_name, read_leaderboard
from auditkit.registry import get_registry
from auditkit.taskscores import _published_column, _rank_column, resolve_task

HERE = Path(__file__).resolve().parent

VOTE = {"collector": "Rofin et al., Vote'n'Rank (EACL 2023), PragmaticsLab/vote_and_rank",
        "repository": "https://github.com/PragmaticsLab/vote_and_rank",
        "commit": "74e3d9700d3c4313d4ac5698cbb240bbc29099f6",
        "license": "Apache-2.0 (repository); leaderboard results remain with their authors and benchmark holders"}
RNS = {"collector": "Colombo et al., 'What are the best systems?' (NeurIPS 2022), PierreColombo/RankingNLPSystems",
       "repository": "https://github.com/PierreColombo/RankingNLPSystems",
       "commit": "c4e2c42f2d1ee3d95fc9a1767cf8924433b6408c",
       "license": "none stated; the numbers are from the public leaderboard"}
BENCH = {"collector": "Zhang & Hardt, 'Inherent Trade-Offs between Diversity and Stability in Multi-Task Benchmarks' "
                      "(ICML 2024), socialfoundations/benchbench",
         "repository": "https://github.com/socialfoundations/benchbench",
         "commit": "150688ea89079a9b35a187b45ca8bf3ccaac7929", "license": "MIT"}
IBM = {"collector": "Perlitz et al., BenchBench / BAT (arXiv 2407.13696), IBM/benchbench",
       "repository": "https://github.com/IBM/benchbench", "commit": "1dfd46a6f5dbc6ca8b7728425f1991625a6d4088",
       "license": "Apache-2.0"}
XG = {"collector": "microsoft/XGLUE leaderboard page (index.html), tables extracted as text",
      "repository": "https://github.com/microsoft/XGLUE", "license": "CC BY 4.0 (data)"}

GLUE_ANOMALIES = [
    {"system": "MaChAmp (bert-large, single task)", "column": "STS-B",
     "note": "STS-B shown as NaN/99.8; the Score 67.6 equals 9 tasks with STS-B scored 0 (the server scored a NaN "
             "inside a pair as 0)"},
    {"system": "XLNet (ensemble)", "column": "QNLI", "note": "QNLI missing ('-'), so no Score"},
    {"system": "ALBERT (Ensemble)", "column": "QNLI", "note": "QNLI missing ('-'), so no Score"},
]

SNAPSHOTS = [
    dict(out="glue/glue-2021-vote-and-rank.csv", raw="vote_and_rank/leaderboards - GLUE.csv", benchmark="glue",
         date="2021 (second half)", evidence="committed 2022-06-16; top system ERNIE 91.1, Turing NLR v5 absent",
         **VOTE, anomalies=GLUE_ANOMALIES + [
             {"system": "GLUE Human Baselines", "column": "AX",
              "note": "76.6 is the SuperGLUE human AX-b value; the GLUE leaderboard and the MT-DNN paper show '-'"},
             {"system": "RefBERT", "column": None, "note": "four rows with the same system name"},
             {"system": None, "column": "Rank", "note": "16 GLUE-paper baseline rows have no rank"}]),
    dict(out="glue/glue-2022-02-ranking-nlp-systems.csv", raw="RankingNLPSystems/data-glue.data.csv",
         benchmark="glue", date="2022-02", evidence="committed 2022-02-08; top system Turing NLR v5 91.2", **RNS,
         anomalies=[
             {"system": "GLUE Human Baselines", "column": "AX", "note": "0 here; the leaderboard shows '-' (imputed)"},
             {"system": "MaChAmp (bert-large single task)", "column": "STS-B",
              "note": "00.0/99.8 here where the leaderboard shows NaN/99.8; Score 67.6 = STS-B scored 0"}]),
    dict(out="glue/glue-2023-benchbench.csv", raw="benchbench-socialfoundations/glue-leaderboard.tsv",
         benchmark="glue", date="2023 (approx.)", evidence="committed 2024-04-29; top system Turing ULR v6 91.3",
         **BENCH, anomalies=[{"system": "GLUE Human Baselines", "column": "AX", "note": "'-' (missing), as on the "
                                                                                         "leaderboard"}]),
    dict(out="superglue/superglue-2021-vote-and-rank.csv", raw="vote_and_rank/leaderboards - SuperGLUE.csv",
         benchmark="superglue", date="2021 (second half)", evidence="top system ERNIE 3.0 90.6", **VOTE,
         anomalies=[{"system": "Outside Best", "column": None, "note": "every cell '-'"},
                    {"system": "Snorkel [SuperGLUE v1.9]", "column": "Rank", "note": "rank '-', tasks missing"},
                    {"system": None, "column": "AX-g", "note": "AX-g cells are gender parity / accuracy"}]),
    dict(out="superglue/superglue-2022-02-ranking-nlp-systems.csv", raw="RankingNLPSystems/data-superglue.data.csv",
         benchmark="superglue", date="2022-02", evidence="committed 2022-02-08; top system SS-MoE 91.0", **RNS,
         anomalies=[{"system": None, "column": "AX-g", "note": "raw header 'AX-g-b ,AX-g-a' = parity, accuracy; "
                                                               "joined back as parity/accuracy"}]),
    dict(out="superglue/superglue-2023-benchbench.csv", raw="benchbench-socialfoundations/superglue-leaderboard.tsv",
         benchmark="superglue", date="2023 (approx.)", evidence="top system Vega v2 91.3", **BENCH,
         anomalies=[{"system": "Vega v2", "column": "AX-b, AX-g",
                     "note": "AX-b -0.4 and AX-g 100.0/50.0: constant-predictor signatures"}]),
    dict(out="xtreme/xtreme-2021-11-ranking-nlp-systems.csv", raw="RankingNLPSystems/data-xtrem.data.csv",
         benchmark="xtreme", date="2021-11 (latest entry Nov 24 2021)", evidence="committed 2022-02-08", **RNS,
         anomalies=[{"system": None, "column": None,
                     "note": "category level only; raw header one field short (an empty padding field after the "
                             "name, dropped); Score = (2C + 2S + 3Q + 2R)/9"}]),
    dict(out="xglue/xglue-understanding-2021-04-28.csv",
         raw="xglue/xglue_understanding_leaderboard_commit-8753cc22_2021-04-28.csv", benchmark="xglue-understanding",
         date="2021-04-28", evidence="index.html at commit 8753cc22", **XG, anomalies=[]),
    dict(out="xglue/xglue-unique-2021-04-28.csv", raw="xglue/xglue_unique_leaderboard_commit-8753cc22_2021-04-28.csv",
         benchmark="xglue-unique", date="2021-04-28", evidence="index.html at commit 8753cc22", **XG, anomalies=[]),
    dict(out="xglue/xglue-generation-2021-04-28.csv",
         raw="xglue/xglue_generation_leaderboard_commit-8753cc22_2021-04-28.csv", benchmark="xglue-generation",
         date="2021-04-28", evidence="index.html at commit 8753cc22", **XG, anomalies=[]),
    dict(out="xglue/xglue-generation-2023-06-15.csv",
         raw="xglue/xglue_generation_leaderboard_commit-e417c4c5_2023-06-15.csv", benchmark="xglue-generation",
         date="2023-06-15", evidence="index.html at commit e417c4c5 (adds SAG, 2022-01-12)", **XG, anomalies=[]),
    dict(out="value/value-2022-vote-and-rank.csv", raw="vote_and_rank/leaderboards - VALUE.csv", benchmark="value",
         date="2022", evidence="vote_and_rank tables", **VOTE,
         anomalies=[{"system": "Human VALUE baseline", "column": None, "note": "retrieval and YC2C cells '-', so no "
                                                                               "Meta-Ave"},
                    {"system": None, "column": "YC2C", "note": "CIDEr above 100 (up to 143.17) averaged with "
                                                                "percentages"}]),
    dict(out="openllm/openllm-v1-2024-benchbench.csv", raw="benchbench-socialfoundations/openllm-leaderboard.tsv",
         benchmark="openllm-v1", date="2023-24", evidence="committed 2024-04-29", **BENCH,
         anomalies=[{"system": "cloudyu/Mixtral_34Bx2_MoE_60B", "column": None,
                     "note": "listed twice with different numbers"}]),
    dict(out="livebench/livebench-2024-07-01.csv", raw="ibm-benchbench/livebench_240701_holistic.csv",
         benchmark="livebench", date="2024-07-01 (release 2024-06-24)", evidence="file name livebench_240701", **IBM,
         anomalies=[]),
    dict(out="livebench/livebench-2024-08-29.csv", raw="ibm-benchbench/livebench_240829_holistic.csv",
         benchmark="livebench", date="2024-08-29 (release 2024-07-25)", evidence="file name livebench_240829", **IBM,
         anomalies=[]),
]


def _metric_text(lb, where, i) -> str:
    parts = []
    for col, comp in where:
        raw = lb.raw[i][lb.columns.index(col)].strip()
        parts.append(raw)
    if len(parts) > 1 and len({c for c, _ in where}) == 1:
        return parts[0]
    return "/".join(parts) if any(p for p in parts) else ""


def curate(spec: dict, raw_dir: Path) -> dict:
    raw_path = raw_dir / spec["raw"]
    lb = read_leaderboard(str(raw_path))
    recipe = get_registry().get("recipes", spec["benchmark"])
    header = ["Rank", "Team", "System"]
    pub = _published_column(lb, recipe)
    score_name = recipe.published_score[0] if recipe.published_score[0].isalpha() else "Score"
    header.append("Score")
    columns = []  # (name in curated file, where)
    for task in recipe.tasks:
        where = resolve_task(lb, task)
        if where is None:
            continue
        cols = {c for c, _ in where}
        if len(cols) == len(where) and len(where) > 1 and task.columns:
            for c, _ in where:  # MNLI-m / MNLI-mm stay two columns, as on the leaderboard
                columns.append((c, [(c, 0)]))
        else:
            columns.append((task.name, where))
    header += [name for name, _ in columns]
    rank_col = _rank_column(lb)
    teams = lb.teams()
    rows = []
    for i in range(len(lb)):
        name = lb.systems[i]
        team = teams[i] or ""
        if lb.team_column is None and " | " in name:  # RankingNLPSystems: "team<TAB>model" in one field
            parts = name.split(" | ")
            # RankingNLPSystems puts team first for GLUE/SuperGLUE, system first (then team, org, date) for XTREME
            name, team = (parts[0], ", ".join(parts[1:])) if spec["benchmark"] == "xtreme" \
                else (" | ".join(parts[1:]), parts[0])
        rank = lb.raw[i][lb.columns.index(rank_col)].strip() if rank_col else ""
        score = lb.raw[i][lb.columns.index(pub)].strip() if pub else ""
        row = [rank, clean_name(team), clean_name(name), score]
        row += [_metric_text(lb, where, i) for _, where in columns]
        rows.append(row)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    out = HERE / spec["out"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(buf.getvalue(), encoding="utf-8")
    entry = {k: v for k, v in spec.items() if k not in ("raw",)}
    entry.update(
        file=spec["out"], rows=len(rows), published_score_column=pub, score_label=score_name,
        raw_file=f"shared/leaderboards-raw/{spec['raw']}",
        raw_sha256=hashlib.sha256(raw_path.read_bytes()).hexdigest(),
        sha256=hashlib.sha256(buf.getvalue().encode()).hexdigest(),
        transformations=[n for n in lb.notes] + ["names cleaned (tabs, newlines, HTML comments)",
                                                "columns renamed to the recipe's task names; cell text unchanged"],
    )
    return entry


def provenance_markdown(catalog: list[dict]) -> str:
    lines = ["# Provenance of auditkit's curated leaderboards", "",
             "Generated by `leaderboards/curate.py` from the raw snapshots in `shared/leaderboards-raw` (byte copies "
             "made by their collectors, each with its own PROVENANCE.md). `catalog.json` holds the same facts for "
             "programs. Cell text is unchanged; only layout and names were normalized (see each entry's "
             "transformations). Leaderboard results remain with their authors and the benchmark holders.", ""]
    for e in catalog:
        lines += [f"## {e['file']}", "",
                  f"- benchmark: {e['benchmark']} (recipe `{e['benchmark']}`); {e['rows']} rows",
                  f"- snapshot date: {e['date']} ({e['evidence']})",
                  f"- collected by: {e['collector']}; {e['repository']}"
                  + (f" at commit `{e['commit']}`" if e.get("commit") else ""),
                  f"- raw file: `{e['raw_file']}` sha256 `{e['raw_sha256']}`",
                  f"- license: {e['license']}",
                  f"- transformations: {'; '.join(e['transformations'])}"]
        for a in e["anomalies"]:
            where = ", ".join(x for x in (a.get("system"), a.get("column")) if x)
            lines.append(f"- anomaly ({where or 'table'}): {a['note']}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    raw_dir = Path(argv[1]) if len(argv) > 1 else HERE.parent.parent / "shared" / "leaderboards-raw"
    catalog = [curate(spec, raw_dir) for spec in SNAPSHOTS]
    (HERE / "PROVENANCE.md").write_text(provenance_markdown(catalog), encoding="utf-8")
    (HERE / "catalog.json").write_text(json.dumps(catalog, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for entry in catalog:
        print(f"{entry['file']}: {entry['rows']} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
