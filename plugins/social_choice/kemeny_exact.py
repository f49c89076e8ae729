"""Exact Kemeny for one block of the pairwise-majority graph, with every co-optimal order summarized.

Two exact methods, both over a preference matrix ``P`` (``P[a, b]``: weighted share of tasks preferring a to b;
the cost of an order pays ``P[b, a]`` for every a placed above b) and optional ``sizes`` (clone groups merged into
one row count as ``size`` consecutive positions):

* :func:`subset_dp` (blocks of at most 16 rows): dynamic programming over subsets. Besides the optimum it proves
  where every row can stand in *some* optimal order: an order is ``(an optimal order of S, j, an optimal order of
  R)`` for the set S above j and the set R below, so j can take position ``|S| + 1`` in an optimal order iff
  ``f(S) + f(R) + cross(S) + sum_{b in R} P[b, j] == OPT`` (f: the optimal internal cost of a set; cross(S): what
  S pays for being above everything else). It also counts the optimal orders (paths of optimal DP steps).
* :func:`ilp_block` (larger blocks): an integer program, one binary per unordered pair (y[a, b] = 1: a above b)
  with the 3-cycle (transitivity) constraints ``0 <= y[i,j] + y[j,k] - y[i,k] <= 1``, solved by HiGHS through
  :func:`scipy.optimize.milp` with a zero relative gap. Co-optimal orders are enumerated with no-good cuts (fix
  the cost at the optimum, exclude every order found, solve again) until the program is infeasible: then the
  orders found are *all* optimal orders. Beyond ``max_orders`` the best and worst position of every row are
  proven instead by two programs per row (minimize / maximize its position subject to cost = OPT).

Costs are compared with a relative tolerance of 1e-9 (every witness order's cost is recomputed exactly).
scipy is imported inside the functions (``rerank --mean kemeny`` on a small table imports none of it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

COST_RTOL = 1e-9
DP_LIMIT = 16        # the co-optimal DP keeps (2^n, n) arrays: 16 rows ~ 8 MB each


@dataclass
class BlockSolution:
    """What one block's solver proved. Positions are 1-based within the block (weighted by ``sizes``)."""

    order: list[int]
    cost: float
    bound: float                       # proven lower bound on the block's optimum (== cost when optimal)
    optimal: bool                      # cost proven minimal
    best: np.ndarray | None = None     # best position of each row over all optimal orders (None: not proven)
    worst: np.ndarray | None = None
    n_orders: int | None = None        # number of optimal orders (None: not counted)
    orders_capped: bool = False        # True when enumeration stopped at max_orders (positions then by ILPs)
    method: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def order_cost(P: np.ndarray, order) -> float:
    order = list(order)
    pos = np.empty(len(order), int)
    pos[order] = np.arange(len(order))
    above = pos[:, None] < pos[None, :]
    return float((P.T * above).sum())


def _tol(cost: float) -> float:
    return COST_RTOL * max(1.0, abs(cost))


def _weighted_positions(order, sizes) -> tuple[np.ndarray, np.ndarray]:
    """First and last position of every row in ``order`` when row r fills sizes[r] consecutive positions."""
    m = len(order)
    first = np.empty(m)
    last = np.empty(m)
    p = 1.0
    for r in order:
        first[r] = p
        last[r] = p + sizes[r] - 1
        p += sizes[r]
    return first, last


