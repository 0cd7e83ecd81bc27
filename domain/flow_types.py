"""How a flow type is declared: its phases, their handlers, and its child table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from domain.contract import ExecutionContract, PhaseMapping, RecordedPolicy
from domain.events import Tenant
from domain.flow import Flow
from domain.phase_policy import DEFAULT_POLICY, PhasePolicy
from domain.phases import PhaseOutcome


class FlowReader(Protocol):
    async def get(self, tenant: Tenant, flow_id: UUID) -> Flow:
        """The flow, or ``FlowNotFound`` (also for another tenant's flow)."""
        ...


@dataclass(frozen=True)
class PhaseContext:
    """What a phase handler may use besides its flow: a reader of the tenant's other flows (as assessment reads the
    discovery it starts from)."""

    flows: FlowReader


RunPhase = Callable[[Flow, PhaseContext], Awaitable[PhaseOutcome]]
"""Run a phase on the flow's input. Raise ``PhaseFailed`` for a failure of the flow's own data."""
AcceptInput = Callable[[Flow, dict[str, Any], PhaseContext], Awaitable[PhaseOutcome]]
"""Take a client's input for a phase that waits for it. Raise ``InvalidFlowInput`` for unacceptable input."""


def pure_phase(handler: Callable[[Flow], PhaseOutcome]) -> RunPhase:
    """A phase that needs nothing but its flow, written as a plain function, as a :data:`RunPhase`."""

    async def run(flow: Flow, _: PhaseContext) -> PhaseOutcome:
        return handler(flow)

    run.__name__ = run.__qualname__ = handler.__name__
    return run


def pure_input(handler: Callable[[Flow, dict[str, Any]], PhaseOutcome]) -> AcceptInput:
    """An input handler that needs nothing but its flow and the input, as an :data:`AcceptInput`."""

    async def accept(flow: Flow, payload: dict[str, Any], _: PhaseContext) -> PhaseOutcome:
        return handler(flow, payload)

    accept.__name__ = accept.__qualname__ = handler.__name__
    return accept


class ColumnKind(StrEnum):
    BOOLEAN = "boolean"
    INTEGER = "integer"
    TEXT = "text"
    UUID = "uuid"
    JSON = "json"


@dataclass(frozen=True)
class ChildColumn:
    name: str
    kind: ColumnKind
    nullable: bool = True


SHARED_CHILD_COLUMNS = (
    "client_account_id",
    "engagement_id",
    "flow_id",
    "status",
    "master_version",
    "progress_percent",
    "updated_at",
)
"""The columns every child table has, before the type's own."""
RESERVED_TABLE_NAMES = frozenset(
    {
        "flows",
        "flow_events",
        "crewai_flow_states",
        "api_keys",
        "consistency_audit_runs",
        "idempotency_keys",
        "background_phase_attempts",
        "phase_leases",
        "phase_attempts",
        "alembic_version",
    }
)
"""MFO's own tables: no child table may take one of their names (nor one starting with ``pgqueuer``)."""


def no_columns(flow: Flow) -> Mapping[str, Any]:
    return {}


@dataclass(frozen=True)
class ChildTable:
    """A flow type's own table of its view of each flow.

    Every child table has the shared columns (the tenant, ``flow_id``, ``status``, ``master_version``,
    ``progress_percent``, ``updated_at``); ``columns`` are the type's own, and ``project`` computes their values
    from the master flow each time the child row is written.
    """

    name: str
    columns: tuple[ChildColumn, ...] = ()
    project: Callable[[Flow], Mapping[str, Any]] = no_columns


def any_configuration(configuration: dict[str, Any]) -> None:
    """Accepts every configuration."""


@dataclass(frozen=True)
class FlowTypeDefinition:
    """A flow type as it is registered: its name, its ordered phases, a handler per phase, its child table.

    ``run`` has a handler for every phase; ``accept`` one for every phase that waits for a client's input (its
    ``input_phases``). ``validate_configuration`` checks a new flow's configuration before it is stored (raising
    ``InvalidFlowInput`` that names the field), so that no phase later fails on a value it cannot take.
    """

    name: str
    phases: tuple[str, ...]
    run: Mapping[str, RunPhase]
    child_table: ChildTable
    accept: Mapping[str, AcceptInput] = field(default_factory=dict)
    description: str = ""
    validate_configuration: Callable[[dict[str, Any]], None] = any_configuration
    example_configuration: dict[str, Any] = field(default_factory=dict)
    """A configuration that runs every phase; shown in the API and used by the consistency harness."""
    example_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """For each input phase, a body that completes it."""
    input_schemas: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    """For each input phase, the JSON Schema (draft 2020-12) of the input it accepts, as its ``accept`` handler
    checks it: served by the API, so that a client (the dashboard) can build a form for it. A property may carry
    ``"x-prefill"``, a JSON Pointer (RFC 6901) into what the waiting phase proposed (its ``phase_results``), whose
    value the form starts from (discovery's proposed mappings)."""
    policies: Mapping[str, PhasePolicy] = field(default_factory=dict)
    """The policy of each phase that does not run under ``default_policy`` (domain/phase_policy.py)."""
    default_policy: PhasePolicy = DEFAULT_POLICY
    version: int = 1
    """The definition's version. A change of its phases, its input phases, a phase's policy or the engine that runs
    them is a new version; flows keep the version they were created with until they are migrated."""
    migrations: Mapping[int, PhaseMapping] = field(default_factory=dict)
    """For each earlier version this one takes flows over from, how (domain/contract.py). A version it does not
    name cannot be migrated to this one."""

    def policy_for(self, phase: str) -> PhasePolicy:
        return self.policies.get(phase, self.default_policy)

    def contract(self, *, bridged: bool) -> ExecutionContract:
        """The execution contract a new flow of this version records; ``bridged``: its phases run through the
        CrewAI bridge (the deployment's setting when the flow is created)."""
        return ExecutionContract(
            version=self.version,
            phases=self.phases,
            input_phases=self.input_phases,
            policies={phase: RecordedPolicy.of(self.policy_for(phase)) for phase in self.phases},
            bridged=bridged,
        )

    @property
    def input_phases(self) -> tuple[str, ...]:
        return tuple(phase for phase in self.phases if phase in self.accept)
