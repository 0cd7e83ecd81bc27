"""The phase runner (application/phase_runner.py) on fakes, with the attempts it is given: it runs each as a task
of its own and completes it, goes straight on to an auto-run flow's next phase, cancels an attempt whose lease it no
longer holds (at once when revoked here, else at its next heartbeat) and records the discard, retries a completion
while the store is unavailable, and leaves no task behind when it stops."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from uuid import uuid4

import pytest

from application import phase_runner
from application.phase_runner import RunnerOptions, runner_id
from domain.background import DueWork
from domain.errors import StorageUnavailable
from domain.lifecycle import FlowStatus
from tests.support import eventually
from tests.unit.phase_world import TENANT, WAIT, Handler, StillClock, World, definition
from tests.unit.runner_support import (
    BEAT,
    OWNER,
    CountingQueue,
    Faults,
    claim,
    faulty,
    runner_on,
    runner_tasks,
    started,
    world_of,
)

# -- running and completing -----------------------------------------------------------------------------------


async def test_a_runner_runs_a_claimed_attempt_and_completes_it_and_wait_returns_when_it_is_done() -> None:
    handler = Handler(WAIT)
    world = world_of(collect=handler)
    flow = await world.flow()
    async with started(runner_on(world)) as runner:
        assert [t.get_name() for t in runner_tasks("mfo-runner-")] == ["mfo-runner-heartbeat"]  # no polls
        claimed = await claim(world, flow)
        runner.run(claimed)
        (task,) = runner_tasks("mfo-run-")
        assert (task.get_name(), runner.running) == (f"mfo-run-{claimed.run_id}", 1)
        assert await runner.wait(claimed.run_id, 0.05) is False  # still running: the wait gives up
        assert world.lease(flow.flow_id).owner == OWNER  # type: ignore[union-attr]
        handler.release.set()
        assert await runner.wait(claimed.run_id, 5) is True
        assert runner.running == 0 and task.done() and task.exception() is None
        done = world.assert_views_at(flow.flow_id, 4)
        assert (done.status, done.current_phase, done.run) == (FlowStatus.RUNNING, "review", None)
        assert world.results(flow.flow_id) == ["completed"]
        assert world.events(flow.flow_id)[-1].actor == claimed.actor  # the completion is its caller's
        assert world.observed("claim_due") == []  # nothing follows a phase of a flow run by its callers
        assert await runner.wait(claimed.run_id, 5) is True  # over: at once
        assert await runner.wait(uuid4(), 5) is True  # never run here: nothing to wait for


async def test_a_runner_runs_only_the_attempts_leased_to_it() -> None:
    world = world_of()
    flow = await world.flow()
    runner = runner_on(world)
    with pytest.raises(AssertionError, match=r"^a runner runs only the attempts leased to it$"):
        runner.run(await claim(world, flow, owner="another"))
    assert runner.running == 0


async def test_an_auto_run_flow_goes_straight_on_to_its_next_phase_on_the_same_runner() -> None:
    world = World(definition(), clock=StillClock())  # its next phase is due the very moment the first one ends
    flow = await world.flow(auto_run=True)
    runner = runner_on(world)  # neither polling nor started: only the attempt's own task goes on
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


async def test_a_next_phase_run_straight_on_is_held_renewed_counted_and_revoked_like_the_first() -> None:
    review = Handler(WAIT, WAIT)
    world = world_of(review=review)
    first, second = await world.flow(auto_run=True), await world.flow(auto_run=True)
    queue = CountingQueue(world)
    async with started(runner_on(world, queue, polls=True, capacity=1)) as runner:
        await eventually(lambda: review.running == 1, within=5, what="the first flow's review", every=BEAT)
        (collect, reviewing) = world.attempts(first.flow_id)
        granted = world.lease(first.flow_id)
        assert granted is not None and granted.run_id == reviewing.run_id
        await eventually(
            lambda: world.lease(first.flow_id).expires_at > granted.expires_at,  # type: ignore[union-attr]
            within=5,
            what="the review's lease renewed",
            every=BEAT,
        )
        renewals = queue.renewals
        await eventually(lambda: queue.renewals >= renewals + 2, within=5, what="two more beats", every=BEAT)
        assert (runner.running, world.stored(second.flow_id).run) == (1, None)  # the review fills the capacity
        await world.orchestrator().cancel_flow(TENANT, first.flow_id, actor="api")
        runner.revoke(first.flow_id)
        assert await runner.wait(collect.run_id, 5)
        assert review.cancelled == 1
        await eventually(lambda: review.running == 1, within=5, what="the second flow's review", every=BEAT)
    assert world.results(first.flow_id) == ["completed", "discarded"]


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
        assert await runner.wait(claimed.run_id, 0.05) is False
        assert handler.cancelled == 0
        runner.revoke(flow.flow_id)
        runner.revoke(flow.flow_id)  # twice: cancelled once
        assert await runner.wait(claimed.run_id, 5)
    assert (handler.cancelled, runner.running) == (1, 0)
    (attempt,) = world.attempts(flow.flow_id)
    assert (attempt.result, attempt.detail) == (
        "discarded",
        "the flow was cancelled while the attempt ran; the flow is cancelled; its outcome (cancelled: its lease was"
        " revoked) was discarded",
    )
    assert world.stored(flow.flow_id).status == FlowStatus.CANCELLED


async def test_the_heartbeat_cancels_an_attempt_whose_flow_was_cancelled_elsewhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handler = Handler(WAIT)
    world = world_of(collect=handler)
    flow = await world.flow()
    with caplog.at_level(logging.INFO, logger="mfo.runner"):
        async with started(runner_on(world)) as runner:
            claimed = await claim(world, flow)
            runner.run(claimed)
            await world.orchestrator().cancel_flow(TENANT, flow.flow_id, actor="api")  # another process: no revoke
            assert await runner.wait(claimed.run_id, 5)
    assert handler.cancelled == 1
    assert world.results(flow.flow_id) == ["discarded"]
    assert f"run {claimed.run_id} lost its lease: cancelling it" in caplog.messages


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


async def test_a_completion_after_the_flow_moved_on_is_discarded_and_its_task_ends_cleanly() -> None:
    handler = Handler(WAIT)
    world = world_of(collect=handler)
    flow = await world.flow(auto_run=True)
    async with started(runner_on(world, heartbeat_seconds=60)) as runner:  # no heartbeat notices the cancel
        claimed = await claim(world, flow)
        runner.run(claimed)
        (task,) = runner_tasks("mfo-run-")
        await world.orchestrator().cancel_flow(TENANT, flow.flow_id, actor="api")
        handler.release.set()
        assert await runner.wait(claimed.run_id, 5)
        assert task.exception() is None and handler.cancelled == 0
    (attempt,) = world.attempts(flow.flow_id)
    assert attempt.result == "discarded" and attempt.detail is not None
    assert attempt.detail.endswith("its outcome (completed) was discarded")


# -- completing while the store is away, stopping -------------------------------------------------------------


class ShortSleeps:
    """``asyncio`` as the runner sees it, but each of its sleeps is recorded and cut to a millisecond."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def __getattr__(self, name: str) -> object:
        return getattr(asyncio, name)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(min(seconds, 0.001))


