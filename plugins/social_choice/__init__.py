"""Social-choice aggregators: Borda, Dowdall, Copeland, Minimax, mean win rate (HELM style) and Kemeny.

Each is an :class:`auditkit.Aggregator` with ``candidate_dependent=True`` (a system's score depends on which other
systems take part), so ``auditkit rerank FILE --mean kemeny`` works like any mean and reference rows (humans) are
scored one at a time against the systems without reordering them. Tie semantics: inside a rule a tie on a task
counts one half to each side; final ranks use competition ranking "1224". See docs/social-choice.md.
"""

from __future__ import annotations

import auditkit

from . import kemeny as _kemeny
from . import rules as _rules

RULES = ("borda", "dowdall", "copeland", "minimax", "winrate", "kemeny", "schulze", "ranked-pairs", "split-cycle",
         "smith", "baldwin", "nanson", "irv")


@auditkit.hookimpl
def auditkit_register_aggregators():
    A = auditkit.Aggregator
    return [
        A("borda", _rules.borda, "Borda count: per task, systems below + 1/2 per tie; weighted mean over tasks",
          candidate_dependent=True, transform=_borda_transform),
        A("dowdall", _rules.dowdall, "Dowdall: per task 1/position (ties share the mean); weighted mean over tasks",
          candidate_dependent=True, transform=_dowdall_transform),
        A("copeland", _rules.copeland, "Copeland: pairwise majority wins (+1/2 per pairwise tie)",
          candidate_dependent=True),
        A("minimax", _rules.minimax, "Simpson-Kramer minimax: minus the largest pairwise defeat margin",
          candidate_dependent=True),
        A("winrate", _rules.win_rate, "HELM mean win rate: share of other systems beaten per task (tie = 1/2)",
          candidate_dependent=True, aliases=("win-rate", "mean-win-rate"), transform=_win_rate_transform),
        A("kemeny", _kemeny.kemeny, "Kemeny-Young consensus order, exact (subset DP per block of the majority "
          "graph, integer programming beyond 16 systems); score = -(best position over all optimal orders), so "
          "co-optimal winners share rank 1", candidate_dependent=True),
        *_majority_rules(A),
    ]


def _majority_rules(A):
    from . import majority as M   # numpy only; no scipy

    return [
        A("schulze", M.schulze, "Schulze (beat path): minus the number of systems beating it by strongest path",
          candidate_dependent=True, aliases=("beat-path",)),
        A("ranked-pairs", M.ranked_pairs, "Tideman's ranked pairs, every tie-breaking order (parallel-universe "
          "winners); minus the fewest systems locked above it", candidate_dependent=True,
          aliases=("tideman",)),
        A("split-cycle", M.split_cycle, "Split Cycle (Holliday & Pacuit): minus the number of systems defeating it",
          candidate_dependent=True),
        A("smith", M.smith, "Smith set scores 0, the Smith set of the rest -1, ...", candidate_dependent=True,
          aliases=("smith-set", "top-cycle")),
        A("baldwin", M.baldwin, "Baldwin: remove the lowest Borda score(s) each round; score = round removed",
          candidate_dependent=True),
        A("nanson", M.nanson, "Nanson: remove Borda scores below the average each round; score = round removed",
          candidate_dependent=True),
        A("irv", M.irv, "instant runoff: remove the fewest first places each round; score = round removed",
          candidate_dependent=True, aliases=("instant-runoff",)),
    ]


# Quasi-linear forms (auditkit.Aggregator.transform): the score is the weighted mean over tasks of per-task points,
# so the bootstrap resamples tasks with one matrix product per batch.
def _borda_transform(values, *, xp):
    return _rules.borda_points(values, xp)


def _dowdall_transform(values, *, xp):
    return _rules.dowdall_points(values, xp)


def _win_rate_transform(values, *, xp):
    n = values.shape[0]
    return _rules.borda_points(values, xp) / (n - 1) if n > 1 else _rules.borda_points(values, xp) + 0.5


@auditkit.hookimpl
def auditkit_register_functions():
    return [auditkit.Function("kemeny-certificate", kemeny_certificate,
                              "the Kemeny order of a systems x tasks matrix with its optimality certificate")]


def kemeny_certificate(values, weights=None):
    """The Kemeny order with its certificate (exact DP or heuristic gap); see :mod:`.kemeny`."""
    return _kemeny.kemeny_consensus(values, weights)
