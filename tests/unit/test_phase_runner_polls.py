"""The phase runner (application/phase_runner.py) on fakes, polling for due work: within its capacity (attempts the
API gave it aside) and each tenant's limit, taking turns between tenants, taking over attempts whose lease expired,
and going on when the store was away or a claim failed."""

from __future__ import annotations

import asyncio
import logging
from uuid import uuid4

import pytest

from adapters.clock import SystemClock
from domain.errors import StorageUnavailable
from domain.events import Tenant
from domain.lifecycle import FlowStatus
from domain.phase_policy import Backoff, PhasePolicy
from tests.fakes import FakePhaseQueue
from tests.support import eventually
from tests.unit.phase_world import TENANT, WAIT, Handler, World, definition
from tests.unit.runner_support import (
    AWAY,
    BEAT,
    OWNER,
    CountingQueue,
    Faults,
    claim,
    faulty,
    leases_of,
    runner_on,
    started,
    world_of,
)

SMALL = Tenant(uuid4(), uuid4())


async def test_polling_claims_due_work_up_to_the_runners_capacity() -> None:
    handler = Handler(*[WAIT] * 6)
    world = world_of(collect=handler)
    flows = [await world.flow(auto_run=True, name=f"f{i}") for i in range(6)]
    queue = CountingQueue(world)
    async with started(runner_on(world, queue, polls=True, capacity=3, tenant_limit=10)) as runner:
        await eventually(lambda: runner.running == 3, within=5, what="three attempts", every=BEAT)
        polls, renewals = queue.polls, queue.renewals
        await eventually(lambda: queue.renewals >= renewals + 3, within=5, what="three more beats", every=BEAT)
        assert (runner.running, handler.running, leases_of(world, TENANT)) == (3, 3, 3)
        assert queue.polls == polls  # a runner at its capacity does not even look
        handler.release.set()  # each ends (and its flow waits for input): the others are claimed
        await eventually(
            lambda: all(world.stored(f.flow_id).status == FlowStatus.WAITING_FOR_INPUT for f in flows),
            within=5,
            what="every flow through its first phase",
            every=BEAT,
        )
    assert handler.calls == 6


async def test_a_free_place_is_taken_by_the_next_due_flow() -> None:
    handler = Handler(WAIT, WAIT, WAIT)
    world = world_of(collect=handler)
    await world.flow(auto_run=True)
    async with started(runner_on(world, polls=True, capacity=2)) as runner:
        await eventually(lambda: runner.running == 1, within=5, what="the first attempt", every=BEAT)
        later = await world.flow(auto_run=True)  # due now, with one place left
        await eventually(lambda: world.lease(later.flow_id), within=5, what="the second attempt", every=BEAT)
        assert (runner.running, handler.running) == (2, 2)
        third = await world.flow(auto_run=True)
        renewed = world.lease(later.flow_id)
        await eventually(lambda: world.lease(later.flow_id) != renewed, within=5, what="a beat", every=BEAT)
        assert world.lease(third.flow_id) is None and runner.running == 2  # no place left for it


async def test_attempts_the_api_gave_the_runner_take_no_place_of_its_due_work() -> None:
    handler = Handler(WAIT, WAIT)
    world = world_of(collect=handler)
    mine = await world.flow()
    async with started(runner_on(world, polls=True, capacity=1)) as runner:
        runner.run(await claim(world, mine))
        due = await world.flow(auto_run=True)
        await eventually(lambda: world.lease(due.flow_id), within=5, what="the due flow claimed", every=BEAT)
        assert (runner.running, handler.running) == (2, 2)


async def test_polling_claims_no_more_than_a_tenants_limit() -> None:
    handler = Handler(*[WAIT] * 4)
    world = world_of(collect=handler)
    for i in range(4):
        await world.flow(auto_run=True, name=f"big{i}")
    await world.flow(tenant=SMALL, auto_run=True)
    queue = CountingQueue(world)
    async with started(runner_on(world, queue, polls=True, capacity=10, tenant_limit=2)) as runner:
        await eventually(lambda: runner.running == 3, within=5, what="three attempts", every=BEAT)
        polls = queue.polls
        await eventually(lambda: queue.polls >= polls + 3, within=5, what="three more polls", every=BEAT)
        assert (leases_of(world, TENANT), leases_of(world, SMALL), runner.running) == (2, 1, 3)


