"""The phase runner (application/phase_runner.py) on fakes: it runs claimed attempts as tasks and completes them,
cancels an attempt whose lease it lost, goes straight on to an auto-run flow's next phase, polls for due work within
its capacity and each tenant's limit, fairly between tenants, retries a completion while the store is unavailable,
and leaves no task behind when it stops.

Its heartbeat and its polls run every 20 ms, and the clock is the system's, as the fake queue's leases are."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.clock import SystemClock
from application.phase_execution import PhaseExecution
from application.phase_runner import PhaseRunner, RunnerOptions, runner_id
from domain.background import ClaimedRun, DueWork
from domain.errors import StorageUnavailable
from domain.events import Tenant
from domain.flow import AttemptEnd, Flow
from domain.lifecycle import FlowStatus
from tests.fakes import FakePhaseQueue
from tests.support import eventually
from tests.unit.phase_world import TENANT, WAIT, Handler, World, definition

OWNER = "runner-1"
BEAT = 0.02


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
            raise StorageUnavailable("the fake database is away")
        return await super().due(limit, tenant_limit)

    async def renew(self, owner: str, run_ids: list[UUID], lease_seconds: float) -> set[UUID]:
        self.renewals += 1
        if self.renewals <= self._failing_renewals:
            raise StorageUnavailable("the fake database is away")
        return await super().renew(owner, run_ids, lease_seconds)


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
    return await world.execution().claim_phase(TENANT, flow.flow_id, actor="api", owner=owner, lease_seconds=30)


def leases_of(world: World, tenant: Tenant) -> int:
    return sum(1 for (t, _), lease in world.store.leases.items() if t == tenant and lease.owner == OWNER)


def runner_tasks(prefix: str = "mfo-") -> list[asyncio.Task[Any]]:
    """The runner's tasks still alive: its loops (``mfo-runner-``) and its attempts (``mfo-run-``)."""
    return [t for t in asyncio.all_tasks() if t.get_name().startswith(prefix) and not t.done()]


# -- attempts it is given ----------------------------------------------------------------------------------


async def test_a_runner_runs_a_claimed_attempt_and_completes_it_and_wait_returns_when_it_is_done() -> None:
    handler = Handler(WAIT)
    world = world_of(collect=handler)
    flow = await world.flow()
    async with started(runner_on(world)) as runner:
        claimed = await claim(world, flow)
        runner.run(claimed)
        assert runner.running == 1
        assert await runner.wait(claimed.run_id, 0.05) is False  # still running: the wait gives up
        assert world.lease(flow.flow_id).owner == OWNER  # type: ignore[union-attr]
        handler.release.set()
        assert await runner.wait(claimed.run_id, 5) is True
        assert runner.running == 0
        done = world.assert_views_at(flow.flow_id, 4)
        assert (done.status, done.current_phase, done.run) == (FlowStatus.RUNNING, "review", None)
        assert world.results(flow.flow_id) == ["completed"]
        assert world.events(flow.flow_id)[-1].actor == "worker"
        assert await runner.wait(claimed.run_id, 5) is True  # over: at once
        assert await runner.wait(uuid4(), 5) is True  # never run here: nothing to wait for


async def test_a_runner_runs_only_the_attempts_leased_to_it() -> None:
    world = world_of()
    flow = await world.flow()
    runner = runner_on(world)
    with pytest.raises(AssertionError, match="leased to it"):
        runner.run(await claim(world, flow, owner="another"))
    assert runner.running == 0


async def test_an_auto_run_flow_goes_straight_on_to_its_next_phase_on_the_same_runner() -> None:
    world = world_of()
    flow = await world.flow(auto_run=True)
    async with started(runner_on(world, polls=False)) as runner:  # no polls: only the runner's own follow-up
        claimed = await claim(world, flow)
        runner.run(claimed)
        assert await runner.wait(claimed.run_id, 5)
    waiting = world.stored(flow.flow_id)
    assert (waiting.status, waiting.current_phase) == (FlowStatus.WAITING_FOR_INPUT, "review")
    assert [(a.phase, a.owner, a.result) for a in world.attempts(flow.flow_id)] == [
        ("collect", OWNER, "completed"),
        ("review", OWNER, "needs_input"),
    ]
    following = world.events(flow.flow_id)[4]  # the next phase's claim is the runner's
    assert (following.operation, following.actor) == ("execute_phase", "worker")


async def test_the_heartbeat_renews_the_leases_it_holds() -> None:
    world = world_of(collect=Handler(WAIT))
    flow = await world.flow()
    async with started(runner_on(world)) as runner:
        claimed = await claim(world, flow)
        granted = world.lease(flow.flow_id)
        assert granted is not None
        runner.run(claimed)

        def renewed() -> bool:
            lease = world.lease(flow.flow_id)
            return lease is not None and lease.expires_at > granted.expires_at

        await eventually(renewed, within=5, what="a renewed lease", every=BEAT)


# -- revoked attempts -----------------------------------------------------------------------------------------


