"""Technique plugins with executable claims: CAN, BERT-whitening, Mitchell multiplication, Taylor softmax, the
entropy-invariant attention scale, Performer FAVOR+, Johnson-Lindenstrauss, repeated softmax, flooding and
exponentiated gradient.

Registers the technique records (``auditkit_register_techniques``) and the commands ``auditkit claims``,
``auditkit can`` and ``auditkit whiten``. Importing this module is cheap: numerics are imported when used.
"""

from __future__ import annotations

import auditkit


@auditkit.hookimpl
def auditkit_register_techniques():
    from .catalog import TECHNIQUES

    return list(TECHNIQUES)


@auditkit.hookimpl
def auditkit_register_commands(cli):
    from .cli import can_command, claims_command, whiten_command

    cli.add_command(claims_command)
    cli.add_command(can_command)
    cli.add_command(whiten_command)
