"""Row-level security, the second wall: the application's own session cannot reach another tenant's rows,
even with a query that forgets the tenant."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from sqlalchemy import text

from adapters.persistence.database import Database, PoolOptions
from adapters.persistence.tenant_scope import SET_TENANT
from adapters.persistence.unit_of_work import AsyncpgUnitOfWork
from domain.events import Tenant
from entrypoints.container import Container, app_database_url
from tests.support import DISCOVERY_CSV, owner_engine_of

APP_ROLE = "mfo_app"


async def seed(container: Container, tenant: Tenant) -> Any:
    return await container.orchestrator().create_flow(tenant, "discovery", "rls", {"data": DISCOVERY_CSV}, actor="t")


async def tenant_tables(container: Container) -> list[str]:
    """Every table in the schema with the two tenant columns: the ones that need a policy."""
    async with owner_engine_of(container).connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND column_name IN ('client_account_id', 'engagement_id')"
                " GROUP BY table_name HAVING count(*) = 2 ORDER BY table_name"
            )
        )
        return [row[0] for row in rows if row[0] != "api_keys"]


async def test_the_application_connects_as_a_role_that_owns_nothing_and_cannot_bypass(container: Container) -> None:
    async with container.app_database().connection() as connection:
        user = await connection.fetchval("SELECT current_user")
        attributes = await connection.fetchrow(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1", user
        )
        owned = await connection.fetchval(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = $1", user
        )
    assert user == APP_ROLE
    assert tuple(attributes) == (False, False, False, False)
    assert owned == 0


async def test_every_tenant_table_has_row_level_security(container: Container) -> None:
    tables = await tenant_tables(container)
    assert {"flows", "flow_events", "discovery_flows", "crewai_flow_states"} <= set(tables)
    async with owner_engine_of(container).connect() as connection:
        protected = {
            row[0]
            for row in await connection.execute(
                text(
                    "SELECT c.relname FROM pg_class c JOIN pg_policy p ON p.polrelid = c.oid"
                    " WHERE c.relrowsecurity AND p.polname = 'tenant_isolation'"
                )
            )
        }
    unprotected = sorted(set(tables) - protected)
    assert unprotected == [], f"tenant tables without the tenant_isolation policy: {unprotected}"


async def test_an_unscoped_query_through_the_applications_session_sees_no_other_tenant(
    container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine, theirs = await seed(container, tenant), await seed(container, other_tenant)
    for table in await tenant_tables(container):
        async with container.unit_of_work() as uow:
            unscoped = await (await uow.connection()).fetch(f"SELECT client_account_id FROM {table}")
            assert unscoped == [], f"{table}: a transaction without a tenant saw {len(unscoped)} rows"
            await uow.scope(tenant)
            scoped = await (await uow.connection()).fetch(
                f"SELECT DISTINCT client_account_id, engagement_id FROM {table}"
            )
            assert all(tuple(row) == (tenant.client_account_id, tenant.engagement_id) for row in scoped), table
    async with container.unit_of_work() as uow:
        await uow.scope(tenant)
        ids = {row[0] for row in await (await uow.connection()).fetch("SELECT flow_id FROM flows")}
    assert mine.flow_id in ids and theirs.flow_id not in ids


async def test_the_scope_holds_after_a_commit_and_ends_with_the_unit_of_work(
    container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await seed(container, other_tenant)
    mine = await seed(container, tenant)
    uow = container.unit_of_work()
    async with uow:
        await uow.scope(tenant)
        await (await uow.connection()).execute("SELECT 1")
        await uow.commit()
        after_commit = {row[0] for row in await (await uow.connection()).fetch("SELECT flow_id FROM flows")}
        assert mine.flow_id in after_commit and theirs.flow_id not in after_commit
        await uow.scope(other_tenant)
        rescoped = {row[0] for row in await (await uow.connection()).fetch("SELECT flow_id FROM flows")}
        assert theirs.flow_id in rescoped and mine.flow_id not in rescoped
    async with container.unit_of_work() as fresh:  # the pooled connection keeps no tenant
        assert await (await fresh.connection()).fetchval("SELECT count(*) FROM flows") == 0


TENANT_SETTINGS = "SELECT current_setting('mfo.client_account_id', true), current_setting('mfo.engagement_id', true)"


class RecordingDatabase(Database):
    """The application's pool, recording every statement its connections send while checked out."""

    def __init__(self, url: str, options: PoolOptions) -> None:
        super().__init__(url, options)
        self.statements: list[str] = []

    def _record(self, query: Any) -> None:
        self.statements.append(query.query)

    async def acquire(self) -> asyncpg.Connection:
        connection = await super().acquire()
        connection.add_query_logger(self._record)
        return connection

    async def release(self, connection: asyncpg.Connection) -> None:
        connection.remove_query_logger(self._record)
        await super().release(connection)


