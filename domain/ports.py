"""Ports: what the application needs from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar
from uuid import UUID

from domain.auth import Principal
from domain.background import DueWork, TenantQueue
from domain.events import FlowEvent, Tenant
from domain.flow import Flow, FlowSummary
from domain.flow_types import ChildTable
from domain.idempotency import StoredResponse
from domain.lifecycle import FlowStatus
from domain.phases import PhaseOutcome


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True)
class FlowFilter:
    """Which of a tenant's flows a list shows. ``search`` matches a flow whose name contains it (in any case) or
    whose id starts with it; ``created_after`` is inclusive, ``created_before`` exclusive; ``version``: the version
    of its type the flow's recorded contract names."""

    flow_type: str | None = None
    statuses: tuple[FlowStatus, ...] | None = None
    include_deleted: bool = False
    search: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    version: int | None = None

    def matches(self, flow: FlowSummary) -> bool:
        """Whether ``flow`` is one the filter lets through (what the list's query selects)."""
        if self.flow_type is not None and flow.flow_type != self.flow_type:
            return False
        if self.version is not None and flow.contract.version != self.version:
            return False
        if self.statuses:
            if flow.status not in self.statuses:
                return False
        elif not self.include_deleted and flow.status == FlowStatus.DELETED:
            return False
        if self.search and not (
            self.search.lower() in flow.name.lower() or str(flow.flow_id).startswith(self.search.lower())
        ):
            return False
        if self.created_after is not None and flow.created_at < self.created_after:
            return False
        return self.created_before is None or flow.created_at < self.created_before


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class VersionUsage:
    """How many flows of one flow type's version are in one status."""

    flow_type: str
    version: int
    status: FlowStatus
    flows: int


class FlowRepository(Protocol):
    async def get(self, tenant: Tenant, flow_id: UUID) -> Flow:
        """The flow, or :class:`FlowNotFound` (also for another tenant's flow)."""
        ...

    async def get_for_update(self, tenant: Tenant, flow_id: UUID) -> Flow:
        """Like ``get``, and locks the flow until the unit of work ends."""
        ...

    async def add(self, flow: Flow) -> None:
        """Store a flow this unit of work created; its ``loaded_version`` becomes its version."""
        ...

    async def save(self, flow: Flow) -> None:
        """Write the flow's new state; the stored version must still be ``flow.loaded_version`` (else
        :class:`VersionConflict`), which then becomes the flow's version."""
        ...

    async def list(self, tenant: Tenant, flow_filter: FlowFilter, limit: int, cursor: str | None) -> Page[FlowSummary]:
        """Newest first, keyset-paginated; ``cursor`` is an opaque token from a previous page."""
        ...

    async def version_usage(self, tenant: Tenant | None) -> list[VersionUsage]:
        """How many flows use each version of each flow type, per status (deleted flows too), ordered by type,
        version and status: the tenant's, or (None, on the schema owner's database) every tenant's."""
        ...


class FlowEventLog(Protocol):
    async def append(self, events: list[FlowEvent]) -> None: ...

    async def list(self, tenant: Tenant, flow_id: UUID, after_version: int, limit: int) -> list[FlowEvent]:
        """Oldest first, the events with a version above ``after_version``."""
        ...


@dataclass(frozen=True)
class Lease:
    """Who holds the attempt in progress of a flow's phase, and until when (renewed by its runner's heartbeats)."""

    run_id: UUID
    owner: str
    expires_at: datetime


@dataclass(frozen=True)
class Attempt:
    """One attempt of a phase, as the phase's attempts record it (kept after the flow moved on)."""

    run_id: UUID
    phase: str
    attempt: int
    owner: str
    started_at: datetime
    ended_at: datetime | None
    result: str | None
    detail: str | None