async def test_revoking_a_cancelled_flows_attempt_cancels_its_handler_at_once() -> None:
    handler = Handler(WAIT)
    world = world_of(collect=handler)
    flow = await world.flow()
    async with started(runner_on(world, heartbeat_seconds=60)) as runner:  # no heartbeat during the test
        claimed = await claim(world, flow)
        runner.run(claimed)
        await eventually(lambda: handler.running, within=5, what="the handler running", every=0.005)
        await world.orchestrator().cancel_flow(TENANT, flow.flow_id, actor="api")
        runner.revoke(uuid4())  # another flow's: nothing happens
        assert handler.cancelled == 0
        runner.revoke(flow.flow_id)
        assert await runner.wait(claimed.run_id, 5)
    assert (handler.cancelled, runner.running) == (1, 0)
    (attempt,) = world.attempts(flow.flow_id)
    assert (attempt.result, attempt.detail) == (
        "discarded",
        "the flow was cancelled while the attempt ran; the flow is cancelled; its outcome (cancelled: its lease was"
        " revoked) was discarded",
    )
    assert world.stored(flow.flow_id).status == FlowStatus.CANCELLED


async def test_the_heartbeat_cancels_an_attempt_whose_flow_was_cancelled_elsewhere() -> None:
    handler = Handler(WAIT)
    world = world_of(collect=handler)
    flow = await world.flow()
    async with started(runner_on(world)) as runner:
        claimed = await claim(world, flow)
        runner.run(claimed)
        await world.orchestrator().cancel_flow(TENANT, flow.flow_id, actor="api")  # in another process: no revoke
        assert await runner.wait(claimed.run_id, 5)
    assert handler.cancelled == 1
    assert world.results(flow.flow_id) == ["discarded"]


async def test_the_heartbeat_cancels_an_attempt_another_runner_took_over() -> None:
    handler = Handler(WAIT)
    world = world_of(collect=handler)
    flow = await world.flow()
    async with started(runner_on(world)) as runner:
        claimed = await claim(world, flow)
        runner.run(claimed)
        # another runner found the lease expired (this one's heartbeats stalled) and ended the attempt
        await world.execution().claim_due(
            DueWork(TENANT, flow.flow_id, claimed.run_id), owner="r2", lease_seconds=30, tenant_limit=5, actor="w"
        )
        assert await runner.wait(claimed.run_id, 5)
    assert handler.cancelled == 1
    (attempt,) = world.attempts(flow.flow_id)
    assert attempt.result == "discarded" and attempt.detail is not None
    assert attempt.detail.startswith("phase 'collect': its worker stopped renewing the lease")
    assert world.stored(flow.flow_id).run.retry_at is not None  # type: ignore[union-attr]


async def test_the_heartbeat_cancels_an_attempt_whose_lease_is_gone() -> None:
    handler = Handler(WAIT)
    world = world_of(collect=handler)
    flow = await world.flow()
    async with started(runner_on(world)) as runner:
        claimed = await claim(world, flow)
        runner.run(claimed)
        del world.store.leases[(TENANT, flow.flow_id)]
        assert await runner.wait(claimed.run_id, 5)
        assert (handler.cancelled, runner.running, runner_tasks("mfo-run-")) == (1, 0, [])
    (attempt,) = world.attempts(flow.flow_id)
    assert attempt.result is not None and attempt.ended_at is not None  # the attempt's end is recorded
    after = world.stored(flow.flow_id)
    assert after.run is None or after.run.run_id != claimed.run_id  # the flow no longer waits for it


# -- polling for due work -----------------------------------------------------------------------------------


async def test_polling_claims_due_work_up_to_the_runners_capacity() -> None:
    handler = Handler(*[WAIT] * 6)
    world = world_of(collect=handler)
    flows = [await world.flow(auto_run=True, name=f"f{i}") for i in range(6)]
    queue = CountingQueue(world)
    async with started(runner_on(world, queue, polls=True, capacity=3, tenant_limit=10)) as runner:
        await eventually(lambda: runner.running == 3, within=5, what="three attempts", every=BEAT)
        renewals = queue.renewals
        await eventually(lambda: queue.renewals >= renewals + 3, within=5, what="three more beats", every=BEAT)
        assert (runner.running, handler.running, leases_of(world, TENANT)) == (3, 3, 3)
        handler.release.set()  # each ends (and its flow waits for input): the others are claimed
        await eventually(
            lambda: all(world.stored(f.flow_id).status == FlowStatus.WAITING_FOR_INPUT for f in flows),
            within=5,
            what="every flow through its first phase",
            every=BEAT,
        )
    assert handler.calls == 6


async def test_polling_claims_no_more_than_a_tenants_limit() -> None:
    handler = Handler(*[WAIT] * 4)
    world = world_of(collect=handler)
    small = Tenant(uuid4(), uuid4())
    for i in range(4):
        await world.flow(auto_run=True, name=f"big{i}")
    await world.flow(tenant=small, auto_run=True)
    queue = CountingQueue(world)
    async with started(runner_on(world, queue, polls=True, capacity=10, tenant_limit=2)) as runner:
        await eventually(lambda: runner.running == 3, within=5, what="three attempts", every=BEAT)
        polls = queue.polls
        await eventually(lambda: queue.polls >= polls + 3, within=5, what="three more polls", every=BEAT)
        assert (leases_of(world, TENANT), leases_of(world, small), runner.running) == (2, 1, 3)


