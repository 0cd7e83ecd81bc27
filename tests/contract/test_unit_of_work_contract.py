"""UnitOfWork: what one writes is seen by no other before it commits; leaving or rolling back discards it; commit
publishes it and the next statement begins a new transaction; a scoped unit of work never returns another tenant's
flow. The same tests on the fake and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import FlowNotFound
from domain.ports import FlowFilter
from tests.contract.conftest import T0, Implementation


async def stored_ids(implementation: Implementation) -> set:
    """The flows of the test's tenant another unit of work finds."""
    async with implementation.scoped() as uow:
        page = await uow.flows.list(implementation.tenant, FlowFilter(include_deleted=True), 100, None)
    return {f.flow_id for f in page.items}


async def test_nothing_written_is_visible_to_another_unit_of_work_before_commit(
    implementation: Implementation,
) -> None:
    flow = implementation.new_flow()
    async with implementation.scoped() as writer:
        await writer.flows.add(flow)
        await writer.events.append(flow.pending_events)
        assert (await writer.flows.get(implementation.tenant, flow.flow_id)).version == 1  # its own write it sees
        async with implementation.scoped() as reader:
            with pytest.raises(FlowNotFound):
                await reader.flows.get(implementation.tenant, flow.flow_id)
            assert await reader.events.list(implementation.tenant, flow.flow_id, 0, 10) == []
        await writer.commit()
    assert await stored_ids(implementation) == {flow.flow_id}


@pytest.mark.parametrize("ending", ["rollback", "leave"])
async def test_rollback_or_leaving_without_commit_discards_the_writes(
    implementation: Implementation, ending: str
) -> None:
    flow = implementation.new_flow()
    async with implementation.scoped() as uow:
        await uow.flows.add(flow)
        await uow.events.append(flow.pending_events)
        if ending == "rollback":
            await uow.rollback()
            with pytest.raises(FlowNotFound):
                await uow.flows.get(implementation.tenant, flow.flow_id)
    assert await stored_ids(implementation) == set()


async def test_leaving_on_an_error_discards_the_writes(implementation: Implementation) -> None:
    flow = implementation.new_flow()
    with pytest.raises(RuntimeError):
        async with implementation.scoped() as uow:
            await uow.flows.add(flow)
            raise RuntimeError("the operation failed")
    assert await stored_ids(implementation) == set()


async def test_after_commit_the_next_statement_begins_a_new_transaction(implementation: Implementation) -> None:
    first, second = implementation.new_flow(), implementation.new_flow(at=T0 + timedelta(minutes=1))
    async with implementation.scoped() as uow:
        await uow.flows.add(first)
        await uow.commit()
        assert (await uow.flows.get(implementation.tenant, first.flow_id)).version == 1  # still scoped, committed
        await uow.flows.add(second)
        # left without a second commit: the second transaction rolls back, the first stays committed
    assert await stored_ids(implementation) == {first.flow_id}
    async with implementation.scoped() as uow:
        await uow.flows.add(second)
        await uow.commit()
        flow = await uow.flows.get_for_update(implementation.tenant, second.flow_id)
        flow.start(actor="contract", at=T0 + timedelta(minutes=2))
        await uow.flows.save(flow)
        await uow.commit()
    async with implementation.scoped() as uow:
        assert (await uow.flows.get(implementation.tenant, second.flow_id)).version == 2


async def test_a_unit_of_work_can_be_entered_again_after_it_ended(implementation: Implementation) -> None:
    flow = implementation.new_flow()
    uow = implementation.new_unit_of_work()
    async with uow:
        await uow.scope(implementation.tenant)
        await uow.flows.add(flow)
        await uow.commit()
    async with uow:
        await uow.scope(implementation.tenant)
        assert (await uow.flows.get(implementation.tenant, flow.flow_id)).flow_id == flow.flow_id


async def test_a_scoped_unit_of_work_never_returns_another_tenants_flow(implementation: Implementation) -> None:
    other = implementation.other_tenant()
    theirs = await implementation.stored_flow(other)
    ours = await implementation.stored_flow()
    async with implementation.scoped() as uow:
        # asked for the other tenant's flow by its own key, in our scope: not found, not listed
        with pytest.raises(FlowNotFound):
            await uow.flows.get(other, theirs.flow_id)
        with pytest.raises(FlowNotFound):
            await uow.flows.get_for_update(other, theirs.flow_id)
        assert (await uow.flows.list(other, FlowFilter(), 10, None)).items == []
        assert [f.flow_id for f in (await uow.flows.list(implementation.tenant, FlowFilter(), 10, None)).items] == [
            ours.flow_id
        ]
    async with implementation.scoped(other) as uow:
        assert (await uow.flows.get(other, theirs.flow_id)).flow_id == theirs.flow_id