# -- subset dynamic programming -------------------------------------------------------------------------------------
def subset_dp(P: np.ndarray, sizes=None, *, summarize: bool = True) -> BlockSolution:
    """Optimal order, optimal cost and (``summarize``) each row's best/worst position over all optimal orders and
    the number of optimal orders. Deterministic: among equal costs lower indices come first in ``order``."""
    t0 = time.perf_counter()
    n = P.shape[0]
    sizes = np.ones(n) if sizes is None else np.asarray(sizes, float)
    if n == 0:
        return BlockSolution([], 0.0, 0.0, True, np.zeros(0), np.zeros(0), 1, method="empty")
    size = 1 << n
    cost = np.zeros((size, n))        # cost[S, j] = sum_{a in S} P[j, a]: j directly below S pays this
    col = np.zeros((size, n))         # col[S, j] = sum_{b in S} P[b, j]: j directly above S pays this
    weight = np.zeros(size)           # weight[S] = sum of sizes in S
    for b in range(n):
        cost[1 << b:2 << b] = cost[:1 << b] + P[:, b][None, :]
        col[1 << b:2 << b] = col[:1 << b] + P[b, :][None, :]
        weight[1 << b:2 << b] = weight[:1 << b] + sizes[b]
    subsets = np.arange(size)
    popcount = np.zeros(size, np.int64)
    for b in range(n):
        popcount += (subsets >> b) & 1
    f = np.full(size, np.inf)
    f[0] = 0.0
    choice = np.full(size, -1, np.int64)
    count = np.zeros(size) if summarize else None
    if summarize:
        count[0] = 1.0
    for k in range(1, n + 1):
        layer = subsets[popcount == k]
        best = np.full(layer.size, np.inf)
        arg = np.full(layer.size, -1, np.int64)
        vals = []
        for j in range(n - 1, -1, -1):
            has = (layer >> j) & 1 == 1
            rest = layer[has] ^ (1 << j)
            val = f[rest] + cost[rest, j]
            vals.append((j, has, rest, val))
            better = val < best[has] - 1e-12
            idx = np.flatnonzero(has)[better]
            best[idx] = val[better]
            arg[idx] = j
        f[layer] = best
        choice[layer] = arg
        if summarize:
            acc = np.zeros(layer.size)
            for j, has, rest, val in vals:
                b = best[has]
                ok = val <= b + COST_RTOL * np.maximum(1.0, np.abs(b))
                np.add.at(acc, np.flatnonzero(has)[ok], count[rest[ok]])
            count[layer] = acc
    order = []
    S = size - 1
    while S:
        j = int(choice[S])
        order.append(j)
        S ^= 1 << j
    order.reverse()
    opt = float(f[size - 1])
    sol = BlockSolution(order, opt, opt, True, method="subset DP")
    if summarize:
        full = size - 1
        in_set = ((subsets[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)
        cross = np.where(in_set, 0.0, cost).sum(axis=1)          # sum_{a in S, b not in S} P[b, a]
        best_pos = np.empty(n)
        worst_pos = np.empty(n)
        for j in range(n):
            S = subsets[~in_set[:, j]]
            R = full ^ S ^ (1 << j)
            val = f[S] + f[R] + cross[S] + col[R, j]
            ok = val <= opt + _tol(opt)
            w = weight[S[ok]]
            best_pos[j] = w.min() + 1
            worst_pos[j] = w.max() + sizes[j]
        sol.best, sol.worst = best_pos, worst_pos
        sol.n_orders = int(round(count[full]))
    sol.seconds = time.perf_counter() - t0
    return sol


# -- integer programming --------------------------------------------------------------------------------------------
class _Program:
    """The pair-variable formulation of one block (built once, re-solved with extra rows)."""

    def __init__(self, P: np.ndarray, sizes: np.ndarray):
        from scipy.sparse import csr_matrix

        m = P.shape[0]
        self.m, self.P, self.sizes = m, P, sizes
        iu, ju = np.triu_indices(m, 1)
        self.iu, self.ju = iu, ju
        var = np.full((m, m), -1, np.int64)
        var[iu, ju] = np.arange(iu.size)
        self.var = var
        self.nv = iu.size
        # cost = const + sum_{a<b} y_ab (P[b,a] - P[a,b])
        self.c = P[ju, iu] - P[iu, ju]
        self.const = float(P[iu, ju].sum())
        # transitivity rows for every triple i < j < k: y_ij + y_jk - y_ik in [0, 1]
        tri = _triples(m)
        if tri.size:
            i, j, k = tri[:, 0], tri[:, 1], tri[:, 2]
            rows = np.repeat(np.arange(tri.shape[0]), 3)
            cols = np.stack([var[i, j], var[j, k], var[i, k]], axis=1).ravel()
            data = np.tile([1.0, 1.0, -1.0], tri.shape[0])
            self.T = csr_matrix((data, (rows, cols)), shape=(tri.shape[0], self.nv))
        else:
            self.T = None

    def position_expr(self, s: int) -> tuple[np.ndarray, float]:
        """(coefficients, constant) of the weighted position of row s: 1 + sum of sizes placed above it."""
        coef = np.zeros(self.nv)
        const = 1.0
        for a in range(self.m):
            if a == s:
                continue
            if a < s:
                coef[self.var[a, s]] += self.sizes[a]          # a above s iff y_as = 1
            else:
                coef[self.var[s, a]] -= self.sizes[a]          # a above s iff y_sa = 0
                const += self.sizes[a]
        return coef, const

    def agreement(self, order) -> tuple[np.ndarray, float]:
        """(coefficients, constant) of the number of pairs ordered as in ``order``."""
        pos = np.empty(self.m, int)
        pos[list(order)] = np.arange(self.m)
        same = pos[self.iu] < pos[self.ju]          # a above b in the order: agreement is y_ab, else 1 - y_ab
        coef = np.where(same, 1.0, -1.0)
        return coef, float((~same).sum())

    def solve(self, objective, extra_rows=(), time_limit=None):
        """Minimize ``objective`` (coefficients) subject to transitivity and ``extra_rows`` [(coef, lo, hi)].
        Returns (status, x, dual_bound) with status 'optimal', 'infeasible' or 'limit'."""
        from scipy.optimize import Bounds, LinearConstraint, milp
        from scipy.sparse import csr_matrix, vstack

        cons = []
        if self.T is not None:
            cons.append(LinearConstraint(self.T, 0.0, 1.0))
        if extra_rows:
            A = vstack([csr_matrix(c.reshape(1, -1)) for c, _, _ in extra_rows])
            cons.append(LinearConstraint(A, [lo for _, lo, _ in extra_rows], [hi for _, _, hi in extra_rows]))
        opts = {"mip_rel_gap": 0.0, "presolve": True}
        if time_limit is not None:
            opts["time_limit"] = max(float(time_limit), 0.01)
        res = milp(objective, integrality=np.ones(self.nv), bounds=Bounds(0, 1), constraints=cons, options=opts)
        dual = getattr(res, "mip_dual_bound", None)
        if res.status == 0:
            return "optimal", np.round(res.x), dual
        if res.status == 2:
            return "infeasible", None, None
        x = None if res.x is None else np.round(res.x)
        return "limit", x, dual

    def order_of(self, x) -> list[int]:
        """The order encoded by a transitive 0/1 solution: rows by the number of rows placed above them."""
        above = np.zeros((self.m, self.m))
        above[self.iu, self.ju] = x
        above[self.ju, self.iu] = 1 - x
        n_above = above.sum(axis=0)                # above[a, s] = 1: a above s
        return [int(i) for i in np.lexsort((np.arange(self.m), n_above))]


def _triples(m: int) -> np.ndarray:
    if m < 3:
        return np.zeros((0, 3), np.int64)
    from itertools import combinations

    return np.fromiter((v for t in combinations(range(m), 3) for v in t), np.int64).reshape(-1, 3)


def ilp_block(P: np.ndarray, sizes=None, *, time_limit: float | None = 60.0, start=None,
              summarize: bool = True, dp_limit: int = DP_LIMIT) -> BlockSolution:
    """Exact Kemeny of one block by integer programming, with every co-optimal order summarized.

    Summary (``summarize``): a cut after position p of the optimal order found is *forced* when every optimal
    order has the same top-p set. Cuts crossed by other optimal orders (found by cost-neutral insertion moves, then
    by programs that find an optimal order crossing as many remaining candidate cuts as possible) are not forced;
    when such a program crosses none, every remaining candidate is proven forced. Between forced cuts the optimal orders are products of independent segments, each
    solved by :func:`subset_dp` (<= ``dp_limit`` rows: best/worst positions and the number of optimal orders) or by
    two position programs per row.

    ``start`` is a heuristic order, kept when the time limit stops the solver before it proves an optimum (the
    result then carries the solver's proven lower bound and ``optimal=False``). ``time_limit`` (seconds) covers
    every program this call solves."""
    t0 = time.perf_counter()
    m = P.shape[0]
    sizes = np.ones(m) if sizes is None else np.asarray(sizes, float)
    deadline = None if time_limit is None else t0 + float(time_limit)

    def left():
        return None if deadline is None else deadline - time.perf_counter()

    prog = _Program(P, sizes)
    status, x, dual = prog.solve(prog.c, time_limit=left())
    start = list(start) if start is not None else None
    if status != "optimal":
        cand = []
        if x is not None:
            cand.append(prog.order_of(x))
        if start is not None:
            cand.append(start)
        order = min(cand, key=lambda o: order_cost(P, o)) if cand else list(range(m))
        c = order_cost(P, order)
        bound = float(dual + prog.const) if dual is not None and np.isfinite(dual) else -np.inf
        return BlockSolution(order, c, bound, False, method="integer program (HiGHS), stopped by the time limit",
                             seconds=time.perf_counter() - t0,
                             notes=[f"time limit {time_limit:g} s reached before optimality was proven"])
    order = prog.order_of(x)
    opt = order_cost(P, order)
    sol = BlockSolution(order, opt, opt, True, method="integer program (HiGHS, transitivity constraints)")
    if summarize:
        _summarize(sol, prog, P, sizes, left, dp_limit)
    sol.seconds = time.perf_counter() - t0
    return sol


def _summarize(sol: BlockSolution, prog: _Program, P, sizes, left, dp_limit) -> None:
    m = P.shape[0]
    order, opt = sol.order, sol.cost
    cost_row = (prog.c, -np.inf, opt - prog.const + _tol(opt))
    pos = np.empty(m, int)
    pos[order] = np.arange(m)
    # cheap witnesses first: other optimal orders reached by cost-neutral insertion moves rule out the cuts they cross
    candidates = set(range(1, m)) - _neutral_walk_crossed(P, order, opt)
    n_programs = 1
    while candidates:
        # one program: an optimal order crossing as many remaining candidate cuts as possible; if it crosses none,
        # every remaining candidate is forced (proven at once)
        cands = sorted(candidates)
        status, x = _max_crossing(prog, pos, cands, cost_row, left)
        n_programs += 1
        if status != "optimal":
            sol.notes.append("time limit reached while summarizing co-optimal orders; positions not proven")
            return
        w = prog.order_of(x)
        if order_cost(P, w) > opt + _tol(opt):
            sol.notes.append("a witness order exceeded the optimum beyond the tolerance; positions not proven")
            return
        wpos = np.empty(m, int)
        wpos[w] = np.arange(m)
        crossed = {q for q in cands if not np.array_equal(pos < q, wpos < q)}
        if not crossed:
            break
        candidates -= crossed
    forced = sorted(candidates)
    cuts = [0, *forced, m]
    best = np.empty(m)
    worst = np.empty(m)
    n_orders = 1
    offset = 0.0
    ilp_segments = 0
    for a, b in zip(cuts[:-1], cuts[1:]):
        seg = list(order[a:b])
        Ps = P[np.ix_(seg, seg)]
        if len(seg) <= dp_limit:
            s = subset_dp(Ps, sizes[seg])
            best[seg], worst[seg] = offset + s.best, offset + s.worst
            n_orders = None if n_orders is None else n_orders * s.n_orders
        else:
            ilp_segments += 1
            n_orders = None
            res = _positions_by_programs(Ps, sizes[seg], left)
            if res is None:
                sol.notes.append("time limit reached while proving positions; positions not proven")
                return
            n_programs += res[2]
            best[seg], worst[seg] = offset + res[0], offset + res[1]
        offset += float(sizes[seg].sum())
    sol.best, sol.worst = best, worst
    sol.n_orders = n_orders if n_orders is None else int(n_orders)
    sol.method += (f"; co-optimal orders: {len(forced)} forced cut(s) proven ({n_programs} programs), "
                   f"{len(cuts) - 1} independent segment(s), "
                   + (f"{ilp_segments} by position programs" if ilp_segments else "each by subset DP"))


def _neutral_walk_crossed(P, order, opt, steps: int | None = None, seed: int = 0) -> set[int]:
    """Cuts (after position p) crossed by optimal orders found by a seeded random walk of cost-neutral insertion
    moves from ``order`` (each visited order is checked to have the optimal cost)."""
    m = len(order)
    D = P - P.T
    rng = np.random.default_rng(seed)
    base = np.empty(m, int)
    base[list(order)] = np.arange(m)
    crossed: set[int] = set()
    cur = list(order)
    drift = 0.0
    for _ in range(40 * m if steps is None else steps):
        a = cur[int(rng.integers(m))]
        i = cur.index(a)
        rest = cur[:i] + cur[i + 1:]
        gains = -D[a, rest]
        suffix = np.concatenate([np.cumsum(gains[::-1])[::-1], [0.0]])
        # accept only moves that keep the accumulated cost change within the tolerance (no drift)
        ok = np.flatnonzero(np.abs(drift + suffix - suffix[i]) <= _tol(opt))
        ok = ok[ok != i]
        if not ok.size:
            continue
        j = int(ok[rng.integers(ok.size)])
        drift += float(suffix[j] - suffix[i])
        cur = rest[:j] + [a] + rest[j:]
        pos = np.empty(m, int)
        pos[cur] = np.arange(m)
        # cut q is crossed iff the top-q sets differ: some row of the base top-q is at position >= q now
        worst_top = np.maximum.accumulate(pos[list(order)])          # max current position among base top-(q)
        crossed |= {q for q in range(1, m) if worst_top[q - 1] >= q}
    return crossed


def _max_crossing(prog: _Program, pos, cands, cost_row, left):
    """An optimal order (cost row) maximizing the number of candidate cuts it crosses: z_q <= (reversed pairs
    across cut q), maximize sum z."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix, hstack

    K = len(cands)
    rows, hi = [], []
    for r, q in enumerate(cands):
        coef, const = _crossing(prog, pos < q)
        z = np.zeros(K)
        z[r] = 1.0
        rows.append(np.concatenate([coef, z]))          # agreeing pairs + z_q <= all pairs across the cut
        hi.append(q * (prog.m - q) - const)
    rows.append(np.concatenate([cost_row[0], np.zeros(K)]))
    hi.append(cost_row[2])
    cons = [LinearConstraint(csr_matrix(np.array(rows)), -np.inf, np.array(hi))]
    if prog.T is not None:
        cons.append(LinearConstraint(hstack([prog.T, csr_matrix((prog.T.shape[0], K))]).tocsr(), 0.0, 1.0))
    c = np.concatenate([np.zeros(prog.nv), -np.ones(K)])
    opts = {"mip_rel_gap": 0.0}
    t = left()
    if t is not None:
        opts["time_limit"] = max(t, 0.01)
    res = milp(c, integrality=np.ones(prog.nv + K), bounds=Bounds(0, 1), constraints=cons, options=opts)
    if res.status != 0:
        return "limit", None
    return "optimal", np.round(res.x[:prog.nv])


def _crossing(prog: _Program, top: np.ndarray) -> tuple[np.ndarray, float]:
    """(coefficients, constant) of #{(a, b): a in top, b not in top, a above b} in pair variables."""
    iu, ju = prog.iu, prog.ju
    coef = np.zeros(prog.nv)
    a_top = top[iu] & ~top[ju]          # a = iu in top: a above b iff y = 1
    b_top = ~top[iu] & top[ju]          # b = ju in top: ju above iu iff y = 0
    coef[a_top] = 1.0
    coef[b_top] = -1.0
    return coef, float(b_top.sum())


def _positions_by_programs(P, sizes, left):
    """Best and worst weighted position of every row over all optimal orders, two programs per row."""
    prog = _Program(P, sizes)
    status, x, _ = prog.solve(prog.c, time_limit=left())
    if status != "optimal":
        return None
    opt = order_cost(P, prog.order_of(x))
    cost_row = (prog.c, -np.inf, opt - prog.const + _tol(opt))
    m = P.shape[0]
    best = np.full(m, np.inf)
    worst = np.full(m, -np.inf)
    n = 1
    for s in range(m):
        coef, _ = prog.position_expr(s)
        for sign in (1.0, -1.0):
            status, x, _ = prog.solve(sign * coef, [cost_row], time_limit=left())
            n += 1
            if status != "optimal":
                return None
            f_, l_ = _weighted_positions(prog.order_of(x), sizes)
            best = np.minimum(best, f_)
            worst = np.maximum(worst, l_)
    return best, worst, n
