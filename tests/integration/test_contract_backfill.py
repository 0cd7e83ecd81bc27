"""Migration 0011 gives every existing flow a contract from its row: version 1, its phases, the built-in types' input
phases, and the bridge exactly when a CrewAI state is stored for it (ADR 0018); its creation event records the same."""

from __future__ import annotations

import asyncio
import json
from uuid import uuid4

import asyncpg
import pytest
from alembic import command
from sqlalchemy.engine import make_url

from adapters.persistence.database import postgres_dsn
from adapters.persistence.migrate import alembic_config, upgrade
from tests.support import drop_database

PHASES = json.dumps([{"name": "data_import", "state": "completed"}, {"name": "field_mapping", "state": "pending"}])
INSERT_FLOW = """
INSERT INTO flows (client_account_id, engagement_id, flow_id, flow_type, name, status, current_phase, phases,
                   configuration, phase_results, error, created_at, updated_at, version)
VALUES ($1, $2, $3, $4, 'old', 'running', 'field_mapping', $5::jsonb, '{}', '{}', NULL, now(), now(), 2)
"""
INSERT_CREATION = """
INSERT INTO flow_events (client_account_id, engagement_id, flow_id, version, operation, actor, from_status, to_status,
                         occurred_at, data)
VALUES ($1, $2, $3, 1, 'create', 'old', NULL, 'initialized', now(), '{"flow_type": "discovery"}')
"""
INSERT_STATE = """
INSERT INTO crewai_flow_states (client_account_id, engagement_id, flow_id, state_id, flow_type, status,
                                master_version, state, updated_at)
VALUES ($1, $2, $3, 'state', $4, 'running', 2, '{}', now())
"""


async def test_existing_flows_get_the_contract_their_rows_show(settings) -> None:  # type: ignore[no-untyped-def]
    server = settings.database.url
    name = f"mfo_backfill_{uuid4().hex[:10]}"
    connection = await asyncpg.connect(postgres_dsn(server))
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, url, "0010")
        tenant = (uuid4(), uuid4())
        flows = {kind: uuid4() for kind in ("bridged", "plain", "planning", "plugin")}
        connection = await asyncpg.connect(postgres_dsn(url))
        try:
            for kind, flow_id in flows.items():
                flow_type = {"bridged": "discovery", "plain": "discovery"}.get(kind, kind)
                await connection.execute(INSERT_FLOW, *tenant, flow_id, flow_type, PHASES)
            await connection.execute(INSERT_STATE, *tenant, flows["bridged"], "discovery")
            await connection.execute(INSERT_CREATION, *tenant, flows["bridged"])
        finally:
            await connection.close()
        await asyncio.to_thread(upgrade, url, "0011")
        connection = await asyncpg.connect(postgres_dsn(url))
        try:
            rows = await connection.fetch("SELECT flow_id, contract FROM flows")
            creation = await connection.fetchval(
                "SELECT data FROM flow_events WHERE flow_id = $1 AND version = 1", flows["bridged"]
            )
            nullable = await connection.fetchval(
                "SELECT is_nullable FROM information_schema.columns"
                " WHERE table_name = 'flows' AND column_name = 'contract'"
            )
        finally:
            await connection.close()
        contracts = {row["flow_id"]: json.loads(row["contract"]) for row in rows}
        expected = {"version": 1, "phases": ["data_import", "field_mapping"], "policies": {}}
        assert contracts[flows["bridged"]] == {**expected, "input_phases": ["field_mapping"], "bridged": True}
        assert contracts[flows["plain"]] == {**expected, "input_phases": ["field_mapping"], "bridged": False}
        assert contracts[flows["planning"]] == {**expected, "input_phases": [], "bridged": False}
        assert contracts[flows["plugin"]] == {**expected, "input_phases": [], "bridged": False}
        assert nullable == "NO"
        assert json.loads(creation) == {"flow_type": "discovery", "contract": contracts[flows["bridged"]]}
    finally:
        await drop_database(server, url)


INSERT_MIGRATION = """
INSERT INTO flow_events (client_account_id, engagement_id, flow_id, version, operation, actor, from_status, to_status,
                         occurred_at, data)
VALUES ($1, $2, $3, 2, 'migrate', 'ops', 'running', 'running', now(), '{}')
"""


async def test_the_downgrade_refuses_a_database_whose_flows_were_migrated(settings) -> None:  # type: ignore[no-untyped-def]
    server = settings.database.url
    name = f"mfo_downgrade_{uuid4().hex[:10]}"
    connection = await asyncpg.connect(postgres_dsn(server))
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, url, "0010")
        tenant, flow_id = (uuid4(), uuid4()), uuid4()
        connection = await asyncpg.connect(postgres_dsn(url))
        try:
            await connection.execute(INSERT_FLOW, *tenant, flow_id, "discovery", PHASES)
            await connection.execute(INSERT_CREATION, *tenant, flow_id)
        finally:
            await connection.close()
        await asyncio.to_thread(upgrade, url, "0011")
        connection = await asyncpg.connect(postgres_dsn(url))
        try:
            await connection.execute(INSERT_MIGRATION, *tenant, flow_id)
        finally:
            await connection.close()
        with pytest.raises(Exception, match="flows were migrated to another version of their type"):
            await asyncio.to_thread(command.downgrade, alembic_config(url), "0010")
        connection = await asyncpg.connect(postgres_dsn(url))
        try:
            assert await connection.fetchval("SELECT version_num FROM alembic_version") == "0011"  # nothing undone
        finally:
            await connection.close()
    finally:
        await drop_database(server, url)
