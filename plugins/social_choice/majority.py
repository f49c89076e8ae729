"""Majority-graph and elimination rules: Schulze, ranked pairs, split cycle, Smith set, Baldwin, Nanson, IRV.

The profile is the one every social-choice rule here uses: each task is a voter with its task weight, its ballot
the order of the systems by their score on that task (a tie on a task gives one half to each side). The margin of
i over j is ``M[i, j] = P[i, j] - P[j, i]`` (weighted shares; rounded to 12 decimals so float noise cannot break a
tie), i.e. the pairwise vote difference divided by the total weight.

Every rule is an aggregator (higher is better) whose **winners are the rule's winner set** (all of them, never a
tie broken by row order) and whose lower scores order the rest as stated per rule:

* ``schulze``: minus the number of systems that beat i by strongest path (p[j, i] > p[i, j]; widest paths over the
  margins, Schulze 2011). Winners: p[i, j] >= p[j, i] for all j.
* ``ranked-pairs`` (Tideman): margins locked from largest to smallest, skipping an edge that would close a cycle;
  tied margins are processed in *every* order (the parallel-universe winners, as in pref_voting). Score: minus the
  fewest systems above i (ancestors in the locked graph) in any universe. More than ``MAX_UNIVERSES`` tie-breaking
  states are refused with a clear error (use schulze or split-cycle, which need no tie-breaking).
* ``split-cycle`` (Holliday & Pacuit): i defeats j when M[i, j] > 0 and M[i, j] exceeds the strength of every path
  from j back to i. Score: minus the number of systems that defeat i.
* ``smith``: the Smith set (smallest set whose members all beat every non-member) scores 0, the Smith set of the
  rest -1, and so on (the strongly connected components of the majority graph, ties counted both ways).
* ``baldwin``: repeatedly remove every system with the lowest Borda score among the remaining ones;
  ``nanson``: repeatedly remove every system with a Borda score strictly below the average; ``irv``: repeatedly
  remove every system with the fewest first places (a task whose top is tied splits its weight equally). Score:
  the round in which a system was removed; the survivors (removed last, or all tied) score highest. Systems removed
  in the same round tie.
"""

from __future__ import annotations

import numpy as np

MAX_UNIVERSES = 20_000


def _host(values, weights):
    from auditkit.backend import to_numpy

    return np.asarray(to_numpy(values), float), np.asarray(to_numpy(weights), float)


def _out(scores, values, xp):
    from array_api_compat import device

    return xp.asarray(np.asarray(scores, float) + 0.0, dtype=xp.float64, device=device(values))


def margins(values, weights) -> np.ndarray:
    """M[i, j] = P[i, j] - P[j, i], rounded to 12 decimals (numpy, host)."""
    from array_api_compat import numpy as xpn

    from .rules import pairwise_preferences

    P = np.asarray(pairwise_preferences(values, xp=xpn, weights=weights))
    return np.round((P - P.T) * 1e12) / 1e12


def widest_paths(M: np.ndarray) -> np.ndarray:
    """Strongest path strengths over the positive-margin edges (Floyd-Warshall on (max, min)); 0 = no path."""
    s = np.where(M > 0, M, 0.0)
    np.fill_diagonal(s, 0.0)
    for k in range(s.shape[0]):
        s = np.maximum(s, np.minimum(s[:, k:k + 1], s[k:k + 1, :]))
    np.fill_diagonal(s, 0.0)
    return s


def schulze(values, *, xp, weights):
    v, w = _host(values, weights)
    p = widest_paths(margins(v, w))
    return _out(-(p.T > p).sum(axis=1), values, xp)


def split_cycle(values, *, xp, weights):
    v, w = _host(values, weights)
    M = margins(v, w)
    s = widest_paths(M)
    defeats = (M > 0) & (M > s.T)          # i defeats j: M[i, j] > strength of the strongest path j -> i
    return _out(-defeats.sum(axis=0), values, xp)


def smith(values, *, xp, weights):
    from array_api_compat import numpy as xpn

    from .kemeny import majority_components
    from .rules import pairwise_preferences

    v, w = _host(values, weights)
    n = v.shape[0]
    scores = np.zeros(n)
    if n:
        P = np.asarray(pairwise_preferences(v, xp=xpn, weights=w))
        for level, comp in enumerate(majority_components(P)):
            scores[comp] = -level
    return _out(scores, values, xp)


def smith_set(values, weights) -> list[int]:
    """Rows of the Smith set (host arrays)."""
    from array_api_compat import numpy as xpn

    from .kemeny import majority_components
    from .rules import pairwise_preferences

    P = np.asarray(pairwise_preferences(np.asarray(values, float), xp=xpn, weights=np.asarray(weights, float)))
    return sorted(majority_components(P)[0]) if P.shape[0] else []


def ranked_pairs(values, *, xp, weights):
    v, w = _host(values, weights)
    return _out(-_ranked_pairs_min_ancestors(margins(v, w)), values, xp)


