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

RULES = ("borda", "dowdall", "copeland", "minimax", "winrate", "kemeny")


@auditkit.hookimpl
def auditkit_register_aggregators():
    A = auditkit.Aggregator
    return [
        A("borda", _rules.borda, "Borda count: per task, systems below + 1/2 per tie; weighted mean over tasks",
          candidate_dependent=True),
        A("dowdall", _rules.dowdall, "Dowdall: per task 1/position (ties share the mean); weighted mean over tasks",
          candidate_dependent=True),
        A("copeland", _rules.copeland, "Copeland: pairwise majority wins (+1/2 per pairwise tie)",
          candidate_dependent=True),
        A("minimax", _rules.minimax, "Simpson-Kramer minimax: minus the largest pairwise defeat margin",
          candidate_dependent=True),
        A("winrate", _rules.win_rate, "HELM mean win rate: share of other systems beaten per task (tie = 1/2)",
          candidate_dependent=True, aliases=("win-rate", "mean-win-rate")),
        A("kemeny", _kemeny.kemeny, "Kemeny-Young consensus order (exact up to 16 systems, certified; local "
          "search with a reported gap beyond); score = -(position)", candidate_dependent=True),
    ]


def kemeny_certificate(values, weights=None):
    """The Kemeny order with its certificate (exact DP or heuristic gap); see :mod:`.kemeny`."""
    return _kemeny.kemeny_consensus(values, weights)
