"""The PostgreSQL repositories: keyset pagination, filters and the version guard."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from adapters.persistence.cursors import encode_cursor
from domain.errors import InvalidCursor, VersionConflict
from domain.events import Tenant
from domain.lifecycle import FlowStatus
from domain.ports import FlowFilter
from tests.support import owner_engine_of


async def test_keyset_pagination_walks_every_flow_once_newest_first(container, tenant: Tenant) -> None:
    mfo = container.orchestrator
    created = [(await mfo().create_flow(tenant, "discovery", f"f{i}", {}, actor="t")).flow_id for i in range(7)]
    seen, cursor = [], None
    while True:
        page = await mfo().list_flows(tenant, FlowFilter(), limit=3, cursor=cursor)
        seen += [f.flow_id for f in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == created[::-1]


async def test_filters_by_status_and_hides_deleted(container, tenant: Tenant) -> None:
    mfo = container.orchestrator
    a = await mfo().create_flow(tenant, "discovery", "a", {}, actor="t")
    b = await mfo().create_flow(tenant, "discovery", "b", {}, actor="t")
    await mfo().start_flow(tenant, a.flow_id, actor="t")
    await mfo().delete_flow(tenant, b.flow_id, actor="t")
    running = await mfo().list_flows(tenant, FlowFilter(statuses=(FlowStatus.RUNNING,)))
    assert [f.flow_id for f in running.items] == [a.flow_id]
    assert [f.flow_id for f in (await mfo().list_flows(tenant, FlowFilter())).items] == [a.flow_id]
    everything = await mfo().list_flows(tenant, FlowFilter(include_deleted=True))
    assert {f.flow_id for f in everything.items} == {a.flow_id, b.flow_id}


async def test_a_listed_flow_is_the_summary_of_the_stored_flow(container, tenant: Tenant) -> None:
    mfo = container.orchestrator
    flow = await mfo().create_flow(tenant, "discovery", "s", {"data": "name\nweb1"}, actor="t")
    await mfo().start_flow(tenant, flow.flow_id, actor="t")
    await mfo().execute_phase(tenant, flow.flow_id, None, actor="t")
    stored = await mfo().get_flow(tenant, flow.flow_id)
    assert stored.phase_results and stored.progress_percent > 0
    (listed,) = (await mfo().list_flows(tenant, FlowFilter())).items
    assert listed == stored.summary()
    assert listed.progress_percent == stored.progress_percent


async def test_a_bad_cursor_is_refused(container, tenant: Tenant) -> None:
    with pytest.raises(InvalidCursor):
        await container.orchestrator().list_flows(tenant, FlowFilter(), cursor="not-a-cursor")


async def test_saving_over_a_newer_version_is_refused(container, tenant: Tenant) -> None:
    """The repository's own guard, beneath the row lock: a stale write never lands."""
    flow = await container.orchestrator().create_flow(tenant, "discovery", "v", {}, actor="t")
    await container.orchestrator().start_flow(tenant, flow.flow_id, actor="t")
    uow = container.unit_of_work()
    async with uow:
        await uow.scope(tenant)
        stale = flow  # loaded at version 1; the stored flow is at version 2 now
        stale.start(actor="t", at=stale.updated_at)
        with pytest.raises(VersionConflict) as raised:
            await uow.flows.save(stale)
    assert (raised.value.expected_version, raised.value.current_version) == (1, 2)


def test_cursors_round_trip() -> None:
    from datetime import UTC, datetime
    from uuid import uuid4

    from adapters.persistence.cursors import decode_cursor

    at, flow_id = datetime.now(UTC), uuid4()
    assert decode_cursor(encode_cursor(at, flow_id)) == (at, flow_id)


async def test_the_planner_knows_a_tenants_two_columns_go_together(container) -> None:  # type: ignore[no-untyped-def]
    """Without it a cached list plan sorts the tenant's every flow for each cursor page (migration 0008)."""
    async with owner_engine_of(container).connect() as connection:
        kinds = (
            await connection.execute(
                text(
                    "SELECT s.stxkind::text[], array_agg(a.attname ORDER BY a.attname) FROM pg_statistic_ext s"
                    " JOIN pg_attribute a ON a.attrelid = s.stxrelid AND a.attnum = ANY (s.stxkeys)"
                    " WHERE s.stxrelid = 'flows'::regclass GROUP BY s.stxkind"
                )
            )
        ).all()
    assert [(sorted(kind), columns) for kind, columns in kinds] == [
        (["d", "f"], ["client_account_id", "engagement_id"])
    ]
