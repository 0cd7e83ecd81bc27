"""CrewAIFlowTypeAdapter: runs a flow type's phases as a real CrewAI Flow, inside the orchestrator.

The delegation chain is MFO -> CrewAIFlowTypeAdapter -> the type's own adapter (``inner``, the DirectFlowTypeAdapter
the composition root built on the same unit of work). The bridge opens no session and builds no adapter. Before each
kickoff it reads the flow's stored CrewAI state through the unit of work; the state the kickoff leaves travels in
the phase's outcome (``PhaseOutcome.bridge_state``), and ``save_child`` writes it beside the child record, in the
same transaction. The bridge keeps nothing between calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any
from uuid import UUID

from adapters.crewai_bridge.event_listener import captured_events
from adapters.crewai_bridge.phase_flow import phase_flow_class, state_model
from adapters.crewai_bridge.runtime import console_suppressed
from domain.events import Tenant
from domain.flow import Flow
from domain.flow_types import FlowTypeDefinition
from domain.phases import PhaseOutcome
from domain.ports import ChildRecord, FlowTypeAdapter, OperationObserver, UnitOfWork

MIRRORED_STATE = ("id", "status", "master_version", "completed_phases", "waiting_for", "kickoffs")
"""What ``GET …/status`` shows of the stored state, as the ``crewai`` mirror of the child record."""


class CrewAIFlowTypeAdapter:
    def __init__(
        self,
        uow: UnitOfWork,
        inner: FlowTypeAdapter,
        definition: FlowTypeDefinition,
        observer: OperationObserver | None = None,
    ) -> None:
        self._uow = uow
        self._inner = inner
        self._definition = definition
        self._flow_class = phase_flow_class(definition.name, definition.phases, definition.input_phases)
        self._observer = observer

    @property
    def unit_of_work(self) -> UnitOfWork:
        return self._uow

    @property
    def inner(self) -> FlowTypeAdapter:
        """The flow type's own adapter the bridge delegates to."""
        return self._inner

    async def run_phase(self, flow: Flow, phase: str) -> PhaseOutcome:
        return await self._kickoff(flow, phase, "run", {})

    async def accept_input(self, flow: Flow, phase: str, payload: dict[str, Any]) -> PhaseOutcome:
        if phase not in self._definition.accept:  # the same refusal as the direct adapter's, before any kickoff
            return await self._inner.accept_input(flow, phase, payload)
        return await self._kickoff(flow, phase, "input", payload)

    async def save_child(self, flow: Flow, outcome: PhaseOutcome | None = None) -> None:
        await self._inner.save_child(flow, outcome)
        states = self._uow.bridge_states
        if outcome is not None and outcome.bridge_state is not None:
            state = outcome.bridge_state
        elif await states.follow(flow):  # no kickoff: the stored state follows the master
            return
        else:
            state = self._fresh_state(flow)
        await states.save(flow, {**state, "status": str(flow.status), "master_version": flow.version})

    async def load_child(self, tenant: Tenant, flow_id: UUID) -> ChildRecord | None:
        child, state = await self._uow.children.load_with_bridge_state(self._definition.child_table, tenant, flow_id)
        if child is None or state is None:
            return child
        mirror = {key: state.get(key) for key in MIRRORED_STATE}
        return replace(child, mirrors={**child.mirrors, "crewai": mirror})

    def _span(self, name: str, **attributes: str) -> AbstractContextManager[None]:
        return self._observer.span(name, **attributes) if self._observer else nullcontext()

    async def _kickoff(self, flow: Flow, phase: str, mode: str, payload: dict[str, Any]) -> PhaseOutcome:
        with self._span("mfo.bridge", flow_type=flow.flow_type, phase=phase, mode=mode):
            started = time.perf_counter()
            stored = await self._uow.bridge_states.load(flow.tenant, flow.flow_id) or self._fresh_state(flow)
            instance = self._flow_class(tracing=False)
            instance.runner = self._runner(flow, payload)
            with captured_events() as events, console_suppressed():
                await instance.kickoff_async(inputs={**stored, "mode": mode, "next_phase": phase})
            state = instance.state.model_dump(mode="json")
            outcome: PhaseOutcome = instance.outcome
            timings = {"bridge": _ms_since(started), "adapter": outcome.trace["adapter_ms"]}
            return PhaseOutcome(
                outcome.kind,
                outcome.result,
                outcome.error,
                {"timings_ms": timings, "crewai": {"state_id": state["id"], "events": events}},
                bridge_state=state,
            )

    def _runner(self, flow: Flow, payload: dict[str, Any]) -> Callable[[str, str], Any]:
        """What the CrewAI Flow's phase steps call: the type's own adapter, in a span of its own."""

        async def runner(name: str, step: str) -> PhaseOutcome:
            adapter = type(self._inner).__name__
            with self._span("mfo.adapter", flow_type=flow.flow_type, phase=name, adapter=adapter):
                if step == "input":
                    return await self._inner.accept_input(flow, name, payload)
                return await self._inner.run_phase(flow, name)

        return runner

    def _fresh_state(self, flow: Flow) -> dict[str, Any]:
        return state_model()(mfo_flow_id=str(flow.flow_id), flow_type=flow.flow_type).model_dump(mode="json")


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def crewai_adapter(
    definition: FlowTypeDefinition,
    inner: Callable[[UnitOfWork], FlowTypeAdapter],
    observer: OperationObserver | None = None,
) -> Callable[[UnitOfWork], CrewAIFlowTypeAdapter]:
    """The adapter factory of a type whose phases run through the CrewAI bridge: on each unit of work, the bridge
    around the type's own adapter (``inner``) on the same unit of work.

    Builds the type's CrewAI Flow class now (importing crewai once, at start-up), not at the first request.
    """
    phase_flow_class(definition.name, definition.phases, definition.input_phases)

    def factory(uow: UnitOfWork) -> CrewAIFlowTypeAdapter:
        return CrewAIFlowTypeAdapter(uow, inner(uow), definition, observer)

    return factory
