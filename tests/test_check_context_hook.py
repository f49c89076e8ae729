"""The auditkit_make_check_context hook: the audit plugin answers it, a test plugin can take precedence, and the
conformance kit falls back to CheckContext when no plugin answers."""

from pathlib import Path

import auditkit
from auditkit import testing
from auditkit.registry import Registry

GLUE = Path(__file__).resolve().parents[1] / "leaderboards" / "glue" / "glue-2021-vote-and-rank.csv"


def test_audit_plugin_builds_the_context_checks_receive():
    ctx = testing.make_context(str(GLUE))
    assert type(ctx).__name__ == "AuditContext"
    assert ctx.recipe.name == "glue" and len(ctx.systems) == 100


class _ContextPlugin:
    @auditkit.hookimpl
    def auditkit_make_check_context(self, data, benchmark, options):
        return {"data": data, "benchmark": benchmark, **options}


def test_first_non_none_answer_wins_and_no_answer_means_none():
    reg = Registry(load_entry_points=False)
    assert reg.pm.hook.auditkit_make_check_context(data="x", benchmark=None, options={}) is None
    reg.register(_ContextPlugin(), "ctx-test")
    got = reg.pm.hook.auditkit_make_check_context(data="x", benchmark="glue", options={"k": 1})
    assert got == {"data": "x", "benchmark": "glue", "k": 1}
