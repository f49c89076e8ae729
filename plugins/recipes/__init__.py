"""Benchmark recipes: GLUE, SuperGLUE, XTREME, XGLUE, VALUE, Open LLM Leaderboard v1, LiveBench, and generic.

Each recipe is versioned; the rules and their sources are in docs/recipes.md and
shared/reference/leaderboards.md. A recipe names its task columns, the metrics inside composite cells (in the
order the leaderboard displays them), diagnostics (listed but not in the official score), the reference row and the
published score column.
"""

from __future__ import annotations

import auditkit

from .definitions import RECIPES


@auditkit.hookimpl
def auditkit_register_recipes():
    return list(RECIPES)
