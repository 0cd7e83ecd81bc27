"""A real ``crewai.flow.flow.Flow`` for a flow type's phases, built once per type.

Each kickoff runs one step: ``dispatch`` (``@start`` and ``@router``) routes to the phase
to run (``run:<phase>``) or to the phase taking input (``input:<phase>``); each phase is a
``@listen`` method; a ``@router`` after it routes a phase that needs input to the
``await_input`` step, and others to ``phase_done``. The phase work itself is delegated to
the flow type's service through the ``runner`` the bridge attaches to the instance.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.crewai_bridge.runtime import load_crewai
from domain.errors import PhaseFailed
from domain.phases import PhaseOutcome, PhaseResultKind

PhaseRunner = Callable[[str, str], Awaitable[PhaseOutcome]]


@functools.cache
def state_model() -> type:
    flow_module = load_crewai()

    class PhaseFlowState(flow_module.FlowState):  # type: ignore[name-defined, misc]
        """What the bridge keeps of a flow between kickoffs (stored in crewai_flow_states)."""

        mfo_flow_id: str = ""
        flow_type: str = ""
        mode: str = "run"
        next_phase: str | None = None
        last_phase: str | None = None
        last_outcome: str | None = None
        waiting_for: str | None = None
        completed_phases: list[str] = []
        kickoffs: int = 0
        status: str = "initialized"
        master_version: int = 0

    return PhaseFlowState


@functools.cache
def phase_flow_class(flow_type: str, phases: tuple[str, ...], input_phases: tuple[str, ...]) -> type:
    flow_module = load_crewai()
    Flow, listen, router, start = flow_module.Flow, flow_module.listen, flow_module.router, flow_module.start
    State = state_model()

    def dispatch(self: Any) -> str:
        self.state.kickoffs += 1
        return f"{self.state.mode}:{self.state.next_phase}"

    namespace: dict[str, Any] = {
        "_skip_auto_memory": True,
        "dispatch": start()(router()(dispatch)),
        "await_input": listen("needs_input")(_await_input),
        "finish_phase": listen("phase_done")(_finish_phase),
    }
    for phase in phases:
        modes = ["run", "input"] if phase in input_phases else ["run"]
        for mode in modes:
            method = f"{mode}_{phase}"
            namespace[method] = listen(f"{mode}:{phase}")(_phase_step(phase, mode))
            namespace[f"after_{method}"] = router(method)(_after_phase)
    return type(f"{flow_type.title().replace('_', '')}PhaseFlow", (Flow[State],), namespace)  # type: ignore[index]


def _phase_step(phase: str, mode: str) -> Callable[[Any], Awaitable[str]]:
    async def step(self: Any) -> str:
        started = time.perf_counter()
        try:
            outcome = await self.runner(phase, mode)
        except PhaseFailed as failure:
            outcome = PhaseOutcome.failed(str(failure), failure.details)
        self.outcome = outcome.with_trace(adapter_ms=round((time.perf_counter() - started) * 1000, 3))
        self.state.last_phase = phase
        self.state.last_outcome = str(outcome.kind)
        return str(outcome.kind)

    step.__name__ = f"{mode}_{phase}"
    return step


def _after_phase(self: Any) -> str:
    if self.outcome.kind == PhaseResultKind.NEEDS_INPUT:
        return "needs_input"
    return "phase_done"


def _await_input(self: Any) -> str:
    self.state.waiting_for = self.state.last_phase
    return "waiting"


def _finish_phase(self: Any) -> str:
    self.state.waiting_for = None
    if self.outcome.kind == PhaseResultKind.COMPLETED and self.state.last_phase not in self.state.completed_phases:
        self.state.completed_phases = [*self.state.completed_phases, self.state.last_phase]
    return str(self.outcome.kind)
