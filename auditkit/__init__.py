"""auditkit: audit benchmark leaderboards and the claims made with them.

The public API is re-exported here. Plugins implement hooks marked with :data:`hookimpl` and return the typed
records below. Heavy modules (pandas, torch, matplotlib) are imported only by the functions that need them.
"""

from __future__ import annotations

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("auditkit")

from .errors import (  # noqa: E402
    AuditkitError, DomainError, InputError, MissingDependencyError, ParseError, PluginError, UsageError,
)
from .records import (  # noqa: E402
    Aggregator, Backend, Check, Claim, Diagnostic, LogReader, Metric, Parameter, RatingModel, Reader, Recipe,
    TaskSpec, Technique,
)
from .registry import get_registry, reset_registry  # noqa: E402
from .report import Finding, Report, provenance  # noqa: E402


def __getattr__(name):
    # lazy re-exports so that `import auditkit` stays cheap
    if name in {"read_leaderboard", "Leaderboard"}:
        from . import leaderboard

        return getattr(leaderboard, name)
    if name in {"Ranking", "ranking_from_scores", "competition_rank", "tie_key", "TIE_RULE", "kendall_tau",
                "spearman_rho"}:
        from . import ranking

        return getattr(ranking, name)
    if name in {"RuleSpec", "resolve_rules", "bind"}:
        from . import rules

        return getattr(rules, name)
    if name == "rerank":
        import importlib

        return importlib.import_module("auditkit.rerank")  # a callable module: auditkit.rerank(path, "harmonic")
    if name == "RerankResult":
        import importlib

        return importlib.import_module("auditkit.rerank").RerankResult
    if name in {"task_scores", "TaskScores"}:
        from . import taskscores

        return getattr(taskscores, name)
    raise AttributeError(f"module 'auditkit' has no attribute {name!r}")


__all__ = [
    "__version__", "hookimpl",
    "AuditkitError", "DomainError", "InputError", "MissingDependencyError", "ParseError", "PluginError",
    "UsageError",
    "Aggregator", "Backend", "Check", "Claim", "Diagnostic", "Metric", "Parameter", "Reader", "Recipe",
    "TaskSpec", "Technique", "RatingModel", "LogReader",
    "Ranking", "ranking_from_scores", "competition_rank", "tie_key", "TIE_RULE", "kendall_tau", "spearman_rho",
    "RuleSpec", "resolve_rules", "bind",
    "get_registry", "reset_registry", "Finding", "Report", "provenance",
    "read_leaderboard", "Leaderboard", "rerank", "RerankResult", "task_scores", "TaskScores",
]
