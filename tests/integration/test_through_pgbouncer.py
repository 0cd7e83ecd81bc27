"""MFO through PgBouncer in transaction pooling mode (ADR 0017): two server connections carry every transaction of
every tenant, so a tenant's scope, a statement's parameters and the timeouts must all live in the transaction.

PgBouncer here forwards to the tests' PostgreSQL; the container is MFO's own, built with ``MFO_DB_PGBOUNCER``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy.engine import make_url

from adapters.persistence.database import Database, PoolOptions
from domain.errors import FlowNotFound, StorageUnavailable
from domain.events import Tenant
from domain.ports import FlowFilter
from entrypoints.container import Container, app_database_url
from entrypoints.http.app import create_app
from entrypoints.settings import Settings
from tests.pgbouncer import PgBouncer
from tests.support import DISCOVERY_CSV, DISCOVERY_INPUTS, asgi_client, completed_flow, container_on, headers

SERVER_CONNECTIONS = 2


@pytest.fixture(scope="module")
def bouncer(migrated_url: str) -> Iterator[PgBouncer]:
    url = make_url(migrated_url)
    assert url.host and url.port, f"PgBouncer needs the tests' PostgreSQL host and port: {url!r}"
    folder = Path(tempfile.mkdtemp(prefix="mfo-pgbouncer-"))
    folder.chmod(0o755)
    password = url.password or ""
    bouncer = PgBouncer(
        folder,
        url.port,
        upstream_host=url.host,
        users={url.username or "postgres": password, "mfo_app": password},
        max_db_connections=SERVER_CONNECTIONS,
        pool_size=SERVER_CONNECTIONS,
    )
    bouncer.start()
    yield bouncer
    bouncer.destroy()


@pytest.fixture(scope="module")
def bounced(settings: Settings, bouncer: PgBouncer) -> Settings:
    """The tests' settings with every connection through PgBouncer (the application's URL derived from it)."""
    assert settings.database.url is not None
    url = make_url(settings.database.url).set(host="127.0.0.1", port=bouncer.port)
    database = dataclasses.replace(
        settings.database,
        url=url.render_as_string(hide_password=False),
        pgbouncer=True,
        pool_size=10,
        max_overflow=10,
        statement_timeout_ms=1500,
        lock_timeout_ms=700,
    )
    return dataclasses.replace(settings, database=database)


@pytest.fixture(scope="module")
async def container(bounced: Settings) -> AsyncIterator[Container]:
    async with container_on(bounced) as container:
        yield container


async def create(container: Container, tenant: Tenant, n: int) -> UUID:
    flow = await container.orchestrator().create_flow(
        tenant, "discovery", f"bounced {n}", {"data": DISCOVERY_CSV}, actor="t"
    )
    return flow.flow_id


async def test_two_tenants_interleaved_through_pgbouncer_never_see_each_others_rows(
    container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine = {await create(container, tenant, n) for n in range(3)}
    theirs = {await create(container, other_tenant, n) for n in range(2)}
    expected: dict[Tenant | None, set[UUID]] = {tenant: mine, other_tenant: theirs, None: set()}

    async def look(scope: Tenant | None) -> tuple[Tenant | None, int, set[UUID], set[tuple[UUID, UUID]]]:
        async with container.unit_of_work() as uow:
            if scope is not None:
                await uow.scope(scope)
            connection = await uow.connection()
            rows = await connection.fetch(
                "SELECT client_account_id, engagement_id, flow_id FROM flows WHERE flow_id = ANY($1::uuid[])",
                list(mine | theirs),
            )
            backend = await connection.fetchval("SELECT pg_backend_pid()")
            await uow.commit()
        return scope, backend, {r["flow_id"] for r in rows}, {(r[0], r[1]) for r in rows}

    looks = await asyncio.gather(*(look(scope) for _ in range(30) for scope in (tenant, None, other_tenant)))

    for scope, _, seen, tenants in looks:
        assert seen == expected[scope], f"{scope} saw {seen}"
        assert tenants <= ({(scope.client_account_id, scope.engagement_id)} if scope else set())
    served = {scope: {backend for s, backend, _, _ in looks if s == scope} for scope in expected}
    assert len(set().union(*served.values())) <= SERVER_CONNECTIONS
    assert served[tenant] & served[other_tenant], "the two tenants never shared a server connection: not interleaved"

    # the application's own path: a list shows only the tenant's flows, another tenant's flow is not found
    page = await container.orchestrator().list_flows(tenant, FlowFilter(), limit=50)
    assert {summary.flow_id for summary in page.items} == mine
    with pytest.raises(FlowNotFound):
        await container.orchestrator().get_flow(tenant, next(iter(theirs)))


async def test_the_timeouts_are_set_in_every_transaction_behind_pgbouncer(container: Container, tenant: Tenant) -> None:
    settings: list[tuple[str, str]] = []
    for scope in (tenant, None):
        async with container.unit_of_work() as uow:
            if scope is not None:
                await uow.scope(scope)
            connection = await uow.connection()
            row = await connection.fetchrow(
                "SELECT current_setting('statement_timeout') AS s, current_setting('lock_timeout') AS l"
            )
            settings.append((row["s"], row["l"]))
    assert settings == [("1500ms", "700ms")] * 2
    with pytest.raises(StorageUnavailable):  # past the statement timeout, as on a direct connection
        async with container.unit_of_work() as uow:
            await uow.scope(tenant)
            await (await uow.connection()).execute("SELECT pg_sleep(5)")


async def test_a_flow_runs_to_completion_over_http_through_pgbouncer(
    bounced: Settings, container: Container, tenant: Tenant
) -> None:
    app = create_app(bounced, container)
    async with asgi_client(app) as client:
        flow = await completed_flow(client, tenant, "discovery", {"data": DISCOVERY_CSV}, DISCOVERY_INPUTS)
        status = (await client.get(f"/api/v1/flows/{flow['flow_id']}/status", headers=headers(tenant))).json()
    assert flow["status"] == "completed" and status["in_sync"]


async def test_statements_with_parameters_outside_a_transaction_keep_their_own_values_through_pgbouncer(
    container: Container,
) -> None:
    """Unnamed statements (no cache): each one's parse, bind and execute stay on one server connection even where
    PgBouncer may hand the connection to another client between statements (the owner's pool: the runners' look for
    due work, the gauges, API keys run so). Forty clients over two server connections."""
    database = container.owner_database()

    async def client(n: int) -> list[tuple[int, str]]:
        answers = []
        async with database.connection() as connection:
            for step in range(15):
                row = await connection.fetchrow("SELECT $1::int * 1000 + $2::int AS n, $3::text AS t", n, step, f"c{n}")
                answers.append((row["n"], row["t"]))
        return answers

    results = await asyncio.gather(*(client(n) for n in range(40)))
    assert results == [[(n * 1000 + step, f"c{n}") for step in range(15)] for n in range(40)]


async def test_without_the_setting_pgbouncer_refuses_the_startup_timeouts(bounced: Settings) -> None:
    database = Database(app_database_url(bounced), PoolOptions(max_size=1))  # transaction_pooling off
    try:
        with pytest.raises(StorageUnavailable):
            async with database.connection() as connection:
                await connection.fetchval("SELECT 1")
    finally:
        await database.close()
