"""What a phase handler reads while it runs, outside any transaction of its own phase: each read is a short
transaction on a unit of work of its own (application/phase_execution.py builds the running adapter on these)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.events import Tenant
from domain.flow import Flow
from domain.ports import UnitOfWork


class ReadsOutsideTransaction:
    """What a running handler may read: each read is a short transaction of a unit of work of its own."""

    def __init__(self, new_uow: Callable[[], UnitOfWork]) -> None:
        self.flows = _FlowReads(new_uow)
        self.bridge_states = _BridgeStateReads(new_uow)


class _FlowReads:
    def __init__(self, new_uow: Callable[[], UnitOfWork]) -> None:
        self._new_uow = new_uow

    async def get(self, tenant: Tenant, flow_id: UUID) -> Flow:
        async with self._new_uow() as uow:
            await uow.scope(tenant)
            return await uow.flows.get(tenant, flow_id)


class _BridgeStateReads:
    def __init__(self, new_uow: Callable[[], UnitOfWork]) -> None:
        self._new_uow = new_uow

    async def load(self, tenant: Tenant, flow_id: UUID) -> dict[str, Any] | None:
        async with self._new_uow() as uow:
            await uow.scope(tenant)
            return await uow.bridge_states.load(tenant, flow_id)
