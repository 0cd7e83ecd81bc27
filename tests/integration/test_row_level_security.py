"""Row-level security, the second wall: the application's own session cannot reach another tenant's rows,
even with a query that forgets the tenant."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import async_sessionmaker

from adapters.persistence.engine import create_pg_engine
from adapters.persistence.tenant_scope import ScopedBeginConnection
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.events import Tenant
from entrypoints.container import app_database_url
from tests.support import DISCOVERY_CSV

APP_ROLE = "mfo_app"


async def seed(container: Any, tenant: Tenant) -> Any:
    return await container.orchestrator().create_flow(tenant, "discovery", "rls", {"data": DISCOVERY_CSV}, actor="t")


async def tenant_tables(container: Any) -> list[str]:
    """Every table in the schema with the two tenant columns: the ones that need a policy."""
    async with container.engine().connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND column_name IN ('client_account_id', 'engagement_id')"
                " GROUP BY table_name HAVING count(*) = 2 ORDER BY table_name"
            )
        )
        return [row[0] for row in rows if row[0] != "api_keys"]


async def test_the_application_connects_as_a_role_that_owns_nothing_and_cannot_bypass(container: Any) -> None:
    async with container.app_engine().connect() as connection:
        user = await connection.scalar(text("SELECT current_user"))
        attributes = (
            await connection.execute(
                text("SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = :r"),
                {"r": user},
            )
        ).one()
        owned = await connection.scalar(
            text("SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = :r"),
            {"r": user},
        )
    assert user == APP_ROLE
    assert tuple(attributes) == (False, False, False, False)
    assert owned == 0


async def test_every_tenant_table_has_row_level_security(container: Any) -> None:
    tables = await tenant_tables(container)
    assert {"flows", "flow_events", "discovery_flows", "crewai_flow_states"} <= set(tables)
    async with container.engine().connect() as connection:
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
    container: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine, theirs = await seed(container, tenant), await seed(container, other_tenant)
    for table in await tenant_tables(container):
        async with container.unit_of_work() as uow:
            unscoped = (await uow.session.execute(text(f"SELECT client_account_id FROM {table}"))).all()
            assert unscoped == [], f"{table}: a transaction without a tenant saw {len(unscoped)} rows"
            await uow.scope(tenant)
            scoped = (
                await uow.session.execute(text(f"SELECT DISTINCT client_account_id, engagement_id FROM {table}"))
            ).all()
            assert all(tuple(row) == (tenant.client_account_id, tenant.engagement_id) for row in scoped), table
    async with container.unit_of_work() as uow:
        await uow.scope(tenant)
        ids = {row[0] for row in await uow.session.execute(text("SELECT flow_id FROM flows"))}
    assert mine.flow_id in ids and theirs.flow_id not in ids


async def test_the_scope_holds_after_a_commit_and_ends_with_the_unit_of_work(
    container: Any, tenant: Tenant, other_tenant: Tenant
) -> None:
    theirs = await seed(container, other_tenant)
    mine = await seed(container, tenant)
    uow = container.unit_of_work()
    async with uow:
        await uow.scope(tenant)
        await uow.session.execute(text("SELECT 1"))
        await uow.commit()
        after_commit = {row[0] for row in await uow.session.execute(text("SELECT flow_id FROM flows"))}
        assert mine.flow_id in after_commit and theirs.flow_id not in after_commit
        await uow.scope(other_tenant)
        rescoped = {row[0] for row in await uow.session.execute(text("SELECT flow_id FROM flows"))}
        assert theirs.flow_id in rescoped and mine.flow_id not in rescoped
    async with container.unit_of_work() as fresh:  # the pooled connection keeps no tenant
        assert (await fresh.session.execute(text("SELECT count(*) FROM flows"))).scalar() == 0


TENANT_SETTINGS = "SELECT current_setting('mfo.client_account_id', true), current_setting('mfo.engagement_id', true)"


async def test_the_tenant_goes_out_with_the_begin_not_as_a_statement_of_its_own(container: Any, tenant: Tenant) -> None:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = container.app_engine().sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        async with container.unit_of_work() as uow:
            await uow.scope(tenant)
            for _ in range(2):  # the first transaction, and the one the session begins after a commit
                settings = tuple((await uow.session.execute(text(TENANT_SETTINGS))).one())
                assert settings == (str(tenant.client_account_id), str(tenant.engagement_id))
                await uow.commit()
            raw = await (await uow.session.connection()).get_raw_connection()
            assert isinstance(raw.dbapi_connection.driver_connection, ScopedBeginConnection)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements == [TENANT_SETTINGS, TENANT_SETTINGS]  # no set_config sent by itself


async def test_a_tenant_left_for_a_begin_that_never_came_scopes_no_later_transaction(
    settings: Any, tenant: Tenant
) -> None:
    engine = create_pg_engine(app_database_url(settings), connect_args={}, pool_size=1, max_overflow=0)
    try:
        async with SqlAlchemyUnitOfWork(async_sessionmaker(engine)) as uow:
            await uow.scope(tenant)
            await uow.session.connection()  # the session's transaction began; nothing was sent, not even BEGIN
        async with engine.connect() as connection:  # the pool's one connection again, not through a session
            assert tuple((await connection.execute(text(TENANT_SETTINGS))).one()) in {("", ""), (None, None)}
    finally:
        await engine.dispose()


async def test_a_write_for_another_tenant_is_refused(container: Any, tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = await seed(container, other_tenant)
    async with container.unit_of_work() as uow:
        await uow.scope(tenant)
        changed = await uow.session.execute(
            text("UPDATE flows SET name = 'hijacked' WHERE flow_id = :id"), {"id": theirs.flow_id}
        )
        assert changed.rowcount == 0
        with pytest.raises(DBAPIError, match="row-level security"):
            await uow.session.execute(
                text(
                    "INSERT INTO flow_events (client_account_id, engagement_id, flow_id, version, operation, actor,"
                    " to_status, occurred_at, data) SELECT :c, :e, :f, 99, 'x', 'x', 'running', now(), '{}'::jsonb"
                ),
                {"c": other_tenant.client_account_id, "e": other_tenant.engagement_id, "f": theirs.flow_id},
            )
    assert (await container.orchestrator().get_flow(other_tenant, theirs.flow_id)).name == "rls"


async def test_the_application_role_reads_api_keys_but_cannot_write_them(container: Any) -> None:
    async with container.app_engine().connect() as connection:
        assert await connection.scalar(text("SELECT count(*) >= 0 FROM api_keys"))
        with pytest.raises(ProgrammingError, match="permission denied"):
            await connection.execute(
                text("INSERT INTO api_keys VALUES (:id, 'h', :c, :e, 'admin', 'forged', now(), NULL)"),
                {"id": uuid4().hex[:16], "c": uuid4(), "e": uuid4()},
            )


async def test_the_auditor_still_sees_every_tenant(container: Any, tenant: Tenant, other_tenant: Tenant) -> None:
    await seed(container, tenant)
    await seed(container, other_tenant)
    report = await container.auditor().audit(limit=0)
    async with container.engine().connect() as connection:
        total = await connection.scalar(text("SELECT count(*) FROM flows"))
    assert report.flows_checked == total and total >= 2
