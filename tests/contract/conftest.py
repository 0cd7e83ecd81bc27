"""The contract suites' one fixture: ``implementation``, each test run once on the in-memory fakes (tests/fakes.py)
and once on PostgreSQL (the application's role, row-level security on).

A test body talks to the ports only through ``implementation``: fresh units of work, a fresh tenant, stored flows,
the queue runners poll (every tenant's work, outside any unit of work), and one hand on what only time changes (a
lease's expiry).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import text

from adapters.flow_types.discovery.phases import PHASES
from adapters.persistence.database import Database, PoolOptions
from adapters.persistence.phase_runs import PgPhaseQueue
from adapters.persistence.unit_of_work import AsyncpgUnitOfWork
from domain.events import Tenant
from domain.flow import Flow
from domain.lifecycle import Operation
from domain.ports import PhaseQueue
from entrypoints.container import Container
from tests.fakes import FakePhaseQueue, FakeUnitOfWork, Store
from tests.support import forget_flows, owner_engine_of

SHORT_WAIT_SECONDS = 0.2
"""How long an impatient unit of work waits for a lock (a flow's row, a claimed key) before giving up."""
LONG_WAIT_SECONDS = 5.0
"""How long a patient one waits: PostgreSQL's default lock_timeout in the settings."""

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Implementation:
    """What a contract test needs of one implementation of the ports."""

    name: str

    def __init__(self) -> None:
        self.tenant = Tenant(uuid4(), uuid4())

    async def forget(self, flow_ids: list[UUID]) -> None:
        """Remove stored flows (of a version no server registers) from a store that other tests share."""

    def new_unit_of_work(self, *, impatient: bool = False) -> Any:
        """A unit of work, not entered. ``impatient``: it waits only ``SHORT_WAIT_SECONDS`` for a lock."""
        raise NotImplementedError

    def phase_queue(self) -> PhaseQueue:
        """The queue of every tenant's due work, as runners poll it (the committed state, no unit of work)."""
        raise NotImplementedError

    async def expire_lease(self, tenant: Tenant, flow_id: UUID, *, seconds_ago: float = 1.0) -> None:
        """Make the committed lease of the flow's attempt (there must be one) expire ``seconds_ago``: what a
        runner that stopped renewing it would leave."""
        raise NotImplementedError

    def other_tenant(self) -> Tenant:
        return Tenant(uuid4(), uuid4())

    @asynccontextmanager
    async def scoped(self, tenant: Tenant | None = None, *, impatient: bool = False) -> AsyncIterator[Any]:
        """An entered unit of work, scoped to ``tenant`` (default: this test's)."""
        async with self.new_unit_of_work(impatient=impatient) as uow:
            await uow.scope(tenant or self.tenant)
            yield uow

    def new_flow(
        self, tenant: Tenant | None = None, *, at: datetime = T0, flow_type: str = "discovery", name: str = "contract"
    ) -> Flow:
        return Flow.create(
            flow_id=uuid4(),
            tenant=tenant or self.tenant,
            flow_type=flow_type,
            name=name,
            phases=list(PHASES),
            configuration={"source": "contract"},
            actor="contract",
            at=at,
        )

    async def stored_flow(
        self,
        tenant: Tenant | None = None,
        *,
        at: datetime = T0,
        flow_type: str = "discovery",
        started: bool = False,
        auto_run: bool = False,
        deleted: bool = False,
        name: str = "contract",
    ) -> Flow:
        """A flow created (and started, with ``auto_run`` or not, or deleted) and committed with its events; as
        stored. Started, it was last changed one second after ``at``."""
        flow = self.new_flow(tenant, at=at, flow_type=flow_type, name=name)
        if started or auto_run:
            flow.start(actor="contract", at=at + timedelta(seconds=1), auto_run=auto_run)
        if deleted:
            flow.delete(actor="contract", at=at + timedelta(seconds=2))
        async with self.scoped(flow.tenant) as uow:
            await uow.flows.add(flow)
            await uow.events.append(flow.pending_events)
            await uow.commit()
        flow.pending_events = []
        return flow

    async def claimed_flow(
        self,
        tenant: Tenant | None = None,
        *,
        at: datetime = T0,
        owner: str = "runner-a",
        lease_seconds: float = 3600.0,
        auto_run: bool = False,
    ) -> Flow:
        """A started flow whose first phase is claimed (attempt 1 of the run ``flow.run.run_id``, two seconds after
        ``at``) and leased to ``owner`` for ``lease_seconds``, as a claim commits it; as stored. (The lease outlasts
        the tests: no runner of another test on the session's database takes it over.)"""
        flow = self.new_flow(tenant, at=at)
        flow.start(actor="contract", at=at + timedelta(seconds=1), auto_run=auto_run)
        run_id = uuid4()
        flow.claim_phase(Operation.EXECUTE_PHASE, run_id=run_id, actor="contract", at=at + timedelta(seconds=2))
        async with self.scoped(flow.tenant) as uow:
            await uow.flows.add(flow)
            await uow.events.append(flow.pending_events)
            await uow.phase_runs.grant(flow, run_id, owner, lease_seconds)
            await uow.commit()
        flow.pending_events = []
        return flow


class FakeImplementation(Implementation):
    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.store = Store()

    def new_unit_of_work(self, *, impatient: bool = False) -> FakeUnitOfWork:
        wait = SHORT_WAIT_SECONDS if impatient else LONG_WAIT_SECONDS
        return FakeUnitOfWork(self.store, lock_wait_seconds=wait, idempotency_wait_seconds=wait)

    def phase_queue(self) -> FakePhaseQueue:
        return FakePhaseQueue(self.store)

    async def expire_lease(self, tenant: Tenant, flow_id: UUID, *, seconds_ago: float = 1.0) -> None:
        lease = self.store.leases[(tenant, flow_id)]
        expired = datetime.now(UTC) - timedelta(seconds=seconds_ago)
        self.store.leases[(tenant, flow_id)] = replace(lease, expires_at=expired)


class PostgresImplementation(Implementation):
    name = "postgres"

    def __init__(self, container: Container, impatient_database: Database | None) -> None:
        super().__init__()
        self.container = container
        self._impatient_database = impatient_database

    def new_unit_of_work(self, *, impatient: bool = False) -> AsyncpgUnitOfWork:
        if impatient:
            assert self._impatient_database is not None, "no impatient unit of work on a database of the module's own"
            return AsyncpgUnitOfWork(self._impatient_database, idempotency_wait_ms=int(SHORT_WAIT_SECONDS * 1000))
        return self.container.unit_of_work()

    def phase_queue(self) -> PgPhaseQueue:
        return self.container.phase_queue()

    async def forget(self, flow_ids: list[UUID]) -> None:
        await forget_flows(owner_engine_of(self.container), "flow_id = ANY(:ids)", ids=flow_ids)

    async def expire_lease(self, tenant: Tenant, flow_id: UUID, *, seconds_ago: float = 1.0) -> None:
        """As the schema owner on a connection of its own (no port moves a lease's time but a renewal)."""
        sql = text(
            "UPDATE phase_leases SET expires_at = now() - make_interval(secs => :seconds)"
            " WHERE client_account_id = :c AND engagement_id = :e AND flow_id = :f"
        )
        params = {"seconds": seconds_ago, "c": tenant.client_account_id, "e": tenant.engagement_id, "f": flow_id}
        async with owner_engine_of(self.container).begin() as connection:
            updated = (await connection.execute(sql, params)).rowcount
        assert updated == 1, f"flow {flow_id} holds no lease to expire"


@pytest.fixture(scope="session")
async def impatient_database(container: Container) -> AsyncIterator[Database]:
    """The application's database with a short lock_timeout (PostgreSQL's wait for a locked row)."""
    from entrypoints.container import app_database_url

    database = Database(
        app_database_url(container.settings()),
        PoolOptions(max_size=4, lock_timeout_ms=int(SHORT_WAIT_SECONDS * 1000)),
    )
    yield database
    await database.close()


@pytest.fixture(params=["fake", "postgres"])
def implementation(request: pytest.FixtureRequest) -> Implementation:
    if request.param == "fake":
        return FakeImplementation()
    container = request.getfixturevalue("container")
    # a module on a database of its own (its own ``container`` fixture) has no impatient one: the session's is on
    # the session's database
    own_database = hasattr(request.module, "container")
    impatient = None if own_database else request.getfixturevalue("impatient_database")
    return PostgresImplementation(container, impatient)