def _ranked_pairs_min_ancestors(M: np.ndarray) -> np.ndarray:
    """Fewest ancestors of each row in the locked graph over every tie-breaking order of equal margins."""
    from auditkit.errors import UsageError

    n = M.shape[0]
    if n == 0:
        return np.zeros(0)
    edges = [(float(M[i, j]), i, j) for i in range(n) for j in range(n) if M[i, j] > 0]
    edges.sort(key=lambda e: -e[0])
    groups: list[list[tuple[int, int]]] = []
    for m, i, j in edges:
        if groups and m == groups[-1][0]:
            groups[-1][1].append((i, j))
        else:
            groups.append((m, [(i, j)]))
    groups = [g for _, g in groups]
    best = np.full(n, np.inf)
    seen: set = set()
    budget = [0]

    def lock(reach, i, j):
        if reach[j, i]:
            return None                      # j already reaches i: locking i -> j closes a cycle
        r = reach.copy()
        src = r[:, i].copy()
        src[i] = True
        dst = r[j].copy()
        dst[j] = True
        r |= np.outer(src, dst)
        return r

    def visit(reach, g, remaining):
        key = (reach.tobytes(), g, remaining)
        if key in seen:
            return
        seen.add(key)
        budget[0] += 1
        if budget[0] > MAX_UNIVERSES:
            raise UsageError(f"ranked-pairs: more than {MAX_UNIVERSES} tie-breaking states for {n} systems (many "
                             "equal margins); use schulze or split-cycle, which need no tie-breaking")
        # reductions that hold in every order of this group: an edge whose head already reaches its tail is
        # skipped; an edge whose head cannot reach its tail even with every remaining edge locked is locked
        changed = True
        while changed and remaining:
            changed = False
            full = _closure(reach, remaining)
            for e in sorted(remaining):
                i, j = e
                if reach[j, i]:
                    remaining = remaining - {e}
                    changed = True
                elif not full[j, i]:
                    reach = lock(reach, i, j)
                    remaining = remaining - {e}
                    changed = True
        if not remaining:
            if g + 1 >= len(groups):
                np.minimum(best, reach.sum(axis=0), out=best)
                return
            visit(reach, g + 1, frozenset(groups[g + 1]))
            return
        for e in sorted(remaining):          # genuinely order-dependent edges: branch
            r = lock(reach, *e)
            visit(reach if r is None else r, g, remaining - {e})

    visit(np.zeros((n, n), bool), 0, frozenset(groups[0]) if groups else frozenset())
    if not groups:
        best = np.zeros(n)
    return best


def _closure(reach: np.ndarray, edges) -> np.ndarray:
    """Transitive closure of ``reach`` plus ``edges`` (boolean Floyd-Warshall)."""
    r = reach.copy()
    for i, j in edges:
        r[i, j] = True
    for k in range(r.shape[0]):
        r |= np.outer(r[:, k], r[k])
    return r


def _eliminate(values, weights, pick) -> np.ndarray:
    """Elimination rounds: ``pick(scores_of_remaining, remaining_values)`` returns a boolean mask of the remaining
    rows removed this round (all of them when none would stay). Score = round of removal."""
    n = values.shape[0]
    remaining = np.arange(n)
    score = np.zeros(n)
    rnd = 0
    while remaining.size:
        rnd += 1
        out = pick(values[remaining], weights)
        if out.all() or not out.any():
            score[remaining] = rnd
            break
        score[remaining[out]] = rnd
        remaining = remaining[~out]
    return score


def _borda_host(v, w):
    from array_api_compat import numpy as xpn

    from auditkit.ranking import tie_key

    from .rules import borda

    return tie_key(np.asarray(borda(v, xp=xpn, weights=w)))


def baldwin(values, *, xp, weights):
    v, w = _host(values, weights)

    def pick(vr, wr):
        b = _borda_host(vr, wr)
        return b == b.min()
    return _out(_eliminate(v, w, pick), values, xp)


def nanson(values, *, xp, weights):
    from auditkit.ranking import tie_key

    v, w = _host(values, weights)

    def pick(vr, wr):
        b = _borda_host(vr, wr)
        avg = tie_key(np.array([(vr.shape[0] - 1) / 2.0]))[0]     # the mean Borda score of m systems
        return b < avg
    return _out(_eliminate(v, w, pick), values, xp)


def first_place_votes(v: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted first places of each row (a task whose top is tied splits its weight equally)."""
    top = v == v.max(axis=0, keepdims=True)
    return (top / top.sum(axis=0, keepdims=True) * w[None, :]).sum(axis=1)


def irv(values, *, xp, weights):
    from auditkit.ranking import tie_key

    v, w = _host(values, weights)

    def pick(vr, wr):
        f = tie_key(first_place_votes(vr, wr))
        return f == f.min()
    return _out(_eliminate(v, w, pick), values, xp)
