"""Schulze, ranked pairs, split cycle, Smith set, Baldwin, Nanson and IRV against pref_voting (1.18) on random
profiles: tasks are voters (one voter each, equal weights), systems are candidates, a task's ballot is the order of
the systems by their score on it (strict here, so pref_voting's Profile applies). The winner set of each rule (the
rows with the top score) must equal pref_voting's winners."""

from __future__ import annotations

import numpy as np
import pytest

import array_api_compat.numpy as xpn
from auditkit.registry import get_registry
from auditkit_plugins.social_choice import majority as MJ

pv = pytest.importorskip("pref_voting")
from pref_voting.profiles import Profile  # noqa: E402
from pref_voting import voting_methods as vm  # noqa: E402

ORACLE = {
    "schulze": vm.beat_path,          # pref_voting's name for Schulze's method
    # winners under some tie-breaking order (parallel universes); pref_voting also locks zero-margin edges, so the
    # comparison uses an odd number of voters (no zero margins)
    "ranked-pairs": lambda prof: vm.ranked_pairs(prof, algorithm="from_stacks"),
    "split-cycle": vm.split_cycle,
    "smith": vm.top_cycle,            # the Smith set ("getcha")
    "baldwin": vm.baldwin,
    "nanson": vm.strict_nanson,       # remove every candidate strictly below the average Borda score
    "irv": vm.instant_runoff,
}
COUNTS: dict[str, int] = {}


def _profile(rng, n, k):
    """Random strict ballots; values[i, t] = n - position of system i on task t."""
    rankings = [list(rng.permutation(n)) for _ in range(k)]
    values = np.zeros((n, k))
    for t, r in enumerate(rankings):
        for pos, c in enumerate(r):
            values[c, t] = n - pos
    return values, Profile([[int(c) for c in r] for r in rankings])


@pytest.mark.parametrize("rule", sorted(ORACLE))
def test_winners_equal_pref_voting(rule):
    f = get_registry().get("aggregators", rule).func
    rng = np.random.default_rng(2024)
    agree = 0
    for _ in range(150):
        n = int(rng.integers(2, 5 if rule == "ranked-pairs" else 7))
        k = int(rng.integers(1, 8))
        if rule == "ranked-pairs":
            k = 2 * (k // 2) + 1
        values, prof = _profile(rng, n, k)
        if rule == "ranked-pairs" and _tie_orders(values) > 24:
            continue      # pref_voting tries every order of equal margins (15 equal edges: 15! orders)
        s = np.asarray(f(values, xp=xpn, weights=np.full(k, 1.0 / k)))
        ours = sorted(np.flatnonzero(s == s.max()).tolist())
        theirs = sorted(int(c) for c in ORACLE[rule](prof))
        assert ours == theirs, (rule, values.tolist(), ours, theirs)
        agree += 1
    COUNTS[rule] = agree
    assert agree >= (40 if rule == "ranked-pairs" else 150)


def _tie_orders(values):
    """How many edge orders pref_voting's ranked pairs enumerates: the product of (group size)! over equal margins."""
    from math import factorial, prod

    M = MJ.margins(values, np.full(values.shape[1], 1.0 / values.shape[1]))
    m = M[M > 0]
    return prod(factorial(int(c)) for c in np.unique(m, return_counts=True)[1]) if m.size else 1


def test_smith_set_function_and_condorcet_consistency():
    rng = np.random.default_rng(5)
    for _ in range(50):
        n, k = int(rng.integers(2, 7)), int(rng.integers(1, 8))
        values, prof = _profile(rng, n, k)
        assert MJ.smith_set(values, np.full(k, 1 / k)) == sorted(vm.top_cycle(prof))
        cw = prof.condorcet_winner()
        if cw is not None:       # every rule here except IRV is Condorcet-consistent
            for rule in ("schulze", "ranked-pairs", "split-cycle", "smith", "baldwin", "nanson"):
                s = np.asarray(get_registry().get("aggregators", rule).func(values, xp=xpn,
                                                                           weights=np.full(k, 1 / k)))
                assert np.flatnonzero(s == s.max()).tolist() == [cw], rule


def test_ties_on_a_task_count_one_half():
    # two systems tied on every task: every rule gives them the same score (no row-order tie-break)
    v = np.array([[2.0, 1.0, 3.0], [2.0, 1.0, 3.0], [1.0, 3.0, 1.0], [0.0, 2.0, 2.0]])
    for rule in ORACLE:
        s = np.asarray(get_registry().get("aggregators", rule).func(v, xp=xpn, weights=np.full(3, 1 / 3)))
        assert s[0] == s[1], rule


def test_ranked_pairs_refuses_an_explosion_of_tie_breaks(monkeypatch):
    from auditkit.errors import UsageError

    monkeypatch.setattr(MJ, "MAX_UNIVERSES", 0)
    v = np.random.default_rng(0).integers(0, 2, size=(7, 4)).astype(float)
    with pytest.raises(UsageError, match="schulze or split-cycle"):
        MJ.ranked_pairs(v, xp=xpn, weights=np.full(4, 0.25))


@pytest.mark.parametrize("rule", sorted(ORACLE))
def test_conformance_kit(rule):
    from auditkit.testing import check_aggregator

    check_aggregator(get_registry().get("aggregators", rule))
