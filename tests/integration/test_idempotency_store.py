"""The idempotency store on PostgreSQL: the key commits with the change or not at all, one of two concurrent
claims wins, a claim held too long is 'in progress', expired keys are taken over and purged."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from adapters.clock import SystemClock
from adapters.persistence.unit_of_work import AsyncpgUnitOfWork
from application.orchestrator import MasterFlowOrchestrator
from domain.events import Tenant
from domain.flow import Flow
from domain.idempotency import (
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    IdempotentReplay,
    IdempotentRequest,
    StoredResponse,
)
from entrypoints.container import Container
from tests.support import DISCOVERY_CSV, Detonator, owner_engine_of, registry_with


def answer(flow: Flow) -> StoredResponse:
    return StoredResponse(201, f"created {flow.flow_id}".encode(), {"Location": f"/flows/{flow.flow_id}"})


def keyed(key: str, fingerprint: str = "f", ttl: timedelta = timedelta(hours=1)) -> IdempotentRequest:
    return IdempotentRequest(key=key, fingerprint=fingerprint, ttl=ttl, render=answer)


async def rows(container: Container, tenant: Tenant) -> tuple[int, int]:
    """(flows, idempotency keys) stored for the tenant."""
    async with owner_engine_of(container).connect() as connection:
        counts = []
        for table in ("flows", "idempotency_keys"):
            sql = f"SELECT count(*) FROM {table} WHERE client_account_id = :c AND engagement_id = :e"
            params = {"c": tenant.client_account_id, "e": tenant.engagement_id}
            counts.append((await connection.execute(text(sql), params)).scalar_one())
    return counts[0], counts[1]


async def create(container: Container, tenant: Tenant, request: IdempotentRequest) -> Flow:
    mfo = container.orchestrator()
    return await mfo.create_flow(tenant, "discovery", "keyed", {"data": DISCOVERY_CSV}, actor="t", idempotency=request)


async def test_a_replay_returns_the_stored_answer_and_writes_nothing(container, tenant: Tenant) -> None:
    flow = await create(container, tenant, keyed("once"))
    with pytest.raises(IdempotentReplay) as replayed:
        await create(container, tenant, keyed("once"))
    assert replayed.value.response == answer(flow)
    with pytest.raises(IdempotencyKeyReused):
        await create(container, tenant, keyed("once", fingerprint="other"))
    assert await rows(container, tenant) == (1, 1)


async def test_concurrent_claims_of_one_key_apply_once(container, tenant: Tenant) -> None:
    results = await asyncio.gather(
        *(create(container, tenant, keyed("race")) for _ in range(6)), return_exceptions=True
    )
    created = [r for r in results if isinstance(r, Flow)]
    replays = [r for r in results if isinstance(r, IdempotentReplay)]
    assert len(created) == 1 and len(replays) == 5, results
    assert all(r.response == answer(created[0]) for r in replays)
    assert await rows(container, tenant) == (1, 1)


async def test_a_crash_after_the_claim_leaves_neither_key_nor_change(
    container, tenant: Tenant, detonator: Detonator
) -> None:
    failing = MasterFlowOrchestrator(container.unit_of_work(), registry_with(detonator, bridged=False), SystemClock())
    detonator.armed = True
    with pytest.raises(RuntimeError):
        await failing.create_flow(tenant, "discovery", "x", {}, actor="t", idempotency=keyed("crash"))
    detonator.armed = False
    assert await rows(container, tenant) == (0, 0)
    flow = await create(container, tenant, keyed("crash"))
    assert await rows(container, tenant) == (1, 1)
    assert flow.version == 1


async def test_a_claim_held_longer_than_the_wait_is_in_progress(container, tenant: Tenant) -> None:
    now = datetime.now(UTC)
    holder = container.unit_of_work()
    async with holder as uow:
        await uow.scope(tenant)
        assert await uow.idempotency.claim(tenant, "slow", "f", now=now, expires_at=now + timedelta(hours=1)) is None
        impatient = AsyncpgUnitOfWork(container.app_database(), idempotency_wait_ms=200)
        mfo = MasterFlowOrchestrator(impatient, container.flow_types(), SystemClock())
        with pytest.raises(IdempotencyKeyInProgress):
            await mfo.create_flow(tenant, "discovery", "x", {}, actor="t", idempotency=keyed("slow"))
    assert await rows(container, tenant) == (0, 0)  # the holder rolled back: the key is free again
    await create(container, tenant, keyed("slow"))
    assert await rows(container, tenant) == (1, 1)


async def test_expired_keys_are_taken_over_and_purged(container, tenant: Tenant) -> None:
    await create(container, tenant, keyed("short", ttl=timedelta(milliseconds=1)))
    await asyncio.sleep(0.01)  # not waiting for a condition: the 1 ms expiry must pass
    await create(container, tenant, keyed("short", fingerprint="new", ttl=timedelta(milliseconds=1)))
    assert await rows(container, tenant) == (2, 1)
    await asyncio.sleep(0.01)  # the new key's 1 ms expiry must pass too
    assert await container.maintenance_orchestrator().purge_expired_idempotency_keys() >= 1
    assert await rows(container, tenant) == (2, 0)


def test_the_wait_comes_from_the_settings(settings) -> None:
    from entrypoints.container import build_container
    from entrypoints.settings import IdempotencySettings

    tuned = dataclasses.replace(settings, idempotency=IdempotencySettings(wait_ms=1234))
    assert build_container(tuned).unit_of_work().idempotency_wait_ms == 1234
