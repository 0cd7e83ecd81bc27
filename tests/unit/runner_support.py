"""What the phase runner's tests share: a runner on a fake world (its heartbeat and polls every 20 ms, the system's
clock as the fake queue's leases have), a queue that counts and fails on demand, phase execution whose claims and
completions fail on demand, and the runner's tasks still alive."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from adapters.clock import SystemClock
from application.phase_execution import PhaseExecution
from application.phase_runner import PhaseRunner, RunnerOptions
from domain.background import ClaimedRun, DueWork
from domain.errors import StorageUnavailable
from domain.events import Tenant
from domain.flow import AttemptEnd, Flow
from tests.fakes import FakePhaseQueue
from tests.unit.phase_world import TENANT, Handler, World, definition

OWNER = "runner-1"
BEAT = 0.02
AWAY = StorageUnavailable("the fake database is away")


class CountingQueue(FakePhaseQueue):
    """The fake queue, counting its polls and renewals; the first ``failing_polls`` polls and ``failing_renewals``
    renewals find the database away."""

    def __init__(self, world: World, failing_polls: int = 0, failing_renewals: int = 0) -> None:
        super().__init__(world.store)
        self.polls = 0
        self.renewals = 0
        self._failing_polls = failing_polls
        self._failing_renewals = failing_renewals

    async def due(self, limit: int, tenant_limit: int) -> list[DueWork]:
        self.polls += 1
        if self.polls <= self._failing_polls:
            raise AWAY
        return await super().due(limit, tenant_limit)

    async def renew(self, owner: str, run_ids: list[UUID], lease_seconds: float) -> set[UUID]:
        self.renewals += 1
        if self.renewals <= self._failing_renewals:
            raise AWAY
        return await super().renew(owner, run_ids, lease_seconds)


class Faults:
    """How many more times each part fails for a flow: ``("claim_due", flow_id)`` or ``("complete_run", None)``
    (any flow)."""

    def __init__(self) -> None:
        self.left: dict[tuple[str, UUID | None], int] = {}

    def fail(self, part: str, flow_id: UUID | None, times: int) -> None:
        self.left[(part, flow_id)] = times

    def check(self, part: str, flow_id: UUID) -> None:
        for key in ((part, flow_id), (part, None)):
            if self.left.get(key, 0) > 0:
                self.left[key] -= 1
                raise StorageUnavailable(f"the fake database restarts ({part})")


class FaultyExecution(PhaseExecution):
    """Phase execution whose claims of due work and completions fail as ``faults`` says."""

    def __init__(self, *args: Any, faults: Faults, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._faults = faults

    async def claim_due(self, work: DueWork, **options: Any) -> ClaimedRun | None:
        self._faults.check("claim_due", work.flow_id)
        return await super().claim_due(work, **options)

    async def complete_run(self, claimed: ClaimedRun, end: AttemptEnd, **options: Any) -> Flow | None:
        self._faults.check("complete_run", claimed.flow.flow_id)
        return await super().complete_run(claimed, end, **options)


def faulty(world: World, faults: Faults) -> Any:
    return lambda: FaultyExecution(
        world.unit(), world.registry, world.clock, new_uow=world.unit, observer=world.observer, faults=faults
    )


def world_of(**handlers: Handler) -> World:
    return World(definition(**handlers), clock=SystemClock())


def runner_on(world: World, queue: FakePhaseQueue | None = None, execution: Any = None, **options: Any) -> PhaseRunner:
    settings = {"heartbeat_seconds": BEAT, "poll_seconds": BEAT, "polls": False, **options}
    return PhaseRunner(
        execution or world.execution,
        queue or FakePhaseQueue(world.store),
        world.clock,
        RunnerOptions(**settings),
        OWNER,
    )


@asynccontextmanager
async def started(runner: PhaseRunner) -> AsyncIterator[PhaseRunner]:
    runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


async def claim(world: World, flow: Flow, owner: str = OWNER) -> ClaimedRun:
    """Claim the flow's next phase for ``owner``, as the API does before it hands the attempt to its runner."""
    return await world.execution().claim_phase(TENANT, flow.flow_id, actor="api", owner=owner, lease_seconds=30)


def leases_of(world: World, tenant: Tenant) -> int:
    return sum(1 for (t, _), lease in world.store.leases.items() if t == tenant and lease.owner == OWNER)


def runner_tasks(prefix: str = "mfo-") -> list[asyncio.Task[Any]]:
    """The runner's tasks still alive: its loops (``mfo-runner-``) and its attempts (``mfo-run-``)."""
    return [t for t in asyncio.all_tasks() if t.get_name().startswith(prefix) and not t.done()]