async def test_a_small_tenants_flow_is_claimed_while_a_big_tenant_has_many_due() -> None:
    world = world_of(collect=Handler(*[WAIT] * 12))
    for i in range(10):
        await world.flow(auto_run=True, name=f"big{i}")
    mine = await world.flow(tenant=SMALL, auto_run=True)  # due after all of them
    async with started(runner_on(world, polls=True, capacity=4, tenant_limit=10)) as runner:
        await eventually(lambda: runner.running == 4, within=5, what="four attempts", every=BEAT)
        assert world.lease(mine.flow_id, SMALL) is not None
        assert (leases_of(world, TENANT), leases_of(world, SMALL)) == (3, 1)
    claimed = world.events(mine.flow_id)[2]
    assert (claimed.operation, claimed.actor) == ("execute_phase", "worker")


async def test_a_runner_takes_over_an_attempt_whose_lease_expired_and_runs_the_next_at_once() -> None:
    again_at_once = PhasePolicy(backoff=Backoff(initial_seconds=0, jitter=0))
    world = World(definition(again_at_once), clock=SystemClock())
    flow = await world.flow()
    lost = await world.execution().claim_phase(
        TENANT, flow.flow_id, actor="api", owner="a-runner-that-died", lease_seconds=0.001
    )
    queue = FakePhaseQueue(world.store)
    await eventually(lambda: queue.due(10, 5), within=5, what="the lease expired", every=0.002)
    async with started(runner_on(world, polls=True, poll_seconds=60)):  # no second look but the one it earned
        await eventually(
            lambda: world.stored(flow.flow_id).current_phase == "review", within=5, what="the phase", every=BEAT
        )
    first, second = world.attempts(flow.flow_id)
    assert (first.run_id, first.result) == (lost.run_id, "retrying")
    assert (second.attempt, second.owner, second.result) == (2, OWNER, "completed")


async def test_polls_and_heartbeats_go_on_after_the_store_was_away(caplog: pytest.LogCaptureFixture) -> None:
    world = world_of(collect=Handler(WAIT))
    flow = await world.flow(auto_run=True)
    queue = CountingQueue(world, failing_polls=1, failing_renewals=1)
    with caplog.at_level(logging.WARNING, logger="mfo.runner"):
        async with started(runner_on(world, queue, polls=True)) as runner:
            await eventually(lambda: runner.running == 1, within=5, what="the attempt", every=BEAT)
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
    assert f"polling for due work failed: {AWAY}" in caplog.messages
    assert f"renewing 1 leases failed: {AWAY}" in caplog.messages


async def test_a_failed_poll_waits_its_interval_before_the_next() -> None:
    world = world_of()
    await world.flow(auto_run=True)
    queue = CountingQueue(world, failing_polls=1_000)
    async with started(runner_on(world, queue, polls=True, poll_seconds=60)):
        await eventually(lambda: queue.polls, within=5, what="the first poll", every=0.005)
        await asyncio.sleep(0.05)  # a negative check: no second poll comes before the interval
        assert queue.polls == 1


async def test_a_claim_that_fails_leaves_the_rest_of_the_poll_to_go_on(caplog: pytest.LogCaptureFixture) -> None:
    world = world_of()
    failing, other = await world.flow(auto_run=True), await world.flow(auto_run=True)
    faults = Faults()
    faults.fail("claim_due", failing.flow_id, 1)
    with caplog.at_level(logging.INFO, logger="mfo.runner"):
        async with started(runner_on(world, polls=True, poll_seconds=60, execution=faulty(world, faults))):
            for flow in (other, failing):  # the other in the same poll; the failed one in the next, at once
                await eventually(
                    lambda f=flow: world.stored(f.flow_id).status == FlowStatus.WAITING_FOR_INPUT,
                    within=5,
                    what="the flow through its first phase",
                    every=BEAT,
                )
    error = StorageUnavailable("the fake database restarts (claim_due)")
    assert f"claiming due work of flow {failing.flow_id} failed: {error}" in caplog.messages
