"""Audit checks and the ``auditkit audit`` / ``auditkit diff`` commands.

Checks (stable ids; documented in docs/audit.md): ``published-score``, ``task-set-consistency`` (needs a claims
table), ``nonpositive-values``, ``missing-values``, ``duplicate-systems``, ``scale-mismatch``,
``constant-predictor``, ``human-baseline``. Each is an :class:`auditkit.Check` whose ``run(ctx)`` receives an
:class:`auditkit_plugins.audit.context.AuditContext` and yields :class:`auditkit.Finding` objects; third-party
plugins add checks through the same hook and ``auditkit audit`` runs them too.

Importing this package is cheap: the check modules (numpy) load when a check runs.
"""

from __future__ import annotations

import importlib

import auditkit

__all__ = ["audit", "diff", "CHECKS"]


def _lazy(module: str, func: str):
    def run(ctx):
        return getattr(importlib.import_module(f"{__name__}.{module}"), func)(ctx)

    run.__name__ = func
    run.__qualname__ = f"{module}.{func}"
    return run


CHECKS = (
    ("published-score", "checks_published", "run", False,
     "recompute each published aggregate with interval arithmetic; classify mismatches as rounding (not reported), "
     "a named recipe variant (warning) or unexplained (error)"),
    ("task-set-consistency", "claims", "task_set_consistency", True,
     "find which task set and reduction reproduce each number of a claims table; flag rows or means explained only "
     "by different task sets"),
    ("nonpositive-values", "checks_values", "nonpositive_values", False,
     "zero and negative cells (correlations): geometric/harmonic means are degenerate or undefined there"),
    ("missing-values", "checks_values", "missing_values", False,
     "missing tasks, NaN cells, unranked rows, and values imputed where the leaderboard (or another snapshot) "
     "shows '-'"),
    ("duplicate-systems", "checks_values", "duplicate_systems", False,
     "several rows for one system name, or identical results under different names"),
    ("scale-mismatch", "checks_values", "scale_mismatch", False,
     "0-1 beside 0-100 columns, values above 100 (CIDEr), values outside the recipe's range, mixed directions"),
    ("constant-predictor", "checks_values", "constant_predictor", False,
     "cells equal to known placeholder / constant-predictor signatures"),
    ("human-baseline", "checks_values", "human_baseline", False,
     "the reference row as a reference: per task set and mean, how many systems exceed it and whether 'beats "
     "humans' / 'humans still first' holds"),
    ("recipe-era", "checks_eras", "recipe_era", False,
     "for a recipe with dated eras (openllm-v1@2023-06, @2023-11, final): which era's average each published "
     "score matches"),
    ("rank-ties", "checks_ranks", "rank_ties", False,
     "equal published scores with different published ranks: ties broken by display order"),
    ("rank-support", "checks_ranks", "rank_support", False,
     "published ranks the data cannot support: groups that simultaneous max-t rank sets cannot separate"),
)


@auditkit.hookimpl
def auditkit_register_checks():
    return [auditkit.Check(name=name, run=_lazy(mod, func), description=desc, default=True, needs_claims=claims)
            for name, mod, func, claims, desc in CHECKS]


@auditkit.hookimpl
def auditkit_make_check_context(data, benchmark, options):
    from .context import build_context

    return build_context(data, benchmark=benchmark, **(options or {}))


@auditkit.hookimpl
def auditkit_register_commands(cli):
    from .command import audit_command, diff_command

    cli.add_command(audit_command)
    cli.add_command(diff_command)


@auditkit.hookimpl
def auditkit_register_functions():
    # auditkit.audit and auditkit.diff: the real functions, so notebooks and IDEs show their signatures
    from .context import audit
    from .snapshots import diff

    return [auditkit.Function("audit", audit, "audit a leaderboard: returns an auditkit.Report"),
            auditkit.Function("diff", diff, "compare two snapshots of a leaderboard: returns an auditkit.Report")]
