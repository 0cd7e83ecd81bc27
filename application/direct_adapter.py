"""DirectFlowTypeAdapter: a flow type's adapter when its phases run as plain calls of its handlers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.errors import IllegalTransition
from domain.events import Tenant
from domain.flow import Flow
from domain.flow_types import FlowTypeDefinition, PhaseContext
from domain.lifecycle import Operation
from domain.phases import PhaseOutcome
from domain.ports import ChildRecord, UnitOfWork


class DirectFlowTypeAdapter:
    """Runs ``definition``'s handlers and keeps its child record, all on one unit of work."""

    def __init__(self, definition: FlowTypeDefinition, uow: UnitOfWork) -> None:
        self._definition = definition
        self._uow = uow

    @property
    def unit_of_work(self) -> UnitOfWork:
        return self._uow

    async def run_phase(self, flow: Flow, phase: str) -> PhaseOutcome:
        return await self._definition.run[phase](flow, self._context())

    async def accept_input(self, flow: Flow, phase: str, payload: dict[str, Any]) -> PhaseOutcome:
        handler = self._definition.accept.get(phase)
        if handler is None:
            raise IllegalTransition(
                flow.flow_id, flow.status, Operation.SUBMIT_INPUT, f"phase '{phase}' takes no input"
            )
        return await handler(flow, payload, self._context())

    async def save_child(self, flow: Flow, outcome: PhaseOutcome | None = None) -> None:
        await self._uow.children.save(self._definition.child_table, flow)

    async def load_child(self, tenant: Tenant, flow_id: UUID) -> ChildRecord | None:
        return await self._uow.children.load(self._definition.child_table, tenant, flow_id)

    def _context(self) -> PhaseContext:
        return PhaseContext(flows=self._uow.flows)