async def test_the_tenant_goes_out_with_the_begin_not_as_a_statement_of_its_own(settings: Any, tenant: Tenant) -> None:
    database = RecordingDatabase(app_database_url(settings), PoolOptions(max_size=1))
    try:
        async with AsyncpgUnitOfWork(database) as uow:
            await uow.scope(tenant)
            for _ in range(2):  # the first transaction, and the one begun after a commit
                settings_row = await (await uow.connection()).fetchrow(TENANT_SETTINGS)
                assert tuple(settings_row) == (str(tenant.client_account_id), str(tenant.engagement_id))
                await uow.commit()
    finally:
        await database.close()
    begins = [s for s in database.statements if s.startswith("BEGIN")]
    assert len(begins) == 2 and all("set_config" in b for b in begins)
    assert SET_TENANT not in database.statements  # no set_config sent by itself
    assert database.statements.count(TENANT_SETTINGS) == 2


async def test_a_scope_without_a_statement_leaves_nothing_on_the_pooled_connection(
    settings: Any, tenant: Tenant
) -> None:
    database = Database(app_database_url(settings), PoolOptions(max_size=1))
    try:
        async with AsyncpgUnitOfWork(database) as uow:
            await uow.scope(tenant)  # scoped, but no statement: nothing was sent, not even BEGIN
        async with database.connection() as connection:  # the pool's one connection again, outside a unit of work
            assert tuple(await connection.fetchrow(TENANT_SETTINGS)) in {("", ""), (None, None)}
    finally:
        await database.close()


async def test_a_write_for_another_tenant_is_refused(
    container: Container, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await seed(container, other_tenant)
    async with container.unit_of_work() as uow:
        await uow.scope(tenant)
        connection = await uow.connection()
        changed = await connection.execute("UPDATE flows SET name = 'hijacked' WHERE flow_id = $1", theirs.flow_id)
        assert changed == "UPDATE 0"
        with pytest.raises(asyncpg.PostgresError, match="row-level security"):
            await connection.execute(
                "INSERT INTO flow_events (client_account_id, engagement_id, flow_id, version, operation, actor,"
                " to_status, occurred_at, data) SELECT $1, $2, $3, 99, 'x', 'x', 'running', now(), '{}'::jsonb",
                other_tenant.client_account_id,
                other_tenant.engagement_id,
                theirs.flow_id,
            )
    assert (await container.orchestrator().get_flow(other_tenant, theirs.flow_id)).name == "rls"


async def test_the_application_role_reads_api_keys_but_cannot_write_them(container: Container) -> None:
    async with container.app_database().connection() as connection:
        assert await connection.fetchval("SELECT count(*) >= 0 FROM api_keys")
        with pytest.raises(asyncpg.PostgresError, match="permission denied"):
            await connection.execute(
                "INSERT INTO api_keys VALUES ($1, 'h', $2, $3, 'admin', 'forged', now(), NULL)",
                uuid4().hex[:16],
                uuid4(),
                uuid4(),
            )


async def test_the_auditor_still_sees_every_tenant(container: Container, tenant: Tenant, other_tenant: Tenant) -> None:
    await seed(container, tenant)
    await seed(container, other_tenant)
    report = await container.auditor().audit(limit=0)
    async with owner_engine_of(container).connect() as connection:
        total = await connection.scalar(text("SELECT count(*) FROM flows"))
    assert report.flows_checked == total and total >= 2