async def test_a_completion_is_retried_while_the_store_is_unavailable_waiting_longer_each_time(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    sleeps = ShortSleeps()
    monkeypatch.setattr(phase_runner, "asyncio", sleeps)
    world = world_of()
    flow = await world.flow()
    faults = Faults()
    faults.fail("complete_run", None, 7)
    with caplog.at_level(logging.WARNING, logger="mfo.runner"):
        async with started(runner_on(world, execution=faulty(world, faults), heartbeat_seconds=7.0)) as runner:
            claimed = await claim(world, flow)
            runner.run(claimed)
            assert await runner.wait(claimed.run_id, 5)
    assert faults.left == {("complete_run", None): 0}
    assert [s for s in sleeps.slept if s != 7.0] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]
    assert world.results(flow.flow_id) == ["completed"]
    world.assert_views_at(flow.flow_id, 4)
    error = StorageUnavailable("the fake database restarts (complete_run)")
    assert caplog.messages[0] == f"completing run {claimed.run_id} failed ({error}); again in 0.2 s"
    assert len(caplog.messages) == 7


async def test_stopping_cancels_the_running_attempts_and_leaves_no_task_behind() -> None:
    handler = Handler(WAIT, WAIT, cleanup_seconds=0.05)  # each takes a while to end once cancelled
    world = world_of(collect=handler)
    first, second = await world.flow(), await world.flow(auto_run=True)
    runner = runner_on(world, polls=True, heartbeat_seconds=60)
    runner.start()
    assert runner.is_running
    assert sorted(t.get_name() for t in runner_tasks("mfo-runner-")) == ["mfo-runner-heartbeat", "mfo-runner-poll"]
    runner.run(await claim(world, first))
    await eventually(lambda: handler.running == 2, within=5, what="both attempts", every=BEAT)
    await runner.stop()
    assert (handler.cancelled, handler.running, runner.running, runner.is_running, runner_tasks()) == (
        2,
        0,
        0,
        False,
        [],
    )
    for flow in (first, second):  # their leases lapse, and another runner takes them over
        assert world.lease(flow.flow_id) is not None
        assert world.results(flow.flow_id) == [None]
        assert world.stored(flow.flow_id).run is not None


async def test_stopping_an_idle_runner_ends_its_loops() -> None:
    runner = runner_on(world_of(), polls=True, heartbeat_seconds=60, poll_seconds=60)
    runner.start()
    await asyncio.sleep(0)  # let the loops begin their waits
    await runner.stop()
    assert (runner.is_running, runner_tasks()) == (False, [])


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


async def test_a_polled_auto_run_flow_claims_its_next_phase_in_the_completion_of_the_one_before() -> None:
    world = World(definition(), clock=StillClock())
    flow = await world.flow(auto_run=True)
    async with started(runner_on(world, polls=True)):
        await eventually(
            lambda: world.stored(flow.flow_id).status == FlowStatus.WAITING_FOR_INPUT,
            within=5,
            what="the flow through collect and review",
            every=BEAT,
        )
    events = world.events(flow.flow_id)
    assert [e.operation for e in events] == ["create", "start", "execute_phase", "complete_phase", "complete_phase"]
    chained = events[3]  # collect's completion begins review, in the same event: one commit, one event
    assert chained.data["phase_states"] == {"collect": "completed", "review": "running", "publish": "pending"}
    assert chained.data["run"]["phase"] == "review" and chained.data["run"]["attempt"] == 1
    (collect, review) = sorted(world.attempts(flow.flow_id), key=lambda a: a.phase)
    assert str(review.run_id) == chained.data["run"]["run_id"] and review.owner == OWNER
    assert (collect.result, review.result) == ("completed", "needs_input")
    world.assert_views_at(flow.flow_id, 5)
    assert world.lease(flow.flow_id) is None
