"""In-memory fakes of the ports. They stage writes and apply them only on commit."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from adapters.persistence.cursors import decode_cursor, encode_cursor
from domain.background import AttemptResult, DueWork, HeldPhase, QueuedFlow, TenantQueue, due_at
from domain.contract import PhaseMapping
from domain.errors import ConcurrentModification, FlowBusy, FlowNotFound, VersionConflict
from domain.events import FlowEvent, Tenant
from domain.flow import Flow, FlowSummary
from domain.flow_types import ChildColumn, ChildTable, ColumnKind, FlowTypeDefinition, PhaseContext
from domain.idempotency import IdempotencyKeyInProgress, IdempotencyKeyReused, StoredResponse
from domain.lifecycle import FlowStatus
from domain.phase_policy import DEFAULT_POLICY, PhasePolicy
from domain.phases import PhaseOutcome
from domain.ports import Attempt, AuditReport, AuditRun, ChildRecord, FlowFilter, Lease, Page, VersionUsage
from domain.status_sync import child_status_for


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        self._now += timedelta(milliseconds=1)
        return self._now

    def advance(self, by: timedelta) -> None:
        self._now += by


class RowLocks:
    """The row locks of open units of work (PostgreSQL's ``SELECT ... FOR UPDATE`` and a claimed key's row), shared
    by every copy of a store: a lock is no data, a staged copy takes none of its own."""

    def __init__(self) -> None:
        self._held: dict[Any, tuple[object, asyncio.Event]] = {}

    def __deepcopy__(self, memo: dict[int, Any]) -> RowLocks:
        return self

    def holder(self, key: Any) -> object | None:
        held = self._held.get(key)
        return None if held is None else held[0]

    async def acquire(self, key: Any, owner: object, wait_seconds: float, busy: Exception) -> bool:
        """Take ``key`` for ``owner``, waiting up to ``wait_seconds`` for another owner to release it (then raise
        ``busy``). True when newly taken, False when ``owner`` held it already."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while (held := self._held.get(key)) is not None:
            if held[0] is owner:
                return False
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise busy
            try:
                await asyncio.wait_for(held[1].wait(), remaining)
            except TimeoutError:
                raise busy from None
        self._held[key] = (owner, asyncio.Event())
        return True

    def release(self, owner: object) -> None:
        """Release every lock ``owner`` holds (its transaction ended), waking those who wait for them."""
        for key, (holder, released) in list(self._held.items()):
            if holder is owner:
                del self._held[key]
                released.set()


@dataclass
class Store:
    """What a fake database holds: master flows, events and child records."""

    flows: dict[tuple[Tenant, UUID], Flow] = field(default_factory=dict)
    events: list[FlowEvent] = field(default_factory=list)
    children: dict[tuple[str, Tenant, UUID], ChildRecord] = field(default_factory=dict)
    bridge_states: dict[tuple[Tenant, UUID], dict[str, Any]] = field(default_factory=dict)
    leases: dict[tuple[Tenant, UUID], Lease] = field(default_factory=dict)
    announcements: list[int] = field(default_factory=list)
    """One entry per committed ``announce_due``."""
    attempts: dict[tuple[Tenant, UUID, UUID], Attempt] = field(default_factory=dict)
    idempotency_keys: dict[tuple[Tenant, str], StoredKey] = field(default_factory=dict)
    locks: RowLocks = field(default_factory=RowLocks)
    """Rows locked by open units of work: flows taken for update, claimed idempotency keys."""


_MAPPINGS = ("flows", "children", "bridge_states", "leases", "attempts", "idempotency_keys")
_APPEND_ONLY = ("events", "announcements")


@dataclass
class StoredKey:
    fingerprint: str
    expires_at: datetime
    response: StoredResponse | None = None


def _now() -> datetime:
    """The fake database's clock (a lease's times are the database's)."""
    return datetime.now(UTC)


