"""The MTEB English leaderboard (2023-24 layout) as a recipe, and a check on its column names.

The leaderboard shows one column per task category, named with its dataset count ("Classification Average
(12 datasets)"), and the published score "Average (56 datasets)", which is the mean over the 56 datasets, i.e. the
category averages weighted by their dataset counts. On the benchbench snapshot
(a copy is in tests/data/mteb-leaderboard.tsv, 83 rows) this weighting reproduces the
published Average for all 83 rows within the rounding of the displayed values (74 of them within half a unit of
the published value's last digit); the unweighted mean of the 7 categories reproduces none.
"""

from __future__ import annotations

import re

import auditkit

# (category, dataset count) in the leaderboard's column order
CATEGORIES = (("Classification", 12), ("Clustering", 11), ("Pair Classification", 3), ("Reranking", 4),
              ("Retrieval", 15), ("STS", 10), ("Summarization", 1))
TOTAL = sum(n for _, n in CATEGORIES)  # 56

CATEGORY_COLUMN = re.compile(r"^(?P<category>.+?) average \((?P<n>\d+) datasets?\)$", re.I)
PUBLISHED_COLUMN = re.compile(r"^average \((?P<n>\d+) datasets?\)$", re.I)


def column_name(category: str, n: int) -> str:
    return f"{category} Average ({n} dataset{'s' if n != 1 else ''})"


MTEB = auditkit.Recipe(
    name="mteb", version="1.0", title="MTEB (English, category level)",
    tasks=tuple(auditkit.TaskSpec(category, aliases=(column_name(category, n),), weight=float(n),
                                  description=f"mean over {n} dataset(s)")
                for category, n in CATEGORIES),
    published_score=(rf"average \({TOTAL} datasets\)",),
    reference=r"human", nan_in_composite="missing",
    source="Muennighoff et al., MTEB (arXiv 2210.07316); leaderboard snapshot from benchbench "
           "(socialfoundations), mteb-leaderboard.tsv",
    description="Average (56 datasets) = mean over the 56 datasets = category averages weighted by their dataset "
                "counts 12, 11, 3, 4, 15, 10, 1",
)


def category_columns(columns) -> tuple[list[tuple[str, str, int]], tuple[str, int] | None]:
    """[(column, category, dataset count)] and (published column, its dataset count) found in ``columns``."""
    cats, published = [], None
    for col in columns:
        text = " ".join(str(col).split())
        m = PUBLISHED_COLUMN.match(text)
        if m:
            published = (col, int(m["n"]))
            continue
        m = CATEGORY_COLUMN.match(text)
        if m:
            cats.append((col, m["category"], int(m["n"])))
    return cats, published


def check_dataset_count(context):
    """Yield an error when the category dataset counts do not sum to the published column's count.

    ``context`` needs a ``leaderboard`` attribute (an :class:`auditkit.Leaderboard`); a table without MTEB-style
    column names gets no finding (the check does not apply to it).
    """
    lb = getattr(context, "leaderboard", None)
    if lb is None:
        return
    cats, published = category_columns(lb.columns)
    if published is None or not cats:
        return
    total = sum(n for _, _, n in cats)
    if total != published[1]:
        listing = ", ".join(f"{c} {n}" for _, c, n in cats)
        yield auditkit.Finding(
            "mteb-dataset-count", "error",
            f"the category columns count {total} datasets ({listing}) but the published column "
            f"{published[0]!r} says {published[1]}: a category is missing, renamed or miscounted, so the published "
            "score cannot be the dataset-weighted mean of these columns",
            column=published[0], evidence={"categories": {c: n for _, c, n in cats}, "sum": total,
                                           "published_count": published[1]})
