"""Every technique's claims hold, one test per technique record (any plugin's): `auditkit claims --run` split so a
failure names its technique, and so the mutation run (scripts/mutate.py) can select the claims of one module."""

from __future__ import annotations

import pytest

import auditkit
from auditkit_plugins.techniques.claims import collect_claims, evaluate_claim

TECHNIQUES = sorted({t for t, _ in collect_claims(registry=auditkit.get_registry())})


@pytest.mark.parametrize("technique", TECHNIQUES)
def test_technique_claims_hold(technique):
    results = [evaluate_claim(c, t) for t, c in collect_claims([technique], registry=auditkit.get_registry())]
    assert results
    failing = [(r.claim.id, r.status, r.measured, r.error) for r in results if not r.holds]
    assert not failing, failing
