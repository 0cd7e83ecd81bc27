"""Two deliberately broken flow types, registered through the ``mfo.flow_types`` entry points as any plugin's
are: the consistency harness must catch each (tests/consistency/test_harness_catches_broken_types.py).

- ``own_session_inspection``: the inspection type, its phase handlers writing the child row as it will be after
  the phase, on a connection of their own to the database ``MFO_DATABASE_URL`` names, committed at once: when the
  phase's completion does not commit (it is discarded, or fails), the child row has moved and the master has not.
- ``lagging_inspection``: the inspection type, its child table's projection writing a ``status`` of its own, made
  from the phases' states: it does not follow the master when the flow is paused, cancelled, failed or deleted.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from domain.flow import Flow
from domain.flow_types import ChildTable, FlowTypeDefinition, PhaseContext, RunPhase
from domain.lifecycle import PhaseState
from domain.phases import PhaseOutcome, PhaseResultKind
from domain.status_sync import child_status_for
from tests.plugin_example import INSPECTION_FLOWS, PHASES, register

OWN_SESSION_FLOWS = dataclasses.replace(INSPECTION_FLOWS, name="own_session_inspection_flows")


def committing_its_own_child_row(handler: RunPhase, phase: str) -> RunPhase:
    async def run(flow: Flow, context: PhaseContext) -> PhaseOutcome:
        import asyncpg

        outcome = await handler(flow, context)
        last = phase == PHASES[-1]
        waits = outcome.kind == PhaseResultKind.NEEDS_INPUT
        status = "waiting_for_input" if waits else "completed" if last else "running"
        connection = await asyncpg.connect(os.environ["MFO_DATABASE_URL"].replace("+asyncpg", ""))
        try:  # the bug: a write of its own, committed before MFO records the phase's outcome
            await connection.execute(
                f"UPDATE {OWN_SESSION_FLOWS.name} SET status = $1, master_version = $2 WHERE flow_id = $3",
                child_status_for(status),
                flow.version + 1,
                flow.flow_id,
            )
        finally:
            await connection.close()
        return outcome

    return run


def register_own_session() -> FlowTypeDefinition:
    inspection = register()
    return dataclasses.replace(
        inspection,
        name="own_session_inspection",
        run={phase: committing_its_own_child_row(handler, phase) for phase, handler in inspection.run.items()},
        child_table=OWN_SESSION_FLOWS,
    )


def status_from_the_phases(flow: Flow) -> dict[str, Any]:
    """The bug: a child status of the type's own making, from its phases, instead of the master's."""
    states = [flow.phase_state(phase) for phase in flow.phase_names]
    if all(state == PhaseState.PENDING for state in states):
        status = "pending"
    elif all(state == PhaseState.COMPLETED for state in states):
        status = "complete"
    elif PhaseState.RUNNING in states and flow.current_phase == "sign_off":
        status = "awaiting_input"
    else:
        status = "in_progress"
    return {**INSPECTION_FLOWS.project(flow), "status": status}


LAGGING_FLOWS = ChildTable("lagging_inspection_flows", INSPECTION_FLOWS.columns, status_from_the_phases)


def register_lagging() -> FlowTypeDefinition:
    return dataclasses.replace(register(), name="lagging_inspection", child_table=LAGGING_FLOWS)
