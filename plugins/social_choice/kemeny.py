"""Kemeny(-Young) consensus ranking: the strict order of the systems that disagrees least with the tasks' orders.

Cost of an order pi (a list, best first): sum over pairs with a above b of P[b, a], where P is the weighted share
of tasks preferring b to a (ties one half; :func:`auditkit_plugins.social_choice.rules.pairwise_preferences`).

* n <= ``EXACT_LIMIT`` (16): exact dynamic programming over subsets (Held-Karp style). f(S) is the least cost of
  placing the set S in the top |S| positions; f(S) = min_{j in S} f(S - j) + sum_{a in S - j} P[j, a]. Time
  O(2^n n), memory O(2^n n). The certificate of optimality is the DP itself: ``cost == optimum`` for every order
  (the DP value is the minimum over all n! orders, and the test suite checks it against brute force).
* n > ``EXACT_LIMIT``: the systems are first split into the strongly connected components of the pairwise-majority
  graph (every system of an earlier block strictly beats every system of a later one, so *every* optimal order
  keeps the blocks in order: an adjacent later-block/earlier-block pair could be swapped at a strict gain). Blocks
  of at most ``EXACT_LIMIT`` systems are solved by the subset DP, larger ones by an integer program
  (:mod:`.kemeny_exact`: scipy's ``milp`` with HiGHS, one binary per pair plus transitivity), within
  ``time_limit`` seconds; when the limit stops the solver the block falls back to the heuristic (best of the Borda
  and Copeland orders, then single-system insertion moves) and the result carries the proven lower bound.

**Co-optimal orders.** Several orders often reach the optimum. Besides one optimal order, the result proves each
system's best and worst position over *all* optimal orders (``best_position``, ``worst_position``), the set of
possible winners and (where it is counted) the number of optimal orders. The aggregator never breaks those ties
by row order: it scores each system by minus its best position over all optimal orders, so co-optimal winners
share rank 1 and systems that reach the same best position tie. ``tiers()`` groups systems whose position
intervals overlap: each tier occupies the same positions in every optimal order.

Clones (systems with identical scores on every task) are merged before the search and share their group's
positions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

EXACT_LIMIT = 16
MAX_EXACT = 20  # the DP needs 2^n * n floats; 20 systems is ~170 MB
TIME_LIMIT = 30.0  # seconds for the integer programs of one call
_CACHE: dict = {}   # the last few results (compare asks for the aggregator and the certificate of one table)


@dataclass(frozen=True)
class KemenyResult:
    """An optimal (or best found) order, its cost, a proven lower bound, and what is proven about all optimal orders.

    ``order``: row indices best first (one optimal order; among co-optimal ones the lowest indices first, which is
    *not* a ranking decision: see ``best_position``/``worst_position``). ``exact``: the cost is proven minimal.
    ``bound``: the proven lower bound on the optimum (the cost itself when exact; otherwise the best of the pairwise
    bound and the solver's dual bound). ``best_position``/``worst_position``: each row's best and worst 1-based
    position over every optimal order (None when not proven, e.g. a time limit). ``n_optimal_orders``: how many
    optimal orders there are (None when not counted)."""

    order: tuple[int, ...]
    cost: float
    lower_bound: float
    exact: bool
    method: str
    n_systems: int
    groups: tuple[tuple[int, ...], ...] = ()   # clone groups (identical rows), in order; empty = all singletons
    bound: float | None = None
    best_position: tuple[int, ...] | None = None
    worst_position: tuple[int, ...] | None = None
    n_optimal_orders: int | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = ()

    def positions(self) -> np.ndarray:
        """1-based position of every row in ``order``; clones (identical rows) share the first position of their
        group."""
        pos = np.empty(self.n_systems)
        groups = self.groups or tuple((i,) for i in self.order)
        p = 1
        for g in groups:
            pos[list(g)] = p
            p += len(g)
        return pos

    @property
    def positions_proven(self) -> bool:
        return self.best_position is not None

    def tiers(self) -> list[tuple[int, int, tuple[int, ...]]]:
        """(first position, last position, rows) of each tier: maximal groups of rows whose [best, worst] position
        intervals overlap (in a chain). Every optimal order places each tier on exactly its positions, and inside a
        tier the optimal orders disagree, so its rows share the first position. Singletons when not proven."""
        if not self.positions_proven:
            pos = self.positions()
            return [(int(pos[i]), int(pos[i]), (i,)) for i in self.order]
        best, worst = np.asarray(self.best_position), np.asarray(self.worst_position)
        out = []
        for i in np.lexsort((worst, best)):
            i = int(i)
            if out and best[i] <= out[-1][1]:
                lo, hi, rows = out[-1]
                out[-1] = (lo, max(hi, int(worst[i])), rows + (i,))
            else:
                out.append((int(best[i]), int(worst[i]), (i,)))
        return out

    def shared_positions(self) -> np.ndarray:
        """Each row's best position over all optimal orders (what the aggregator ranks by: co-optimal winners
        share position 1, rows that reach the same best position tie); ``positions()`` when not proven."""
        if not self.positions_proven:
            return self.positions()
        return np.asarray(self.best_position, float)

    @property
    def possible_winners(self) -> tuple[int, ...]:
        """Rows that are first in some optimal order (proven); the first row of ``order`` when not proven."""
        if not self.positions_proven:
            return tuple(self.order[:1]) if not self.groups else tuple(self.groups[0])
        return tuple(int(i) for i in np.flatnonzero(np.asarray(self.best_position) == 1))

    @property
    def gap(self) -> float:
        """cost - proven bound: 0 for an exact result, an upper bound on the distance from the optimum otherwise;
        ``cost - lower_bound`` (the pairwise bound) is still reported as ``pairwise_slack``."""
        if self.exact:
            return 0.0
        b = self.lower_bound if self.bound is None else max(self.bound, self.lower_bound)
        return max(self.cost - b, 0.0)

    @property
    def certified_optimal(self) -> bool:
        """True when the cost is proven minimal (exact methods, or a heuristic order meeting a proven bound)."""
        return self.exact or self.gap <= 1e-9 * max(1.0, self.cost)

    def certificate(self) -> str:
        """What the result proves, in words."""
        if self.exact:
            text = ("proven: the cost is the minimum over all orders (" + self.method + ")")
        elif self.certified_optimal:
            text = "proven: the heuristic order's cost equals a proven lower bound, so it is optimal"
        else:
            return ("not proven optimal: the optimum lies in [bound, cost]; bound = the larger of sum over pairs of "
                    "min(P[a,b], P[b,a]) and the solver's dual bound")
        if self.positions_proven:
            n = len(self.possible_winners)
            text += ("; proven over all optimal orders: each system's best and worst position, so the possible "
                     f"winners ({n}) and the tiers sharing a rank")
            if self.n_optimal_orders is not None:
                text += f"; {self.n_optimal_orders} optimal order(s)"
        else:
            text += "; the set of optimal orders was not summarized (order shown is one optimal order)"
        return text

    def as_dict(self) -> dict:
        tiers = self.tiers()
        return {"method": self.method, "exact": self.exact, "certified_optimal": self.certified_optimal,
                "n_systems": self.n_systems, "cost": self.cost,
                "lower_bound": self.lower_bound,
                "bound": self.cost if self.exact else (self.lower_bound if self.bound is None
                                                       else max(self.bound, self.lower_bound)),
                "gap": self.gap,
                "relative_gap": self.gap / self.cost if self.cost > 0 else 0.0,
                "pairwise_slack": self.cost - self.lower_bound,
                "positions_proven": self.positions_proven,
                "possible_winners": list(self.possible_winners),
                "n_possible_winners": len(self.possible_winners),
                "n_optimal_orders": self.n_optimal_orders,
                "n_tiers": len(tiers),
                "largest_tier": max((len(r) for _, _, r in tiers), default=0),
                "best_position": None if self.best_position is None else list(self.best_position),
                "worst_position": None if self.worst_position is None else list(self.worst_position),
                "seconds": self.seconds,
                "notes": list(self.notes),
                "certificate": self.certificate()}


def order_cost(P: np.ndarray, order) -> float:
    """Kemeny cost of ``order`` (best first) under the preference matrix P."""
    order = list(order)
    pos = np.empty(len(order), int)
    pos[order] = np.arange(len(order))
    above = pos[:, None] < pos[None, :]     # above[a, b]: a placed above b
    return float((P.T * above).sum())       # sum over a above b of P[b, a]


def lower_bound(P: np.ndarray) -> float:
    iu = np.triu_indices(P.shape[0], 1)
    return float(np.minimum(P[iu], P.T[iu]).sum())


def exact_order(P: np.ndarray) -> tuple[list[int], float]:
    """The optimal order by subset DP. Deterministic: among equal costs the lowest index goes first."""
    n = P.shape[0]
    if n == 0:
        return [], 0.0
    if n > MAX_EXACT:
        raise ValueError(f"exact Kemeny is limited to {MAX_EXACT} systems (got {n})")
    size = 1 << n
    # cost[S, j] = sum_{a in S} P[j, a]  (j placed directly below the set S pays P[j, a] for every a above it)
    cost = np.zeros((size, n))
    for b in range(n):
        cost[1 << b:2 << b] = cost[:1 << b] + P[:, b][None, :]
    f = np.full(size, np.inf)
    f[0] = 0.0
    choice = np.full(size, -1, np.int64)
    subsets = np.arange(size)
    popcount = np.zeros(size, np.int64)
    for b in range(n):
        popcount += (subsets >> b) & 1
    for k in range(1, n + 1):
        layer = subsets[popcount == k]
        best = np.full(layer.size, np.inf)
        arg = np.full(layer.size, -1, np.int64)
        # j is the system placed last among S; among equal costs keep the highest j last (iterate j downward and
        # replace only on a strict improvement), so that lower indices come first.
        for j in range(n - 1, -1, -1):
            has = (layer >> j) & 1 == 1
            rest = layer[has] ^ (1 << j)
            val = f[rest] + cost[rest, j]
            better = val < best[has] - 1e-12
            idx = np.flatnonzero(has)[better]
            best[idx] = val[better]
            arg[idx] = j
        f[layer] = best
        choice[layer] = arg
    order = []
    S = size - 1
    while S:
        j = int(choice[S])
        order.append(j)
        S ^= 1 << j
    order.reverse()
    return order, float(f[size - 1])


def heuristic_order(P: np.ndarray, seeds=()) -> tuple[list[int], float]:
    """Best seed order improved by insertion moves (move one system to the position that lowers the cost most)
    until no move helps. O(n^2) per sweep."""
    n = P.shape[0]
    candidates = [list(s) for s in seeds] or [list(range(n))]
    best_order, best_cost = None, np.inf
    for seed in candidates:
        order = _insertion_search(P, list(seed))
        c = order_cost(P, order)
        if c < best_cost - 1e-12:
            best_order, best_cost = order, c
    return best_order, best_cost


def _insertion_search(P: np.ndarray, order: list[int]) -> list[int]:
    n = len(order)
    D = P - P.T   # D[a, b] > 0: the tasks prefer a to b
    improved = True
    sweeps = 0
    while improved and sweeps < 10 * n + 10:
        improved = False
        sweeps += 1
        for a in list(order):
            i = order.index(a)
            rest = order[:i] + order[i + 1:]
            # moving a from the end of `rest` upward: delta of placing a at position p (0 = top) relative to the
            # bottom is sum over b in rest[p:] of (P[b, a] - P[a, b]) ... computed as a suffix sum
            gains = -D[a, rest]            # cost change of a being above b instead of below: P[b,a] - P[a,b]
            # cost(a at position p) = const + sum_{b in rest[:p]} P[a, b] + sum_{b in rest[p:]} P[b, a]
            suffix = np.concatenate([np.cumsum(gains[::-1])[::-1], [0.0]])
            p_best = int(np.argmin(suffix))
            if suffix[p_best] < suffix[i] - 1e-12:
                order = rest[:p_best] + [a] + rest[p_best:]
                improved = True
    return order


def kemeny_consensus(values: np.ndarray, weights: np.ndarray | None = None, *, exact_limit: int = EXACT_LIMIT,
                     time_limit: float | None = TIME_LIMIT, summarize: bool = True) -> KemenyResult:
    """Kemeny order of the rows of ``values`` (n_systems x n_tasks, higher is better) with its certificate and
    (``summarize``) the best and worst position of every row over all optimal orders.

    Clones (identical rows) are merged first: for clones i, j and the systems S between them, moving j up next to i
    changes the cost by -(the change of moving i down next to j), so one of the two moves never raises it and some
    optimal order keeps clones together; every position a system takes in an optimal order that splits clones lies
    between its positions in the two orders those moves give, so the best and worst positions are those over the
    orders that keep clones together (tested against brute force). The merged problem weights each pair of groups
    by the product of their sizes; clones share their group's positions, and the exact limit applies to the number
    of distinct rows. ``exact_limit`` <= 0 turns exact solving off (heuristic only); ``time_limit`` bounds the
    integer programs (seconds, for the whole call)."""
    values = np.asarray(values, float)
    n, k = values.shape
    w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, float)
    key = (values.shape, values.tobytes(), w.tobytes(), exact_limit, time_limit, summarize)
    if key not in _CACHE:
        if len(_CACHE) >= 8:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _consensus(values, w, exact_limit, time_limit, summarize)
    return _CACHE[key]


def _consensus(values, w, exact_limit, time_limit, summarize) -> KemenyResult:
    from array_api_compat import numpy as xpn

    from .rules import borda, copeland, pairwise_preferences

    t0 = time.perf_counter()
    n, k = values.shape
    P = np.asarray(pairwise_preferences(values, xp=xpn, weights=w))
    _, first, inverse = np.unique(values, axis=0, return_index=True, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    if first.size == n:
        res = kemeny_from_preferences(P, exact_limit=exact_limit, time_limit=time_limit, summarize=summarize,
                                      seeds=lambda: [_order_of(np.asarray(borda(values, xp=xpn, weights=w))),
                                                     _order_of(np.asarray(copeland(values, xp=xpn, weights=w)))])
        return replace(res, seconds=time.perf_counter() - t0)
    # group g holds the rows with inverse == g; representatives in order of first appearance
    reps = np.sort(first)
    group_of_rep = {int(inverse[r]): j for j, r in enumerate(reps)}
    members = [[] for _ in reps]
    for i in range(n):
        members[group_of_rep[int(inverse[i])]].append(i)
    size = np.array([len(m) for m in members], float)
    Pm = P[np.ix_(reps, reps)] * np.outer(size, size)
    rv = values[reps]
    merged = kemeny_from_preferences(
        Pm, exact_limit=exact_limit, time_limit=time_limit, summarize=summarize, sizes=size,
        seeds=lambda: [_order_of(np.asarray(borda(rv, xp=xpn, weights=w))),
                       _order_of(np.asarray(copeland(rv, xp=xpn, weights=w)))])
    groups = tuple(tuple(members[g]) for g in merged.order)
    order = tuple(i for g in groups for i in g)
    best = worst = None
    if merged.best_position is not None:
        b_, w_ = np.empty(n, int), np.empty(n, int)
        for g, mem in enumerate(members):
            b_[mem] = merged.best_position[g]
            w_[mem] = merged.worst_position[g]
        best, worst = tuple(int(x) for x in b_), tuple(int(x) for x in w_)
    n_orders = merged.n_optimal_orders   # orders of the merged problem (clones kept together)
    notes = merged.notes + ((f"{n - len(reps)} clone row(s) merged: n_optimal_orders counts orders with clones "
                             "kept together (clones are interchangeable)"),)
    return KemenyResult(order, order_cost(P, order), lower_bound(P), merged.exact,
                        merged.method + f"; {n - len(reps)} clone row(s) merged into their groups", n, groups,
                        None if merged.bound is None else merged.bound, best, worst, n_orders,
                        time.perf_counter() - t0, notes)


def majority_components(P: np.ndarray) -> list[list[int]]:
    """Strongly connected components of the pairwise-majority graph (edge a -> b when P[a,b] > P[b,a], both ways on
    a tie), best component first. Every system of an earlier component beats every system of a later one, so moving
    all of an earlier block above a later one never raises the cost: some optimal order respects the blocks
    (Truchon's extended Condorcet criterion), and the blocks can be solved independently."""
    n = P.shape[0]
    D = np.round(P - P.T, 12)
    A = (D > 0) | ((D == 0) & ~np.eye(n, dtype=bool))
    labels = _strong_components(A)
    comps = [list(np.flatnonzero(labels == c)) for c in range(labels.max() + 1)]
    # the condensation of a complete graph is a transitive tournament: order blocks by how many blocks they beat
    beats = [sum(bool(D[np.ix_(a, b)].min() > 0) for b in comps if b is not a) for a in comps]
    return [[int(i) for i in comps[c]] for c in sorted(range(len(comps)), key=lambda c: -beats[c])]


def _strong_components(A: np.ndarray) -> np.ndarray:
    """Component label of every node of the directed graph with adjacency matrix A (Kosaraju, iterative; numpy and
    the standard library only, so `rerank --mean kemeny` imports nothing heavy)."""
    n = A.shape[0]
    seen = np.zeros(n, bool)
    finish: list[int] = []
    for root in range(n):
        if seen[root]:
            continue
        seen[root] = True
        stack = [(root, iter(np.flatnonzero(A[root])))]
        while stack:
            node, it = stack[-1]
            nxt = next((int(j) for j in it if not seen[j]), None)
            if nxt is None:
                stack.pop()
                finish.append(node)
            else:
                seen[nxt] = True
                stack.append((nxt, iter(np.flatnonzero(A[nxt]))))
    labels = np.full(n, -1)
    c = 0
    for root in reversed(finish):
        if labels[root] >= 0:
            continue
        labels[root] = c
        todo = [root]
        while todo:
            node = todo.pop()
            for j in np.flatnonzero(A[:, node] & (labels < 0)):
                labels[j] = c
                todo.append(int(j))
        c += 1
    return labels


def kemeny_from_preferences(P: np.ndarray, *, exact_limit: int = EXACT_LIMIT, seeds=None,
                            time_limit: float | None = TIME_LIMIT, summarize: bool = True,
                            sizes=None) -> KemenyResult:
    """Kemeny order of a preference matrix: blocks of the pairwise-majority graph, each by subset DP
    (<= ``exact_limit`` rows), integer programming (larger, within ``time_limit`` seconds for the whole call) or,
    when ``exact_limit`` <= 0 or the time limit stops the solver, the heuristic. ``sizes`` weights merged clone
    groups (positions count ``sizes[r]`` places for row r; ``P`` already weighted by the size products)."""
    from . import kemeny_exact as E

    t0 = time.perf_counter()
    n = P.shape[0]
    sizes = np.ones(n) if sizes is None else np.asarray(sizes, float)
    lb = lower_bound(P)
    limit = min(exact_limit, MAX_EXACT)
    deadline = None if time_limit is None else t0 + float(time_limit)
    if n == 0:
        return KemenyResult((), 0.0, 0.0, True, "empty", 0, (), 0.0, (), (), 1)
    seed_orders = None

    def seeds_():
        nonlocal seed_orders
        if seed_orders is None:
            so = seeds() if callable(seeds) else (seeds or [])
            seed_orders = list(so) + [_order_of(P.sum(axis=1))]
        return seed_orders

    blocks = majority_components(P) if limit > 0 else [list(range(n))]
    order: list[int] = []
    all_exact = True
    bound = 0.0
    best = np.empty(n)
    worst = np.empty(n)
    proven = summarize
    n_orders = 1
    notes: list[str] = []
    kinds = set()
    offset = 0.0
    for block in blocks:
        sub = P[np.ix_(block, block)]
        bs = sizes[block]
        if len(block) == 1:
            sol = E.BlockSolution([0], 0.0, 0.0, True, np.ones(1), bs.copy(), 1)
        elif 0 < len(block) <= limit and len(block) <= E.DP_LIMIT:
            sol = E.subset_dp(sub, bs, summarize=summarize)
            kinds.add("subset DP")
        elif 0 < len(block) <= limit:
            local, c = exact_order(sub)
            sol = E.BlockSolution(local, c, c, True, method="subset DP")
            kinds.add("subset DP")
        else:
            pos = {b: j for j, b in enumerate(block)}
            local, c = heuristic_order(sub, [[pos[i] for i in seed if i in pos] for seed in seeds_()])
            left = None if deadline is None else deadline - time.perf_counter()
            if limit > 0 and (left is None or left > 0):
                sol = E.ilp_block(sub, bs, time_limit=left, start=local, summarize=summarize)
                kinds.add("integer program" if sol.optimal else "integer program stopped by the time limit")
            else:
                sol = E.BlockSolution(local, c, lower_bound(sub), False, method="heuristic")
                kinds.add("heuristic")
            notes += sol.notes
        if not sol.optimal:
            all_exact = False
        bound += max(sol.bound, lower_bound(sub)) - lower_bound(sub)
        if sol.best is None:
            proven = False
        else:
            best[block] = offset + sol.best
            worst[block] = offset + sol.worst
        n_orders = None if sol.n_orders is None or n_orders is None else n_orders * sol.n_orders
        order += [block[j] for j in sol.order]
        offset += float(bs.sum())
    cost = order_cost(P, order)
    bound += lb                       # pairs across blocks are ordered by their majority in every optimal order
    largest = max(len(b) for b in blocks)
    if limit <= 0:
        method = "Borda/Copeland seed + insertion local search (exact solving off)"
    else:
        method = (f"{len(blocks)} blocks of the pairwise-majority graph (largest {largest}); "
                  + ", ".join(sorted(kinds) or ["trivial"]))
    proven = proven and all_exact
    return KemenyResult(tuple(order), cost, lb, all_exact, method, n, (),
                        cost if all_exact else bound,
                        tuple(int(x) for x in best) if proven else None,
                        tuple(int(x) for x in worst) if proven else None,
                        n_orders if proven else None, time.perf_counter() - t0, tuple(notes))


def _order_of(scores: np.ndarray) -> list[int]:
    """Rows by decreasing score, ties by row index."""
    return [int(i) for i in np.lexsort((np.arange(scores.size), -scores))]


def brute_force(P: np.ndarray) -> tuple[list[int], float]:
    """All n! orders, vectorized (tests only; n <= 9). The first optimal order in lexicographic order."""
    import itertools

    n = P.shape[0]
    perms = np.array(list(itertools.permutations(range(n))), dtype=np.int64).reshape(-1, n)
    cost = np.zeros(len(perms))
    for p_hi in range(n):
        for p_lo in range(p_hi + 1, n):      # perms[:, p_hi] placed above perms[:, p_lo] pays P[lo, hi]
            cost += P[perms[:, p_lo], perms[:, p_hi]]
    best = int(np.argmin(cost))
    return [int(i) for i in perms[best]], float(cost[best])


def kemeny(values, *, xp, weights, time_limit: float = TIME_LIMIT):
    """Aggregator: -(best position of the row over all optimal Kemeny orders). Co-optimal winners share rank 1 and
    rows that reach the same best position tie: ties between optimal orders are never broken by row order. With a
    unique optimal order this is -(position). Clones share their group's best position. When the time limit stops
    the solver before the optimal orders are summarized, -(position in the best order found)."""
    from auditkit.backend import to_numpy

    v = np.asarray(to_numpy(values), float)
    w = np.asarray(to_numpy(weights), float)
    scores = -kemeny_consensus(v, w, time_limit=time_limit).shared_positions()
    from array_api_compat import device

    return xp.asarray(scores, dtype=xp.float64, device=device(values))
