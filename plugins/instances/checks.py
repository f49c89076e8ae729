"""Checks over instance evidence (``Check.applies_to == "instances"``) and the context ``auditkit rescore`` hands
them.

:class:`InstancesContext` carries the instances read, the recomputed task scores, the paired statistics, the
sufficient statistics and every reported aggregate. ``rescore`` runs every registered instance check that is on by
default (or those named with ``checks=`` / ``--checks``); a third-party plugin adds one with
``auditkit_register_checks`` and ``applies_to="instances"``. A check that raises becomes an error finding naming
it; the others still run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class InstancesContext:
    instances: Any            # the InstanceSet read
    scores: list              # TaskScore per (system, task, metric)
    pairs: list               # PairStat per (task, metric, system_a, system_b)
    suff: Any                 # the engine's Sufficient statistics
    reported: list            # Reported aggregates: from the logs and from --reported
    engine: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list] = field(default_factory=dict)   # checks may add tables to the report


def check_reported(context: InstancesContext):
    """Every reported aggregate reproduced from the instances, or its mismatch explained."""
    from .explain import explain

    findings, rows = explain(context.reported, context.scores, context.instances)
    context.tables["reported vs recomputed"] = rows
    return findings


def check_stderr(context: InstancesContext):
    from .explain import stderr_findings

    return stderr_findings(context.reported, context.scores)


def check_records() -> list:
    import auditkit

    return [
        auditkit.Check("instances.reported", check_reported,
                       "reported aggregates reproduced from the instances, every mismatch explained (subset, "
                       "filter, metric, normalization, missing instances)", applies_to="instances"),
        auditkit.Check("instances.stderr", check_stderr,
                       "reported standard errors compared with sqrt(var / n) over the instances",
                       applies_to="instances"),
    ]


def selected(names=None) -> list:
    """The instance checks to run: the default ones, or exactly ``names`` (unknown ones listed)."""
    import auditkit
    from auditkit.errors import UsageError, unknown_name

    checks = {n: c for n, c in auditkit.get_registry().records("checks").items()
              if getattr(c, "applies_to", "table") == "instances"}
    if not checks:  # the plugin's own records when the registry does not hold them (plugin disabled, test registry)
        checks = {c.name: c for c in check_records()}
    if names:
        out = []
        for n in names:
            if n not in checks:
                raise unknown_name("instance check", n, checks)
            out.append(checks[n])
        if not out:
            raise UsageError("no instance check selected")
        return out
    return [c for c in checks.values() if c.default]


def run_checks(context: InstancesContext, names=None) -> list:
    from auditkit import Finding

    findings = []
    for check in selected(names):
        try:
            got = list(check.run(context) or [])
        except Exception as exc:  # a broken third-party check is reported, not fatal
            got = [Finding(check.name, "error", f"check {check.name!r} raised {type(exc).__name__}: {exc}",
                           evidence={"exception": type(exc).__name__})]
        findings += got
    return findings
