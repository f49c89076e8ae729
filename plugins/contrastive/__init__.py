"""Contrastive-learning float-precision diagnostics and FlatNCE (torch plugin).

InfoNCE is ``log(1 + xi)`` with ``xi = sum_{i != t} exp(s_i - s_t)``; when the positive dominates, ``1 + xi`` rounds
to 1 in the training precision and the loss and the positive's gradient vanish or become rounding noise. FlatNCE
(Chen et al. 2021) keeps an O(1) gradient. This plugin provides:

- ``auditkit contrastive diagnose``: the per-precision diagnostic (``diagnose.run_diagnostic``), also registered
  as the ``contrastive-precision`` Diagnostic record;
- torch losses ``infonce_loss``, ``flatnce_loss`` and exact gradient accumulation
  ``cached_gradient_accumulation`` in :mod:`auditkit_plugins.contrastive.losses` (imports torch).

Importing this package is cheap: torch and matplotlib are imported only when something runs.
"""

from __future__ import annotations

import auditkit

__all__ = ["run", "infonce_loss", "flatnce_loss", "cached_gradient_accumulation"]


def run(*args, **kwargs):
    """Run the diagnostic and return an :class:`auditkit.Report` (see ``diagnose.run_diagnostic``)."""
    from .diagnose import run_diagnostic

    return run_diagnostic(*args, **kwargs)


def __getattr__(name):
    if name in {"infonce_loss", "flatnce_loss", "cached_gradient_accumulation", "cosine_scores",
                "su_cached_gradient"}:
        from . import losses

        return getattr(losses, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@auditkit.hookimpl
def auditkit_register_diagnostics():
    return [auditkit.Diagnostic(
        name="contrastive-precision", run=run, requires=("torch",),
        description="Does InfoNCE's 1 + xi round to 1 in float16/bfloat16/float32? Loss and gradient errors of "
                    "InfoNCE and FlatNCE against a float64 reference, the log K bound and a verdict.")]


@auditkit.hookimpl
def auditkit_register_techniques():
    """The diagnostic's own claims (FlatNCE's gradient, float32 vanishing, the formats' rounding thresholds)."""
    from .claims import TECHNIQUES

    return list(TECHNIQUES)


@auditkit.hookimpl
def auditkit_register_commands(cli):
    from .commands import contrastive_group

    cli.add_command(contrastive_group)
