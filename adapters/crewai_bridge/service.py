"""CrewAIFlowService: runs a flow type's phases as a real CrewAI Flow, inside the orchestrator.

The delegation chain is MFO -> CrewAIFlowService -> the type's own service (for discovery,
DiscoveryFlowService). The bridge opens no session and builds no service: both come from
the composition root, on the request's one unit of work. Before each kickoff it restores
the CrewAI state from PostgreSQL; after it, the new state is written with the child
record, in the same transaction.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any
from uuid import UUID

from adapters.crewai_bridge.event_listener import captured_events
from adapters.crewai_bridge.phase_flow import phase_flow_class, state_model
from adapters.crewai_bridge.runtime import console_suppressed
from adapters.crewai_bridge.state_store import CrewAIStateStore
from adapters.flow_types.child_table import ChildTableFlowType, HasSession
from domain.events import Tenant
from domain.flow import Flow
from domain.flow_types import FlowTypeDefinition
from domain.lifecycle import FlowStatus
from domain.phases import PhaseOutcome
from domain.ports import ChildRecord, FlowTypeAdapter, OperationObserver, UnitOfWork


class CrewAIFlowService:
    def __init__(
        self,
        uow: HasSession,
        service: FlowTypeAdapter,
        input_phases: tuple[str, ...] = (),
        observer: OperationObserver | None = None,
    ) -> None:
        self.name = service.name
        self.phases = tuple(service.phases)
        self._uow = uow
        self._service = service
        self._states = CrewAIStateStore(uow)
        self._flow_class = phase_flow_class(self.name, self.phases, tuple(input_phases))
        self._pending_state: dict[str, Any] | None = None
        self._observer = observer

    def _span(self, name: str, **attributes: str) -> AbstractContextManager[None]:
        return self._observer.span(name, **attributes) if self._observer else nullcontext()

    @property
    def unit_of_work(self) -> HasSession:
        return self._uow

    @property
    def service(self) -> FlowTypeAdapter:
        """The flow type's own service the bridge delegates to."""
        return self._service

    async def run_phase(self, flow: Flow, phase: str) -> PhaseOutcome:
        return await self._kickoff(flow, phase, "run", {})

    async def accept_input(self, flow: Flow, phase: str, payload: dict[str, Any]) -> PhaseOutcome:
        return await self._kickoff(flow, phase, "input", payload)

    async def save_child(self, flow: Flow) -> None:
        await self._service.save_child(flow)
        state, self._pending_state = self._pending_state, None
        if state is None and await self._states.follow(flow):  # no kickoff: the stored state follows the master
            return
        state = state or self._fresh_state(flow)
        await self._states.save(flow, {**state, "status": str(flow.status), "master_version": flow.version})

    async def load_child(self, tenant: Tenant, flow_id: UUID) -> ChildRecord | None:
        if isinstance(self._service, ChildTableFlowType):  # the child row and the state in one statement
            child, state = await self._states.load_with_child(self._service, tenant, flow_id)
        else:
            child = await self._service.load_child(tenant, flow_id)
            state = await self.load_state(tenant, flow_id)
        if child is None or state is None:
            return child
        mirror = {
            key: state.get(key)
            for key in ("id", "status", "master_version", "completed_phases", "waiting_for", "kickoffs")
        }
        return replace(child, mirrors={**child.mirrors, "crewai": mirror})

    def project_status(self, child: ChildRecord) -> FlowStatus:
        return self._service.project_status(child)

    async def load_state(self, tenant: Tenant, flow_id: UUID) -> dict[str, Any] | None:
        return await self._states.load(tenant, flow_id)

    async def _kickoff(self, flow: Flow, phase: str, mode: str, payload: dict[str, Any]) -> PhaseOutcome:
        with self._span("mfo.bridge", flow_type=self.name, phase=phase, mode=mode):
            return await self._run_kickoff(flow, phase, mode, payload)

    async def _run_kickoff(self, flow: Flow, phase: str, mode: str, payload: dict[str, Any]) -> PhaseOutcome:
        started = time.perf_counter()
        stored = await self.load_state(flow.tenant, flow.flow_id) or self._fresh_state(flow)
        instance = self._flow_class(tracing=False)

        async def runner(name: str, step: str) -> PhaseOutcome:
            with self._span("mfo.adapter", flow_type=self.name, phase=name, adapter=type(self._service).__name__):
                if step == "input":
                    return await self._service.accept_input(flow, name, payload)
                return await self._service.run_phase(flow, name)

        instance.runner = runner
        with captured_events() as events, console_suppressed():
            await instance.kickoff_async(inputs={**stored, "mode": mode, "next_phase": phase})
        self._pending_state = instance.state.model_dump(mode="json")
        outcome: PhaseOutcome = instance.outcome
        timings = {"bridge": round((time.perf_counter() - started) * 1000, 3), "adapter": outcome.trace["adapter_ms"]}
        return PhaseOutcome(
            outcome.kind,
            outcome.result,
            outcome.error,
            {"timings_ms": timings, "crewai": {"state_id": self._pending_state["id"], "events": events}},
        )

    def _fresh_state(self, flow: Flow) -> dict[str, Any]:
        state = state_model()(mfo_flow_id=str(flow.flow_id), flow_type=flow.flow_type)
        return state.model_dump(mode="json")


def through_crewai(definition: FlowTypeDefinition, observer: OperationObserver | None = None) -> FlowTypeDefinition:
    """The same flow type, its phases run through the CrewAI bridge on the same unit of work.

    Builds the type's CrewAI Flow class now (importing crewai once, at start-up), not at the first request.
    """
    inner = definition.factory
    phase_flow_class(definition.name, definition.phases, definition.input_phases)

    def factory(uow: UnitOfWork) -> CrewAIFlowService:
        return CrewAIFlowService(uow, inner(uow), definition.input_phases, observer)  # type: ignore[arg-type]

    return replace(definition, factory=factory)