async def test_a_small_tenants_flow_is_claimed_while_a_big_tenant_has_many_due() -> None:
    world = world_of(collect=Handler(*[WAIT] * 12))
    small = Tenant(uuid4(), uuid4())
    for i in range(10):
        await world.flow(auto_run=True, name=f"big{i}")
    mine = await world.flow(tenant=small, auto_run=True)  # due after all of them
    async with started(runner_on(world, polls=True, capacity=4, tenant_limit=10)) as runner:
        await eventually(lambda: runner.running == 4, within=5, what="four attempts", every=BEAT)
        assert world.lease(mine.flow_id, small) is not None
        assert (leases_of(world, TENANT), leases_of(world, small)) == (3, 1)


async def test_a_runner_takes_over_an_attempt_whose_lease_expired() -> None:
    world = world_of()
    flow = await world.flow()
    lost = await world.execution().claim_phase(
        TENANT, flow.flow_id, actor="api", owner="a-runner-that-died", lease_seconds=0.001
    )
    async with started(runner_on(world, polls=True)):
        await eventually(
            lambda: world.stored(flow.flow_id).current_phase == "review", within=5, what="the phase", every=BEAT
        )
    first, second = world.attempts(flow.flow_id)
    assert (first.run_id, first.result) == (lost.run_id, "retrying")
    assert (second.attempt, second.owner, second.result) == (2, OWNER, "completed")


async def test_polls_and_heartbeats_go_on_after_the_store_was_away() -> None:
    world = world_of(collect=Handler(WAIT))
    flow = await world.flow(auto_run=True)
    queue = CountingQueue(world, failing_polls=1, failing_renewals=1)
    async with started(runner_on(world, queue, polls=True)) as runner:
        await eventually(lambda: runner.running == 1, within=5, what="the attempt", every=BEAT)
        assert runner.is_running
        granted = world.lease(flow.flow_id)
        assert granted is not None
        await eventually(
            lambda: world.lease(flow.flow_id).expires_at > granted.expires_at,  # type: ignore[union-attr]
            within=5,
            what="a renewal",
            every=BEAT,
        )
        assert runner.is_running
    assert queue.polls >= 2 and queue.renewals >= 2


# -- completing, stopping -----------------------------------------------------------------------------------


class UnavailableAtFirst(PhaseExecution):
    """Phase execution whose completions find the store unavailable ``failures[0]`` times first."""

    def __init__(self, *args: Any, failures: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._failures = failures

    async def complete_run(self, claimed: ClaimedRun, end: AttemptEnd, *, actor: str) -> Flow | None:
        if self._failures[0] > 0:
            self._failures[0] -= 1
            raise StorageUnavailable("the fake database restarts")
        return await super().complete_run(claimed, end, actor=actor)


async def test_a_completion_is_retried_while_the_store_is_unavailable() -> None:
    world = world_of()
    flow = await world.flow()
    failures = [2]

    def execution() -> PhaseExecution:
        return UnavailableAtFirst(world.unit(), world.registry, world.clock, new_uow=world.unit, failures=failures)

    async with started(runner_on(world, execution=execution)) as runner:
        claimed = await claim(world, flow)
        runner.run(claimed)
        assert await runner.wait(claimed.run_id, 5)
    assert failures == [0]
    assert world.results(flow.flow_id) == ["completed"]
    world.assert_views_at(flow.flow_id, 4)


async def test_stopping_cancels_the_running_attempts_and_leaves_no_task_behind() -> None:
    handler = Handler(WAIT, WAIT)
    world = world_of(collect=handler)
    first, second = await world.flow(), await world.flow(auto_run=True)
    runner = runner_on(world, polls=True)
    runner.start()
    assert runner.is_running
    runner.run(await claim(world, first))
    await eventually(lambda: handler.running == 2, within=5, what="both attempts", every=BEAT)
    await runner.stop()
    assert (handler.cancelled, runner.running, runner.is_running, runner_tasks()) == (2, 0, False, [])
    for flow in (first, second):  # their leases lapse, and another runner takes them over
        assert world.lease(flow.flow_id) is not None
        assert world.results(flow.flow_id) == [None]
        assert world.stored(flow.flow_id).run is not None


def test_a_runners_id_names_its_host_and_process_and_differs_each_time() -> None:
    one, two = runner_id(), runner_id()
    assert one != two
    assert one.startswith(f"{socket.gethostname()}:{os.getpid()}:") and len(one.rsplit(":", 1)[1]) == 8


def test_the_runners_defaults() -> None:
    assert RunnerOptions() == RunnerOptions(
        lease_seconds=30.0,
        heartbeat_seconds=2.0,
        poll_seconds=0.5,
        capacity=10,
        tenant_limit=5,
        polls=True,
        actor="worker",
    )
