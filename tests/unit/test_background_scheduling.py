"""Background execution decided on fakes: what gets queued, in which transaction, and what a job does."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from application.flow_type_registry import FlowTypeRegistry
from application.orchestrator import MasterFlowOrchestrator
from application.phase_runner import BackgroundPhaseRunner
from domain.background import BackgroundRun, PhaseJob
from domain.errors import FlowBusy
from domain.events import Tenant
from domain.flow import Flow
from domain.lifecycle import FlowStatus, PhaseState
from tests.fakes import FakeClock, FakeUnitOfWork, fake_flow_type

TENANT = Tenant(uuid4(), uuid4())
MAX_ATTEMPTS = 3


def orchestrator(**options: object) -> tuple[MasterFlowOrchestrator, FakeUnitOfWork]:
    uow = FakeUnitOfWork()
    return MasterFlowOrchestrator(uow, FlowTypeRegistry([fake_flow_type(**options)]), FakeClock()), uow


async def started(mfo: MasterFlowOrchestrator, *, auto_run: bool = True) -> UUID:
    flow = await mfo.create_flow(TENANT, "fake", "bg", {"items": [1, 2]}, actor="alice")
    await mfo.start_flow(TENANT, flow.flow_id, actor="alice", auto_run=auto_run)
    return flow.flow_id


async def run_job(mfo: MasterFlowOrchestrator, job: PhaseJob) -> BackgroundRun:
    """What a worker does with ``job``: the background phase runner on the same unit of work and flow types."""
    runner = BackgroundPhaseRunner(mfo.unit_of_work, mfo.flow_types, FakeClock())
    return await runner.run(job, max_attempts=MAX_ATTEMPTS, actor="worker")


async def drain(mfo: MasterFlowOrchestrator, uow: FakeUnitOfWork) -> list[BackgroundRun]:
    """Run queued jobs oldest first, as a worker would, until none is left."""
    results = []
    while uow.committed_store.jobs:
        job = uow.committed_store.jobs.pop(0)
        results.append(await run_job(mfo, job))
    return results


def stored(uow: FakeUnitOfWork, flow_id: UUID) -> Flow:
    return uow.committed_store.flows[(TENANT, flow_id)]


async def test_a_plain_start_queues_nothing() -> None:
    mfo, uow = orchestrator()
    flow_id = await started(mfo, auto_run=False)
    assert uow.committed_store.jobs == []
    assert not stored(uow, flow_id).auto_run


async def test_an_auto_run_start_queues_the_first_phase_in_the_same_commit() -> None:
    mfo, uow = orchestrator()
    flow_id = await started(mfo)
    assert uow.commits == 2  # create, start: the job rode on the start's commit
    assert uow.committed_store.jobs == [PhaseJob(TENANT, flow_id, 2)]
    assert stored(uow, flow_id).auto_run


async def test_a_start_that_rolls_back_queues_nothing() -> None:
    mfo, uow = orchestrator(raise_in="save_child")
    with pytest.raises(RuntimeError):
        await mfo.create_flow(TENANT, "fake", "bg", {}, actor="a")
    assert uow.committed_store.jobs == []


async def test_phases_run_until_input_is_needed_and_go_on_after_the_input() -> None:
    mfo, uow = orchestrator()
    flow_id = await started(mfo)
    assert await drain(mfo, uow) == [BackgroundRun.RAN, BackgroundRun.RAN]
    flow = stored(uow, flow_id)
    assert (flow.status, flow.current_phase) == (FlowStatus.WAITING_FOR_INPUT, "review")
    await mfo.submit_input(TENANT, flow_id, {"approved": True}, actor="alice")
    assert uow.committed_store.jobs == [PhaseJob(TENANT, flow_id, 5)]
    assert await drain(mfo, uow) == [BackgroundRun.RAN]
    flow = stored(uow, flow_id)
    assert flow.status == FlowStatus.COMPLETED and flow.version == 6 == len(uow.committed_store.events)
    assert [e.actor for e in uow.committed_store.events] == ["alice", "alice", "worker", "worker", "alice", "worker"]
    assert uow.committed_store.attempts == {}


async def test_input_that_is_not_approved_queues_nothing() -> None:
    mfo, uow = orchestrator()
    flow_id = await started(mfo)
    await drain(mfo, uow)
    await mfo.submit_input(TENANT, flow_id, {"approved": False}, actor="alice")
    assert uow.committed_store.jobs == []


async def test_a_paused_flow_is_left_alone_and_resume_goes_on_in_the_background() -> None:
    mfo, uow = orchestrator()
    flow_id = await started(mfo)
    await mfo.pause_flow(TENANT, flow_id, actor="alice")
    assert await drain(mfo, uow) == [BackgroundRun.SKIPPED]
    flow = stored(uow, flow_id)
    assert flow.status == FlowStatus.PAUSED and flow.version == 3
    assert flow.phase_state("collect") == PhaseState.PENDING
    await mfo.resume_flow(TENANT, flow_id, actor="alice")
    assert uow.committed_store.jobs == [PhaseJob(TENANT, flow_id, 4)]
    assert await drain(mfo, uow) == [BackgroundRun.RAN, BackgroundRun.RAN]
    assert stored(uow, flow_id).status == FlowStatus.WAITING_FOR_INPUT


async def test_a_cancelled_flow_is_left_alone() -> None:
    mfo, uow = orchestrator()
    flow_id = await started(mfo)
    await mfo.cancel_flow(TENANT, flow_id, actor="alice")
    events = len(uow.committed_store.events)
    assert await drain(mfo, uow) == [BackgroundRun.SKIPPED]
    assert stored(uow, flow_id).status == FlowStatus.CANCELLED and len(uow.committed_store.events) == events
    assert uow.committed_store.attempts == {}


async def test_a_phase_run_through_the_api_makes_the_older_job_stale() -> None:
    mfo, uow = orchestrator()
    flow_id = await started(mfo)
    await mfo.execute_phase(TENANT, flow_id, actor="alice")  # collect, by hand
    assert uow.committed_store.jobs == [PhaseJob(TENANT, flow_id, 2), PhaseJob(TENANT, flow_id, 3)]
    assert await drain(mfo, uow) == [BackgroundRun.SKIPPED, BackgroundRun.RAN]
    flow = stored(uow, flow_id)
    assert flow.status == FlowStatus.WAITING_FOR_INPUT
    assert [e.actor for e in uow.committed_store.events] == ["alice"] * 3 + ["worker"]


async def test_a_job_of_an_unknown_flow_ends_quietly() -> None:
    mfo, uow = orchestrator()
    assert await run_job(mfo, PhaseJob(TENANT, uuid4(), 2)) == BackgroundRun.SKIPPED
    assert uow.committed_store.attempts == {}


async def test_a_phase_that_never_finishes_fails_the_flow_after_the_configured_attempts() -> None:
    mfo, uow = orchestrator(raise_in="collect")
    flow_id = await started(mfo)
    job = uow.committed_store.jobs.pop()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with pytest.raises(RuntimeError):  # the worker dies, or the phase raises: nothing of it is kept
            await run_job(mfo, job)
        assert uow.committed_store.attempts == {job: attempt}
        assert stored(uow, flow_id).status == FlowStatus.RUNNING
    assert await run_job(mfo, job) == BackgroundRun.GAVE_UP
    flow = stored(uow, flow_id)
    assert flow.status == FlowStatus.FAILED and flow.phase_state("collect") == PhaseState.FAILED
    assert flow.error is not None and "'collect' was started 3 times" in flow.error
    assert uow.committed_store.events[-1].data["background_attempt"] == MAX_ATTEMPTS + 1
    assert uow.committed_store.attempts == {} and uow.committed_store.jobs == []


async def test_a_phase_that_fails_on_its_data_fails_the_flow_at_once() -> None:
    mfo, uow = orchestrator(fail_in="collect")
    flow_id = await started(mfo)
    assert await drain(mfo, uow) == [BackgroundRun.RAN]
    assert stored(uow, flow_id).status == FlowStatus.FAILED


async def test_a_retried_auto_run_flow_goes_on_in_the_background() -> None:
    mfo, uow = orchestrator()
    flow = await mfo.create_flow(TENANT, "fake", "bg", {"items": [1], "fail": "collect"}, actor="alice")
    await mfo.start_flow(TENANT, flow.flow_id, actor="alice", auto_run=True)
    await drain(mfo, uow)
    assert stored(uow, flow.flow_id).status == FlowStatus.FAILED
    # the data is fixed by hand here; a retry re-runs the failed phase in the request, as for any flow
    uow.committed_store.flows[(TENANT, flow.flow_id)].configuration = {"items": [1]}
    await mfo.retry_flow(TENANT, flow.flow_id, actor="alice")
    assert uow.committed_store.jobs == [PhaseJob(TENANT, flow.flow_id, 4)]
    await drain(mfo, uow)
    assert stored(uow, flow.flow_id).status == FlowStatus.WAITING_FOR_INPUT


def test_replay_keeps_auto_run() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 1, 1, tzinfo=UTC)
    flow = Flow.create(
        flow_id=uuid4(), tenant=TENANT, flow_type="fake", name="n", phases=["a"], configuration={}, actor="x", at=at
    )
    flow.start(actor="x", at=at, auto_run=True)
    assert Flow.replay(list(flow.pending_events)).auto_run is True
    assert flow.pending_events[-1].data["auto_run"] is True


class BusyUnitOfWork(FakeUnitOfWork):
    """A unit of work whose row lock is not granted while ``busy`` (another operation holds it)."""

    busy = True

    async def __aenter__(self) -> BusyUnitOfWork:
        await super().__aenter__()
        if self.busy:
            flows = self.flows

            class Locked(type(flows)):  # type: ignore[misc]
                async def get_for_update(self, tenant: Tenant, flow_id: UUID) -> Flow:
                    raise FlowBusy("lock_timeout")

            self.flows = Locked(self.staged)
        return self


async def test_a_busy_flow_costs_no_attempt() -> None:
    uow = BusyUnitOfWork()
    mfo = MasterFlowOrchestrator(uow, FlowTypeRegistry([fake_flow_type()]), FakeClock())
    uow.busy = False
    flow_id = await started(mfo)
    job = uow.committed_store.jobs.pop()
    uow.busy = True
    with pytest.raises(FlowBusy):  # the worker retries the job later
        await run_job(mfo, job)
    assert uow.committed_store.attempts == {}
    uow.busy = False
    assert await run_job(mfo, job) == BackgroundRun.RAN
    assert uow.committed_store.events[-1].data["background_attempt"] == 1
    assert stored(uow, flow_id).phase_state("collect") == PhaseState.COMPLETED