class FakePhaseRuns:
    """Leases and attempts in the staged store: a rollback loses them, a commit publishes them. A scope hides
    another tenant's, as row-level security does."""

    def __init__(self, store: Store, uow: FakeUnitOfWork) -> None:
        self._store = store
        self._uow = uow

    async def hold_tenant(self, tenant: Tenant) -> None:
        busy = FlowBusy("another claim of the tenant's work holds its lock")
        await self._store.locks.acquire(("tenant", tenant), self._uow, self._uow.lock_wait_seconds * 20, busy)

    async def running(self, tenant: Tenant) -> int:
        if not _visible(self._uow, tenant):
            return 0
        return sum(1 for (t, _) in self._store.leases if t == tenant)

    async def grant(self, flow: Flow, run_id: UUID, owner: str, lease_seconds: float) -> None:
        assert flow.run is not None and flow.run.run_id == run_id
        now = _now()
        key = (flow.tenant, flow.flow_id)
        self._store.leases[key] = Lease(run_id, owner, now + timedelta(seconds=lease_seconds))
        self._store.attempts[(*key, run_id)] = Attempt(
            run_id, flow.run.phase, flow.run.attempt, owner, now, None, None, None
        )

    async def end(self, tenant: Tenant, flow_id: UUID, run_id: UUID, result: str, detail: str | None) -> None:
        lease = self._store.leases.get((tenant, flow_id))
        if lease is not None and lease.run_id == run_id:
            del self._store.leases[(tenant, flow_id)]
        attempt = self._store.attempts.get((tenant, flow_id, run_id))
        if attempt is None:
            return
        if result == AttemptResult.DISCARDED:
            if attempt.result not in (None, AttemptResult.REVOKED, AttemptResult.RETRYING):
                return
            if attempt.result is not None:
                detail = f"{attempt.detail}; {detail}" if attempt.detail else detail
        self._store.attempts[(tenant, flow_id, run_id)] = replace(
            attempt, ended_at=attempt.ended_at or _now(), result=str(result), detail=detail
        )

    async def lease_of(self, tenant: Tenant, flow_id: UUID) -> Lease | None:
        return self._store.leases.get((tenant, flow_id)) if _visible(self._uow, tenant) else None

    async def announce_due(self) -> None:
        self._store.announcements.append(len(self._store.announcements))

    async def attempts(self, tenant: Tenant, flow_id: UUID, limit: int) -> list[Attempt]:
        if not _visible(self._uow, tenant):
            return []
        found = [a for (t, f, _), a in self._store.attempts.items() if (t, f) == (tenant, flow_id)]
        return sorted(found, key=lambda a: (a.started_at, a.attempt), reverse=True)[:limit]

    async def queue(self, tenant: Tenant, limit: int) -> TenantQueue:
        now = _now()
        visible = _visible(self._uow, tenant)
        flows = {f: flow for (t, f), flow in self._store.flows.items() if t == tenant and visible}
        waiting = sorted(
            (
                QueuedFlow(
                    f,
                    flow.name,
                    flow.flow_type,
                    flow.run.phase if flow.run else flow.current_phase,
                    flow.run.attempt + 1 if flow.run else 1,
                    due,
                    due <= now,
                )
                for f, flow in flows.items()
                if (due := due_at(flow)) is not None
            ),
            key=lambda q: (q.due_at, q.flow_id),
        )
        held = sorted(
            (
                HeldPhase(
                    f,
                    flows[f].name,
                    flows[f].flow_type,
                    (attempt := self._store.attempts[(tenant, f, lease.run_id)]).phase,
                    attempt.attempt,
                    lease.owner,
                    attempt.started_at,
                    lease.expires_at,
                    lease.expires_at < now,
                )
                for (t, f), lease in self._store.leases.items()
                if t == tenant and visible
            ),
            key=lambda h: (h.started_at, h.flow_id),
        )
        return TenantQueue(
            checked_at=now,
            waiting=waiting[:limit],
            running=held[:limit],
            waiting_count=len(waiting),
            due_count=sum(1 for q in waiting if q.due),
            running_count=len(held),
            expired_count=sum(1 for h in held if h.expired),
        )


