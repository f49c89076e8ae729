"""Pairwise evidence: battles aggregated once into counts per ordered pair.

:class:`PairCounts` is what every rating model fits: for each ordered pair (model in position a, model in position
b) the number of battles won by a, won by b, tied, and tied as "both bad". Aggregating once makes every fit cost
O(unique pairs), not O(battles). When the input was a battle log, :class:`Battles` keeps the per-battle columns
(order, category, judge, timestamp, style features) that Elo, style control and the per-category audits need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

# outcome codes of a battle
A_WINS, B_WINS, TIE, BOTHBAD = 0, 1, 2, 3
OUTCOME_NAMES = ("model_a", "model_b", "tie", "tie (bothbad)")


@dataclass(frozen=True)
class Battles:
    """One row per battle, as integer codes: ``a``, ``b`` index ``models``; ``outcome`` is one of the codes above.

    ``category``, ``judge``, ``timestamp`` are optional per-battle arrays; ``style`` maps a feature name to its
    (n_battles, 2) values for model a and model b (response length, markdown counts...). Order is the input order.
    """

    models: tuple[str, ...]
    a: np.ndarray
    b: np.ndarray
    outcome: np.ndarray
    category: np.ndarray | None = None
    judge: np.ndarray | None = None
    timestamp: np.ndarray | None = None
    style: Mapping[str, np.ndarray] = field(default_factory=dict)
    lines: np.ndarray | None = None  # 1-based source line (or record number) of each battle

    def __len__(self) -> int:
        return int(self.a.size)

    def subset(self, mask: np.ndarray) -> "Battles":
        pick = lambda x: None if x is None else x[mask]  # noqa: E731
        return Battles(self.models, self.a[mask], self.b[mask], self.outcome[mask], pick(self.category),
                       pick(self.judge), pick(self.timestamp), {k: v[mask] for k, v in self.style.items()},
                       pick(self.lines))

    def counts(self, source: str = "<battles>", sha256: str | None = None) -> "PairCounts":
        """Aggregate into counts per ordered pair: one bincount over (a, b, outcome)."""
        n = len(self.models)
        key = self.a.astype(np.int64) * (4 * n)  # (a, b, outcome) -> one integer; in place: memory-bound at 10^7
        key += self.b * 4
        key += self.outcome
        flat = np.bincount(key, minlength=n * n * 4).reshape(n * n, 4)
        rows = np.flatnonzero(flat.any(axis=1))
        c = flat[rows].astype(float)
        return PairCounts(self.models, (rows // n).astype(np.int64), (rows % n).astype(np.int64),
                          c[:, 0], c[:, 1], c[:, 2], c[:, 3], ordered=True, source=source, sha256=sha256,
                          battles=self)


@dataclass(frozen=True)
class PairCounts:
    """Battle counts per ordered pair ``(ia[k], ib[k])``: ``wins_a``, ``wins_b``, ``ties``, ``bothbad`` (float64).

    ``ordered`` is False when the source lost which model was shown first (pairs listed once as i < j); then the
    position-bias audit does not apply. ``battles`` is the per-battle log when the input was one.
    """

    models: tuple[str, ...]
    ia: np.ndarray
    ib: np.ndarray
    wins_a: np.ndarray
    wins_b: np.ndarray
    ties: np.ndarray
    bothbad: np.ndarray
    ordered: bool = True
    source: str = "<counts>"
    sha256: str | None = None
    battles: Battles | None = None
    notes: tuple[str, ...] = ()

    def __post_init__(self):
        n = len(self.models)
        for name in ("wins_a", "wins_b", "ties", "bothbad"):
            v = getattr(self, name)
            if v.shape != self.ia.shape:
                raise ValueError(f"PairCounts.{name} has shape {v.shape}, expected {self.ia.shape}")
        if self.ia.size and (min(self.ia.min(), self.ib.min()) < 0 or max(self.ia.max(), self.ib.max()) >= n):
            raise ValueError("PairCounts: a model index is out of range")

    @property
    def n_models(self) -> int:
        return len(self.models)

    @property
    def n_pairs(self) -> int:
        return int(self.ia.size)

    @property
    def totals(self) -> np.ndarray:
        return self.wins_a + self.wins_b + self.ties + self.bothbad

    @property
    def n_battles(self) -> int:
        return int(round(float(self.totals.sum())))

    def battles_per_model(self) -> np.ndarray:
        t = self.totals
        return (np.bincount(self.ia, t, self.n_models) + np.bincount(self.ib, t, self.n_models))

    def unordered(self) -> "PairCounts":
        """The same counts with each pair listed once as (i, j), i < j (position information merged)."""
        swap = self.ia > self.ib
        i = np.where(swap, self.ib, self.ia)
        j = np.where(swap, self.ia, self.ib)
        wi = np.where(swap, self.wins_b, self.wins_a)
        wj = np.where(swap, self.wins_a, self.wins_b)
        n = self.n_models
        key = i * n + j
        if n * n <= 1 << 25:  # a dense bincount over all ordered pairs beats sorting the keys
            used = np.flatnonzero(np.bincount(key, minlength=n * n))
            where = np.full(n * n, -1, np.int64)
            where[used] = np.arange(used.size)
            uniq, inv = used, where[key]
        else:
            uniq, inv = np.unique(key, return_inverse=True)
        s = lambda v: np.bincount(inv, v, uniq.size)  # noqa: E731
        return PairCounts(self.models, uniq // n, uniq % n, s(wi), s(wj), s(self.ties), s(self.bothbad),
                          ordered=False, source=self.source, sha256=self.sha256, battles=self.battles,
                          notes=self.notes)

    def select(self, keep: np.ndarray) -> "PairCounts":
        """Only the models where ``keep`` (bool per model) is True, renumbered; pairs touching others dropped."""
        keep = np.asarray(keep, bool)
        new = np.cumsum(keep) - 1
        rows = keep[self.ia] & keep[self.ib]
        models = tuple(m for m, k in zip(self.models, keep) if k)
        return PairCounts(models, new[self.ia[rows]], new[self.ib[rows]], self.wins_a[rows], self.wins_b[rows],
                          self.ties[rows], self.bothbad[rows], self.ordered, self.source, self.sha256, None,
                          self.notes)

    def win_matrix(self) -> dict[str, np.ndarray]:
        """Square matrices (row model vs column model, positions merged): ``wins``, ``ties`` (both kinds),
        ``battles`` and the observed ``win_rate`` with ties as half a win (NaN where the pair never met)."""
        n = self.n_models
        wins = np.zeros((n, n))
        ties = np.zeros((n, n))
        np.add.at(wins, (self.ia, self.ib), self.wins_a)
        np.add.at(wins, (self.ib, self.ia), self.wins_b)
        t = self.ties + self.bothbad
        np.add.at(ties, (self.ia, self.ib), t)
        np.add.at(ties, (self.ib, self.ia), t)
        battles = wins + wins.T + ties
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(battles > 0, (wins + 0.5 * ties) / battles, np.nan)
        return {"wins": wins, "ties": ties, "battles": battles, "win_rate": rate}

    def describe(self) -> dict[str, Any]:
        return {"source": self.source, "models": self.n_models, "pairs": self.n_pairs, "battles": self.n_battles,
                "ordered": self.ordered, "sha256": self.sha256}


def from_arrays(model_a, model_b, winner, *, models=None, source: str = "<arrays>") -> PairCounts:
    """Battle arrays (names or indices, winner as text or codes) -> :class:`PairCounts`, for Python callers."""
    from .readers import outcome_codes

    a = np.asarray(model_a)
    b = np.asarray(model_b)
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        if models is None:
            models = tuple(str(i) for i in range(int(max(a.max(), b.max())) + 1))
        ia, ib = a.astype(np.int64), b.astype(np.int64)
    else:
        names, inv = np.unique(np.concatenate([a.astype(str), b.astype(str)]), return_inverse=True)
        models = tuple(str(x) for x in names) if models is None else tuple(models)
        if models != tuple(str(x) for x in names):
            lookup = {m: k for k, m in enumerate(models)}
            inv = np.array([lookup[str(x)] for x in names])[inv]
        ia, ib = inv[: a.size].astype(np.int64), inv[a.size:].astype(np.int64)
    w = np.asarray(winner)
    codes = w.astype(np.int64) if w.dtype.kind in "iu" else outcome_codes(w, source=source)
    return Battles(tuple(models), ia, ib, codes).counts(source=source)
