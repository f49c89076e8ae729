"""Shared fixtures: where the real raw leaderboards and the curated ones live."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT.parent / "shared" / "leaderboards-raw"
CURATED = ROOT / "leaderboards"


@pytest.fixture(autouse=True, scope="module")
def _restore_core_cli():
    """Invoking the CLI loads every plugin's commands into the core group; put it back afterwards so later test
    modules (auditkit.testing.check_plugin compares against the core commands) see the core group unchanged."""
    from auditkit.cli import AuditkitGroup, cli as core

    saved, loaded = dict(core.commands), AuditkitGroup._plugins_loaded
    yield
    core.commands.clear()
    core.commands.update(saved)
    AuditkitGroup._plugins_loaded = loaded


@pytest.fixture(scope="session")
def raw_dir() -> Path:
    assert RAW.is_dir(), f"the raw leaderboards are expected beside the repository at {RAW}"
    return RAW


@pytest.fixture(scope="session")
def curated_dir() -> Path:
    return CURATED


# Property tests explore new examples on every developer run; under CI (CI=true) they replay a fixed sequence so a
# submission cannot fail by the luck of the draw. A failure found locally is kept in .hypothesis/ and replayed.
import os  # noqa: E402

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def restore_registry():
    """Tests that register plugins by hand get a fresh registry; the registry the session loaded comes back after,
    so records collected at import time (parametrized tests) stay the registry's own objects."""
    from auditkit import registry

    saved = registry._REGISTRY
    registry._REGISTRY = None
    yield
    registry._REGISTRY = saved
