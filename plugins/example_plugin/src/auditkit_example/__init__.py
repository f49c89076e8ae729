"""auditkit-example: an example third-party auditkit plugin.

It implements four hooks, one per common kind of extension, using only the public API:

- ``auditkit_register_aggregators``: ``trimmed-mean`` (:mod:`.trimmed`);
- ``auditkit_register_recipes``: ``mteb``, the MTEB English leaderboard (:mod:`.mteb`);
- ``auditkit_register_checks``: ``mteb-dataset-count`` (:mod:`.mteb`);
- ``auditkit_register_commands``: ``auditkit mteb-weights`` (:mod:`.commands`).

Importing this module is cheap (numpy and click are already loaded by auditkit; nothing heavy here).
"""

from __future__ import annotations

import auditkit

from .mteb import MTEB, check_dataset_count
from .trimmed import trimmed_mean

__version__ = "0.1.0"


@auditkit.hookimpl
def auditkit_register_aggregators():
    return [
        auditkit.Aggregator(
            "trimmed-mean", trimmed_mean,
            "weighted trimmed mean: drops the fraction `trim` of the task-weight mass from each end "
            "(trim=0 is the arithmetic mean, trim->0.5 the weighted median)",
            # declared range: `--mean trimmed-mean:trim=0.7` is refused before the function runs, naming the range
            params=(auditkit.Parameter("trim", 0.1, "fraction of the weight cut from each end", low=0.0, high=0.5,
                                       inclusive=(True, False)),),
            aliases=("trimmed",),
        )
    ]


@auditkit.hookimpl
def auditkit_register_recipes():
    return [MTEB]


@auditkit.hookimpl
def auditkit_register_checks():
    return [
        auditkit.Check(
            "mteb-dataset-count", check_dataset_count,
            "MTEB: the dataset counts in the category column names sum to the count in the published Average's "
            "name (a missing or renamed category shows up here)",
        )
    ]


@auditkit.hookimpl
def auditkit_register_commands(cli):
    from .commands import mteb_weights  # click is already imported by the caller; this stays cheap

    cli.add_command(mteb_weights)
