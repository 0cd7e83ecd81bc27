"""Seed consistent discovery flows with set-based SQL: flow g (from 1) belongs to tenant g % 100.

client_account_id = md5('c' || g % 100), engagement_id = md5('e' || g % 100), flow_id = md5('f' || g), all as
UUIDs; every flow is running at version 2 with its child record, its CrewAI state and its two events.
"""

from __future__ import annotations

import contextlib
import json

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

TENANTS = 100
_KEYS = "md5('c' || (g % 100))::uuid, md5('e' || (g % 100))::uuid, md5('f' || g)::uuid"
_PHASES = (
    "data_import",
    "field_mapping",
    "data_cleansing",
    "asset_inventory",
    "dependency_analysis",
    "tech_debt_assessment",
)
_PENDING = json.dumps([{"name": p, "state": "pending"} for p in _PHASES])
_CONTRACT = json.dumps(
    {"version": 1, "phases": list(_PHASES), "input_phases": ["field_mapping"], "policies": {}, "bridged": True}
)
"""Discovery's six phases, none run yet, and the contract of a flow that runs through the CrewAI bridge."""
SEED = [
    f"""INSERT INTO flows (client_account_id, engagement_id, flow_id, flow_type, name, status, current_phase, phases,
                   configuration, phase_results, error, created_at, updated_at, version, contract)
SELECT {_KEYS}, 'discovery', 'seeded', 'running', 'data_import', '{_PENDING}'::jsonb, '{{}}'::jsonb, '{{}}'::jsonb,
       NULL, now() - make_interval(secs => g), now(), 2, '{_CONTRACT}'::jsonb
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS g""",
    f"""INSERT INTO discovery_flows (client_account_id, engagement_id, flow_id, status, master_version,
       progress_percent, updated_at, data_import_completed, field_mapping_completed, data_cleansing_completed,
       asset_inventory_completed, dependency_analysis_completed, tech_debt_assessment_completed)
SELECT {_KEYS}, 'in_progress', 2, 0, now(), false, false, false, false, false, false
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS g""",
    f"""INSERT INTO crewai_flow_states (client_account_id, engagement_id, flow_id, state_id, flow_type, status,
       master_version, state, updated_at)
SELECT {_KEYS}, md5('f' || g), 'discovery', 'running', 2,
       jsonb_build_object('id', md5('f' || g), 'status', 'running', 'master_version', 2), now()
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS g""",
    f"""INSERT INTO flow_events (client_account_id, engagement_id, flow_id, version, operation, actor, from_status,
       to_status, occurred_at, data)
SELECT {_KEYS}, v, CASE v WHEN 1 THEN 'create' ELSE 'start' END, 'seed',
       CASE v WHEN 1 THEN NULL ELSE 'initialized' END, CASE v WHEN 1 THEN 'initialized' ELSE 'running' END, now(),
       '{{}}'::jsonb
FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS g, generate_series(1, 2) AS v""",
]


async def seed_flows(engine: AsyncEngine, first: int, last: int) -> None:
    """Add flows ``first`` to ``last`` (inclusive), refresh the planner's statistics and write a checkpoint."""
    async with engine.begin() as connection:
        for statement in SEED:
            await connection.execute(text(statement), {"first": first, "last": last})
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE"))
        # the seed's gigabytes of WAL would otherwise be checkpointed during the first measurements (a server the
        # bench did not start may not let its role: then they are)
        with contextlib.suppress(DBAPIError):
            await connection.execute(text("CHECKPOINT"))
