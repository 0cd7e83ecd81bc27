"""Profiles of the consistency harness and its closing figures.

``MFO_HARNESS_PROFILE=ci`` (the default, run by ``make test``) or ``deep`` (``make test-deep``).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, settings

from entrypoints.settings import Settings
from tests.consistency.environment import STATS
from tests.support import drop_database, migrated_database

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    "derandomize": False,
}
settings.register_profile("harness-ci", max_examples=40, stateful_step_count=40, **_COMMON)
settings.register_profile("harness-deep", max_examples=400, stateful_step_count=100, **_COMMON)

PROFILE = os.environ.get("MFO_HARNESS_PROFILE", "ci")


@pytest.fixture(scope="session", name="settings")
async def harness_database_settings(settings: Settings) -> AsyncIterator[Settings]:
    """The harness's own database: it empties it between examples, and its deliberate bugs leave inconsistent flows
    behind, so no other test may share it."""
    server = settings.database.url
    assert server is not None
    url = await migrated_database(server, "mfo_harness")
    yield dataclasses.replace(settings, database=dataclasses.replace(settings.database, url=url))
    await drop_database(server, url)


def harness_settings() -> settings:
    return settings.get_profile(f"harness-{PROFILE}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not STATS.steps and not STATS.runs:
        return
    elapsed = time.perf_counter() - STATS.started
    reset_ms = 1000 * STATS.reset_seconds / STATS.resets if STATS.resets else 0.0
    terminalreporter.write_sep("-", "consistency harness")
    if STATS.steps:
        terminalreporter.write_line(
            f"profile {PROFILE}: {STATS.steps} steps in {STATS.examples} examples, {elapsed:.1f} s, "
            f"{STATS.steps / elapsed:.1f} steps/s; database reset (TRUNCATE flows CASCADE): "
            f"{STATS.resets} resets, {reset_ms:.1f} ms on average"
        )
    for line in STATS.runs:
        terminalreporter.write_line(line)
    if STATS.outcomes:
        terminalreporter.write_line("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(STATS.outcomes.items())))
