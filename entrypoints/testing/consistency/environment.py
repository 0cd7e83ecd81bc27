"""The harness's world: its own event loop, a container on the test database with fault switches installed and
an audit after every commit, the real Litestar app behind an in-process HTTP client (its runner runs the phases
``execute`` claims; it polls for nothing), and a second connection, the schema owner's, for faults, expiring leases
and resets.

The flow types are the registry's (the machine creates flows of those it is given), with one change: no backoff
between the attempts of a phase, so that an attempt whose lease expired is due again at once (the harness never
waits for the clock)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from collections.abc import Collection, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dependency_injector import providers
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from application.flow_type_registry import FlowTypeRegistry
from application.orchestrator import MasterFlowOrchestrator
from domain.flow_types import FlowTypeDefinition
from domain.phase_policy import Backoff, PhasePolicy
from entrypoints.container import Container, build_container, close_databases
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from entrypoints.testing.consistency.commit_audit import AuditedUnitOfWork, CommitAudit
from entrypoints.testing.consistency.faults import FaultyAdapter, Switches, faulty_registry
from entrypoints.testing.consistency.phase_parts import PhaseParts
from entrypoints.testing.consistency.type_invariants import TypeInvariants
from entrypoints.testing.requests import asgi_client

T = TypeVar("T")


@dataclass
class Stats:
    steps: int = 0
    examples: int = 0
    resets: int = 0
    reset_seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)
    runs: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)


STATS = Stats()


NO_BACKOFF = Backoff(initial_seconds=0.0, multiplier=1.0, maximum_seconds=0.0, jitter=0.0)


def without_backoff(registry: FlowTypeRegistry) -> FlowTypeRegistry:
    """The same flow types (and adapters), every phase's next attempt due as soon as its attempt failed."""

    def immediate(policy: PhasePolicy) -> PhasePolicy:
        return dataclasses.replace(policy, backoff=NO_BACKOFF)

    def retried_at_once(definition: FlowTypeDefinition) -> FlowTypeDefinition:
        policies = {phase: immediate(policy) for phase, policy in definition.policies.items()}
        return dataclasses.replace(definition, policies=policies, default_policy=immediate(definition.default_policy))

    harness = FlowTypeRegistry()
    for definition in registry.definitions():
        name = definition.name
        harness.register(
            retried_at_once(definition),
            adapter=lambda uow, name=name: registry.adapter_for(name, uow),
            bridged=registry.new_contract(name).bridged,  # what new flows record: the adapter is the bridge
        )
    return harness


class Environment:
    """``flow_types``: the types the machine creates flows of (None: every registered type); ``invariants``: their
    own, checked after every step beside MFO's. ``adapter`` and ``orchestrator`` replace the harness's adapter
    wrapper and the container's orchestrator (MFO's own tests switch classic bugs on that way)."""

    def __init__(
        self,
        settings: Settings,
        switches: Switches | None = None,
        *,
        flow_types: Collection[str] | None = None,
        invariants: TypeInvariants | None = None,
        adapter: type[FaultyAdapter] = FaultyAdapter,
        orchestrator: type[MasterFlowOrchestrator] | None = None,
    ) -> None:
        self.loop = asyncio.new_event_loop()
        self.settings = settings
        self.switches = switches or Switches()
        self.invariants = invariants or TypeInvariants()
        self.container: Container = build_container(settings)
        assert settings.database.url
        self.admin = create_async_engine(settings.database.url, pool_size=2)
        plain = without_backoff(self.container.flow_types())
        registered = {d.name: d for d in plain.definitions()}
        unknown = sorted(set(flow_types or ()) - set(registered))
        if unknown:
            raise ValueError(f"no flow type {unknown} is registered (registered: {sorted(registered)})")
        self.definitions = {n: d for n, d in registered.items() if flow_types is None or n in flow_types}
        self.type_order = sorted(self.definitions, key=lambda name: (name != "discovery", name))
        """The types the machine draws from, discovery first when it is there (the one with legacy routes and the
        CrewAI bridge by default: a shrunk example starts with it)."""
        self.container.flow_types.override(
            providers.Object(faulty_registry(plain, self.switches, self.admin, self.container.unit_of_work, adapter))
        )
        self.audit = CommitAudit(self.container)
        self.container.unit_of_work.override(
            providers.Factory(
                AuditedUnitOfWork,
                database=self.container.app_database,
                idempotency_wait_ms=settings.idempotency.wait_ms,
                after_commit=self.audit,
            )
        )
        if orchestrator is not None:
            self.container.orchestrator.override(providers.Factory(orchestrator, **self.container.orchestrator.kwargs))
        self.parts = PhaseParts(self.container, self.admin)
        self.app = create_app(settings, self.container)
        self.runner_owner: str = self.app.state.phase_runner().owner
        self.client = asgi_client(self.app)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def reset_database(self) -> None:
        """Empty every flow table in one statement (the child tables follow the master by CASCADE)."""
        started = time.perf_counter()

        async def truncate() -> None:
            async with self.admin.begin() as connection:
                await connection.execute(text("TRUNCATE flows CASCADE"))

        self.run(truncate())
        self.audit.findings.clear()
        STATS.resets += 1
        STATS.reset_seconds += time.perf_counter() - started

    def close(self) -> None:
        async def dispose() -> None:
            await self.client.aclose()
            await close_databases(self.container)
            await self.admin.dispose()

        self.run(dispose())
        self.container.orchestrator.reset_override()
        self.container.unit_of_work.reset_override()
        self.container.flow_types.reset_override()
        self.loop.close()
