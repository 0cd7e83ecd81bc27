"""One unit of work per request: the same session everywhere, one pooled connection, one commit. A phase is the
exception by design: its claim, its run and its completion each take a connection of their own (none is held while
the handler runs)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text

from adapters.persistence.database import Database, PoolOptions
from adapters.persistence.unit_of_work import AsyncpgUnitOfWork
from domain.errors import StorageUnavailable
from domain.events import Tenant
from entrypoints.container import app_database_url
from entrypoints.http.app import create_app
from tests.support import DISCOVERY_CSV, asgi_client, eventually, headers, owner_engine_of


async def test_the_orchestrator_repositories_and_adapters_share_one_unit_of_work(container) -> None:
    mfo = container.orchestrator()
    adapter = mfo.get_flow_service("discovery")
    assert adapter.unit_of_work is mfo.unit_of_work
    assert adapter.inner.unit_of_work is mfo.unit_of_work  # the bridge's own service too
    async with mfo.unit_of_work as uow:
        connection = await uow.connection()
        assert connection is await uow.connection()  # every port's statements run on this one connection
        assert adapter.unit_of_work is uow
    assert container.orchestrator().unit_of_work is not mfo.unit_of_work


@contextmanager
def pool_counter(database) -> Iterator[dict[str, int]]:  # type: ignore[no-untyped-def]
    """What the pool's connections did inside the block: checkouts and commits."""
    before = (database.checkouts, database.commits)
    counts = {"checkouts": 0, "commits": 0}
    try:
        yield counts
    finally:
        counts.update(checkouts=database.checkouts - before[0], commits=database.commits - before[1])


async def test_each_request_uses_exactly_one_pooled_connection(container, settings, tenant: Tenant) -> None:
    app = create_app(settings, container)
    engine = container.app_database()  # the requests' pool (row-level security applies to its role)
    async with asgi_client(app) as client:
        h = headers(tenant)
        body = {"flow_type": "discovery", "name": "one", "configuration": {"data": DISCOVERY_CSV}}
        with pool_counter(engine) as counts:
            created = await client.post("/api/v1/flows", json=body, headers=h)
        assert created.status_code == 201
        assert counts == {"checkouts": 1, "commits": 1}
        flow_id = created.json()["flow_id"]
        for method, path, changes in [
            ("POST", "start", True),
            ("GET", "status", False),
            ("GET", "events", False),
        ]:
            with pool_counter(engine) as counts:
                response = await client.request(method, f"/api/v1/flows/{flow_id}/{path}", headers=h)
            assert response.status_code == 200, response.text
            assert counts == {"checkouts": 1, "commits": 1 if changes else 0}, path
        with pool_counter(engine) as counts:
            executed = await client.post(f"/api/v1/flows/{flow_id}/execute", headers=h)  # Prefer: wait
        assert executed.status_code == 200 and executed.json()["running_phase"] is None, executed.text
        # the claim (one commit), the handler's read of the bridge's state (a transaction of its own, no commit),
        # the completion (one commit), and the request's read of the outcome once the attempt ended
        assert counts == {"checkouts": 4, "commits": 2}
        with pool_counter(engine) as counts:
            paused = await client.post(f"/api/v1/flows/{flow_id}/pause", headers=h)
        assert paused.status_code == 200 and counts == {"checkouts": 1, "commits": 1}


async def test_a_legacy_change_is_one_connection_and_one_commit_too(container, settings, tenant: Tenant) -> None:
    app = create_app(settings, container)
    engine = container.app_database()  # the requests' pool (row-level security applies to its role)
    async with asgi_client(app) as client:
        h = headers(tenant)
        with pool_counter(engine) as counts:
            created = await client.post(
                "/api/v1/discovery/flows/initialize",
                json={"flow_name": "legacy", "raw_data": [{"name": "a"}]},
                headers=h,
            )
        assert created.status_code == 201 and counts == {"checkouts": 1, "commits": 1}
        flow_id = created.json()["flow_id"]
        for method, path in [("POST", "pause"), ("POST", "resume"), ("GET", "status")]:
            with pool_counter(engine) as counts:
                response = await client.request(method, f"/api/v1/discovery/flows/{flow_id}/{path}", headers=h)
            assert response.status_code == 200, response.text
            assert counts == {"checkouts": 1, "commits": 0 if method == "GET" else 1}, path


async def test_a_pooled_connection_postgresql_closed_is_replaced_before_a_request_uses_it(container, tenant) -> None:
    """No ping per checkout (docs/performance.md), and still no request fails on a connection the server closed."""
    mfo = container.orchestrator()
    flow = await mfo.create_flow(tenant, "discovery", "closed", {}, actor="test")
    app_database = container.app_database()
    async with app_database.connection() as connection:
        role = await connection.fetchval("SELECT current_user")
    async with owner_engine_of(container).connect() as owner:
        closed = (
            await owner.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :role"), {"role": role}
            )
        ).all()
    assert closed, "the app's pool held no connection to close"
    await asyncio.sleep(0.2)  # the driver reads the end of each stream (nothing to poll without using the pool)

    for _ in range(app_database.options.max_size + 1):  # every pooled connection, and one more
        assert (await container.orchestrator().get_flow(tenant, flow.flow_id)).flow_id == flow.flow_id


class CutAfterCheckout(Database):
    """The application's pool, whose connections the server closes right after they are checked out."""

    def __init__(self, url: str, owner: Any) -> None:
        super().__init__(url, PoolOptions(max_size=1))
        self._owner = owner

    async def acquire(self) -> Any:
        connection = await super().acquire()
        async with self._owner.connect() as owner:
            await owner.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": connection.get_server_pid()})
        await asyncio.sleep(0.2)  # the driver reads the end of the stream (no condition to poll on the connection)
        return connection


async def test_a_connection_lost_before_its_begin_is_storage_unavailable(container, settings, tenant) -> None:
    """The unit of work begins its transaction at its first statement: a connection the server closed between the
    checkout and that BEGIN is a storage failure (503), not an unexpected error (500)."""
    flow = await container.orchestrator().create_flow(tenant, "discovery", "lost", {}, actor="test")
    database = CutAfterCheckout(app_database_url(settings), owner_engine_of(container))
    try:
        with pytest.raises(StorageUnavailable):
            async with AsyncpgUnitOfWork(database) as uow:
                await uow.scope(tenant)
                await uow.flows.get(tenant, flow.flow_id)
    finally:
        await database.close()
    assert (await container.orchestrator().get_flow(tenant, flow.flow_id)).flow_id == flow.flow_id


async def test_a_burst_past_the_kept_connections_closes_its_overflow_when_it_is_given_back(container, settings) -> None:
    """``MFO_DB_POOL_SIZE`` connections stay open while idle; the ``MFO_DB_MAX_OVERFLOW`` more that a burst opens are
    closed as they come back, so an idle process does not hold the database's connection budget."""
    database = Database(app_database_url(settings), PoolOptions(max_size=4, keep_idle=1, application_name="mfo-burst"))

    async def open_connections() -> int:
        async with owner_engine_of(container).connect() as owner:
            return await owner.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'mfo-burst'")
            )

    try:
        burst = [await database.acquire() for _ in range(3)]
        assert await open_connections() == 3
        for connection in burst:
            await database.release(connection)

        async def only_one_left() -> bool:
            return await open_connections() == 1  # the one kept idle; the server ends the others' backends

        await eventually(only_one_left, within=5, what="the burst's overflow closed")
        async with database.connection() as again:  # and it serves the next checkout
            assert await again.fetchval("SELECT 1") == 1
    finally:
        await database.close()