class FakePhaseQueue:
    """Every tenant's due work and leases, read from a committed store as the owner's pool reads PostgreSQL."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def due(self, limit: int, tenant_limit: int) -> list[DueWork]:
        now = _now()
        expired = sorted(
            (
                (lease.expires_at, DueWork(t, f, lease.run_id))
                for (t, f), lease in self._store.leases.items()
                if lease.expires_at < now
            ),
            key=lambda pair: pair[0],
        )
        held: dict[Tenant, int] = {}
        for t, _ in self._store.leases:
            held[t] = held.get(t, 0) + 1
        by_tenant: dict[Tenant, list[tuple[datetime, UUID]]] = {}
        for (t, f), flow in self._store.flows.items():
            due = due_at(flow)
            if due is not None and due <= now:
                by_tenant.setdefault(t, []).append((due, f))
        fair: list[tuple[int, datetime, DueWork]] = []
        for t, items in by_tenant.items():
            for turn, (due, f) in enumerate(sorted(items), start=1):
                if turn + held.get(t, 0) <= tenant_limit:
                    fair.append((turn, due, DueWork(t, f)))
        fair.sort(key=lambda item: (item[0], item[1]))
        return ([work for _, work in expired] + [work for _, _, work in fair])[:limit]

    listening = False
    """The fake has no notifications: runners on it poll."""

    async def listen(self, wake: Any) -> None:
        """Nothing to listen on."""

    async def unlisten(self) -> None:
        """Nothing to stop."""

    async def renew(self, owner: str, run_ids: list[UUID], lease_seconds: float) -> set[UUID]:
        renewed = set()
        until = _now() + timedelta(seconds=lease_seconds)
        for key, lease in list(self._store.leases.items()):
            if lease.owner == owner and lease.run_id in run_ids:
                self._store.leases[key] = replace(lease, expires_at=until)
                renewed.add(lease.run_id)
        return renewed


class FakeFlowRepository:
    """Flows in the staged store. With its unit of work, ``get_for_update`` and ``save`` lock the flow as PostgreSQL
    locks its row: another open unit of work waits for it (up to its ``lock_wait_seconds``, then ``FlowBusy``) and
    then reads the newest committed flow, as under READ COMMITTED."""

    def __init__(self, store: Store, unit_of_work: FakeUnitOfWork | None = None) -> None:
        self._store = store
        self._uow = unit_of_work

    async def get(self, tenant: Tenant, flow_id: UUID) -> Flow:
        if not _visible(self._uow, tenant):
            raise FlowNotFound(flow_id)
        try:
            flow = copy.deepcopy(self._store.flows[(tenant, flow_id)])
        except KeyError:
            raise FlowNotFound(flow_id) from None
        flow.loaded_version = flow.version
        return flow

    async def get_for_update(self, tenant: Tenant, flow_id: UUID) -> Flow:
        await self._lock(tenant, flow_id)
        return await self.get(tenant, flow_id)

    async def add(self, flow: Flow) -> None:
        self._store.flows[(flow.tenant, flow.flow_id)] = _stored(flow)
        flow.loaded_version = flow.version

    async def save(self, flow: Flow) -> None:
        await self._lock(flow.tenant, flow.flow_id)  # an UPDATE locks the row too
        stored = self._store.flows[(flow.tenant, flow.flow_id)]
        if stored.version != flow.loaded_version:
            raise VersionConflict(flow.flow_id, flow.loaded_version, stored.version)
        self._store.flows[(flow.tenant, flow.flow_id)] = _stored(flow)
        flow.loaded_version = flow.version

    async def version_usage(self, tenant: Tenant | None) -> list[VersionUsage]:
        counts: dict[tuple[str, int, str], int] = {}
        for (t, _), flow in self._store.flows.items():
            if (tenant is None or t == tenant) and _visible(self._uow, t):
                key = (flow.flow_type, flow.contract.version, str(flow.status))
                counts[key] = counts.get(key, 0) + 1
        return [VersionUsage(n, v, FlowStatus(s), c) for (n, v, s), c in sorted(counts.items())]

    async def list(self, tenant: Tenant, flow_filter: FlowFilter, limit: int, cursor: str | None) -> Page[FlowSummary]:
        """Keyset-paginated as on PostgreSQL: the cursor is the last item's (created_at, flow_id), encoded alike."""
        flows = [f for (t, _), f in self._store.flows.items() if t == tenant and _visible(self._uow, t)]
        flows = [f for f in flows if flow_filter.matches(f)]
        if cursor is not None:
            after = decode_cursor(cursor)
            flows = [f for f in flows if (f.created_at, f.flow_id) < after]
        flows.sort(key=lambda f: (f.created_at, f.flow_id), reverse=True)
        items = flows[:limit]
        more = len(flows) > limit
        next_cursor = encode_cursor(items[-1].created_at, items[-1].flow_id) if more else None
        return Page(items=[f.summary() for f in items], next_cursor=next_cursor)

    async def _lock(self, tenant: Tenant, flow_id: UUID) -> None:
        key = (tenant, flow_id)
        if self._uow is None or key not in self._uow.committed_store.flows or not _visible(self._uow, tenant):
            return  # no committed row (or none in scope): nothing another unit of work could lock
        busy = FlowBusy("a lock it needed was held past the lock timeout")
        if await self._store.locks.acquire(("flow", key), self._uow, self._uow.lock_wait_seconds, busy):
            self._uow.read_committed("flows", key)


