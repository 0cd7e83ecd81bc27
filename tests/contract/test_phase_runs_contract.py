"""PhaseRuns: a claim's lease and attempt are published by commit and lost by rollback; a flow holds one lease, of
its newest attempt; ending an attempt drops its own lease only and records how it ended, and a discarded outcome is
recorded only over an attempt that had none of its own (revoked, retrying, or not ended); ``running`` counts a
tenant's leases, live or expired; ``hold_tenant`` serializes a tenant's claims. The same tests on the fake and on
PostgreSQL (row-level security on: another tenant's leases and attempts are not seen)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.background import AttemptResult
from domain.flow import AttemptEnd, Flow
from domain.lifecycle import Operation
from domain.ports import Attempt
from tests.contract.conftest import T0, Implementation

CLOCK_SLACK = timedelta(seconds=5)
"""How far a lease's or an attempt's times (the database's clock) may be from this process's clock."""


def near_now(moment: datetime | None, offset: timedelta = timedelta()) -> bool:
    return moment is not None and abs(moment - (datetime.now(UTC) + offset)) < CLOCK_SLACK


async def attempts_of(implementation: Implementation, flow: Flow, limit: int = 10) -> list[Attempt]:
    async with implementation.scoped(flow.tenant) as uow:
        return await uow.phase_runs.attempts(flow.tenant, flow.flow_id, limit)


async def next_attempt(
    implementation: Implementation, flow: Flow, *, owner: str = "runner-b", end_lease: bool = True
) -> Flow:
    """The flow's running attempt failed and its next one began, leased to ``owner``, as two commits: the failed
    attempt's end (``retrying``; its lease dropped unless not ``end_lease``) and the next attempt's claim. The flow
    as stored."""
    failed = run_of(flow)
    async with implementation.scoped(flow.tenant) as uow:
        locked = await uow.flows.get_for_update(flow.tenant, flow.flow_id)
        locked.end_attempt(failed, AttemptEnd.failed("it raised", T0), actor="contract", at=T0 + timedelta(minutes=1))
        await uow.flows.save(locked)
        if end_lease:
            await uow.phase_runs.end(flow.tenant, flow.flow_id, failed, AttemptResult.RETRYING, "it raised")
        await uow.commit()
    async with implementation.scoped(flow.tenant) as uow:
        locked = await uow.flows.get_for_update(flow.tenant, flow.flow_id)
        run_id = uuid4()
        locked.reattempt_phase(run_id=run_id, actor="contract", at=T0 + timedelta(minutes=2))
        await uow.flows.save(locked)
        await uow.phase_runs.grant(locked, run_id, owner, 3600)
        await uow.commit()
    return locked


def run_of(flow: Flow) -> UUID:
    assert flow.run is not None and flow.run.run_id is not None
    return flow.run.run_id


@pytest.mark.parametrize("ending", ["rollback", "leave"])
async def test_a_grant_is_published_by_commit_and_lost_without_it(implementation: Implementation, ending: str) -> None:
    tenant, flow = implementation.tenant, await implementation.stored_flow(started=True)
    for commits in (False, True):
        run_id = uuid4()
        async with implementation.scoped() as uow:
            locked = await uow.flows.get_for_update(tenant, flow.flow_id)
            locked.claim_phase(Operation.EXECUTE_PHASE, run_id=run_id, actor="contract", at=T0 + timedelta(hours=1))
            await uow.flows.save(locked)
            await uow.phase_runs.grant(locked, run_id, "runner-a", 3600)
            assert (await uow.phase_runs.lease_of(tenant, flow.flow_id)).run_id == run_id  # its own write it sees
            assert await uow.phase_runs.running(tenant) == 1
            async with implementation.scoped() as other:
                assert await other.phase_runs.lease_of(tenant, flow.flow_id) is None
                assert await other.phase_runs.attempts(tenant, flow.flow_id, 10) == []
                assert await other.phase_runs.running(tenant) == 0
            if commits:
                await uow.commit()
            elif ending == "rollback":
                await uow.rollback()
                assert await uow.phase_runs.lease_of(tenant, flow.flow_id) is None
        async with implementation.scoped() as uow:
            lease = await uow.phase_runs.lease_of(tenant, flow.flow_id)
            attempts = await uow.phase_runs.attempts(tenant, flow.flow_id, 10)
            running = await uow.phase_runs.running(tenant)
        if not commits:
            assert (lease, attempts, running) == (None, [], 0)
    assert lease is not None and (lease.run_id, lease.owner) == (run_id, "runner-a")
    assert near_now(lease.expires_at, timedelta(hours=1))
    [attempt] = attempts
    assert (attempt.run_id, attempt.phase, attempt.attempt, attempt.owner) == (
        run_id,
        locked.phase_names[0],
        1,
        "runner-a",
    )
    assert near_now(attempt.started_at) and (attempt.ended_at, attempt.result, attempt.detail) == (None, None, None)
    assert running == 1


async def test_a_flow_holds_one_lease_of_its_newest_attempt(implementation: Implementation) -> None:
    first = await implementation.claimed_flow()
    second = await next_attempt(implementation, first, owner="runner-b")
    async with implementation.scoped() as uow:
        lease = await uow.phase_runs.lease_of(implementation.tenant, first.flow_id)
        assert await uow.phase_runs.running(implementation.tenant) == 1
    assert lease is not None and (lease.run_id, lease.owner) == (run_of(second), "runner-b")
    newest, oldest = await attempts_of(implementation, first)
    assert (newest.run_id, newest.attempt, newest.owner, newest.result) == (run_of(second), 2, "runner-b", None)
    assert (oldest.run_id, oldest.attempt, oldest.result, oldest.detail) == (run_of(first), 1, "retrying", "it raised")
    assert near_now(oldest.ended_at) and oldest.started_at <= newest.started_at
    assert [a.run_id for a in await attempts_of(implementation, first, limit=1)] == [run_of(second)]


async def test_a_grant_over_a_lease_not_ended_replaces_it(implementation: Implementation) -> None:
    """A flow has at most one lease: granting a new attempt's takes the place of the one before."""
    first = await implementation.claimed_flow(owner="runner-a")
    second = await next_attempt(implementation, first, owner="runner-b", end_lease=False)
    async with implementation.scoped() as uow:
        lease = await uow.phase_runs.lease_of(implementation.tenant, first.flow_id)
        assert await uow.phase_runs.running(implementation.tenant) == 1
    assert lease is not None and (lease.run_id, lease.owner) == (run_of(second), "runner-b")
    newest, oldest = await attempts_of(implementation, first)
    assert (newest.run_id, oldest.run_id) == (run_of(second), run_of(first))
    assert (oldest.result, oldest.ended_at) == (None, None)  # only an end records how an attempt ended


async def test_an_end_drops_only_its_own_attempts_lease_and_records_how_it_ended(
    implementation: Implementation,
) -> None:
    first = await implementation.claimed_flow()
    second = await next_attempt(implementation, first)
    tenant = implementation.tenant
    async with implementation.scoped() as uow:  # a late end of the first attempt: the second's lease stays
        await uow.phase_runs.end(tenant, first.flow_id, run_of(first), AttemptResult.DISCARDED, "late")
        await uow.commit()
    async with implementation.scoped() as uow:
        assert (await uow.phase_runs.lease_of(tenant, first.flow_id)).run_id == run_of(second)
        await uow.phase_runs.end(tenant, first.flow_id, run_of(second), AttemptResult.COMPLETED, None)
        assert await uow.phase_runs.lease_of(tenant, first.flow_id) is None
        await uow.rollback()  # the end is part of the transaction: rolled back, the lease is still there
        assert (await uow.phase_runs.lease_of(tenant, first.flow_id)).run_id == run_of(second)
        await uow.phase_runs.end(tenant, first.flow_id, run_of(second), AttemptResult.COMPLETED, None)
        await uow.commit()
    async with implementation.scoped() as uow:
        assert await uow.phase_runs.lease_of(tenant, first.flow_id) is None
        assert await uow.phase_runs.running(tenant) == 0
    newest, oldest = await attempts_of(implementation, first)
    assert (newest.result, newest.detail) == ("completed", None) and near_now(newest.ended_at)
    assert (oldest.result, oldest.detail) == ("discarded", "it raised; late")  # over retrying, as below


@pytest.mark.parametrize(
    ("first_end", "after_discard"),
    [
        (None, ("discarded", "outcome discarded")),
        (("revoked", "the flow was cancelled"), ("discarded", "the flow was cancelled; outcome discarded")),
        (("retrying", "its lease expired"), ("discarded", "its lease expired; outcome discarded")),
        (("completed", None), ("completed", None)),
        (("needs_input", None), ("needs_input", None)),
        (("failed", "it failed"), ("failed", "it failed")),
    ],
)
async def test_a_discarded_outcome_is_recorded_only_over_an_attempt_without_one(
    implementation: Implementation, first_end: tuple[str, str | None] | None, after_discard: tuple[str, str]
) -> None:
    """An attempt the flow stopped expecting (revoked by a cancel, ended as retrying when its lease expired, or not
    ended at all) records that its late outcome was discarded, after what ended it; an attempt whose own outcome
    was recorded keeps it."""
    flow, tenant = await implementation.claimed_flow(), implementation.tenant
    ended_at = None
    if first_end is not None:
        async with implementation.scoped() as uow:
            await uow.phase_runs.end(tenant, flow.flow_id, run_of(flow), first_end[0], first_end[1])
            await uow.commit()
        [ended] = await attempts_of(implementation, flow)
        assert (ended.result, ended.detail) == first_end and near_now(ended.ended_at)
        ended_at = ended.ended_at
    async with implementation.scoped() as uow:
        await uow.phase_runs.end(tenant, flow.flow_id, run_of(flow), AttemptResult.DISCARDED, "outcome discarded")
        await uow.commit()
    [attempt] = await attempts_of(implementation, flow)
    assert (attempt.result, attempt.detail) == after_discard
    if ended_at is None:
        assert near_now(attempt.ended_at)
    else:
        assert attempt.ended_at == ended_at  # when it first ended
    async with implementation.scoped() as uow:
        assert await uow.phase_runs.lease_of(tenant, flow.flow_id) is None


async def test_the_end_of_an_attempt_never_recorded_changes_nothing(implementation: Implementation) -> None:
    flow, tenant = await implementation.claimed_flow(), implementation.tenant
    async with implementation.scoped() as uow:
        await uow.phase_runs.end(tenant, flow.flow_id, uuid4(), AttemptResult.COMPLETED, None)
        await uow.phase_runs.end(tenant, uuid4(), uuid4(), AttemptResult.DISCARDED, "no such flow")
        await uow.commit()
    async with implementation.scoped() as uow:
        assert (await uow.phase_runs.lease_of(tenant, flow.flow_id)).run_id == run_of(flow)
    [attempt] = await attempts_of(implementation, flow)
    assert (attempt.run_id, attempt.result, attempt.ended_at) == (run_of(flow), None, None)


async def test_running_counts_a_tenants_leases_live_or_expired_and_no_other_tenant_sees_them(
    implementation: Implementation,
) -> None:
    tenant, other = implementation.tenant, implementation.other_tenant()
    live = await implementation.claimed_flow()
    expired = await implementation.claimed_flow(owner="runner-b")
    await implementation.stored_flow(started=True)  # running, no attempt: no lease
    theirs = await implementation.claimed_flow(other)
    await implementation.expire_lease(tenant, expired.flow_id)
    async with implementation.scoped() as uow:
        assert await uow.phase_runs.running(tenant) == 2
        lease = await uow.phase_runs.lease_of(tenant, expired.flow_id)
        assert lease is not None and lease.expires_at < datetime.now(UTC)
        assert (await uow.phase_runs.lease_of(tenant, live.flow_id)).expires_at > datetime.now(UTC)
        # the other tenant's, asked for by their own key in our scope: not seen (row-level security)
        assert await uow.phase_runs.running(other) == 0
        assert await uow.phase_runs.lease_of(other, theirs.flow_id) is None
        assert await uow.phase_runs.attempts(other, theirs.flow_id, 10) == []
    async with implementation.scoped(other) as uow:
        assert await uow.phase_runs.running(other) == 1
        assert await uow.phase_runs.lease_of(tenant, live.flow_id) is None
        assert await uow.phase_runs.attempts(tenant, live.flow_id, 10) == []
        assert [a.run_id for a in await uow.phase_runs.attempts(other, theirs.flow_id, 10)] == [run_of(theirs)]
    async with implementation.scoped() as uow:  # no expired lease left for a runner of another test to take over
        await uow.phase_runs.end(tenant, expired.flow_id, run_of(expired), AttemptResult.REVOKED, "test over")
        await uow.commit()


@pytest.mark.parametrize("ending", ["commit", "leave"])
async def test_hold_tenant_serializes_a_tenants_claims_until_the_holder_ends(
    implementation: Implementation, ending: str
) -> None:
    tenant, other = implementation.tenant, implementation.other_tenant()
    order: list[str] = []

    async def second_claim() -> None:
        async with implementation.scoped() as uow:
            await uow.phase_runs.hold_tenant(tenant)
            order.append("second holds")

    async with implementation.scoped() as first:
        await first.phase_runs.hold_tenant(tenant)
        await first.phase_runs.hold_tenant(tenant)  # holding it again is nothing
        waiting = asyncio.create_task(second_claim())
        await asyncio.sleep(0.3)  # not waiting for a condition: gives a second holder time to (wrongly) get through
        assert order == [] and not waiting.done()
        async with implementation.scoped(other) as elsewhere:  # another tenant's claims are not held up
            await asyncio.wait_for(elsewhere.phase_runs.hold_tenant(other), timeout=2)
        order.append("first ends")
        if ending == "commit":
            await first.commit()
            await asyncio.wait_for(asyncio.shield(waiting), timeout=5)  # the commit released it
    await asyncio.wait_for(waiting, timeout=5)
    assert order == ["first ends", "second holds"]


async def test_the_queue_shows_the_tenants_waiting_flows_and_running_phases(implementation: Implementation) -> None:
    tenant = implementation.tenant
    due = await implementation.stored_flow(at=T0, auto_run=True)
    await implementation.stored_flow(at=T0, started=True)  # started by hand: no worker needs to claim it
    running = await implementation.claimed_flow(at=T0 + timedelta(minutes=1), owner="runner-a")
    expired = await implementation.claimed_flow(at=T0 + timedelta(minutes=2), owner="runner-b", lease_seconds=-60)
    retrying = await implementation.claimed_flow(at=T0 + timedelta(minutes=3))
    retry_at = datetime.now(UTC) + timedelta(hours=1)
    async with implementation.scoped() as uow:
        locked = await uow.flows.get_for_update(tenant, retrying.flow_id)
        locked.end_attempt(run_of(retrying), AttemptEnd.failed("it raised", retry_at), actor="contract", at=T0)
        await uow.flows.save(locked)
        await uow.phase_runs.end(tenant, retrying.flow_id, run_of(retrying), AttemptResult.RETRYING, "it raised")
        await uow.commit()
    await implementation.claimed_flow(implementation.other_tenant())

    async with implementation.scoped() as uow:
        queue = await uow.phase_runs.queue(tenant, 10)
        first = await uow.phase_runs.queue(tenant, 1)

    assert near_now(queue.checked_at)
    assert [(q.flow_id, q.phase, q.attempt, q.due) for q in queue.waiting] == [
        (due.flow_id, "data_import", 1, True),
        (retrying.flow_id, "data_import", 2, False),
    ]
    assert abs(queue.waiting[1].due_at - retry_at) < timedelta(seconds=1)
    assert [(h.flow_id, h.owner, h.phase, h.attempt, h.expired) for h in queue.running] == [
        (running.flow_id, "runner-a", "data_import", 1, False),
        (expired.flow_id, "runner-b", "data_import", 1, True),
    ]
    assert near_now(queue.running[0].expires_at, timedelta(hours=1)) and queue.running[0].name == "contract"
    counts = (queue.waiting_count, queue.due_count, queue.running_count, queue.expired_count)
    assert counts == (2, 1, 2, 1)
    assert [q.flow_id for q in first.waiting] == [due.flow_id] and len(first.running) == 1
    assert (first.waiting_count, first.due_count, first.running_count, first.expired_count) == counts