class PhaseRuns(Protocol):
    """The leases and the recorded attempts of a tenant's phases, written in the unit of work's transaction."""

    async def hold_tenant(self, tenant: Tenant) -> None:
        """Serialize the claims of ``tenant``'s background work until the transaction ends (per-tenant limits)."""
        ...

    async def running(self, tenant: Tenant) -> int:
        """How many of ``tenant``'s attempts hold a lease (live or expired)."""
        ...

    async def grant(self, flow: Flow, run_id: UUID, owner: str, lease_seconds: float) -> None:
        """Lease ``flow``'s attempt ``run_id`` to ``owner`` for ``lease_seconds`` and record the attempt's start."""
        ...

    async def end(self, tenant: Tenant, flow_id: UUID, run_id: UUID, result: str, detail: str | None) -> None:
        """Drop the lease of attempt ``run_id`` (if it still has one) and record how the attempt ended."""
        ...

    async def lease_of(self, tenant: Tenant, flow_id: UUID) -> Lease | None: ...

    async def attempts(self, tenant: Tenant, flow_id: UUID, limit: int) -> list[Attempt]:
        """The flow's attempts, newest first."""
        ...

    async def queue(self, tenant: Tenant, limit: int) -> TenantQueue:
        """The tenant's flows waiting for a worker and its phases running, by the database's clock."""
        ...

    async def announce_due(self) -> None:
        """Tell the listening runners, once the transaction commits, that work is due now (nothing if it rolls
        back)."""
        ...


