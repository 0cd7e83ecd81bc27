"""Phase execution (application/phase_execution.py) on fakes, when the flow moves on without the attempt: an expired
lease fails its attempt, a cancel or a delete revokes it, and a late completion is only recorded as discarded; due
work is claimed only when due, and no more than the tenant's limit."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from application.outside_reads import ReadsOutsideTransaction
from domain.background import DueWork
from domain.errors import FlowNotFound
from domain.events import Tenant
from domain.lifecycle import FlowStatus, PhaseState
from domain.phase_policy import PhasePolicy
from tests.fakes import FakePhaseQueue
from tests.support import eventually
from tests.unit.phase_world import (
    RETRY_TEXT,
    TENANT,
    Handler,
    World,
    claim,
    claim_due,
    definition,
    raised_text,
    run_and_complete,
)

OTHER = Tenant(uuid4(), uuid4())


# -- expired leases, late completions --------------------------------------------------------------------


async def test_an_expired_lease_fails_its_attempt_and_its_late_completion_is_discarded() -> None:
    world = World()
    flow = await world.flow()
    first = await claim(world, flow, owner="r1")
    stopped = "phase 'collect': its worker stopped renewing the lease (the lease expired)"
    assert await claim_due(world, DueWork(TENANT, flow.flow_id, expired_run=first.run_id)) is None
    waiting = world.assert_views_at(flow.flow_id, 4)
    assert waiting.run is not None and (waiting.run.run_id, waiting.run.errors) == (None, (stopped,))
    ended = world.events(flow.flow_id)[-1]
    assert (ended.data["attempt_error"], ended.actor, ended.occurred_at) == (stopped, "worker", world.clock.now())
    assert (world.lease(flow.flow_id), world.results(flow.flow_id)) == (None, ["retrying"])
    world.clock.advance(0.01)
    second = await claim_due(world, DueWork(TENANT, flow.flow_id), owner="r2")
    assert second is not None and second.flow.run is not None and second.flow.run.attempt == 2
    began = world.events(flow.flow_id)[-1]
    assert (began.operation, began.actor, began.occurred_at) == ("reattempt_phase", "worker", world.clock.now())
    lease = world.lease(flow.flow_id)
    assert lease is not None and (lease.run_id, lease.owner) == (second.run_id, "r2")

    commits = world.commits
    assert await run_and_complete(world, first) is None  # the first runner's completion comes too late
    assert world.commits == commits + 1
    world.assert_views_at(flow.flow_id, 5)
    assert world.lease(flow.flow_id).run_id == second.run_id  # type: ignore[union-attr]
    late, current = world.attempts(flow.flow_id)
    assert (late.result, late.detail) == (
        "discarded",
        f"{stopped}; it runs {second.run_id} now; its outcome (completed) was discarded",
    )
    assert (current.result, current.owner) == (None, "r2")


async def test_an_expired_lease_of_the_last_attempt_fails_the_flow() -> None:
    world = World(definition(PhasePolicy(max_attempts=1)))
    flow = await world.flow()
    claimed = await claim(world, flow)
    assert await claim_due(world, DueWork(TENANT, flow.flow_id, expired_run=claimed.run_id)) is None
    failed = world.stored(flow.flow_id)
    stopped = "phase 'collect': its worker stopped renewing the lease (the lease expired)"
    assert (failed.status, failed.error) == (FlowStatus.FAILED, f"{stopped}; {RETRY_TEXT}")
    assert world.results(flow.flow_id) == ["failed"]


async def test_an_expired_lease_of_an_attempt_already_ended_changes_nothing() -> None:
    world = World()
    flow = await world.flow()
    claimed = await claim(world, flow)
    await run_and_complete(world, claimed)
    commits = world.commits
    assert await claim_due(world, DueWork(TENANT, flow.flow_id, expired_run=claimed.run_id)) is None
    assert await claim_due(world, DueWork(TENANT, flow.flow_id, expired_run=uuid4())) is None
    assert world.commits == commits
    world.assert_views_at(flow.flow_id, 4)


async def test_the_queue_names_an_expired_lease_first() -> None:
    world = World()
    auto = await world.flow(auto_run=True)
    flow = await world.flow()
    claimed = await claim(world, flow, lease_seconds=0.001)
    queue = FakePhaseQueue(world.store)

    async def with_the_expired_lease() -> list[DueWork] | None:
        due = await queue.due(10, 5)
        return due if len(due) == 2 else None

    due = await eventually(with_the_expired_lease, within=2, what="the lease to expire", every=0.002)
    assert due == [DueWork(TENANT, flow.flow_id, claimed.run_id), DueWork(TENANT, auto.flow_id)]


@pytest.mark.parametrize("operation", ["cancel_flow", "delete_flow"])
async def test_a_cancel_or_delete_revokes_the_attempt_and_its_completion_is_discarded(operation: str) -> None:
    world = World()
    flow = await world.flow()
    claimed = await claim(world, flow)
    stopped = await getattr(world.orchestrator(), operation)(TENANT, flow.flow_id, actor="api")
    status = stopped.status
    assert (stopped.run, world.lease(flow.flow_id)) == (None, None)
    revoked = f"the flow was {status} while the attempt ran"
    assert [(a.result, a.detail) for a in world.attempts(flow.flow_id)] == [("revoked", revoked)]
    commits = world.commits
    assert await run_and_complete(world, claimed) is None
    assert world.commits == commits + 1
    world.assert_views_at(flow.flow_id, 4)  # no event: the flow is as the cancel left it
    assert world.stored(flow.flow_id).status == status
    (attempt,) = world.attempts(flow.flow_id)
    assert (attempt.result, attempt.detail) == (
        "discarded",
        f"{revoked}; the flow is {status}; its outcome (completed) was discarded",
    )


async def test_a_failed_attempt_completed_after_a_cancel_is_discarded_with_its_error() -> None:
    world = World(definition(collect=Handler(RuntimeError("late"))))
    flow = await world.flow()
    claimed = await claim(world, flow)
    end = await world.execution().run_claimed(claimed)
    await world.orchestrator().cancel_flow(TENANT, flow.flow_id, actor="api")
    assert await world.execution().complete_run(claimed, end, actor="worker") is None
    (attempt,) = world.attempts(flow.flow_id)
    assert attempt.result == "discarded" and attempt.detail is not None
    assert attempt.detail.endswith(f"its outcome ({raised_text('RuntimeError: late')}) was discarded")


async def test_a_flow_paused_during_its_phase_stays_paused_with_the_outcome() -> None:
    world = World()
    flow = await world.flow()
    claimed = await claim(world, flow)
    await world.orchestrator().pause_flow(TENANT, flow.flow_id, actor="api")
    assert world.lease(flow.flow_id) is not None  # the run goes on
    done = await run_and_complete(world, claimed)
    assert done is not None and (done.status, done.phase_state("collect")) == (FlowStatus.PAUSED, PhaseState.COMPLETED)
    assert world.results(flow.flow_id) == ["completed"]


# -- due work ---------------------------------------------------------------------------------------------


async def test_claiming_due_work_runs_an_auto_run_flows_next_phase_and_nothing_else() -> None:
    world = World()
    auto = await world.flow(auto_run=True)
    manual = await world.flow()
    commits = world.commits
    assert await claim_due(world, DueWork(TENANT, manual.flow_id)) is None
    assert await claim_due(world, DueWork(TENANT, uuid4())) is None  # gone
    assert world.commits == commits
    claimed = await claim_due(world, DueWork(TENANT, auto.flow_id), owner="r9")
    assert claimed is not None and (claimed.phase, claimed.owner) == ("collect", "r9")
    world.assert_views_at(auto.flow_id, 3)
    event = world.events(auto.flow_id)[-1]
    assert (event.operation, event.actor, event.occurred_at) == ("execute_phase", "worker", world.clock.now())
    assert world.lease(auto.flow_id).owner == "r9"  # type: ignore[union-attr]
    assert await claim_due(world, DueWork(TENANT, auto.flow_id)) is None  # running now: not due


async def test_claiming_due_work_respects_the_tenants_limit() -> None:
    world = World()
    other = Tenant(uuid4(), uuid4())
    first, second = await world.flow(auto_run=True), await world.flow(auto_run=True)
    theirs = await world.flow(tenant=other, auto_run=True)
    one = await claim_due(world, DueWork(TENANT, first.flow_id), tenant_limit=1)
    assert one is not None
    commits = world.commits
    assert await claim_due(world, DueWork(TENANT, second.flow_id), tenant_limit=1) is None  # at its limit
    assert world.commits == commits and world.stored(second.flow_id).run is None
    assert await claim_due(world, DueWork(other, theirs.flow_id), tenant_limit=1) is not None  # another tenant's
    assert await claim_due(world, DueWork(TENANT, second.flow_id), tenant_limit=2) is not None
    await claim_due(world, DueWork(TENANT, first.flow_id, expired_run=one.run_id), tenant_limit=1)  # not limited
    assert world.results(first.flow_id) == ["retrying"]


async def test_a_flow_locked_by_another_transaction_is_not_claimed_now() -> None:
    world = World()
    flow = await world.flow(auto_run=True)
    holder = world.unit()
    async with holder:
        await holder.flows.get_for_update(TENANT, flow.flow_id)
        assert await claim_due(world, DueWork(TENANT, flow.flow_id)) is None
    assert await claim_due(world, DueWork(TENANT, flow.flow_id)) is not None


async def test_a_handlers_reads_each_take_a_unit_of_work_of_their_own_in_the_tenants_scope() -> None:
    world = World()
    flow = await world.flow()
    reads = ReadsOutsideTransaction(world.unit)
    assert (await reads.flows.get(TENANT, flow.flow_id)).version == 2
    assert await reads.bridge_states.load(TENANT, flow.flow_id) == {"status": "running", "master_version": 2}
    other = Tenant(uuid4(), uuid4())
    assert await reads.bridge_states.load(other, flow.flow_id) is None
    assert [unit.scopes for unit in world.units[-3:]] == [[TENANT], [TENANT], [other]]
    assert world.open_units == 0


async def test_claims_of_a_tenants_due_work_wait_for_each_other() -> None:
    world = World()
    flow = await world.flow(auto_run=True)
    theirs = await world.flow(tenant=OTHER, auto_run=True)
    holder = world.unit()
    async with holder:  # another claim of the tenant's work, in progress
        await holder.phase_runs.hold_tenant(TENANT)
        waiting = asyncio.create_task(claim_due(world, DueWork(TENANT, flow.flow_id)))
        assert await claim_due(world, DueWork(OTHER, theirs.flow_id)) is not None  # another tenant's: at once
        await asyncio.sleep(0.05)  # a negative check: the tenant's claim is still waiting for the lock
        assert not waiting.done()
    assert await waiting is not None


async def test_each_part_is_observed_with_its_tenant_and_flow_even_when_the_flow_is_missing() -> None:
    world = World()
    missing = uuid4()
    with pytest.raises(FlowNotFound):
        await world.execution().claim_phase(TENANT, missing, actor="api", owner="r1", lease_seconds=30)
    assert await claim_due(world, DueWork(TENANT, missing)) is None
    observed = [(o.operation, o.tenant, o.flow_id, o.flow_type) for o in world.observer.operations]
    assert observed == [("execute_phase", TENANT, missing, None), ("claim_due", TENANT, missing, None)]
    flow = await world.flow(auto_run=True)
    claimed = await claim_due(world, DueWork(TENANT, flow.flow_id))
    assert claimed is not None
    (found,) = [o for o in world.observed("claim_due") if o.flow_type is not None]
    assert (found.tenant, found.flow_id, found.flow_type, found.error) == (TENANT, flow.flow_id, "fake", None)
    end = await world.execution().run_claimed(claimed)
    del world.store.flows[(TENANT, flow.flow_id)]  # the flow's row is gone (not a status: no change keeps it)
    with pytest.raises(FlowNotFound):
        await world.execution().complete_run(claimed, end, actor="worker")
    (completing,) = world.observed("complete_phase")
    assert (completing.tenant, completing.flow_id, type(completing.error)) == (TENANT, flow.flow_id, FlowNotFound)
