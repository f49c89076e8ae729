"""Regenerate the claims fixtures from the real vote_and_rank snapshots (stdlib only; run from the repo root).

Source: ../shared/leaderboards-raw/vote_and_rank/leaderboards - GLUE.csv and "leaderboards - SuperGLUE.csv"
(sha256 in that folder's PROVENANCE.md). Every number below is computed from those cells by the rule stated in
README.md here, then rounded to 2 decimals, as a paper table would print it.
"""

import csv
import math
import os
import sys

RAW = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "leaderboards-raw", "vote_and_rank")
GLUE10 = ["CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI-m", "MNLI-mm", "QNLI", "RTE", "WNLI"]
GLUE11 = GLUE10 + ["AX"]
SG8 = ["BoolQ", "CB", "COPA", "MultiRC", "ReCoRD", "RTE", "WiC", "WSC"]
SG10 = SG8 + ["AX-b", "AX-g"]


def cell(text):
    """A cell's task value: a pair 'a/b' is averaged."""
    parts = [float(p) for p in text.split("/")]
    return sum(parts) / len(parts)


def am(v):
    return sum(v) / len(v)


def gm(v):
    return math.exp(sum(math.log(x) for x in v) / len(v))


def hm(v):
    return len(v) / sum(1 / x for x in v)


def rows(name):
    with open(os.path.join(RAW, name), newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def pick(table, n_models, cols):
    human = [r for r in table if "Human" in r["Model"]]
    models = [r for r in table if r["Rank"].strip().isdigit() and "Human" not in r["Model"]
              and all(c in r and r[c] not in ("", "-") and cell(r[c]) > 0 for c in cols)][:n_models]
    return human + models


def write(path, header, body):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(body)


def main(out=os.path.dirname(__file__)):
    glue = pick(rows("leaderboards - GLUE.csv"), 8, GLUE11)
    paper, consistent = [], []
    for r in glue:
        v10 = [cell(r[c]) for c in GLUE10]
        v11 = [cell(r[c]) for c in GLUE11]
        human = "Human" in r["Model"]
        gh = v10 if human else v11  # the paper's inconsistency: humans on 10 columns, models on 11
        paper.append([r["Model"], f"{am(v10):.2f}", f"{gm(gh):.2f}", f"{hm(gh):.2f}"])
        consistent.append([r["Model"], f"{am(v10):.2f}", f"{gm(v10):.2f}", f"{hm(v10):.2f}"])
    write(os.path.join(out, "glue_paper_like.csv"), ["Model", "AM", "GM", "HM"], paper)
    write(os.path.join(out, "glue_consistent.csv"), ["Model", "AM", "GM", "HM"], consistent)
    sg = pick(rows("leaderboards - SuperGLUE.csv"), 8, SG10)
    paper, consistent = [], []
    for r in sg:
        v8 = [cell(r[c]) for c in SG8]
        v10 = [cell(r[c]) for c in SG10]
        paper.append([r["Model"], f"{am(v8):.2f}", f"{gm(v10):.2f}", f"{hm(v10):.2f}"])
        consistent.append([r["Model"], f"{am(v8):.2f}", f"{gm(v8):.2f}", f"{hm(v8):.2f}"])
    write(os.path.join(out, "superglue_paper_like.csv"), ["Model", "AM", "GM", "HM"], paper)
    write(os.path.join(out, "superglue_consistent.csv"), ["Model", "AM", "GM", "HM"], consistent)


if __name__ == "__main__":
    main(*sys.argv[1:])
