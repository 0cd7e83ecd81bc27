"""IdempotencyStore: a new key is claimed, a completed one answers with what was stored, another fingerprint is a
reused key, an expired key is unused, expired keys are purged, and a key another open unit of work holds is waited
for (then its answer, or the key) or, held too long, in progress. The same tests on the fake and on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from domain.idempotency import IdempotencyKeyInProgress, IdempotencyKeyReused, StoredResponse
from tests.contract.conftest import SHORT_WAIT_SECONDS, T0, Implementation

HOUR = timedelta(hours=1)
ANSWER = StoredResponse(201, b'{"created": true}', {"Location": "/api/v1/flows/x"}, "application/json")


async def claimed_and_completed(implementation: Implementation, key: str, *, expires_in: timedelta = HOUR) -> None:
    async with implementation.scoped() as uow:
        assert await uow.idempotency.claim(implementation.tenant, key, "f1", now=T0, expires_at=T0 + expires_in) is None
        await uow.idempotency.complete(implementation.tenant, key, ANSWER)
        await uow.commit()


async def test_a_new_key_is_claimed_and_a_completed_one_returns_its_answer(implementation: Implementation) -> None:
    await claimed_and_completed(implementation, "k")
    later = T0 + timedelta(minutes=1)
    async with implementation.scoped() as uow:
        claim = uow.idempotency.claim
        assert await claim(implementation.tenant, "k", "f1", now=later, expires_at=later + HOUR) == ANSWER
        with pytest.raises(IdempotencyKeyReused):
            await claim(implementation.tenant, "k", "f2", now=later, expires_at=later + HOUR)


async def test_a_key_belongs_to_one_tenant(implementation: Implementation) -> None:
    await claimed_and_completed(implementation, "k")
    other = implementation.other_tenant()
    async with implementation.scoped(other) as uow:
        assert await uow.idempotency.claim(other, "k", "f2", now=T0, expires_at=T0 + HOUR) is None


async def test_a_claim_that_is_not_committed_leaves_the_key_unused(implementation: Implementation) -> None:
    async with implementation.scoped() as uow:
        assert await uow.idempotency.claim(implementation.tenant, "k", "f1", now=T0, expires_at=T0 + HOUR) is None
        await uow.idempotency.complete(implementation.tenant, "k", ANSWER)
    async with implementation.scoped() as uow:
        assert await uow.idempotency.claim(implementation.tenant, "k", "f2", now=T0, expires_at=T0 + HOUR) is None


async def test_an_expired_key_counts_as_unused(implementation: Implementation) -> None:
    await claimed_and_completed(implementation, "k", expires_in=timedelta(minutes=5))
    expired = T0 + timedelta(minutes=5)
    async with implementation.scoped() as uow:
        claim = uow.idempotency.claim
        assert await claim(implementation.tenant, "k", "f2", now=expired, expires_at=expired + HOUR) is None
        await uow.idempotency.complete(implementation.tenant, "k", StoredResponse(200, b"second"))
        await uow.commit()
    async with implementation.scoped() as uow:
        replay = await uow.idempotency.claim(implementation.tenant, "k", "f2", now=expired, expires_at=expired + HOUR)
    assert replay is not None and replay.body == b"second"


async def test_purge_deletes_the_expired_keys_and_counts_them(implementation: Implementation) -> None:
    for key in ("a", "b", "c"):
        await claimed_and_completed(implementation, key, expires_in=timedelta(minutes=1))
    await claimed_and_completed(implementation, "live", expires_in=timedelta(days=1))
    purge_at = T0 + timedelta(minutes=10)
    async with implementation.scoped() as uow:
        assert await uow.idempotency.purge_expired(purge_at, 2) == 2
        await uow.commit()
    async with implementation.scoped() as uow:
        assert await uow.idempotency.purge_expired(purge_at, 10) == 1
        assert await uow.idempotency.purge_expired(purge_at, 10) == 0
        await uow.commit()
    async with implementation.scoped() as uow:
        assert await uow.idempotency.claim(implementation.tenant, "live", "f1", now=purge_at, expires_at=T0) == ANSWER
        assert await uow.idempotency.claim(implementation.tenant, "a", "other", now=purge_at, expires_at=T0) is None


async def test_a_scoped_purge_leaves_other_tenants_keys(implementation: Implementation) -> None:
    other = implementation.other_tenant()
    async with implementation.scoped(other) as uow:
        assert await uow.idempotency.claim(other, "theirs", "f", now=T0, expires_at=T0 + timedelta(minutes=1)) is None
        await uow.commit()
    await claimed_and_completed(implementation, "ours", expires_in=timedelta(minutes=1))
    purge_at = T0 + timedelta(minutes=10)
    async with implementation.scoped() as uow:
        assert await uow.idempotency.purge_expired(purge_at, 10) == 1
        await uow.commit()
    async with implementation.scoped(other) as uow:
        assert await uow.idempotency.purge_expired(purge_at, 10) == 1


async def claim_elsewhere(implementation: Implementation, *, impatient: bool = False) -> StoredResponse | None:
    async with implementation.scoped(impatient=impatient) as uow:
        return await uow.idempotency.claim(implementation.tenant, "k", "f1", now=T0, expires_at=T0 + HOUR)


async def test_a_key_held_past_the_wait_is_in_progress(implementation: Implementation) -> None:
    async with implementation.scoped() as holder:
        assert await holder.idempotency.claim(implementation.tenant, "k", "f1", now=T0, expires_at=T0 + HOUR) is None
        began = time.monotonic()
        with pytest.raises(IdempotencyKeyInProgress):
            await claim_elsewhere(implementation, impatient=True)
        assert SHORT_WAIT_SECONDS * 0.8 <= time.monotonic() - began < 3
    assert await claim_elsewhere(implementation) is None  # the holder left without commit: the key is free


@pytest.mark.parametrize("ending", ["commit", "rollback"])
async def test_a_claim_waits_for_the_unit_of_work_holding_the_key(implementation: Implementation, ending: str) -> None:
    async with implementation.scoped() as holder:
        assert await holder.idempotency.claim(implementation.tenant, "k", "f1", now=T0, expires_at=T0 + HOUR) is None
        await holder.idempotency.complete(implementation.tenant, "k", ANSWER)
        waiter = asyncio.create_task(claim_elsewhere(implementation))
        await asyncio.sleep(0.3)  # not waiting for a condition: the waiter must still be blocked after it
        assert not waiter.done()
        await (holder.commit() if ending == "commit" else holder.rollback())
        result = await asyncio.wait_for(waiter, 5)
    # after a commit the waiter finds the stored answer; after a rollback it takes the key itself
    assert result == (ANSWER if ending == "commit" else None)
