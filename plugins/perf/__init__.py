"""Performance tooling: ``auditkit bench ratios|history|publish|offline|serve`` (see docs/performance.md).

Importing this module is cheap (click only); asv and the benchmark suites are imported by the commands.
"""

from __future__ import annotations

import auditkit


@auditkit.hookimpl
def auditkit_register_commands(cli):
    from .commands import bench

    cli.add_command(bench)
