"""A fake world to run phases in: one committed store, the units of work opened on it, a flow type whose handlers
do what each test scripts, and an adapter that keeps a bridge's state beside the child record (as the CrewAI
bridge does), so that every commit can be checked for the master row, the child record, the state and the event."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from application.direct_adapter import DirectFlowTypeAdapter
from application.flow_type_registry import FlowTypeRegistry
from application.orchestrator import MasterFlowOrchestrator
from application.phase_execution import PhaseExecution
from domain.background import ClaimedRun, DueWork
from domain.events import FlowEvent, Tenant
from domain.flow import Flow
from domain.flow_types import FlowTypeDefinition, PhaseContext
from domain.phase_policy import Backoff, PhasePolicy
from domain.phases import PhaseOutcome
from domain.ports import Attempt, Clock, Lease
from domain.status_sync import child_status_for
from tests.fakes import FakeObservedOperation, FakeObserver, FakeUnitOfWork, Store, fake_flow_type

TENANT = Tenant(uuid4(), uuid4())
QUICK = PhasePolicy(
    timeout_seconds=60.0, max_attempts=3, backoff=Backoff(initial_seconds=0.01, maximum_seconds=1.0, jitter=0.0)
)
"""Three attempts, 10 ms then 20 ms apart (no jitter: the delays are exact); a minute each, longer than any test
waits, so that an attempt left waiting never times out during one."""
WAIT = object()
"""A handler's step: wait until released (or cancelled)."""


class StillClock:
    """A clock that moves only when told: every time recorded in a step is the same, and exact."""

    def __init__(self, start: datetime | None = None) -> None:
        self.at = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class Handler:
    """A phase's handler that does what each call's step says: return an outcome, raise an error, or (``WAIT``)
    wait until ``release`` is set; after its steps, it completes the phase. ``during`` runs at the start of each
    call, with the flow and the handler's context; a cancelled wait takes ``cleanup_seconds`` to end."""

    def __init__(
        self,
        *steps: object,
        during: Callable[[Flow, PhaseContext], Awaitable[None]] | None = None,
        cleanup_seconds: float = 0.0,
    ) -> None:
        self.steps = list(steps)
        self.during = during
        self.cleanup_seconds = cleanup_seconds
        self.calls = 0
        self.cancelled = 0
        self.running = 0
        self.release = asyncio.Event()

    async def __call__(self, flow: Flow, context: PhaseContext) -> PhaseOutcome:
        self.calls += 1
        self.running += 1
        try:
            if self.during is not None:
                await self.during(flow, context)
            step = self.steps.pop(0) if self.steps else PhaseOutcome.completed({"call": self.calls})
            if step is WAIT:
                try:
                    await self.release.wait()
                except asyncio.CancelledError:
                    self.cancelled += 1
                    await asyncio.sleep(self.cleanup_seconds)  # a handler's own clean-up when it is cancelled
                    raise
                return PhaseOutcome.completed({"call": self.calls, "waited": True})
            if isinstance(step, BaseException):
                raise step
            assert isinstance(step, PhaseOutcome)
            return step
        finally:
            self.running -= 1


class BridgedAdapter(DirectFlowTypeAdapter):
    """The direct adapter, keeping a state beside the child record that reflects the master (as the bridge's)."""

    async def save_child(self, flow: Flow, outcome: PhaseOutcome | None = None) -> None:
        await super().save_child(flow, outcome)
        await self.unit_of_work.bridge_states.save(flow, {"status": str(flow.status), "master_version": flow.version})


def definition(policy: PhasePolicy = QUICK, **handlers: Handler) -> FlowTypeDefinition:
    """The fake type (collect, review waiting for input, publish) with ``handlers`` in place of its own."""
    base = fake_flow_type(policy=policy)
    return dataclasses.replace(base, run={**base.run, **handlers})


