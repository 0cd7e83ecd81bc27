"""In-memory fakes of the ports. They stage writes and apply them only on commit."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from domain.background import PhaseJob
from domain.errors import FlowNotFound, InvalidCursor, VersionConflict
from domain.events import FlowEvent, Tenant
from domain.flow import Flow, FlowSummary
from domain.flow_types import ChildColumn, ChildTable, ColumnKind, FlowTypeDefinition, PhaseContext
from domain.idempotency import IdempotencyKeyInProgress, IdempotencyKeyReused, StoredResponse
from domain.lifecycle import FlowStatus
from domain.phases import PhaseOutcome
from domain.ports import AuditReport, AuditRun, ChildRecord, FlowFilter, Page
from domain.status_sync import child_status_for


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self._now += timedelta(milliseconds=1)
        return self._now

    def advance(self, by: timedelta) -> None:
        self._now += by


@dataclass
class Store:
    """What a fake database holds: master flows, events and child records."""

    flows: dict[tuple[Tenant, UUID], Flow] = field(default_factory=dict)
    events: list[FlowEvent] = field(default_factory=list)
    children: dict[tuple[str, Tenant, UUID], ChildRecord] = field(default_factory=dict)
    bridge_states: dict[tuple[Tenant, UUID], dict[str, Any]] = field(default_factory=dict)
    jobs: list[PhaseJob] = field(default_factory=list)
    attempts: dict[PhaseJob, int] = field(default_factory=dict)
    idempotency_keys: dict[tuple[Tenant, str], StoredKey] = field(default_factory=dict)
    claimed: set[tuple[Tenant, str]] = field(default_factory=set)
    """Keys held by an open unit of work (PostgreSQL's row lock); kept on the committed store, never staged."""


@dataclass
class StoredKey:
    fingerprint: str
    expires_at: datetime
    response: StoredResponse | None = None


class FakeWorkQueue:
    """Queued phase jobs and counted starts, in the store: a rollback loses them, a commit publishes them."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def enqueue_phase(self, job: PhaseJob) -> None:
        if job not in self._store.jobs:  # the dedupe key: one job per flow version
            self._store.jobs.append(job)

    async def record_attempt(self, job: PhaseJob) -> int:
        self._store.attempts[job] = self._store.attempts.get(job, 0) + 1
        return self._store.attempts[job]

    async def clear_attempts(self, job: PhaseJob) -> None:
        self._store.attempts.pop(job, None)


class FakeFlowRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def get(self, tenant: Tenant, flow_id: UUID) -> Flow:
        try:
            flow = copy.deepcopy(self._store.flows[(tenant, flow_id)])
        except KeyError:
            raise FlowNotFound(flow_id) from None
        flow.loaded_version = flow.version
        return flow

    async def get_for_update(self, tenant: Tenant, flow_id: UUID) -> Flow:
        return await self.get(tenant, flow_id)

    async def add(self, flow: Flow) -> None:
        self._store.flows[(flow.tenant, flow.flow_id)] = _stored(flow)
        flow.loaded_version = flow.version

    async def save(self, flow: Flow) -> None:
        stored = self._store.flows[(flow.tenant, flow.flow_id)]
        if stored.version != flow.loaded_version:
            raise VersionConflict(flow.flow_id, flow.loaded_version, stored.version)
        self._store.flows[(flow.tenant, flow.flow_id)] = _stored(flow)
        flow.loaded_version = flow.version

    async def list(self, tenant: Tenant, flow_filter: FlowFilter, limit: int, cursor: str | None) -> Page[FlowSummary]:
        flows = [f for (t, _), f in self._store.flows.items() if t == tenant]
        if flow_filter.flow_type:
            flows = [f for f in flows if f.flow_type == flow_filter.flow_type]
        if flow_filter.statuses:
            flows = [f for f in flows if f.status in flow_filter.statuses]
        elif not flow_filter.include_deleted:
            flows = [f for f in flows if f.status != FlowStatus.DELETED]
        flows.sort(key=lambda f: (f.created_at, f.flow_id), reverse=True)
        start = 0
        if cursor is not None:
            if not cursor.isdigit():
                raise InvalidCursor(cursor)
            start = int(cursor)
        items = flows[start : start + limit]
        more = len(flows) > start + limit
        return Page(items=[f.summary() for f in items], next_cursor=str(start + limit) if more else None)


class FakeFlowEventLog:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def append(self, events: list[FlowEvent]) -> None:
        for event in events:
            if any(e.flow_id == event.flow_id and e.version == event.version for e in self._store.events):
                raise AssertionError(f"duplicate event version {event.version} of flow {event.flow_id}")
        self._store.events.extend(events)

    async def list(self, tenant: Tenant, flow_id: UUID, after_version: int, limit: int) -> list[FlowEvent]:
        events = [e for e in self._store.events if e.tenant == tenant and e.flow_id == flow_id]
        return sorted((e for e in events if e.version > after_version), key=lambda e: e.version)[:limit]


class FakeChildRecords:
    """Child records in the store, keyed by their table's name; the type's own columns are its ``project``."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def save(self, table: ChildTable, flow: Flow) -> None:
        self._store.children[(table.name, flow.tenant, flow.flow_id)] = ChildRecord(
            flow.flow_id,
            child_status_for(flow.status),
            flow.version,
            flow.progress_percent,
            details=copy.deepcopy(dict(table.project(flow))),
        )

    async def load(self, table: ChildTable, tenant: Tenant, flow_id: UUID) -> ChildRecord | None:
        return self._store.children.get((table.name, tenant, flow_id))

    async def load_with_bridge_state(
        self, table: ChildTable, tenant: Tenant, flow_id: UUID
    ) -> tuple[ChildRecord | None, dict[str, Any] | None]:
        child = await self.load(table, tenant, flow_id)
        return (None, None) if child is None else (child, self._store.bridge_states.get((tenant, flow_id)))


class FakeBridgeStates:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def load(self, tenant: Tenant, flow_id: UUID) -> dict[str, Any] | None:
        return copy.deepcopy(self._store.bridge_states.get((tenant, flow_id)))

    async def save(self, flow: Flow, state: dict[str, Any]) -> None:
        self._store.bridge_states[(flow.tenant, flow.flow_id)] = copy.deepcopy(state)

    async def follow(self, flow: Flow) -> bool:
        state = self._store.bridge_states.get((flow.tenant, flow.flow_id))
        if state is None:
            return False
        state.update(status=str(flow.status), master_version=flow.version)
        return True


class FakeIdempotencyStore:
    """Keys in the staged store; a key claimed by another open unit of work is 'in progress'."""

    def __init__(self, store: Store, committed: Store, held: set[tuple[Tenant, str]]) -> None:
        self._store = store
        self._committed = committed
        self._held = held

    async def claim(
        self, tenant: Tenant, key: str, fingerprint: str, *, now: datetime, expires_at: datetime
    ) -> StoredResponse | None:
        if (tenant, key) in self._committed.claimed and (tenant, key) not in self._held:
            raise IdempotencyKeyInProgress(key)
        stored = self._store.idempotency_keys.get((tenant, key))
        if stored is None or stored.expires_at <= now:
            self._store.idempotency_keys[(tenant, key)] = StoredKey(fingerprint, expires_at)
            self._committed.claimed.add((tenant, key))
            self._held.add((tenant, key))
            return None
        if stored.fingerprint != fingerprint:
            raise IdempotencyKeyReused(key)
        if stored.response is None:
            raise IdempotencyKeyInProgress(key)
        return stored.response

    async def complete(self, tenant: Tenant, key: str, response: StoredResponse) -> None:
        assert (tenant, key) in self._held, "complete() without claim()"
        self._store.idempotency_keys[(tenant, key)].response = response

    async def purge_expired(self, now: datetime, limit: int) -> int:
        expired = [k for k, v in self._store.idempotency_keys.items() if v.expires_at <= now][:limit]
        for k in expired:
            del self._store.idempotency_keys[k]
        return len(expired)


class FakeUnitOfWork:
    """Works on a staged copy of the committed store; ``commit()`` publishes it."""

    def __init__(self, committed: Store | None = None) -> None:
        self.committed_store = committed or Store()
        self.commits = 0
        self.entered = 0
        self.staged: Store | None = None
        self.held_keys: set[tuple[Tenant, str]] = set()
        self.scopes: list[Tenant] = []
        """Every tenant ``scope()`` was called with, in order (the real one sets row-level security)."""

    async def __aenter__(self) -> Self:
        self.entered += 1
        self._stage()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.staged = None
        self._release_keys()

    async def scope(self, tenant: Tenant) -> None:
        assert self.staged is not None, "scope outside the unit of work"
        self.scopes.append(tenant)

    async def commit(self) -> None:
        assert self.staged is not None, "commit outside the unit of work"
        self.committed_store.flows = self.staged.flows
        self.committed_store.events = self.staged.events
        self.committed_store.children = self.staged.children
        self.committed_store.bridge_states = self.staged.bridge_states
        self.committed_store.jobs = self.staged.jobs
        self.committed_store.attempts = self.staged.attempts
        self.committed_store.idempotency_keys = self.staged.idempotency_keys
        self._release_keys()
        self._stage()
        self.commits += 1

    async def rollback(self) -> None:
        self._release_keys()
        self._stage()

    def _stage(self) -> None:
        self.staged = copy.deepcopy(self.committed_store)
        self.staged.claimed = set()
        self.flows = FakeFlowRepository(self.staged)
        self.events = FakeFlowEventLog(self.staged)
        self.children = FakeChildRecords(self.staged)
        self.bridge_states = FakeBridgeStates(self.staged)
        self.work_queue = FakeWorkQueue(self.staged)
        self.idempotency = FakeIdempotencyStore(self.staged, self.committed_store, self.held_keys)

    def _release_keys(self) -> None:
        self.committed_store.claimed -= self.held_keys
        self.held_keys.clear()


def _stored(flow: Flow) -> Flow:
    stored = copy.deepcopy(flow)
    stored.pending_events = []
    return stored


FAKE_PHASES = ("collect", "review", "publish")
FAKE_FLOWS = ChildTable("fake_flows", (ChildColumn("items", ColumnKind.INTEGER),), lambda flow: {"items": None})


def fake_flow_type(
    *, fail_in: str | None = None, raise_in: str | None = None, name: str = "fake"
) -> FlowTypeDefinition:
    """A flow type of three phases; ``review`` waits for input. ``fail_in`` fails a phase (as its data would),
    ``raise_in`` makes a phase (or, with "save_child", the child record's projection) raise an unexpected error."""

    def run(phase: str) -> Any:
        async def handler(flow: Flow, _: PhaseContext) -> PhaseOutcome:
            if phase == raise_in:
                raise RuntimeError(f"adapter crashed in {phase}")
            if phase == fail_in or flow.configuration.get("fail") == phase:
                return PhaseOutcome.failed(f"{phase} failed on purpose")
            if phase == "review":
                return PhaseOutcome.needs_input({"proposal": len(flow.configuration.get("items", []))})
            return PhaseOutcome.completed({"items": len(flow.configuration.get("items", [])), "phase": phase})

        return handler

    async def accept(flow: Flow, payload: dict[str, Any], _: PhaseContext) -> PhaseOutcome:
        if payload.get("approved"):
            return PhaseOutcome.completed({"approved": True})
        return PhaseOutcome.needs_input({"approved": False})

    def project(flow: Flow) -> dict[str, Any]:
        if raise_in == "save_child":
            raise RuntimeError("child write crashed")
        return {"items": len(flow.configuration.get("items", []))}

    return FlowTypeDefinition(
        name=name,
        phases=FAKE_PHASES,
        run={phase: run(phase) for phase in FAKE_PHASES},
        accept={"review": accept},
        child_table=ChildTable(f"{name}_flows", FAKE_FLOWS.columns, project),
    )


class FakeObservedOperation:
    def __init__(self, operation: str, tenant: Tenant, flow_id: UUID | None) -> None:
        self.operation, self.tenant, self.flow_id = operation, tenant, flow_id
        self.flow_type: str | None = None
        self.phases: list[tuple[str, str, dict[str, Any]]] = []
        self.error: BaseException | None = None

    def flow(self, flow_type: str, flow_id: UUID) -> None:
        self.flow_type, self.flow_id = flow_type, flow_id

    def phase(self, phase: str, outcome: PhaseOutcome) -> None:
        self.phases.append((phase, str(outcome.kind), dict(outcome.trace.get("timings_ms", {}))))


class FakeObserver:
    """Records every operation (with the error it ended with) and every span opened, in order."""

    def __init__(self) -> None:
        self.operations: list[FakeObservedOperation] = []
        self.spans: list[tuple[str, dict[str, str]]] = []

    @contextmanager
    def operation(self, operation: str, tenant: Tenant, flow_id: UUID | None) -> Iterator[FakeObservedOperation]:
        observed = FakeObservedOperation(operation, tenant, flow_id)
        self.operations.append(observed)
        try:
            yield observed
        except BaseException as error:
            observed.error = error
            raise

    @contextmanager
    def span(self, name: str, **attributes: str) -> Iterator[None]:
        self.spans.append((name, attributes))
        yield


class FakeAuditor:
    """Reports whatever ``report`` is set to; for a tenant, only that tenant's findings (as its inconsistent count)."""

    def __init__(self, report: AuditReport) -> None:
        self.report = report
        self.calls = 0
        self.tenants: list[Tenant | None] = []

    async def audit(self, limit: int = 100, tenant: Tenant | None = None) -> AuditReport:
        self.calls += 1
        self.tenants.append(tenant)
        if tenant is None:
            findings, inconsistent = self.report.findings, self.report.inconsistent
        else:
            findings = [f for f in self.report.findings if f.tenant == tenant]
            inconsistent = len(findings)
        return AuditReport(self.report.flows_checked, inconsistent, findings[:limit], 0.01)


class FakeAuditRunStore:
    def __init__(self) -> None:
        self.runs: list[AuditRun] = []

    async def record(self, run: AuditRun) -> AuditRun:
        stored = AuditRun(run.trigger, run.started_at, run.finished_at, run.report, len(self.runs) + 1)
        self.runs.append(stored)
        return stored

    async def latest(self) -> AuditRun | None:
        return self.runs[-1] if self.runs else None


class FakeDriftAlert:
    def __init__(self) -> None:
        self.sent: list[AuditRun] = []

    async def send(self, run: AuditRun) -> bool:
        self.sent.append(run)
        return True


class FakeAuditLock:
    """Free unless ``taken`` (another replica holds it)."""

    def __init__(self, taken: bool = False) -> None:
        self.taken = taken

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[bool]:
        yield not self.taken