class PhaseQueue(Protocol):
    """Every tenant's due work and every runner's leases: what runners poll and renew (not a tenant's view)."""

    async def due(self, limit: int, tenant_limit: int) -> list[DueWork]:
        """Up to ``limit`` flows with work due now, oldest first, taking turns between tenants, and none of a
        tenant that already holds ``tenant_limit`` leases; attempts whose lease expired first."""
        ...

    async def renew(self, owner: str, run_ids: list[UUID], lease_seconds: float) -> set[UUID]:
        """Extend ``owner``'s leases of ``run_ids``; the ones it still holds (the others were revoked or taken)."""
        ...

    async def listen(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` whenever a committed change made work due (``PhaseRuns.announce_due``), until
        :meth:`unlisten`. Raises when it cannot listen, and returns without listening when it has nothing to listen
        on (behind PgBouncer without a direct URL): either way the runner then polls only."""
        ...

    @property
    def listening(self) -> bool:
        """Whether ``listen`` is in force (its connection may have been lost since)."""
        ...

    async def unlisten(self) -> None: ...


class IdempotencyStore(Protocol):
    """Idempotency keys per tenant, written in the unit of work's transaction (so with the change, or not at all)."""

    async def claim(
        self, tenant: Tenant, key: str, fingerprint: str, *, now: datetime, expires_at: datetime
    ) -> StoredResponse | None:
        """Take ``key`` for this unit of work and return None, or return the answer stored for it.

        A key that expired by ``now`` counts as unused. Raises ``IdempotencyKeyReused`` when the key was stored with
        another fingerprint, ``IdempotencyKeyInProgress`` when another unit of work holds it too long. A concurrent
        claim of the same key waits until this unit of work ends.
        """
        ...

    async def complete(self, tenant: Tenant, key: str, response: StoredResponse) -> None:
        """Store the answer for a key this unit of work claimed."""
        ...

    async def purge_expired(self, now: datetime, limit: int) -> int:
        """Delete up to ``limit`` keys that expired by ``now``; the number deleted."""
        ...


@dataclass(frozen=True)
class ChildRecord:
    """A flow type's own view of a flow, as its child table stores it."""

    flow_id: UUID
    status: str
    master_version: int
    progress_percent: int
    details: dict[str, Any] = field(default_factory=dict)
    mirrors: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Other stored views of the flow kept beside the child (such as the CrewAI state), each with the
    ``status`` and ``master_version`` it reflects."""


class ChildRecords(Protocol):
    """Every flow type's child rows, written in the unit of work's transaction."""

    async def save(self, table: ChildTable, flow: Flow) -> None:
        """Create or update the flow's row in ``table``: the shared columns from the master flow (its child status,
        version and progress) and the type's own, ``table.project(flow)``."""
        ...

    async def load(self, table: ChildTable, tenant: Tenant, flow_id: UUID) -> ChildRecord | None: ...

    async def load_with_bridge_state(
        self, table: ChildTable, tenant: Tenant, flow_id: UUID
    ) -> tuple[ChildRecord | None, dict[str, Any] | None]:
        """The child record and the flow's stored bridge state (None where there is none), read together."""
        ...


class BridgeStates(Protocol):
    """The state an execution bridge (the CrewAI bridge) keeps of each flow between its kickoffs, stored in the unit
    of work's transaction: a mirror that records the master status and version it reflects."""

    async def load(self, tenant: Tenant, flow_id: UUID) -> dict[str, Any] | None: ...

    async def save(self, flow: Flow, state: dict[str, Any]) -> None:
        """Write the whole state (its ``status`` and ``master_version`` included)."""
        ...

    async def follow(self, flow: Flow) -> bool:
        """Move the stored state to the master's status and version; False when the flow has no stored state."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Commits only when asked; rolls back on exit otherwise."""

    flows: FlowRepository
    events: FlowEventLog
    children: ChildRecords
    bridge_states: BridgeStates
    phase_runs: PhaseRuns
    idempotency: IdempotencyStore

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def scope(self, tenant: Tenant) -> None:
        """Limit this unit of work's transactions to ``tenant``'s rows (the database's row-level security).

        Called by the orchestrator before its first statement; it holds for every later transaction of this unit
        of work until it is left. A unit of work never scoped sees no tenant's rows.
        """
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


class FlowTypeAdapter(Protocol):
    """A flow type as the orchestrator reaches it (``get_flow_service``), built by the registry on one unit of work:
    its phases, run directly or through the CrewAI bridge, and its child record."""

    async def run_phase(self, flow: Flow, phase: str) -> PhaseOutcome:
        """Do the phase's work on the flow's input. A ``PhaseFailed`` is the phase's failure."""
        ...

    async def accept_input(self, flow: Flow, phase: str, payload: dict[str, Any]) -> PhaseOutcome:
        """Take a client's input for a phase that waits for it."""
        ...

    async def save_child(self, flow: Flow, outcome: PhaseOutcome | None = None) -> None:
        """Create or update the type's child record (and the bridge's state) from the master flow and, when a phase
        ran in this unit of work, from what it produced."""
        ...

    async def load_child(self, tenant: Tenant, flow_id: UUID) -> ChildRecord | None: ...


@dataclass(frozen=True)
class AuditFinding:
    """One flow whose stored views disagree, and how."""

    flow_id: UUID
    tenant: Tenant
    flow_type: str
    status: str
    version: int
    problems: tuple[str, ...]


@dataclass(frozen=True)
class AuditReport:
    flows_checked: int
    inconsistent: int
    findings: list[AuditFinding]
    seconds: float


class ConsistencyAuditor(Protocol):
    async def audit(self, limit: int = 100, tenant: Tenant | None = None) -> AuditReport:
        """Check every flow of every tenant (or of ``tenant`` only) in one set-based query; report up to ``limit``
        findings."""
        ...


class Authenticator(Protocol):
    async def authenticate(self, credential: str) -> Principal:
        """The principal a bearer token or API key stands for, or :class:`AuthenticationFailed`."""
        ...


# -- observation ---------------------------------------------------------------------------


class ObservedOperation(Protocol):
    """One orchestrator operation while it runs; the observer learns its flow and phases as they become known."""

    def flow(self, flow_type: str, flow_id: UUID) -> None: ...

    def phase(self, phase: str, outcome: PhaseOutcome) -> None:
        """A phase ran; ``outcome.trace["timings_ms"]`` holds each delegation step's time."""
        ...


class OperationObserver(Protocol):
    """Metrics, traces and logs of the orchestrator's operations. The default observes nothing."""

    def operation(
        self, operation: str, tenant: Tenant, flow_id: UUID | None
    ) -> AbstractContextManager[ObservedOperation]:
        """Around one operation: its outcome is ``ok`` or the error it ends with."""
        ...

    def span(self, name: str, **attributes: str) -> AbstractContextManager[None]:
        """A step of the delegation chain (phase, bridge, adapter), nested in the current operation."""
        ...

    def trace_context(self) -> dict[str, str]:
        """The current trace, as text fields to store (``traceparent``...); empty when nothing is traced."""
        ...

    def continued(self, trace: Mapping[str, str]) -> AbstractContextManager[None]:
        """Within the block, operations and spans continue the stored trace ``trace`` (a phase claimed in one
        request or process and run in another)."""
        ...


# -- the audit over time -------------------------------------------------------------------


@dataclass(frozen=True)
class AuditRun:
    """One consistency audit as it was stored: when, why, and what it found."""

    trigger: str
    started_at: datetime
    finished_at: datetime
    report: AuditReport
    run_id: int | None = None


class AuditRunStore(Protocol):
    async def record(self, run: AuditRun) -> AuditRun:
        """Store the run (and forget old ones); the stored run, with its id."""
        ...

    async def latest(self) -> AuditRun | None: ...


class DriftAlert(Protocol):
    async def send(self, run: AuditRun) -> bool:
        """Tell someone the audit found drift; whether it was delivered."""
        ...


class AuditLock(Protocol):
    def hold(self) -> AbstractAsyncContextManager[bool]:
        """Try to become the one replica auditing now: yields whether this one is."""
        ...