class World:
    def __init__(
        self, flow_type: FlowTypeDefinition | None = None, clock: Clock | None = None, store: Store | None = None
    ) -> None:
        self.store = store or Store()
        self.clock: Any = clock or StillClock()
        self.flow_type = flow_type or definition()
        self.registry = FlowTypeRegistry([self.flow_type]).with_adapters(
            lambda d, _: lambda uow: BridgedAdapter(d, uow)  # type: ignore[arg-type]
        )
        self.units: list[FakeUnitOfWork] = []
        self.observer = FakeObserver()

    def unit(self) -> FakeUnitOfWork:
        unit = FakeUnitOfWork(self.store)
        self.units.append(unit)
        return unit

    def execution(self) -> PhaseExecution:
        """A fresh part on a unit of work of its own, its handlers reading through units of their own."""
        return PhaseExecution(self.unit(), self.registry, self.clock, new_uow=self.unit, observer=self.observer)

    def orchestrator(self) -> MasterFlowOrchestrator:
        return MasterFlowOrchestrator(self.unit(), self.registry, self.clock, new_uow=self.unit, observer=self.observer)

    def observed(self, operation: str) -> list[FakeObservedOperation]:
        return [o for o in self.observer.operations if o.operation == operation]

    @property
    def open_units(self) -> int:
        """Units of work with a transaction open now."""
        return sum(1 for unit in self.units if unit.staged is not None)

    @property
    def commits(self) -> int:
        return sum(unit.commits for unit in self.units)

    async def flow(self, *, tenant: Tenant = TENANT, auto_run: bool = False, name: str = "f") -> Flow:
        """A flow of the type, created and started (running, its first phase pending)."""
        mfo = self.orchestrator()
        flow = await mfo.create_flow(tenant, self.flow_type.name, name, {"items": [1]}, actor="setup")
        return await mfo.start_flow(tenant, flow.flow_id, actor="setup", auto_run=auto_run)

    def stored(self, flow_id: UUID, tenant: Tenant = TENANT) -> Flow:
        return self.store.flows[(tenant, flow_id)]

    def events(self, flow_id: UUID) -> list[FlowEvent]:
        return [e for e in self.store.events if e.flow_id == flow_id]

    def lease(self, flow_id: UUID, tenant: Tenant = TENANT) -> Lease | None:
        return self.store.leases.get((tenant, flow_id))

    def attempts(self, flow_id: UUID) -> list[Attempt]:
        """The flow's attempts in the order they began."""
        found = [a for (_, f, _), a in self.store.attempts.items() if f == flow_id]
        return sorted(found, key=lambda a: (a.started_at, a.attempt))

    def results(self, flow_id: UUID) -> list[str | None]:
        return [a.result for a in self.attempts(flow_id)]

    def assert_views_at(self, flow_id: UUID, version: int, tenant: Tenant = TENANT) -> Flow:
        """The master row, the child record, the bridge's state and the event log all at ``version``."""
        stored = self.stored(flow_id, tenant)
        child = self.store.children[(f"{self.flow_type.name}_flows", tenant, flow_id)]
        state = self.store.bridge_states[(tenant, flow_id)]
        assert stored.version == version
        assert (child.master_version, child.status) == (version, child_status_for(stored.status))
        assert state == {"status": str(stored.status), "master_version": version}
        assert [e.version for e in self.events(flow_id)] == list(range(1, version + 1))
        assert all(None not in unit.scopes for unit in self.units)  # every unit of work in a tenant's scope
        return stored


RETRY_TEXT = "POST .../retry runs it again"
"""How the error of a failed flow ends."""


def raised_text(error: str) -> str:
    """How an attempt of ``collect`` that raised ``error`` (its type and message) ended."""
    return f"phase 'collect' raised an unexpected error ({error})"


async def claim(world: World, flow: Flow, owner: str = "r1", lease_seconds: float = 30.0) -> ClaimedRun:
    """Claim the flow's next phase, as the API does for ``owner``'s runner."""
    return await world.execution().claim_phase(
        TENANT, flow.flow_id, actor="api", owner=owner, lease_seconds=lease_seconds
    )


async def run_and_complete(world: World, claimed: ClaimedRun) -> Flow | None:
    """Run the claimed attempt's handler, then complete it: the flow after it (None: discarded)."""
    end = await world.execution().run_claimed(claimed)
    return await world.execution().complete_run(claimed, end, actor="worker")


async def claim_due(world: World, work: DueWork, owner: str = "r2", tenant_limit: int = 5) -> ClaimedRun | None:
    """Claim due work as a polling runner does."""
    return await world.execution().claim_due(
        work, owner=owner, lease_seconds=30.0, tenant_limit=tenant_limit, actor="worker"
    )