class FakeFlowEventLog:
    def __init__(self, store: Store, unit_of_work: FakeUnitOfWork | None = None) -> None:
        self._store = store
        self._uow = unit_of_work

    async def append(self, events: list[FlowEvent]) -> None:
        """A version the flow has already is refused as PostgreSQL's primary key refuses it: a
        :class:`ConcurrentModification` (which PostgreSQL's unit of work raises when it ends)."""
        stored = {(e.tenant, e.flow_id, e.version) for e in self._store.events}
        for event in events:
            if (event.tenant, event.flow_id, event.version) in stored:
                raise ConcurrentModification(f"duplicate event version {event.version} of flow {event.flow_id}")
            stored.add((event.tenant, event.flow_id, event.version))
        self._store.events.extend(events)

    async def list(self, tenant: Tenant, flow_id: UUID, after_version: int, limit: int) -> list[FlowEvent]:
        if not _visible(self._uow, tenant):
            return []
        events = [e for e in self._store.events if e.tenant == tenant and e.flow_id == flow_id]
        return sorted((e for e in events if e.version > after_version), key=lambda e: e.version)[:limit]


class FakeChildRecords:
    """Child records in the store, keyed by their table's name; the type's own columns are its ``project``."""

    def __init__(self, store: Store, unit_of_work: FakeUnitOfWork | None = None) -> None:
        self._store = store
        self._uow = unit_of_work

    async def save(self, table: ChildTable, flow: Flow) -> None:
        self._store.children[(table.name, flow.tenant, flow.flow_id)] = ChildRecord(
            flow.flow_id,
            child_status_for(flow.status),
            flow.version,
            flow.progress_percent,
            details=copy.deepcopy(dict(table.project(flow))),
        )

    async def load(self, table: ChildTable, tenant: Tenant, flow_id: UUID) -> ChildRecord | None:
        if not _visible(self._uow, tenant):
            return None
        return self._store.children.get((table.name, tenant, flow_id))

    async def load_with_bridge_state(
        self, table: ChildTable, tenant: Tenant, flow_id: UUID
    ) -> tuple[ChildRecord | None, dict[str, Any] | None]:
        child = await self.load(table, tenant, flow_id)
        return (None, None) if child is None else (child, self._store.bridge_states.get((tenant, flow_id)))


class FakeBridgeStates:
    def __init__(self, store: Store, unit_of_work: FakeUnitOfWork | None = None) -> None:
        self._store = store
        self._uow = unit_of_work

    async def load(self, tenant: Tenant, flow_id: UUID) -> dict[str, Any] | None:
        if not _visible(self._uow, tenant):
            return None
        return copy.deepcopy(self._store.bridge_states.get((tenant, flow_id)))

    async def save(self, flow: Flow, state: dict[str, Any]) -> None:
        self._store.bridge_states[(flow.tenant, flow.flow_id)] = copy.deepcopy(state)

    async def follow(self, flow: Flow) -> bool:
        state = self._store.bridge_states.get((flow.tenant, flow.flow_id))
        if state is None or not _visible(self._uow, flow.tenant):
            return False
        state.update(status=str(flow.status), master_version=flow.version)
        return True


