"""Idempotency keys on fakes: a retry replays, changes nothing; a reused key is refused; the key and the change
commit together or not at all."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from application.flow_type_registry import FlowTypeRegistry
from application.orchestrator import MasterFlowOrchestrator
from domain.errors import IllegalTransition
from domain.events import Tenant
from domain.flow import Flow
from domain.idempotency import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    IdempotentReplay,
    IdempotentRequest,
    StoredResponse,
)
from domain.lifecycle import FlowStatus
from tests.fakes import FakeClock, FakeUnitOfWork, fake_flow_type

TENANT = Tenant(uuid4(), uuid4())
OTHER = Tenant(uuid4(), uuid4())


def answer(flow: Flow) -> StoredResponse:
    return StoredResponse(200, f"{flow.flow_id}:{flow.status}:{flow.version}".encode(), {"ETag": f'"{flow.version}"'})


def keyed(key: str = "k-1", fingerprint: str = "f-1", ttl: timedelta = timedelta(hours=1)) -> IdempotentRequest:
    return IdempotentRequest(key=key, fingerprint=fingerprint, ttl=ttl, render=answer)


def orchestrator(uow: FakeUnitOfWork, clock: FakeClock | None = None, **options: object) -> MasterFlowOrchestrator:
    return MasterFlowOrchestrator(uow, FlowTypeRegistry([fake_flow_type(**options)]), clock or FakeClock())


async def test_a_retried_create_replays_the_first_answer_and_creates_nothing() -> None:
    uow = FakeUnitOfWork()
    mfo = orchestrator(uow)
    flow = await mfo.create_flow(TENANT, "fake", "once", {}, actor="a", idempotency=keyed())
    with pytest.raises(IdempotentReplay) as replayed:
        await mfo.create_flow(TENANT, "fake", "once", {}, actor="a", idempotency=keyed())
    assert (replayed.value.key, replayed.value.response) == ("k-1", answer(flow))
    assert len(uow.committed_store.flows) == 1
    assert len(uow.committed_store.events) == 1
    assert uow.commits == 1


async def test_the_same_key_for_another_request_is_refused() -> None:
    uow = FakeUnitOfWork()
    mfo = orchestrator(uow)
    await mfo.create_flow(TENANT, "fake", "once", {}, actor="a", idempotency=keyed())
    with pytest.raises(IdempotencyKeyReused):
        await mfo.create_flow(TENANT, "fake", "other", {}, actor="a", idempotency=keyed(fingerprint="f-2"))
    assert len(uow.committed_store.flows) == 1


async def test_keys_belong_to_one_tenant() -> None:
    uow = FakeUnitOfWork()
    mfo = orchestrator(uow)
    await mfo.create_flow(TENANT, "fake", "mine", {}, actor="a", idempotency=keyed())
    await mfo.create_flow(OTHER, "fake", "theirs", {}, actor="a", idempotency=keyed())
    assert len(uow.committed_store.flows) == 2


async def test_a_retried_transition_replays_and_does_not_move_the_flow() -> None:
    uow = FakeUnitOfWork()
    mfo = orchestrator(uow)
    flow = await mfo.create_flow(TENANT, "fake", "f", {}, actor="a")
    started = await mfo.start_flow(TENANT, flow.flow_id, actor="a", idempotency=keyed("start"))
    executed = await mfo.execute_phase(TENANT, flow.flow_id, actor="a", idempotency=keyed("exec"))
    assert executed.version == 4  # its claim (3) and its completion (4)
    with pytest.raises(IdempotentReplay) as replayed:
        await mfo.execute_phase(TENANT, flow.flow_id, actor="a", idempotency=keyed("exec"))
    # the answer stored is the claim's, committed with it: the flow running the phase
    assert replayed.value.response == StoredResponse(200, f"{flow.flow_id}:running:3".encode(), {"ETag": '"3"'})
    with pytest.raises(IdempotentReplay) as replayed:  # no IllegalTransition: the first answer comes back
        await mfo.start_flow(TENANT, flow.flow_id, actor="a", idempotency=keyed("start"))
    assert replayed.value.response == answer(started)
    assert uow.committed_store.flows[(TENANT, flow.flow_id)].version == 4


async def test_a_failed_change_leaves_no_key_so_the_retry_runs() -> None:
    uow = FakeUnitOfWork()
    mfo = orchestrator(uow)
    flow = await mfo.create_flow(TENANT, "fake", "f", {}, actor="a")
    await mfo.start_flow(TENANT, flow.flow_id, actor="a")
    with pytest.raises(IllegalTransition):
        await mfo.submit_input(TENANT, flow.flow_id, {"approved": True}, actor="a", idempotency=keyed())
    assert uow.committed_store.idempotency_keys == {}
    with pytest.raises(IllegalTransition):
        await mfo.resume_flow(TENANT, flow.flow_id, actor="a", idempotency=keyed())
    assert uow.committed_store.idempotency_keys == {}
    paused = await mfo.pause_flow(TENANT, flow.flow_id, actor="a", idempotency=keyed())
    assert paused.status == FlowStatus.PAUSED
    assert uow.committed_store.idempotency_keys[(TENANT, "k-1")].response == answer(paused)


async def test_an_expired_key_is_ignored_and_purged() -> None:
    uow = FakeUnitOfWork()
    clock = FakeClock()
    mfo = orchestrator(uow, clock)
    short = keyed(ttl=timedelta(milliseconds=5))
    await mfo.create_flow(TENANT, "fake", "first", {}, actor="a", idempotency=short)
    for _ in range(10):
        clock.now()
    await mfo.create_flow(TENANT, "fake", "second", {}, actor="a", idempotency=short)
    assert len(uow.committed_store.flows) == 2
    for _ in range(10):
        clock.now()
    assert await mfo.purge_expired_idempotency_keys() == 1
    assert uow.committed_store.idempotency_keys == {}


async def test_a_key_held_by_an_open_unit_of_work_is_in_progress() -> None:
    first = FakeUnitOfWork()
    second = FakeUnitOfWork(first.committed_store)
    clock = FakeClock()
    async with first as uow:
        assert await uow.idempotency.claim(TENANT, "k", "f", now=clock.now(), expires_at=clock.now()) is None
        with pytest.raises(IdempotencyKeyInProgress):
            await orchestrator(second).create_flow(TENANT, "fake", "x", {}, actor="a", idempotency=keyed("k"))
    assert second.committed_store.flows == {}
    await orchestrator(second).create_flow(TENANT, "fake", "x", {}, actor="a", idempotency=keyed("k"))
    assert len(second.committed_store.flows) == 1
