"""Wire schemas (msgspec Structs), kept apart from the domain and the tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from msgspec import Meta, Struct

from application.flow_type_versions import FlowTypeVersions
from application.migrations import BulkMigrationItem
from application.views import FlowStatusView
from domain.contract import ExecutionContract, MigrationPlan
from domain.events import FlowEvent
from domain.flow import Flow, FlowSummary, PhaseRun
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


Version = Annotated[int, Meta(ge=1, le=2_147_483_647)]
"""A flow type's version: a whole number from 1 (at most PostgreSQL's ``integer``)."""


class MigrateFlowRequest(Struct, forbid_unknown_fields=True):
    to_version: Version
    """The version of the flow's type to move it to; it must declare a migration from the flow's."""


class BulkMigrateRequest(Struct, forbid_unknown_fields=True):
    flow_type: TypeName
    from_version: Version
    to_version: Version
    dry_run: bool
    """True: list what would change and change nothing."""
    statuses: list[str] | None = None
    """Only flows in these statuses (default: any but deleted)."""
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100
    """At most this many flows, newest first."""


class ContractOut(Struct):
    """What the flow runs under, recorded when it was created (or migrated)."""

    version: int
    phases: list[str]
    input_phases: list[str]
    bridged: bool
    """Its phases run through the CrewAI bridge."""

    @classmethod
    def of(cls, contract: ExecutionContract) -> ContractOut:
        return cls(contract.version, list(contract.phases), list(contract.input_phases), contract.bridged)


class MigrationPlanOut(Struct):
    from_version: int
    to_version: int
    kept: list[str]
    added: list[str]
    """Added as pending."""
    dropped: list[str]
    """Never run (pending or skipped)."""

    @classmethod
    def of(cls, plan: MigrationPlan) -> MigrationPlanOut:
        return cls(plan.from_version, plan.to_version, list(plan.kept), list(plan.added), list(plan.dropped))


class BulkMigrationItemOut(Struct):
    flow_id: UUID
    outcome: str
    """``would_migrate`` (a dry run), ``migrated`` or ``refused``."""
    version: int
    """The flow's version after the migration (its current one when it was not migrated)."""
    plan: MigrationPlanOut | None
    reason: str | None
    """Why a refused flow cannot be migrated."""


class BulkMigrationOut(Struct):
    dry_run: bool
    migrated: int
    refused: int
    items: list[BulkMigrationItemOut]

    @classmethod
    def of(cls, dry_run: bool, items: list[BulkMigrationItem]) -> BulkMigrationOut:
        return cls(
            dry_run=dry_run,
            migrated=sum(1 for i in items if i.outcome != "refused"),
            refused=sum(1 for i in items if i.outcome == "refused"),
            items=[
                BulkMigrationItemOut(
                    i.flow_id, i.outcome, i.version, MigrationPlanOut.of(i.plan) if i.plan else None, i.reason
                )
                for i in items
            ],
        )


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
    contract: ContractOut

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
            contract=ContractOut.of(flow.contract),
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


class FlowTypeVersionOut(Struct):
    version: int
    phases: list[str]
    input_phases: list[str]
    migrates_from: list[int]
    """The earlier versions whose flows this one takes over (POST /api/v1/flows/{id}/migrate)."""
    flows: int | None
    """How many of the tenant's flows (deleted ones aside) use this version (null for a caller with no tenant)."""
    flows_by_status: dict[str, int] | None


class FlowTypeOut(Struct):
    name: str
    description: str
    version: int
    """The newest version: the one new flows get."""
    phases: list[str]
    input_phases: list[str]
    example_configuration: dict[str, Any]
    example_inputs: dict[str, dict[str, Any]]
    input_schemas: dict[str, dict[str, Any]]
    """The JSON Schema of each input phase's input (the dashboard builds its form from it)."""
    versions: list[FlowTypeVersionOut]
    """Every registered version, oldest first, with the flows that use it."""

    @classmethod
    def of(cls, t: FlowTypeVersions, *, counted: bool = True) -> FlowTypeOut:
        d = t.newest
        versions = [
            FlowTypeVersionOut(
                v.definition.version,
                list(v.definition.phases),
                list(v.definition.input_phases),
                sorted(v.definition.migrations),
                v.in_use.flows if counted else None,
                dict(sorted(v.in_use.statuses.items())) if counted else None,
            )
            for v in t.versions
        ]
        return cls(
            d.name,
            d.description,
            d.version,
            list(d.phases),
            list(d.input_phases),
            d.example_configuration,
            d.example_inputs,
            dict(d.input_schemas),
            versions,
        )


class FlowTypeListOut(Struct):
    items: list[FlowTypeOut]


class HealthOut(Struct):
    status: str
    database: str