class FakeIdempotencyStore:
    """Keys in the staged store. A claim locks its key as PostgreSQL's row lock does: a claim of the same key by
    another open unit of work waits for it to end (then finds its answer, or takes the key if it rolled back), and
    after ``idempotency_wait_seconds`` gives up as 'in progress'."""

    def __init__(self, store: Store, unit_of_work: FakeUnitOfWork) -> None:
        self._store = store
        self._uow = unit_of_work

    async def claim(
        self, tenant: Tenant, key: str, fingerprint: str, *, now: datetime, expires_at: datetime
    ) -> StoredResponse | None:
        wait = self._uow.idempotency_wait_seconds
        if await self._store.locks.acquire(("key", tenant, key), self._uow, wait, IdempotencyKeyInProgress(key)):
            self._uow.read_committed("idempotency_keys", (tenant, key))
        stored = self._store.idempotency_keys.get((tenant, key))
        if stored is None or stored.expires_at <= now:
            self._store.idempotency_keys[(tenant, key)] = StoredKey(fingerprint, expires_at)
            return None
        if stored.fingerprint != fingerprint:
            raise IdempotencyKeyReused(key)
        if stored.response is None:
            raise IdempotencyKeyInProgress(key)
        return stored.response

    async def complete(self, tenant: Tenant, key: str, response: StoredResponse) -> None:
        assert self._store.locks.holder(("key", tenant, key)) is self._uow, "complete() without claim()"
        self._store.idempotency_keys[(tenant, key)].response = response

    async def purge_expired(self, now: datetime, limit: int) -> int:
        """Expired keys no other open unit of work holds (PostgreSQL skips locked rows), of the scoped tenant only
        (every tenant's when unscoped, as for the schema owner)."""
        free = (None, self._uow)
        expired = [
            k
            for k, v in self._store.idempotency_keys.items()
            if v.expires_at <= now and self._store.locks.holder(("key", *k)) in free and _visible(self._uow, k[0])
        ][:limit]
        for k in expired:
            del self._store.idempotency_keys[k]
        return len(expired)


class FakeUnitOfWork:
    """Works on a staged copy of the committed store; ``commit()`` applies what this unit of work changed in it to
    the committed store (so two units of work open at once do not undo each other's commits) and releases its
    locks, as do ``rollback()`` and leaving. ``lock_wait_seconds`` is the fake's ``lock_timeout`` for a locked flow,
    ``idempotency_wait_seconds`` its wait for a claimed key."""

    def __init__(
        self, committed: Store | None = None, *, lock_wait_seconds: float = 0.05, idempotency_wait_seconds: float = 0.05
    ) -> None:
        self.committed_store = committed or Store()
        self.lock_wait_seconds = lock_wait_seconds
        self.idempotency_wait_seconds = idempotency_wait_seconds
        self.commits = 0
        self.entered = 0
        self.staged: Store | None = None
        self._began: Store | None = None
        self.scopes: list[Tenant] = []
        """Every tenant ``scope()`` was called with, in order (the real one sets row-level security)."""
        self.tenant_scope: Tenant | None = None
        """The tenant this entry is scoped to: reads of another tenant's flows, events, child records and bridge
        states find nothing and a purge leaves its keys, as under row-level security (an unscoped fake still sees
        every tenant, as the schema owner does)."""

    async def __aenter__(self) -> Self:
        self.entered += 1
        self.tenant_scope = None
        self._stage()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.staged = self._began = None
        self.committed_store.locks.release(self)

    async def scope(self, tenant: Tenant) -> None:
        assert self.staged is not None, "scope outside the unit of work"
        self.scopes.append(tenant)
        self.tenant_scope = tenant

    async def commit(self) -> None:
        assert self.staged is not None and self._began is not None, "commit outside the unit of work"
        committed = self.committed_store
        for name in _MAPPINGS:
            began, staged, target = getattr(self._began, name), getattr(self.staged, name), getattr(committed, name)
            for key in began.keys() - staged.keys():
                target.pop(key, None)
            for key, value in staged.items():
                if key not in began or began[key] != value:
                    target[key] = value
        for name in _APPEND_ONLY:
            began_list, staged_list = getattr(self._began, name), getattr(self.staged, name)
            target_list = getattr(committed, name)
            target_list.extend(item for item in staged_list[len(began_list) :] if item not in target_list)
        committed.locks.release(self)
        self._stage()
        self.commits += 1

    async def rollback(self) -> None:
        self.committed_store.locks.release(self)
        self._stage()

    def read_committed(self, mapping: str, key: Any) -> None:
        """After waiting for a lock: the newest committed ``key`` of ``mapping``, unless this unit of work wrote it."""
        assert self.staged is not None and self._began is not None
        began, staged = getattr(self._began, mapping), getattr(self.staged, mapping)
        if began.get(key) != staged.get(key):
            return
        for target in (began, staged):
            if key in getattr(self.committed_store, mapping):
                target[key] = copy.deepcopy(getattr(self.committed_store, mapping)[key])
            else:
                target.pop(key, None)

    def _stage(self) -> None:
        self._began = copy.deepcopy(self.committed_store)
        self.staged = copy.deepcopy(self.committed_store)
        self.flows = FakeFlowRepository(self.staged, self)
        self.events = FakeFlowEventLog(self.staged, self)
        self.children = FakeChildRecords(self.staged, self)
        self.bridge_states = FakeBridgeStates(self.staged, self)
        self.phase_runs = FakePhaseRuns(self.staged, self)
        self.idempotency = FakeIdempotencyStore(self.staged, self)


