"""Rank-agreement metrics: Kendall tau-b and Spearman rho between two score vectors."""

from __future__ import annotations

import auditkit
from auditkit.ranking import kendall_tau, spearman_rho


@auditkit.hookimpl
def auditkit_register_metrics():
    return [
        auditkit.Metric("kendall", kendall_tau, "Kendall tau-b (ties counted as in scipy.stats.kendalltau)",
                        label="Kendall tau-b"),
        auditkit.Metric("spearman", spearman_rho, "Spearman rho on average ranks", label="Spearman rho"),
    ]
