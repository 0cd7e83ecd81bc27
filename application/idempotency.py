"""The idempotency steps of the orchestrator's write path: claim the key first, store the answer last.

Both run on the operation's own unit of work, so the key, the answer and the change commit together or not at all.
"""

from __future__ import annotations

from domain.events import Tenant
from domain.flow import Flow
from domain.idempotency import IdempotentReplay, IdempotentRequest
from domain.ports import Clock, UnitOfWork


async def claim_key(uow: UnitOfWork, tenant: Tenant, request: IdempotentRequest | None, clock: Clock) -> None:
    """First in the transaction: take the key, or raise :class:`IdempotentReplay` with the answer stored for it."""
    if request is None:
        return
    now = clock.now()
    stored = await uow.idempotency.claim(
        tenant, request.key, request.fingerprint, now=now, expires_at=now + request.ttl
    )
    if stored is not None:
        raise IdempotentReplay(request.key, stored)


async def store_answer(uow: UnitOfWork, tenant: Tenant, request: IdempotentRequest | None, flow: Flow) -> None:
    """Last before the commit: the answer goes into the same transaction as the change."""
    if request is not None:
        await uow.idempotency.complete(tenant, request.key, request.render(flow))
