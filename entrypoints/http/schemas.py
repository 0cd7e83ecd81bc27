"""Wire schemas (msgspec Structs), kept apart from the domain and the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from msgspec import Meta, Struct

from application.views import FlowStatusView
from domain.events import FlowEvent
from domain.flow import Flow, FlowSummary, PhaseRun
from domain.flow_types import FlowTypeDefinition
from domain.lifecycle import FlowStatus, Operation, PhaseState
from domain.ports import Attempt, Lease

Name = Annotated[str, Meta(min_length=1, max_length=200)]
TypeName = Annotated[str, Meta(min_length=1, max_length=64)]


class CreateFlowRequest(Struct, forbid_unknown_fields=True):
    flow_type: TypeName
    name: Name
    configuration: dict[str, Any] = {}


class StartFlowRequest(Struct, forbid_unknown_fields=True):
    auto_run: bool = False
    """Run the phases in the background (on a worker) until the flow completes, fails, waits for input, or is
    paused or cancelled; input and resume let it go on in the background."""


class ExecutePhaseRequest(Struct, forbid_unknown_fields=True):
    phase: Annotated[str, Meta(min_length=1, max_length=64)] | None = None


class PhaseOut(Struct):
    name: str
    state: PhaseState


class LeaseOut(Struct):
    owner: str
    expires_at: datetime
    expired: bool


class RunningPhaseOut(Struct):
    """The phase the flow is running: its attempt, since when, and (on ``…/status``) the lease its runner holds.

    ``run_id`` is None between a failed attempt and the next, which is due at ``retry_at``."""

    phase: str
    attempt: int
    run_id: UUID | None
    started_at: datetime | None
    running_seconds: float | None
    retry_at: datetime | None
    earlier_attempts: list[str]
    lease: LeaseOut | None = None

    @classmethod
    def of(cls, run: PhaseRun | None, lease: Lease | None = None) -> RunningPhaseOut | None:
        if run is None:
            return None
        now = datetime.now(UTC)
        running = None if run.started_at is None else round(max(0.0, (now - run.started_at).total_seconds()), 3)
        held = lease if lease is not None and lease.run_id == run.run_id else None
        return cls(
            phase=run.phase,
            attempt=run.attempt,
            run_id=run.run_id,
            started_at=run.started_at,
            running_seconds=running,
            retry_at=run.retry_at,
            earlier_attempts=list(run.errors),
            lease=None if held is None else LeaseOut(held.owner, held.expires_at, held.expires_at < now),
        )


class FlowOut(Struct):
    flow_id: UUID
    client_account_id: UUID
    engagement_id: UUID
    flow_type: str
    name: str
    status: FlowStatus
    current_phase: str | None
    phases: list[PhaseOut]
    progress_percent: int
    configuration: dict[str, Any]
    phase_results: dict[str, Any]
    error: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    allowed_operations: list[Operation]
    """What a client may ask of the flow now (the transition table's operations of its status)."""
    auto_run: bool
    running_phase: RunningPhaseOut | None

    @classmethod
    def of(cls, flow: Flow) -> FlowOut:
        return cls(
            flow_id=flow.flow_id,
            client_account_id=flow.tenant.client_account_id,
            engagement_id=flow.tenant.engagement_id,
            flow_type=flow.flow_type,
            name=flow.name,
            status=flow.status,
            current_phase=flow.current_phase,
            phases=[PhaseOut(p.name, p.state) for p in flow.phases],
            progress_percent=flow.progress_percent,
            configuration=flow.configuration,
            phase_results=flow.phase_results,
            error=flow.error,
            created_at=flow.created_at,
            updated_at=flow.updated_at,
            version=flow.version,
            allowed_operations=flow.allowed_operations(),
            auto_run=flow.auto_run,
            running_phase=RunningPhaseOut.of(flow.run),
        )


class FlowSummaryOut(Struct):
    flow_id: UUID
    flow_type: str
    name: str
    status: FlowStatus
    current_phase: str | None
    progress_percent: int
    version: int
    created_at: datetime
    updated_at: datetime
    allowed_operations: list[Operation]
    """As the flow's own (``FlowOut.allowed_operations``): what a bulk change may ask of it."""

    @classmethod
    def of(cls, flow: FlowSummary) -> FlowSummaryOut:
        return cls(
            flow.flow_id,
            flow.flow_type,
            flow.name,
            flow.status,
            flow.current_phase,
            flow.progress_percent,
            flow.version,
            flow.created_at,
            flow.updated_at,
            flow.allowed_operations(),
        )


class FlowPageOut(Struct):
    items: list[FlowSummaryOut]
    next_cursor: str | None


class MasterStatusOut(Struct):
    status: FlowStatus
    current_phase: str | None
    version: int
    progress_percent: int
    error: str | None


class ChildStatusOut(Struct):
    status: str
    """The flow type's own status of the flow (its child row's)."""
    projected_status: FlowStatus | None
    master_version: int
    progress_percent: int
    details: dict[str, Any]
    mirrors: dict[str, dict[str, Any]]


class FlowStatusOut(Struct):
    flow_id: UUID
    flow_type: str
    master: MasterStatusOut
    child: ChildStatusOut | None
    phases: list[PhaseOut]
    in_sync: bool
    running_phase: RunningPhaseOut | None

    @classmethod
    def of(cls, view: FlowStatusView) -> FlowStatusOut:
        flow, child = view.flow, view.child
        return cls(
            flow_id=flow.flow_id,
            flow_type=flow.flow_type,
            master=MasterStatusOut(flow.status, flow.current_phase, flow.version, flow.progress_percent, flow.error),
            child=None
            if child is None
            else ChildStatusOut(
                child.status,
                view.child_projected_status,
                child.master_version,
                child.progress_percent,
                child.details,
                child.mirrors,
            ),
            phases=[PhaseOut(p.name, p.state) for p in flow.phases],
            in_sync=view.in_sync,
            running_phase=RunningPhaseOut.of(flow.run, view.lease),
        )


class AttemptOut(Struct):
    run_id: UUID
    phase: str
    attempt: int
    owner: str
    started_at: datetime
    ended_at: datetime | None
    result: str | None
    detail: str | None

    @classmethod
    def of(cls, a: Attempt) -> AttemptOut:
        return cls(a.run_id, a.phase, a.attempt, a.owner, a.started_at, a.ended_at, a.result, a.detail)


class AttemptListOut(Struct):
    items: list[AttemptOut]


class EventOut(Struct):
    version: int
    operation: Operation
    actor: str
    from_status: FlowStatus | None
    to_status: FlowStatus
    occurred_at: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, e: FlowEvent) -> EventOut:
        return cls(
            e.version,
            str(e.operation),  # the values of Operation and FlowStatus, as the domain's events hold them
            e.actor,
            e.from_status and str(e.from_status),
            str(e.to_status),
            e.occurred_at,
            e.data,
        )


class EventPageOut(Struct):
    items: list[EventOut]
    next_cursor: str | None


class FlowTypeOut(Struct):
    name: str
    description: str
    phases: list[str]
    input_phases: list[str]
    example_configuration: dict[str, Any]
    example_inputs: dict[str, dict[str, Any]]
    input_schemas: dict[str, dict[str, Any]]
    """The JSON Schema of each input phase's input (the dashboard builds its form from it)."""

    @classmethod
    def of(cls, d: FlowTypeDefinition) -> FlowTypeOut:
        return cls(
            d.name,
            d.description,
            list(d.phases),
            list(d.input_phases),
            d.example_configuration,
            d.example_inputs,
            dict(d.input_schemas),
        )


class FlowTypeListOut(Struct):
    items: list[FlowTypeOut]


class HealthOut(Struct):
    status: str
    database: str
