"""Running a registered tensor-side diagnostic (contrastive precision, WGAN critic, ...) by name.

The one consumer of :class:`auditkit.Diagnostic`: it checks ``requires`` before ``run`` so a missing optional
package is a clear error naming it, not an ImportError from deep inside the plugin.
"""

from __future__ import annotations

import importlib.util
from typing import Any


def missing_requirements(diagnostic) -> list[str]:
    """The modules of ``diagnostic.requires`` that cannot be imported here."""
    return [m for m in diagnostic.requires if importlib.util.find_spec(m) is None]


def run_diagnostic(name: str, *args: Any, **kwargs: Any):
    """Run the diagnostic called ``name`` (``auditkit plugins`` lists them) and return its Report."""
    from .errors import MissingDependencyError
    from .registry import get_registry

    diagnostic = get_registry().get("diagnostics", name)
    missing = missing_requirements(diagnostic)
    if missing:
        raise MissingDependencyError(missing[0], f"the {diagnostic.name} diagnostic")
    return diagnostic.run(*args, **kwargs)
