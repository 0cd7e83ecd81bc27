"""PhaseQueue: what runners poll and renew, across every tenant. ``due`` lists attempts whose lease expired first
(longest expired first), then the flows with work due now (an auto-run flow idle between phases, a phase whose next
attempt's time has come), taking turns between tenants, oldest first within a turn, and none of a tenant beyond its
``tenant_limit`` of leases; nothing of a flow not due, or due only later. ``renew`` extends only the owner's leases
and says which it still holds. The same tests on the fake and on PostgreSQL.

``due`` reads every tenant's work: on PostgreSQL the module runs on a database of its own, emptied before each test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy import text

from domain.background import AttemptResult, DueWork
from domain.events import Tenant
from domain.flow import AttemptEnd, Flow
from tests.contract.conftest import Implementation, PostgresImplementation
from tests.support import database_of_its_own, owner_engine_of

settings, container = database_of_its_own("mfo_phase_queue")

NO_LIMIT = 1_000


@pytest.fixture(autouse=True)
async def nothing_else_is_due(implementation: Implementation) -> AsyncIterator[None]:
    """Each test starts from a database with no flow (a fake's store is new for each test already)."""
    if isinstance(implementation, PostgresImplementation):
        async with owner_engine_of(implementation.container).begin() as connection:
            await connection.execute(text("TRUNCATE flows CASCADE"))
    yield


def ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


async def due_flow(implementation: Implementation, tenant: Tenant, *, minutes_ago: float) -> Flow:
    """An auto-run flow idle before its first phase since ``minutes_ago`` (when it started)."""
    return await implementation.stored_flow(tenant, at=ago(minutes_ago) - timedelta(seconds=1), auto_run=True)


async def leased_flow(
    implementation: Implementation, tenant: Tenant, *, owner: str = "runner-a", expired_seconds_ago: float | None = None
) -> Flow:
    """A flow whose attempt holds a live lease, or one that expired ``expired_seconds_ago``."""
    flow = await implementation.claimed_flow(tenant, at=ago(30), owner=owner)
    if expired_seconds_ago is not None:
        await implementation.expire_lease(tenant, flow.flow_id, seconds_ago=expired_seconds_ago)
    return flow


async def retrying_flow(implementation: Implementation, tenant: Tenant, *, retry_at: datetime) -> Flow:
    """A flow whose phase's first attempt failed, its next attempt due at ``retry_at`` (the lease ended)."""
    flow = await implementation.claimed_flow(tenant, at=ago(30))
    run_id = run_of(flow)
    async with implementation.scoped(tenant) as uow:
        locked = await uow.flows.get_for_update(tenant, flow.flow_id)
        locked.end_attempt(run_id, AttemptEnd.failed("it raised", retry_at), actor="contract", at=ago(20))
        await uow.flows.save(locked)
        await uow.events.append(locked.pending_events)
        await uow.phase_runs.end(tenant, flow.flow_id, run_id, AttemptResult.RETRYING, "it raised")
        await uow.commit()
    return locked


def run_of(flow: Flow) -> UUID:
    assert flow.run is not None and flow.run.run_id is not None
    return flow.run.run_id


def work(flow: Flow, *, expired: bool = False) -> DueWork:
    return DueWork(flow.tenant, flow.flow_id, run_of(flow) if expired else None)


async def test_nothing_is_due_of_flows_no_runner_needs_now(implementation: Implementation) -> None:
    tenant, queue = implementation.tenant, implementation.phase_queue()
    await implementation.stored_flow(tenant)  # created, never started
    await implementation.stored_flow(tenant, at=ago(60), started=True)  # started without auto-run
    await implementation.stored_flow(tenant, at=datetime.now(UTC) + timedelta(hours=1), auto_run=True)  # later
    await leased_flow(implementation, tenant)  # its attempt runs, its lease is live
    await retrying_flow(implementation, tenant, retry_at=datetime.now(UTC) + timedelta(hours=1))  # not yet
    for stop in ("pause", "cancel"):  # auto-run flows that no longer run
        stopped = await due_flow(implementation, tenant, minutes_ago=60)
        async with implementation.scoped(tenant) as uow:
            locked = await uow.flows.get_for_update(tenant, stopped.flow_id)
            getattr(locked, stop)(actor="contract", at=ago(50))
            await uow.flows.save(locked)
            await uow.events.append(locked.pending_events)
            await uow.commit()
    assert await queue.due(NO_LIMIT, NO_LIMIT) == []
    idle = await due_flow(implementation, tenant, minutes_ago=5)
    again = await retrying_flow(implementation, tenant, retry_at=ago(10))
    assert await queue.due(NO_LIMIT, NO_LIMIT) == [work(again), work(idle)]  # due the longest first


async def test_expired_leases_come_first_the_longest_expired_first(implementation: Implementation) -> None:
    tenant, other = implementation.tenant, implementation.other_tenant()
    older, newer = (
        await due_flow(implementation, tenant, minutes_ago=60),
        await due_flow(implementation, tenant, minutes_ago=50),
    )
    just_expired = await leased_flow(implementation, other, expired_seconds_ago=5)
    long_expired = await leased_flow(implementation, other, owner="runner-b", expired_seconds_ago=60)
    await leased_flow(implementation, other)  # live: not due
    queue = implementation.phase_queue()
    expired = [work(long_expired, expired=True), work(just_expired, expired=True)]
    assert await queue.due(NO_LIMIT, NO_LIMIT) == [*expired, work(older), work(newer)]
    assert await queue.due(3, NO_LIMIT) == [*expired, work(older)]
    assert await queue.due(1, NO_LIMIT) == expired[:1]


async def test_due_flows_take_turns_between_tenants(implementation: Implementation) -> None:
    a, b = implementation.tenant, implementation.other_tenant()
    a1, a2, a3 = [await due_flow(implementation, a, minutes_ago=m) for m in (10, 9, 8)]
    b1, b2 = [await due_flow(implementation, b, minutes_ago=m) for m in (12, 2)]
    queue = implementation.phase_queue()
    # each tenant's oldest, then each one's second, ...; within a turn the oldest first
    assert await queue.due(NO_LIMIT, NO_LIMIT) == [work(b1), work(a1), work(a2), work(b2), work(a3)]
    assert await queue.due(3, NO_LIMIT) == [work(b1), work(a1), work(a2)]


async def test_a_tenant_gets_no_more_due_work_than_its_limit_of_leases_allows(implementation: Implementation) -> None:
    a, b, c = implementation.tenant, implementation.other_tenant(), implementation.other_tenant()
    await leased_flow(implementation, a)  # one lease held: one more allowed at a limit of two
    a1, _ = await due_flow(implementation, a, minutes_ago=10), await due_flow(implementation, a, minutes_ago=9)
    expired = await leased_flow(implementation, b, expired_seconds_ago=5)  # an expired lease counts as held
    await leased_flow(implementation, b)
    await due_flow(implementation, b, minutes_ago=30)  # b at its limit: none of its due flows
    c1, c2 = await due_flow(implementation, c, minutes_ago=8), await due_flow(implementation, c, minutes_ago=7)
    await due_flow(implementation, c, minutes_ago=6)
    queue = implementation.phase_queue()
    # the expired lease is listed whatever its tenant holds: taking it over needs no new lease
    assert await queue.due(NO_LIMIT, 2) == [work(expired, expired=True), work(a1), work(c1), work(c2)]
    assert await queue.due(NO_LIMIT, 1) == [work(expired, expired=True), work(c1)]


async def test_renew_extends_only_the_owners_leases_and_names_those_it_holds(implementation: Implementation) -> None:
    tenant, queue = implementation.tenant, implementation.phase_queue()
    live = await leased_flow(implementation, tenant, owner="runner-a")
    lapsed = await leased_flow(implementation, tenant, owner="runner-a", expired_seconds_ago=5)
    theirs = await leased_flow(implementation, tenant, owner="runner-b")
    ended = await leased_flow(implementation, tenant, owner="runner-a")
    async with implementation.scoped() as uow:
        await uow.phase_runs.end(tenant, ended.flow_id, run_of(ended), AttemptResult.REVOKED, "cancelled")
        await uow.commit()
        before = await uow.phase_runs.lease_of(tenant, theirs.flow_id)
    assert await queue.due(NO_LIMIT, NO_LIMIT) == [work(lapsed, expired=True)]
    asked = [run_of(f) for f in (live, lapsed, theirs, ended)]
    assert await queue.renew("runner-a", asked, 120) == {run_of(live), run_of(lapsed)}
    assert await queue.due(NO_LIMIT, NO_LIMIT) == []  # renewed before anyone took it over: live again
    async with implementation.scoped() as uow:
        for flow in (live, lapsed):
            lease = await uow.phase_runs.lease_of(tenant, flow.flow_id)
            assert lease is not None and lease.owner == "runner-a"
            assert abs(lease.expires_at - (datetime.now(UTC) + timedelta(seconds=120))) < timedelta(seconds=5)
        assert await uow.phase_runs.lease_of(tenant, theirs.flow_id) == before  # another owner's: untouched
        assert await uow.phase_runs.lease_of(tenant, ended.flow_id) is None
    assert await queue.renew("runner-a", [], 120) == set()
    assert await queue.renew("runner-c", [run_of(live)], 120) == set()
