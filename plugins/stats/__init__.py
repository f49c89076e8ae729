"""Ranking robustness and uncertainty: ``auditkit compare`` (agreement between rules, rank ranges, winners, flips,
stable top-k, bump chart, bootstrap rank intervals and simultaneous rank sets) and ``auditkit significance``
(paired bootstrap and permutation tests, all pairs with Holm). Kernels in :mod:`.bootstrap` are written once against
the array API (numpy; torch on CPU or CUDA). See docs/compare.md.
"""

from __future__ import annotations

import auditkit


@auditkit.hookimpl
def auditkit_register_commands(cli):
    from .commands import compare_command, significance_command

    cli.add_command(compare_command)
    cli.add_command(significance_command)


@auditkit.hookimpl
def auditkit_register_functions():
    # auditkit.compare and auditkit.significance: the real functions, with their signatures
    from .compare import compare
    from .significance import significance

    return [auditkit.Function("compare", compare, "rankings of one table under several rules: an auditkit.Report"),
            auditkit.Function("significance", significance,
                              "paired significance of score differences under a rule: an auditkit.Report")]
