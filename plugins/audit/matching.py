"""Matching systems between two tables (two snapshots, or a claims table and a leaderboard).

Names are compared with :func:`auditkit.leaderboard.match_key` (case, spacing and punctuation do not matter). A row
has a *full* key (team and model: ``ERNIE Team - Baidu`` + ``ERNIE``, or a ``Team | Model`` name as the
RankingNLPSystems files write it, where a third numeric part only numbers repeated names) and a *model* key
(``ERNIE``). Rows are matched on full keys first, then on model keys, each first keeping punctuation (so
'BERT++' pairs with 'BERT++' before 'BERT') and then ignoring it; rows sharing a key (four ``RefBERT`` rows) pair
with the row whose cells agree most (``similarity``), else in order of appearance.
"""

from __future__ import annotations

import re

from auditkit.leaderboard import match_key


def strict_key(name: str) -> str:
    """Case and spacing do not matter, punctuation does ('BERT++' is not 'BERT')."""
    return re.sub(r"\s+", " ", name.strip().lower())


def row_keys(lb, strict: bool = False) -> list[tuple[str, str]]:
    """(full key, model key) per row; ``strict`` keeps punctuation."""
    match_key_ = strict_key if strict else match_key
    teams = lb.teams()
    out = []
    for system, team in zip(lb.systems, teams):
        parts = [p for p in system.split(" | ") if p]
        if len(parts) >= 3 and parts[-1].isdigit():
            parts = parts[:-1]  # RankingNLPSystems numbers repeated names: 'Haiqin Yang | RefBERT | 2'
        if len(parts) >= 2:
            model = match_key_(" ".join(parts[1:]))
            full = match_key_(" ".join(parts))
        else:
            model = match_key_(system)
            full = match_key_(team + " " + system) if team and match_key_(team) != model else model
        out.append((full, model))
    return out


def match_rows(old, new, similarity=None) -> tuple[list[tuple[int, int, str]], list[int], list[int]]:
    """Pairs (old row, new row, how) and the unmatched rows of each side. When several rows share a key,
    ``similarity(i, j)`` (higher is closer, e.g. the number of equal task cells) picks the partner; without it
    they pair in order of appearance."""
    keys = {False: (row_keys(old), row_keys(new)), True: (row_keys(old, True), row_keys(new, True))}
    pairs: list[tuple[int, int, str]] = []
    left, right = list(range(len(old))), list(range(len(new)))
    for level, strict, how in ((0, True, "team and model"), (0, False, "team and model"), (1, True, "model name"),
                               (1, False, "model name")):
        ko, kn = keys[strict]
        taken_new: set[int] = set()
        by_key: dict[str, list[int]] = {}
        for j in right:
            by_key.setdefault(kn[j][level], []).append(j)
        still = []
        for i in left:
            cands = [j for j in by_key.get(ko[i][level], []) if j not in taken_new]
            if cands and ko[i][level]:
                best = max(cands, key=lambda j: similarity(i, j)) if similarity and len(cands) > 1 else cands[0]
                taken_new.add(best)
                pairs.append((i, best, how))
            else:
                still.append(i)
        left = still
        right = [j for j in right if j not in taken_new]
    return sorted(pairs), left, right


def find_system(lb, name: str) -> list[int]:
    """Rows of ``lb`` whose full or model key equals the key of ``name`` (keeping punctuation first, then ignoring
    it), or whose team name does."""
    for strict in (True, False):
        key = strict_key(name) if strict else match_key(name)
        if not key:
            continue
        hits = [i for i, (full, model) in enumerate(row_keys(lb, strict)) if key in (full, model)]
        if hits:
            return hits
    key = match_key(name)
    teams = lb.teams()
    return [i for i, t in enumerate(teams) if key and t and match_key(t) == key]
