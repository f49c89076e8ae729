"""asv benchmarks for `auditkit audit` and `auditkit diff` on the real GLUE / LiveBench snapshots.

The baseline in each class is the work every audit starts from (reading the leaderboard and applying the recipe),
so the ratios say what the checks cost on top of it.
"""

from __future__ import annotations

from pathlib import Path

RAW = Path(__file__).resolve().parents[2] / "shared" / "leaderboards-raw"
FILES = {
    "glue-vote-and-rank": RAW / "vote_and_rank" / "leaderboards - GLUE.csv",
    "glue-ranking-nlp": RAW / "RankingNLPSystems" / "data-glue.data.csv",
    "superglue-benchbench": RAW / "benchbench-socialfoundations" / "superglue-leaderboard.tsv",
}
CLAIMS = Path(__file__).resolve().parents[1] / "tests" / "data" / "claims" / "glue_paper_like.csv"


def _need(*paths: Path) -> None:
    """asv's skip (NotImplementedError) with the reason, when the raw snapshots in ../shared are not there."""
    for path in paths:
        if not path.is_file():
            raise NotImplementedError(f"needs {path} (the raw leaderboards in shared/ beside the repository)")


class Audit:
    version = "1"
    params = [list(FILES)]
    param_names = ["snapshot"]

    def setup(self, snapshot):
        from auditkit import audit  # noqa: F401  (warm imports and the registry)

        _need(FILES[snapshot])
        self.path = str(FILES[snapshot])
        audit(self.path, checks=["duplicate-systems"])

    def time_audit_all_checks(self, snapshot):
        from auditkit import audit

        audit(self.path)

    def time_published_score(self, snapshot):
        from auditkit import audit

        audit(self.path, checks=["published-score"])

    def time_read_and_recipe_baseline(self, snapshot):
        from auditkit.leaderboard import read_leaderboard
        from auditkit.loading import resolve_recipe
        from auditkit.taskscores import task_scores

        lb = read_leaderboard(self.path)
        task_scores(lb, resolve_recipe(lb, None)[0])


class Claims:
    version = "1"
    def setup(self):
        from auditkit import audit

        _need(FILES["glue-vote-and-rank"])
        self.path = str(FILES["glue-vote-and-rank"])
        audit(self.path, checks=["duplicate-systems"])

    def time_task_set_consistency(self):
        from auditkit import audit

        audit(self.path, claims=str(CLAIMS), checks=["task-set-consistency"])

    def time_read_and_recipe_baseline(self):
        from auditkit.leaderboard import read_leaderboard
        from auditkit.loading import resolve_recipe
        from auditkit.taskscores import task_scores

        lb = read_leaderboard(self.path)
        task_scores(lb, resolve_recipe(lb, None)[0])


class Diff:
    version = "1"
    params = [["glue", "livebench"]]
    param_names = ["pair"]
    PAIRS = {
        "glue": (FILES["glue-vote-and-rank"], RAW / "benchbench-socialfoundations" / "glue-leaderboard.tsv"),
        "livebench": (RAW / "ibm-benchbench" / "livebench_240701_holistic.csv",
                      RAW / "ibm-benchbench" / "livebench_240829_holistic.csv"),
    }

    def setup(self, pair):
        import auditkit_plugins.audit.snapshots  # noqa: F401  (warm the import)

        _need(*self.PAIRS[pair])
        self.old, self.new = (str(p) for p in self.PAIRS[pair])

    def time_diff(self, pair):
        from auditkit import diff

        diff(self.old, self.new)

    def time_read_and_recipe_baseline(self, pair):
        from auditkit.leaderboard import read_leaderboard
        from auditkit.loading import resolve_recipe
        from auditkit.taskscores import task_scores

        for p in (self.old, self.new):
            lb = read_leaderboard(p)
            task_scores(lb, resolve_recipe(lb, None)[0])


RATIOS = [
    ("audit, all checks / read+recipe (GLUE vote_and_rank)", "Audit.time_audit_all_checks",
     "Audit.time_read_and_recipe_baseline", {"snapshot": "glue-vote-and-rank"}),
    ("published-score / read+recipe (GLUE RankingNLPSystems)", "Audit.time_published_score",
     "Audit.time_read_and_recipe_baseline", {"snapshot": "glue-ranking-nlp"}),
    ("task-set-consistency (9 rows x 3 means) / read+recipe", "Claims.time_task_set_consistency",
     "Claims.time_read_and_recipe_baseline", None),
    ("diff / read+recipe of both (LiveBench)", "Diff.time_diff", "Diff.time_read_and_recipe_baseline",
     {"pair": "livebench"}),
]


if __name__ == "__main__":  # quick manual run: python benchmarks/bench_audit.py
    import timeit

    for label, num, den, params in RATIOS:
        cls_name, m_num = num.split(".")
        _, m_den = den.split(".")
        cls = globals()[cls_name]
        obj = cls()
        args = list(params.values()) if params else []
        obj.setup(*args)
        t_num = min(timeit.repeat(lambda: getattr(obj, m_num)(*args), number=3, repeat=3)) / 3
        t_den = min(timeit.repeat(lambda: getattr(obj, m_den)(*args), number=3, repeat=3)) / 3
        print(f"{label}: {t_num * 1e3:.1f} ms / {t_den * 1e3:.1f} ms = {t_num / t_den:.1f}x")
