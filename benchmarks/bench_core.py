"""Core hot paths: reading and parsing leaderboards, aggregation, ranking, rerank end to end.

Baselines live in the same class as the code they are compared with (scipy.stats ``gmean``/``hmean``/``pmean`` and
``rankdata``, a plain pandas pipeline, ``python -c "import numpy"`` for the CLI), and ``RATIOS`` names the pairs
that ``auditkit bench ratios`` prints. Inputs are generated deterministically (seeded) in ``setup``; generated CSV
files are cached under the temporary directory so repeated ``setup`` calls are cheap.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GLUE_HEADER = ["Rank", "Name", "Model", "URL", "Score", "CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI-m",
               "MNLI-mm", "QNLI", "RTE", "WNLI", "AX"]
COMPOSITE = {"MRPC", "STS-B", "QQP"}
N_TASKS = 64


def glue_file() -> Path | None:
    """The real GLUE leaderboard (vote'n'rank snapshot): $AUDITKIT_BENCH_GLUE, the raw copy in shared/ beside the
    repository, or the curated copy in leaderboards/glue/."""
    candidates = [os.environ.get("AUDITKIT_BENCH_GLUE"),
                  REPO.parent / "shared" / "leaderboards-raw" / "vote_and_rank" / "leaderboards - GLUE.csv",
                  REPO / "leaderboards" / "glue" / "glue-2021-vote-and-rank.csv"]
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    return None


def _require_glue() -> Path:
    path = glue_file()
    if path is None:
        raise NotImplementedError("the real GLUE leaderboard is not available (set AUDITKIT_BENCH_GLUE)")
    return path


def generated_glue_csv(rows: int, seed: int = 0) -> Path:
    """A GLUE-format CSV with ``rows`` systems (plain and ``a/b`` composite cells, one decimal), written once."""
    path = Path(tempfile.gettempdir()) / "auditkit-bench" / f"glue-{rows}-seed{seed}-v1.csv"
    if path.is_file():
        return path
    rng = np.random.default_rng(seed)
    cols = []
    for name in GLUE_HEADER[5:]:
        lo = 30.0 if name != "AX" else 5.0
        if name in COMPOSITE:
            a = np.round(rng.uniform(lo, 95.0, rows), 1)
            b = np.round(rng.uniform(lo, 95.0, rows), 1)
            cols.append(np.char.add(np.char.add(a.astype(str), "/"), b.astype(str)))
        else:
            cols.append(np.round(rng.uniform(lo, 99.0, rows), 1).astype(str))
    score = np.round(rng.uniform(50.0, 92.0, rows), 1).astype(str)
    idx = np.arange(1, rows + 1).astype(str)
    body = np.stack([idx, np.char.add("team ", idx), np.char.add("system-", idx), np.full(rows, ""), score, *cols],
                    axis=1)
    text = ",".join(GLUE_HEADER) + "\n" + "\n".join(",".join(r) for r in body.tolist()) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def _pandas_parse(path) -> "object":
    """The plain pandas pipeline: read_csv, split composite ``a/b`` cells, take their mean, to float."""
    import pandas as pd

    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    out = {}
    for col in GLUE_HEADER[5:]:
        cells = df[col]
        if col in COMPOSITE:
            parts = cells.str.split("/", expand=True).apply(pd.to_numeric, errors="coerce")
            out[col] = parts.mean(axis=1)
        else:
            out[col] = pd.to_numeric(cells, errors="coerce")
    frame = pd.DataFrame(out)
    frame.index = df["Model"].to_numpy()
    return frame


class ReadLeaderboard:
    """Read a GLUE-format CSV and parse every task column, at sizes that show scaling."""

    version = "1"

    params = [[1000, 10000, 100000]]
    param_names = ["rows"]
    processes = 1
    repeat = (1, 5, 10.0)
    timeout = 300

    def setup(self, rows):
        self.path = str(generated_glue_csv(rows))
        import pandas  # noqa: F401  (imported here, not in the first timed call)

        _warm_registry()

    def time_read(self, rows):
        from auditkit.leaderboard import read_leaderboard

        read_leaderboard(self.path)

    def time_read_and_parse(self, rows):
        from auditkit.leaderboard import read_leaderboard

        lb = read_leaderboard(self.path)
        return [lb.parsed(c) for c in GLUE_HEADER[5:]]

    def time_pandas_pipeline(self, rows):
        return _pandas_parse(self.path)


class ReadRealGLUE:
    """Read and parse the real GLUE snapshot (about 100 systems, composite cells, missing values)."""

    version = "1"

    def setup(self):
        self.path = str(_require_glue())
        import pandas  # noqa: F401  (imported here, not in the first timed call)

        _warm_registry()

    def time_read_and_parse(self):
        from auditkit.leaderboard import read_leaderboard

        lb = read_leaderboard(self.path)
        return [lb.parsed(c) for c in lb.numeric_columns()]

    def time_pandas_read_csv(self):
        import pandas as pd

        return pd.read_csv(self.path)


def _warm_registry() -> None:
    """Load the plugins in setup, so that asv --quick (one timed call) does not time the entry-point scan."""
    import auditkit

    reg = auditkit.get_registry()
    for kind in ("readers", "recipes", "aggregators"):
        reg.records(kind)


def _task_scores(values: np.ndarray):
    """A TaskScores over a synthetic matrix (no leaderboard behind it: only ``.systems`` is read)."""
    from auditkit.taskscores import TaskScores

    n, k = values.shape
    lb = SimpleNamespace(systems=[f"s{i}" for i in range(n)], source="<generated>", lines=list(range(2, n + 2)))
    return TaskScores(leaderboard=lb, recipe=None, tasks=[f"t{j}" for j in range(k)], values=values,
                      half_ulps=np.full_like(values, 0.05), weights=np.full(k, 1.0 / k),
                      value_ranges=[(0.0, 100.0)] * k, reference=np.zeros(n, bool), reasons={},
                      published_score=np.full(n, np.nan), published_half_ulp=np.full(n, np.nan),
                      published_rank=np.full(n, np.nan), published_column=None)


class Aggregate:
    """Score and rank systems x 64 tasks under a mean: auditkit (auditkit.rank: rule + competition rank) vs scipy.stats
    (pmean/gmean/hmean + rankdata) vs a plain pandas pipeline (weighted reductions + DataFrame.rank)."""

    version = "1"

    params = [["arithmetic", "geometric", "harmonic"], [1000, 10000, 100000]]
    param_names = ["mean", "systems"]
    timeout = 180

    def setup(self, mean, systems):
        rng = np.random.default_rng(1)
        self.values = np.round(rng.uniform(1.0, 100.0, (systems, N_TASKS)), 1)
        self.weights = np.full(N_TASKS, 1.0 / N_TASKS)
        self.ts = _task_scores(self.values)
        # imports and plugin loading happen here, not in the first timed call (asv --quick times one call)
        import pandas as pd
        import scipy.stats  # noqa: F401

        import auditkit

        auditkit.get_registry().get("aggregators", mean)
        self.df = pd.DataFrame(self.values)

    def time_auditkit(self, mean, systems):
        from auditkit.ranking import competition_rank
        from auditkit.ranking import rank

        scores = rank(self.ts, mean).scores
        return scores, competition_rank(scores)

    def time_aggregator_only(self, mean, systems):
        import auditkit

        agg = auditkit.get_registry().get("aggregators", mean)
        return agg.func(self.values, xp=np, weights=self.weights)

    def time_scipy(self, mean, systems):
        from scipy import stats

        w = np.broadcast_to(self.weights, self.values.shape)
        if mean == "geometric":
            scores = stats.gmean(self.values, axis=1, weights=w)
        elif mean == "harmonic":
            scores = stats.hmean(self.values, axis=1, weights=w)
        else:
            scores = stats.pmean(self.values, 1.0, axis=1, weights=w)
        return scores, stats.rankdata(-scores, method="min")

    def time_pandas(self, mean, systems):
        import numpy as np_

        df = self.df
        w = self.weights
        if mean == "geometric":
            scores = np_.exp(np_.log(df).mul(w, axis=1).sum(axis=1))
        elif mean == "harmonic":
            scores = 1.0 / df.rdiv(1.0).mul(w, axis=1).sum(axis=1)
        else:
            scores = df.mul(w, axis=1).sum(axis=1)
        return scores, scores.rank(method="min", ascending=False)


class Rank:
    """Competition ranking ("1224") of scores with ties: auditkit vs scipy.stats.rankdata vs pandas."""

    version = "1"

    params = [[1000, 100000, 1000000]]
    param_names = ["systems"]

    def setup(self, systems):
        rng = np.random.default_rng(2)
        self.scores = np.round(rng.uniform(0.0, 100.0, systems), 1)  # one decimal: many ties
        import pandas  # noqa: F401  (imported here, not in the first timed call)
        import scipy.stats  # noqa: F401

    def time_competition_rank(self, systems):
        from auditkit.ranking import competition_rank

        return competition_rank(self.scores)

    def time_scipy_rankdata(self, systems):
        from scipy.stats import rankdata

        return rankdata(-self.scores, method="min")

    def time_pandas_rank(self, systems):
        import pandas as pd

        return pd.Series(self.scores).rank(method="min", ascending=False)


class Rerank:
    """``auditkit.rerank`` end to end (read, recipe, task scores, harmonic mean, ranks) on the real GLUE snapshot
    and on generated GLUE-format tables."""

    version = "1"

    params = [["glue", "1000", "10000"]]
    param_names = ["table"]
    processes = 1
    repeat = (1, 5, 10.0)
    timeout = 300

    def setup(self, table):
        self.path = str(_require_glue() if table == "glue" else generated_glue_csv(int(table)))
        _warm_registry()

    def time_rerank_harmonic(self, table):
        from auditkit.reranking import rerank

        return rerank(self.path, ["harmonic"])

    def time_rerank_three_means(self, table):
        from auditkit.reranking import rerank

        return rerank(self.path, ["arithmetic", "geometric", "harmonic"])


class RerankRender:
    """Rerank the real GLUE snapshot and render the table and JSON outputs (what the command prints)."""

    version = "1"

    params = [["table", "json"]]
    param_names = ["format"]

    def setup(self, fmt):
        self.path = str(_require_glue())
        _warm_registry()

    def time_rerank_and_render(self, fmt):
        from auditkit.reranking import rerank

        return rerank(self.path, ["harmonic"]).render(fmt)


def _auditkit_script() -> list[str]:
    script = Path(sys.executable).with_name("auditkit")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from auditkit.cli import main; sys.argv[0] = 'auditkit'; main()"]


class RerankCLI:
    """``auditkit rerank <GLUE> --mean harmonic`` as a user runs it (a fresh process), against
    ``python -c "import numpy"`` in the same run. benchmarks/rerank_startup.py reports the same ratio."""

    version = "1"

    number = 1
    repeat = (3, 10, 20.0)
    warmup_time = 0.0
    timeout = 120

    def setup(self):
        self.path = str(_require_glue())
        self.cmd = [*_auditkit_script(), "rerank", self.path, "--mean", "harmonic"]

    def time_cli_rerank_glue(self):
        subprocess.run(self.cmd, check=True, stdout=subprocess.DEVNULL)

    def time_python_import_numpy(self):
        subprocess.run([sys.executable, "-c", "import numpy"], check=True, stdout=subprocess.DEVNULL)


RATIOS = [
    ("read+parse GLUE CSV 100k rows: auditkit / pandas", "ReadLeaderboard.time_read_and_parse",
     "ReadLeaderboard.time_pandas_pipeline", {"rows": 100000}),
    ("arithmetic mean + rank 100k x 64: auditkit / scipy.stats", "Aggregate.time_auditkit", "Aggregate.time_scipy",
     {"mean": "arithmetic", "systems": 100000}),
    ("geometric mean + rank 100k x 64: auditkit / scipy.stats", "Aggregate.time_auditkit", "Aggregate.time_scipy",
     {"mean": "geometric", "systems": 100000}),
    ("harmonic mean + rank 100k x 64: auditkit / scipy.stats", "Aggregate.time_auditkit", "Aggregate.time_scipy",
     {"mean": "harmonic", "systems": 100000}),
    ("arithmetic mean + rank 100k x 64: auditkit / pandas", "Aggregate.time_auditkit", "Aggregate.time_pandas",
     {"mean": "arithmetic", "systems": 100000}),
    ("geometric mean + rank 100k x 64: auditkit / pandas", "Aggregate.time_auditkit", "Aggregate.time_pandas",
     {"mean": "geometric", "systems": 100000}),
    ("harmonic mean + rank 100k x 64: auditkit / pandas", "Aggregate.time_auditkit", "Aggregate.time_pandas",
     {"mean": "harmonic", "systems": 100000}),
    ("competition rank 100k scores: auditkit / scipy.stats.rankdata", "Rank.time_competition_rank",
     "Rank.time_scipy_rankdata", {"systems": 100000}),
    ("competition rank 100k scores: auditkit / pandas", "Rank.time_competition_rank", "Rank.time_pandas_rank",
     {"systems": 100000}),
    ("auditkit rerank GLUE --mean harmonic / python -c 'import numpy'", "RerankCLI.time_cli_rerank_glue",
     "RerankCLI.time_python_import_numpy", None),
]