def _visible(uow: FakeUnitOfWork | None, tenant: Tenant) -> bool:
    return uow is None or uow.tenant_scope in (None, tenant)


def _stored(flow: Flow) -> Flow:
    stored = copy.deepcopy(flow)
    stored.pending_events = []
    return stored


FAKE_PHASES = ("collect", "review", "publish")
FAKE_FLOWS = ChildTable("fake_flows", (ChildColumn("items", ColumnKind.INTEGER),), lambda flow: {"items": None})


def fake_flow_type(
    *,
    fail_in: str | None = None,
    raise_in: str | None = None,
    name: str = "fake",
    policy: PhasePolicy = DEFAULT_POLICY,
) -> FlowTypeDefinition:
    """A flow type of three phases; ``review`` waits for input. ``fail_in`` fails a phase (as its data would),
    ``raise_in`` makes a phase (or, with "save_child", the child record's projection) raise an unexpected error;
    ``policy`` is every phase's (its timeout, attempts and backoff)."""

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
        default_policy=policy,
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
        self.continuations: list[tuple[dict[str, str], list[str]]] = []
        self.trace: dict[str, str] = {}
        """What :meth:`trace_context` answers: the trace the operations run in (set by a test)."""

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

    def trace_context(self) -> dict[str, str]:
        return dict(self.trace)

    @contextmanager
    def continued(self, trace: Mapping[str, str]) -> Iterator[None]:
        """Records each stored trace continued, as (trace, the operations opened within it)."""
        before = len(self.operations)
        entry: tuple[dict[str, str], list[str]] = (dict(trace), [])
        self.continuations.append(entry)
        try:
            yield
        finally:
            entry[1].extend(o.operation for o in self.operations[before:])


class FakeAuditor:
    """Reports whatever ``report`` is set to, cut to the limit asked for (each limit kept in ``limits``); for a
    tenant, only that tenant's findings (as its inconsistent count)."""

    def __init__(self, report: AuditReport) -> None:
        self.report = report
        self.calls = 0
        self.limits: list[int] = []
        self.tenants: list[Tenant | None] = []

    async def audit(self, limit: int = 100, tenant: Tenant | None = None) -> AuditReport:
        self.calls += 1
        self.limits.append(limit)
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


def another_version(
    definition: FlowTypeDefinition,
    *,
    version: int = 2,
    phases: tuple[str, ...] | None = None,
    dropped: frozenset[str] = frozenset(),
    migrates: bool = True,
) -> FlowTypeDefinition:
    """``definition`` as a later ``version`` with ``phases`` (by default its own and ``archive`` at the end); a phase
    it adds completes at once. ``migrates``: it declares a migration from ``definition``'s version, dropping
    ``dropped``."""
    chosen = phases if phases is not None else (*definition.phases, "archive")

    async def added(flow: Flow, _: PhaseContext) -> PhaseOutcome:
        return PhaseOutcome.completed({"added": True})

    return replace(
        definition,
        version=version,
        phases=chosen,
        run={phase: definition.run.get(phase, added) for phase in chosen},
        accept={phase: handler for phase, handler in definition.accept.items() if phase in chosen},
        migrations={definition.version: PhaseMapping(dropped)} if migrates else {},
    )
