"""Kemeny(-Young) consensus ranking: the strict order of the systems that disagrees least with the tasks' orders.

Cost of an order pi (a list, best first): sum over pairs with a above b of P[b, a], where P is the weighted share
of tasks preferring b to a (ties one half; :func:`auditkit_plugins.social_choice.rules.pairwise_preferences`).

* n <= ``EXACT_LIMIT`` (16): exact dynamic programming over subsets (Held-Karp style). f(S) is the least cost of
  placing the set S in the top |S| positions; f(S) = min_{j in S} f(S - j) + sum_{a in S - j} P[j, a]. Time
  O(2^n n), memory O(2^n n). The certificate of optimality is the DP itself: ``cost == optimum`` for every order
  (the DP value is the minimum over all n! orders, and the test suite checks it against brute force).
* n > ``EXACT_LIMIT``: the systems are first split into the strongly connected components of the pairwise-majority
  graph (every system of an earlier block beats every system of a later one, so an optimal order keeps the blocks
  in order); blocks of at most ``EXACT_LIMIT`` systems are solved exactly (then the whole order is exact), larger
  ones by a heuristic (best of the Borda and Copeland orders, then local search by single-system insertion moves
  until no move lowers the cost). Reported with the lower bound LB = sum over pairs of
  min(P[a, b], P[b, a]) (every order pays at least the smaller side of every pair); gap = cost - LB bounds how far
  the heuristic can be from the optimum.

Ties between optimal orders are broken deterministically (among equal costs the lowest index is placed first), so
the result is a strict order, except for clones: systems with identical scores on every task are merged before the
search (some optimal order keeps clones together) and share one position, i.e. tie.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EXACT_LIMIT = 16
MAX_EXACT = 20  # the DP needs 2^n * n floats; 20 systems is ~170 MB


@dataclass(frozen=True)
class KemenyResult:
    """An order (row indices, best first), its cost, a lower bound and whether the order is a proven optimum."""

    order: tuple[int, ...]
    cost: float
    lower_bound: float
    exact: bool
    method: str
    n_systems: int
    groups: tuple[tuple[int, ...], ...] = ()   # clone groups (identical rows), in order; empty = all singletons

    def positions(self) -> np.ndarray:
        """1-based position of every row; clones (identical rows) share the first position of their group."""
        pos = np.empty(self.n_systems)
        groups = self.groups or tuple((i,) for i in self.order)
        p = 1
        for g in groups:
            pos[list(g)] = p
            p += len(g)
        return pos

    @property
    def gap(self) -> float:
        """cost - lower bound for the heuristic (an upper bound on its distance from the optimum); for the exact
        method, 0 (the optimum is certified by the DP), while ``cost - lower_bound`` is still reported as
        ``pairwise_slack``."""
        return 0.0 if self.exact else max(self.cost - self.lower_bound, 0.0)

    @property
    def certified_optimal(self) -> bool:
        """True for the exact DP, and for a heuristic order whose cost meets the pairwise lower bound."""
        return self.exact or self.cost - self.lower_bound <= 1e-9 * max(1.0, self.cost)

    def as_dict(self) -> dict:
        return {"method": self.method, "exact": self.exact, "certified_optimal": self.certified_optimal,
                "n_systems": self.n_systems, "cost": self.cost,
                "lower_bound": self.lower_bound, "gap": self.gap,
                "relative_gap": self.gap / self.cost if self.cost > 0 else 0.0,
                "pairwise_slack": self.cost - self.lower_bound,
                "certificate": ("subset dynamic programming (within blocks of the pairwise-majority graph, whose "
                                "order is forced): the cost is the minimum over all orders"
                                if self.exact else
                                "heuristic, certified optimal: its cost equals the pairwise lower bound"
                                if self.certified_optimal else
                                "heuristic: the optimum lies in [lower_bound, cost]; lower_bound = sum over pairs "
                                "of min(P[a,b], P[b,a])")}


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


def kemeny_consensus(values: np.ndarray, weights: np.ndarray | None = None, *, exact_limit: int = EXACT_LIMIT
                     ) -> KemenyResult:
    """Kemeny order of the rows of ``values`` (n_systems x n_tasks, higher is better) with its certificate.

    Clones (identical rows) are merged first: for clones i, j and the systems S between them, moving j up next to i
    changes the cost by -(the change of moving i down next to j), so one of the two moves never raises it and some
    optimal order keeps clones together. The merged problem weights each pair of groups by the product of their
    sizes; clones share a position (a tie), and the exact limit applies to the number of distinct rows."""
    from array_api_compat import numpy as xpn

    from .rules import borda, copeland, pairwise_preferences

    values = np.asarray(values, float)
    n, k = values.shape
    w = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, float)
    P = np.asarray(pairwise_preferences(values, xp=xpn, weights=w))
    _, first, inverse = np.unique(values, axis=0, return_index=True, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    if first.size == n:
        res = kemeny_from_preferences(P, exact_limit=exact_limit,
                                      seeds=lambda: [_order_of(np.asarray(borda(values, xp=xpn, weights=w))),
                                                     _order_of(np.asarray(copeland(values, xp=xpn, weights=w)))])
        return res
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
        Pm, exact_limit=exact_limit,
        seeds=lambda: [_order_of(np.asarray(borda(rv, xp=xpn, weights=w))),
                       _order_of(np.asarray(copeland(rv, xp=xpn, weights=w)))])
    groups = tuple(tuple(members[g]) for g in merged.order)
    order = tuple(i for g in groups for i in g)
    return KemenyResult(order, order_cost(P, order), lower_bound(P), merged.exact,
                        merged.method + f"; {n - len(reps)} clone row(s) merged into their groups", n, groups)


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


def kemeny_from_preferences(P: np.ndarray, *, exact_limit: int = EXACT_LIMIT, seeds=None) -> KemenyResult:
    n = P.shape[0]
    lb = lower_bound(P)
    limit = min(exact_limit, MAX_EXACT)
    if n <= limit:
        order, cost = exact_order(P)
        return KemenyResult(tuple(order), cost, lb, True, "exact subset DP", n)
    seed_orders = seeds() if callable(seeds) else (seeds or [])
    seed_orders = list(seed_orders) + [_order_of(P.sum(axis=1))]
    blocks = majority_components(P) if limit > 0 else [list(range(n))]
    order: list[int] = []
    all_exact = True
    for block in blocks:
        sub = P[np.ix_(block, block)]
        if len(block) <= limit:
            local, _ = exact_order(sub)
        else:
            all_exact = False
            pos = {b: j for j, b in enumerate(block)}
            local, _ = heuristic_order(sub, [[pos[i] for i in seed if i in pos] for seed in seed_orders])
        order += [block[j] for j in local]
    cost = order_cost(P, order)
    largest = max(len(b) for b in blocks)
    if all_exact:
        method = (f"exact: {len(blocks)} blocks of the pairwise-majority graph (largest {largest}), each by "
                  "subset DP")
    elif len(blocks) > 1:
        method = (f"{len(blocks)} blocks of the pairwise-majority graph (largest {largest}); blocks <= "
                  f"{limit} by subset DP, larger ones by Borda/Copeland seed + insertion local search")
    else:
        method = "Borda/Copeland seed + insertion local search"
    return KemenyResult(tuple(order), cost, lb, all_exact, method, n)


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


def kemeny(values, *, xp, weights):
    """Aggregator: -(position in the Kemeny order), so the first system scores -1 and ranks first; clones
    (identical rows) share the position of their group."""
    from auditkit.backend import to_numpy

    v = np.asarray(to_numpy(values), float)
    w = np.asarray(to_numpy(weights), float)
    scores = -kemeny_consensus(v, w).positions()
    from array_api_compat import device

    return xp.asarray(scores, dtype=xp.float64, device=device(values))
