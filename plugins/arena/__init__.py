"""Pairwise leaderboards (Chatbot Arena style): ``auditkit arena FILE``.

Readers for battle logs and pair counts (:mod:`.readers`), rating models registered through
``auditkit_register_rating_models`` (:mod:`.models`: bt, davidson, rao-kupper, elo, style-bt), exact Newton fits on
the unique pair counts (:mod:`.bt`, :mod:`.ties`, :mod:`.style`, :mod:`.elo`), sandwich and vectorized bootstrap
intervals (:mod:`.bootstrap`), rank intervals, simultaneous rank sets and tiers (:mod:`.intervals`), audits with
stable ids (:mod:`.checks`, :mod:`.published`), a forest plot (:mod:`.forest`). See docs/arena.md.

Importing this package is cheap (no numpy work, no scipy, pandas or torch): records are built here; the modules
that compute load when a model is fitted or the command runs.
"""

from __future__ import annotations

import importlib

import auditkit

_LAZY = {
    "read_battles": "readers", "read_counts": "readers", "read_any": "readers", "Columns": "readers",
    "leaderbot_path": "readers", "PairCounts": "data", "Battles": "data", "from_arrays": "data",
    "fit_bt": "bt", "BTFit": "bt", "fit_tie_model": "ties", "fit_style_bt": "style", "fit_elo": "elo",
    "analyse": "pipeline", "ArenaResult": "pipeline", "rate": "models",
    "CHECKS": "checks", "ArenaContext": "checks", "run_checks": "checks",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@auditkit.hookimpl
def auditkit_register_rating_models():
    from .models import RATING_MODELS

    return list(RATING_MODELS)


@auditkit.hookimpl
def auditkit_register_checks():
    # pairwise-data checks (applies_to="battles"): `auditkit arena` runs them, `auditkit audit` does not
    from .checks import CHECKS

    return list(CHECKS)


@auditkit.hookimpl
def auditkit_register_commands(cli):
    from .command import arena_command

    cli.add_command(arena_command)
