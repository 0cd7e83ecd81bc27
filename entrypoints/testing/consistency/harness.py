"""The harness as one call: the machine on a set of flow types, on a database of its own, under a profile.

:func:`harness_database` makes that database (migrated, with the child tables of every registered type that ships
its own) and drops it afterwards; :class:`ConsistencyHarness` runs the machine on it and raises
:class:`~entrypoints.testing.consistency.invariants.Inconsistency` with Hypothesis's shrunk counterexample (its
notes: the steps, with the type of each flow created and the entry point of each step) when a view disagrees.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Collection, Coroutine, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, TypeVar

from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from application.orchestrator import MasterFlowOrchestrator
from entrypoints.flow_type_plugins import load_flow_type_registry
from entrypoints.settings import Settings
from entrypoints.testing.consistency.environment import STATS, Environment
from entrypoints.testing.consistency.faults import FaultyAdapter, Switches
from entrypoints.testing.consistency.type_invariants import TypeInvariants
from entrypoints.testing.postgres import drop_database, migrated_database

T = TypeVar("T")

PROFILES: Mapping[str, Mapping[str, int]] = {
    "smoke": {"max_examples": 10, "stateful_step_count": 20},
    "ci": {"max_examples": 40, "stateful_step_count": 40},
    "deep": {"max_examples": 400, "stateful_step_count": 100},
}
"""Examples x steps of each profile: ``smoke`` (a first look, seconds), ``ci`` (the default, ``make test``) and
``deep`` (``make test-deep``)."""

_COMMON: Mapping[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    "derandomize": False,
    "report_multiple_bugs": False,  # one inconsistency, shrunk: the first a type's author has to fix
}


def profile_settings(profile: str) -> hypothesis_settings:
    """Hypothesis's settings for ``profile`` (``ci`` or ``deep``)."""
    if profile not in PROFILES:
        raise ValueError(f"the consistency harness has the profiles {sorted(PROFILES)}, not '{profile}'")
    return hypothesis_settings(**PROFILES[profile], **_COMMON)


def in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` in an event loop of its own, leaving the thread's current loop alone (unlike
    ``asyncio.run``, which unsets it: a test runner's loop may be set there)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def third_party_types(group: str = "mfo.flow_types") -> list[str]:
    """The flow types registered under ``group`` by a distribution other than MFO itself: a type author's."""
    return sorted(ep.name for ep in entry_points(group=group) if ep.dist is None or _normal(ep.dist.name) != "mfo")


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@contextmanager
def harness_database(settings: Settings, prefix: str = "mfo_harness") -> Iterator[Settings]:
    """``settings`` on a new database of the same server, migrated, with the child tables of every type registered
    under ``settings.flow_type_group`` (those MFO's migrations do not create made as the type's own migration would),
    dropped afterwards. The harness empties it between examples, and deliberate bugs leave inconsistent flows
    behind, so no other test may share it."""
    server = settings.database.url
    if server is None:
        raise ValueError("the consistency harness needs a PostgreSQL server URL")
    tables = [d.child_table for d in load_flow_type_registry(settings.flow_type_group).definitions()]
    url = in_own_loop(migrated_database(server, prefix, tables))
    try:
        yield dataclasses.replace(settings, database=dataclasses.replace(settings.database, url=url))
    finally:
        in_own_loop(drop_database(server, url))


@dataclass
class ConsistencyHarness:
    """The machine on ``flow_types`` (None: every registered type) with their ``invariants``, on ``settings``'s
    database (a :func:`harness_database`), under ``profile``."""

    settings: Settings
    profile: str = "ci"
    flow_types: Collection[str] | None = None
    invariants: TypeInvariants = field(default_factory=TypeInvariants)

    def check(
        self,
        *,
        switches: Switches | None = None,
        adapter: type[FaultyAdapter] = FaultyAdapter,
        orchestrator: type[MasterFlowOrchestrator] | None = None,
        **hypothesis: Any,
    ) -> int:
        """Run the machine; the number of steps it took. ``hypothesis``: settings that replace the profile's
        (``max_examples=600``, ``phases=...``); the rest as :class:`Environment` takes them."""
        from hypothesis.stateful import run_state_machine_as_test

        from entrypoints.testing.consistency.machine import FlowConsistencyMachine

        environment = Environment(
            self.settings,
            switches,
            flow_types=self.flow_types,
            invariants=self.invariants,
            adapter=adapter,
            orchestrator=orchestrator,
        )
        machine = type("FlowConsistencyMachine", (FlowConsistencyMachine,), {"environment": environment})
        steps_before, started = STATS.steps, time.perf_counter()
        try:
            run_state_machine_as_test(
                machine, settings=hypothesis_settings(profile_settings(self.profile), **hypothesis)
            )
        finally:
            environment.reset_database()  # a bug's inconsistent flows: later runs audit the database
            environment.close()
        steps = STATS.steps - steps_before
        elapsed = time.perf_counter() - started
        types = ", ".join(environment.type_order)
        by_type = self.invariants.by_type
        own = [getattr(c, "__name__", repr(c)) for t in environment.type_order for c in by_type.get(t, ())]
        checked = f"; the types' own invariants: {', '.join(own)}" if own else ""
        STATS.runs.append(
            f"state machine on {types}: {steps} steps, {elapsed:.1f} s, {steps / elapsed:.1f} steps/s{checked}"
        )
        return steps
