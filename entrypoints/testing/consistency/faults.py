"""The faults the harness injects on purpose (the system must survive them), by wrapping every flow type's adapter:

- ``crash``: the adapter raises mid-operation, after writing its child row;
- ``kill``: the request's database connection is terminated mid-transaction (``pg_terminate_backend`` from a
  second connection), after the master row and the child row were written.

The harness installs them by overriding container providers; nothing in MFO's configuration reaches them. A
subclass of :class:`FaultyAdapter` may write the child row otherwise (:meth:`FaultyAdapter.write_child`): MFO's own
tests reintroduce classic bugs that way, to show the harness catches them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from application.flow_type_registry import AdapterFactory, FlowTypeRegistry
from domain.events import Tenant
from domain.flow import Flow
from domain.flow_types import FlowTypeDefinition
from domain.phases import PhaseOutcome
from domain.ports import ChildRecord


@dataclasses.dataclass
class Switches:
    """The faults armed for the next write of a child row (the machine arms one at a time)."""

    crash_next: bool = False
    kill_next: bool = False


class FaultyAdapter:
    """Wraps a flow type's adapter (the CrewAI bridge included) and forwards every port method to it."""

    def __init__(self, factory: AdapterFactory, uow: Any, switches: Switches, admin: AsyncEngine, own_uow: Any) -> None:
        self._inner = factory(uow)
        self._factory = factory
        self._uow = uow
        self._switches = switches
        self._admin = admin
        self._own_uow = own_uow

    @property
    def unit_of_work(self) -> Any:
        return self._uow

    async def run_phase(self, flow: Flow, phase: str) -> PhaseOutcome:
        return await self._inner.run_phase(flow, phase)

    async def accept_input(self, flow: Flow, phase: str, payload: dict[str, Any]) -> PhaseOutcome:
        return await self._inner.accept_input(flow, phase, payload)

    async def save_child(self, flow: Flow, outcome: PhaseOutcome | None = None) -> None:
        await self.write_child(flow, outcome)
        if self._switches.kill_next:
            self._switches.kill_next = False
            pid = (await self._uow.connection()).get_server_pid()
            async with self._admin.connect() as admin:
                await admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
            await asyncio.sleep(0.01)  # the driver reads the end of the stream (no condition to poll on it)
        if self._switches.crash_next:
            self._switches.crash_next = False
            raise RuntimeError("injected adapter failure, after the child row was written")

    async def load_child(self, tenant: Tenant, flow_id: UUID) -> ChildRecord | None:
        return await self._inner.load_child(tenant, flow_id)

    async def write_child(self, flow: Flow, outcome: PhaseOutcome | None) -> None:
        """The type's own write of its child row (and CrewAI state)."""
        await self._inner.save_child(flow, outcome)


def faulty_registry(
    registry: FlowTypeRegistry,
    switches: Switches,
    admin: AsyncEngine,
    own_uow: Any,
    adapter: type[FaultyAdapter] = FaultyAdapter,
) -> FlowTypeRegistry:
    """The same flow types, each adapter wrapped in ``adapter`` (a :class:`FaultyAdapter`). ``own_uow`` makes a unit
    of work of its own, for an adapter that writes outside the operation's."""

    def wrap(definition: FlowTypeDefinition, inner: AdapterFactory) -> AdapterFactory:
        return lambda uow: adapter(inner, uow, switches, admin, own_uow)

    return registry.with_adapters(wrap)
