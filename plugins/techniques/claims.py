"""The generic claim runner: evaluate any plugin's :class:`auditkit.Claim` and build a :class:`auditkit.Report`.

A claim's ``measure()`` returns the measured value, or a dict ``{"value": v, ...}`` whose other keys are kept as
evidence (accuracies before and after, sample counts). ``compare`` decides how the value is judged:

* ``"close"``: ``|measured - expected| <= tolerance`` elementwise (shapes must match);
* ``"le"``: ``measured <= expected + tolerance``; ``"ge"``: ``measured >= expected - tolerance`` (elementwise);
* ``"true"``: ``measured`` is truthy (all elements for an array).

One :class:`auditkit.Finding` per claim, check id ``"claims"``: severity ``error`` when it fails (or its measure
raised), ``info`` when it holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from auditkit.errors import UsageError, unknown_name
from auditkit.report import Finding, Report, provenance
from auditkit.testing import COMPARES  # the one list, shared with the kit

__all__ = ["ClaimResult", "evaluate_claim", "compare_values", "collect_claims", "run_claims", "list_claims",
           "COMPARES"]



@dataclass
class ClaimResult:
    technique: str
    claim: Any
    holds: bool
    measured: Any = None
    evidence: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    @property
    def status(self) -> str:
        return "error" if self.error else ("holds" if self.holds else "fails")


def compare_values(measured, expected, tolerance: float, compare: str) -> bool:
    """Judge a measured value against the expected one (see the module docstring): the kit's one comparison."""
    from auditkit.testing import compare_claim_values

    return compare_claim_values(measured, expected, tolerance, compare)


def evaluate_claim(claim, technique: str = "") -> ClaimResult:
    """Run ``claim.measure()`` and judge it with :func:`auditkit.testing.judge_claim`, the one claim judge; an
    exception becomes a failing result carrying the error."""
    from auditkit.testing import judge_claim

    v = judge_claim(claim)
    return ClaimResult(technique, claim, v.holds, v.measured, v.evidence, v.seconds, v.error)


def collect_claims(techniques: Iterable[str] | None = None, registry=None) -> list[tuple[str, Any]]:
    """``(technique name, claim)`` pairs from every plugin's technique records, optionally filtered by name."""
    if registry is None:
        from auditkit.registry import get_registry

        registry = get_registry()
    records = registry.records("techniques")
    unique = {id(t): t for t in records.values()}
    by_name = {t.name: t for t in unique.values()}
    wanted = list(techniques or [])
    for name in wanted:
        if name not in by_name:
            raise unknown_name("technique", name, by_name)
    chosen = [by_name[n] for n in sorted(by_name) if not wanted or n in wanted]
    return [(t.name, c) for t in chosen for c in t.claims]


def _short(value, digits: int = 6) -> Any:
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return str(value)
    if arr.ndim == 0:
        return float(np.format_float_positional(arr, precision=digits, unique=True, trim="-")) \
            if np.isfinite(arr) else str(float(arr))
    flat = np.round(arr.ravel(), digits).tolist()
    text = "[" + ", ".join(f"{v:.{digits}g}" for v in flat[:8]) + (", ..." if len(flat) > 8 else "") + "]"
    return text


def _expected_text(claim) -> str:
    exp = _short(claim.expected)
    if claim.compare == "true":
        return "true"
    op = {"close": "=", "le": "<=", "ge": ">="}[claim.compare]
    tol = f" ± {claim.tolerance:g}" if claim.tolerance else ""
    return f"{op} {exp}{tol}"


def list_claims(techniques: Iterable[str] | None = None, registry=None) -> Report:
    """A report listing the claims without running them (no findings)."""
    rows = [{"technique": t, "claim": c.id, "real_data": bool(c.real_data), "expected": _expected_text(c),
             "statement": c.statement, "source": c.source} for t, c in collect_claims(techniques, registry)]
    return Report(title="auditkit claims (not run; pass --run to measure)", tables={"claims": rows},
                  provenance=provenance(), summary={"n_claims": len(rows)})


def run_claims(techniques: Iterable[str] | None = None, registry=None, *, real_data: bool = True) -> Report:
    """Run every claim (optionally only some techniques, optionally skipping real-data claims) into a Report."""
    pairs = collect_claims(techniques, registry)
    if not real_data:
        pairs = [(t, c) for t, c in pairs if not c.real_data]
    if not pairs:
        raise UsageError("no claims to run: no technique record carries claims (check `auditkit plugins`)")
    results = [evaluate_claim(c, t) for t, c in pairs]
    findings, rows = [], []
    for r in results:
        c = r.claim
        measured = _short(r.measured)
        if r.error:
            msg = f"could not be measured ({r.error}): {c.statement}"
        else:
            msg = f"{r.status}: {c.statement} (measured {measured}, expected {_expected_text(c)})"
        findings.append(Finding("claims", "info" if r.holds else "error", msg, system=r.technique, column=c.id,
                                evidence={"measured": r.measured, "expected": c.expected, "tolerance": c.tolerance,
                                          "compare": c.compare, "source": c.source, "real_data": bool(c.real_data),
                                          "seconds": round(r.seconds, 4), "error": r.error, **r.evidence}))
        rows.append({"technique": r.technique, "claim": c.id, "status": r.status, "measured": measured,
                     "expected": _expected_text(c), "real_data": bool(c.real_data),
                     "seconds": round(r.seconds, 3), "source": c.source})
    n_hold = sum(r.holds for r in results)
    summary = {"n_claims": len(results), "n_holds": n_hold, "n_fails": len(results) - n_hold,
               "n_errors": sum(bool(r.error) for r in results), "n_real_data": sum(bool(r.claim.real_data)
                                                                                 for r in results),
               "seconds": round(sum(r.seconds for r in results), 3)}
    return Report(title="auditkit claims", findings=findings, tables={"claims": rows}, summary=summary,
                  provenance=provenance(techniques=sorted({t for t, _ in pairs})))
