"""The ``mfo`` pytest plugin (entry point ``pytest11``): the state-consistency harness on your flow types.

``pytest --mfo-consistency`` adds one test (``entrypoints/testing/consistency_check.py``) that runs the harness's
machine on the flow types registered under ``mfo.flow_types`` by distributions other than MFO's own (all of them
when there are none; ``--mfo-consistency-types=a,b`` names them), through every entry point that serves them, with
every invariant (MFO's, and those your ``pytest_mfo_consistency_invariants`` hook returns) after every step, on a
PostgreSQL found as MFO's own tests find it (``MFO_TEST_DATABASE_URL``, testcontainers, a throwaway local cluster).
``--mfo-consistency-profile smoke|ci|deep`` chooses the budget. Without the option, the ``mfo_consistency`` fixture does
the same in a test of your own::

    def test_my_flow_types_keep_the_promise(mfo_consistency):
        mfo_consistency.check()

The steps, examples and steps per second are printed at the end of the run. The plugin is loaded wherever MFO is
installed, so this module imports only pytest: the harness (and Hypothesis) only when a test asks for it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHECK_MODULE = Path(__file__).with_name("consistency_check.py")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from entrypoints.testing import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mfo-consistency", "MFO's state-consistency harness")
    group.addoption(
        "--mfo-consistency",
        action="store_true",
        default=False,
        help="run MFO's consistency harness on the registered flow types (yours, or all when none is yours)",
    )
    group.addoption(
        "--mfo-consistency-profile",
        choices=["smoke", "ci", "deep"],
        default=None,
        help="the harness's budget: smoke (10 examples x 20 steps), ci (40 x 40, the default) or deep (400 x 100); "
        "MFO_HARNESS_PROFILE sets the default",
    )
    group.addoption(
        "--mfo-consistency-types",
        default=None,
        help="comma-separated flow types the harness creates flows of (default: those not registered by MFO itself)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("mfo_consistency"):
        config.args.append(str(CHECK_MODULE))


@pytest.fixture(scope="session")
def mfo_postgres_url() -> Iterator[str]:
    """A PostgreSQL server's URL: ``MFO_TEST_DATABASE_URL``, else testcontainers, else a throwaway local cluster."""
    from entrypoints.testing.postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def mfo_consistency_settings(mfo_postgres_url: str) -> Any:
    """The settings the harness runs MFO with (on a database of its own on this server): development-mode auth, the
    CrewAI bridge for the types ``MFO_CREWAI_FLOW_TYPES`` names (discovery by default)."""
    from entrypoints.settings import (
        AuthSettings,
        CrewAISettings,
        DatabaseSettings,
        ObservabilitySettings,
        Settings,
    )

    return Settings(
        database=DatabaseSettings(url=mfo_postgres_url, pool_size=5, max_overflow=20),
        crewai=CrewAISettings.from_env(),
        auth=AuthSettings(mode="dev"),
        observability=ObservabilitySettings(metrics_cache_seconds=0),
    )


@pytest.fixture(scope="session")
def mfo_consistency_database(mfo_consistency_settings: Any) -> Iterator[Any]:
    """``mfo_consistency_settings`` on the harness's own database, dropped at the end of the session."""
    from entrypoints.testing.consistency.harness import harness_database

    with harness_database(mfo_consistency_settings) as settings:
        yield settings


@pytest.fixture
def mfo_consistency(request: pytest.FixtureRequest, mfo_consistency_database: Any) -> Any:
    """A :class:`~entrypoints.testing.consistency.harness.ConsistencyHarness` on the options' flow types and
    profile, with the invariants of every ``pytest_mfo_consistency_invariants`` hook: call ``check()``."""
    from entrypoints.testing.consistency.harness import ConsistencyHarness, third_party_types
    from entrypoints.testing.consistency.type_invariants import TypeInvariants

    config = request.config
    named = config.getoption("mfo_consistency_types")
    group = mfo_consistency_database.flow_type_group
    flow_types = [t.strip() for t in named.split(",") if t.strip()] if named else third_party_types(group) or None
    return ConsistencyHarness(
        mfo_consistency_database,
        profile=profile_of(config),
        flow_types=flow_types,
        invariants=TypeInvariants.merged(config.hook.pytest_mfo_consistency_invariants(config=config)),
    )


def profile_of(config: pytest.Config) -> str:
    return str(config.getoption("mfo_consistency_profile") or os.environ.get("MFO_HARNESS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    import sys

    environment = sys.modules.get("entrypoints.testing.consistency.environment")
    if environment is None:  # the harness never ran
        return
    stats = environment.STATS
    if not stats.steps and not stats.runs:
        return
    elapsed = time.perf_counter() - stats.started
    reset_ms = 1000 * stats.reset_seconds / stats.resets if stats.resets else 0.0
    terminalreporter.write_sep("-", "consistency harness")
    if stats.steps:
        terminalreporter.write_line(
            f"profile {profile_of(config)}: {stats.steps} steps in {stats.examples} examples, {elapsed:.1f} s, "
            f"{stats.steps / elapsed:.1f} steps/s; database reset (TRUNCATE flows CASCADE): "
            f"{stats.resets} resets, {reset_ms:.1f} ms on average"
        )
    for line in stats.runs:
        terminalreporter.write_line(line)
    if stats.outcomes:
        terminalreporter.write_line("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.outcomes.items())))
