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
    Aggregator, Backend, Check, Claim, Diagnostic, Function, LogReader, Metric, Parameter, RatingModel, Reader,
    Recipe, Renderer, TaskSpec, Technique,
)
from .registry import get_registry, reset_registry  # noqa: E402
from .report import Finding, Report, provenance  # noqa: E402


_LAZY = {
    "read_leaderboard": "leaderboard", "Leaderboard": "leaderboard",
    "rerank": "reranking", "RerankResult": "reranking",
    "task_scores": "taskscores", "TaskScores": "taskscores",
    "load_task_scores": "loading", "Loaded": "loading",
    "Ranking": "ranking", "rank": "ranking", "oriented_values": "ranking", "ranking_from_scores": "ranking", "competition_rank": "ranking",
    "tie_key": "ranking", "TIE_RULE": "ranking", "kendall_tau": "ranking", "spearman_rho": "ranking",
    "RuleSpec": "rules", "resolve_rules": "rules", "bind": "rules",
    "NEGATIVE_POLICIES": "policies", "MISSING_POLICIES": "policies",
    "run_diagnostic": "diagnostics", "adjust_pvalues": "adjust",
}
# Python entry points that plugins provide (auditkit_register_functions), found through the registry so the core
# never imports a plugin by name
_PLUGIN_FUNCTIONS = ("audit", "diff", "compare", "significance")


def __getattr__(name):
    # lazy re-exports so that `import auditkit` stays cheap
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"auditkit.{_LAZY[name]}"), name)
    if name in _PLUGIN_FUNCTIONS:
        from .errors import UsageError

        try:
            return get_registry().get("functions", name).func
        except UsageError:
            raise AttributeError(f"auditkit.{name} is provided by a plugin that is not installed or is disabled "
                                 "(see `auditkit plugins`)") from None
    raise AttributeError(f"module 'auditkit' has no attribute {name!r}")


__all__ = [
    "__version__", "hookimpl",
    "AuditkitError", "DomainError", "InputError", "MissingDependencyError", "ParseError", "PluginError",
    "UsageError",
    "Aggregator", "Backend", "Check", "Claim", "Diagnostic", "Function", "LogReader", "Metric", "Parameter",
    "RatingModel", "Reader", "Recipe", "Renderer", "TaskSpec", "Technique",
    "get_registry", "reset_registry", "Finding", "Report", "provenance",
    *_LAZY, *_PLUGIN_FUNCTIONS,
]
