"""The OpenAPI examples of the flow routes: one discovery flow, from its creation to waiting for its field mappings.

Each is a wire Struct of :mod:`entrypoints.http.schemas` with the domain's own statuses, phase states and allowed
operations, so an example cannot show a field, a status or an operation the API does not have.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from litestar.openapi.spec import Example

from domain.lifecycle import FlowStatus, Operation, PhaseState, allowed_operations
from entrypoints.http.openapi import EXAMPLE_FLOW_ID, example
from entrypoints.http.schemas import (
    ContractOut,
    CreateFlowRequest,
    ExecutePhaseRequest,
    FlowOut,
    PhaseOut,
    RunningPhaseOut,
    StartFlowRequest,
)

DISCOVERY_PHASES = (
    "data_import",
    "field_mapping",
    "data_cleansing",
    "asset_inventory",
    "dependency_analysis",
    "tech_debt_assessment",
)
DISCOVERY_CSV = (
    "hostname,type,os,os_version,env,depends_on\n"
    "web1,server,Ubuntu,16.04,prod,db1\n"
    "db1,database,RHEL,7,prod,\n"
    "web2,server,Ubuntu,22.04,dev,db1;web1\n"
)
MAPPINGS = {
    "hostname": "name",
    "type": "asset_type",
    "os": "os",
    "os_version": "os_version",
    "env": "environment",
    "depends_on": "depends_on",
}
CREATED_AT = datetime(2026, 11, 25, 14, 36, 49, tzinfo=UTC)


def flow(
    status: FlowStatus,
    version: int,
    done: int = 0,
    current: PhaseState | None = None,
    running: RunningPhaseOut | None = None,
    phase_results: dict[str, Any] | None = None,
) -> FlowOut:
    """The example flow in ``status``, its first ``done`` phases completed, the next one in state ``current``."""
    states = [PhaseState.COMPLETED] * done
    if current is not None:
        states.append(current)
    states += [PhaseState.PENDING] * (len(DISCOVERY_PHASES) - len(states))
    next_phase = DISCOVERY_PHASES[done] if current is not None else None
    operations = [op for op in allowed_operations(status) if not (running and op == Operation.EXECUTE_PHASE)]
    return FlowOut(
        flow_id=EXAMPLE_FLOW_ID,
        client_account_id=UUID("11111111-1111-1111-1111-111111111111"),
        engagement_id=UUID("22222222-2222-2222-2222-222222222222"),
        flow_type="discovery",
        name="datacentre-1",
        status=status,
        current_phase=next_phase,
        phases=[PhaseOut(name, state) for name, state in zip(DISCOVERY_PHASES, states, strict=True)],
        progress_percent=round(100 * done / len(DISCOVERY_PHASES)),
        configuration={"data": DISCOVERY_CSV},
        phase_results=phase_results or {},
        error=None,
        created_at=CREATED_AT,
        updated_at=CREATED_AT + timedelta(seconds=version),
        version=version,
        allowed_operations=operations,
        auto_run=False,
        running_phase=running,
        contract=ContractOut(1, list(DISCOVERY_PHASES), ["field_mapping"], bridged=True),
    )


def create_request() -> list[Example]:
    return [
        example(
            "A discovery flow over a CSV inventory",
            CreateFlowRequest(flow_type="discovery", name="datacentre-1", configuration={"data": DISCOVERY_CSV}),
        )
    ]


def created() -> Example:
    return example("The flow, created", flow(FlowStatus.INITIALIZED, 1))


def start_request() -> list[Example]:
    return [example("Run phase by phase (execute)", StartFlowRequest(auto_run=False))]


def started() -> Example:
    return example("The flow, running", flow(FlowStatus.RUNNING, 2, current=PhaseState.PENDING))


def execute_request() -> list[Example]:
    return [
        example("The next pending phase", ExecutePhaseRequest()),
        example("A later phase (the pending ones before it are skipped)", ExecutePhaseRequest(phase="asset_inventory")),
    ]


def claimed() -> Example:
    attempt = RunningPhaseOut(
        phase="data_import",
        attempt=1,
        run_id=UUID("0b5e3c9a-8f1d-4c2e-9a7b-6d5e4f3a2b1c"),
        started_at=CREATED_AT + timedelta(seconds=3),
        running_seconds=0.0,
        retry_at=None,
        earlier_attempts=[],
    )
    return example(
        "202: the phase claimed",
        flow(FlowStatus.RUNNING, 3, current=PhaseState.RUNNING, running=attempt),
    )


def waiting_for_input() -> Example:
    return example(
        "200: field_mapping proposed its mappings and waits for input",
        flow(
            FlowStatus.WAITING_FOR_INPUT,
            7,
            done=1,
            current=PhaseState.RUNNING,
            phase_results={"data_import": {"rows": 3}, "field_mapping": {"proposed_mappings": MAPPINGS}},
        ),
    )


def input_request() -> list[Example]:
    return [
        example("Approve the proposed mappings, corrected", {"approved": True, "mappings": MAPPINGS}),
        example("Keep the flow waiting", {"approved": False}),
    ]


def input_accepted() -> Example:
    return example(
        "The input accepted: the flow goes on",
        flow(FlowStatus.RUNNING, 8, done=2, current=PhaseState.PENDING),
    )
