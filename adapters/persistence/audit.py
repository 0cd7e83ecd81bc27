"""The consistency auditor: one set-based SQL statement over every flow of every tenant.

A flow is reported when its child record is missing, its child status is not the one the master status maps to,
its child or its stored CrewAI state reflects another master version or status, a flow type that runs through
the bridge has no stored CrewAI state, or its version differs from its number of events.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import Tenant
from domain.lifecycle import FlowStatus
from domain.ports import AuditFinding, AuditReport
from domain.status_sync import child_status_for

KEYS = "client_account_id, engagement_id, flow_id"


def audit_sql(child_tables: Iterable[str], bridged_types: Iterable[str]) -> str:
    children = "\n    UNION ALL\n".join(
        f"    SELECT {KEYS}, status, master_version FROM {table}" for table in sorted(child_tables)
    )
    mapping = " ".join(f"WHEN '{s}' THEN '{child_status_for(s)}'" for s in FlowStatus)
    bridged = ", ".join(f"'{name}'" for name in sorted(bridged_types)) or "NULL"
    return f"""
WITH children AS (
{children}
), events AS (
    SELECT {KEYS}, count(*) AS n, max(version) AS last FROM flow_events GROUP BY {KEYS}
), checked AS (
    SELECT f.client_account_id, f.engagement_id, f.flow_id, f.flow_type, f.status, f.version,
        array_remove(ARRAY[
            CASE WHEN c.flow_id IS NULL THEN 'child record missing' END,
            CASE WHEN c.status <> (CASE f.status {mapping} END)
                 THEN 'child status ' || c.status || ' does not match master status ' || f.status END,
            CASE WHEN c.master_version <> f.version
                 THEN 'child reflects version ' || c.master_version || ', master is at ' || f.version END,
            CASE WHEN s.flow_id IS NULL AND f.flow_type IN ({bridged}) THEN 'CrewAI state missing' END,
            CASE WHEN s.status <> f.status
                 THEN 'CrewAI state status ' || s.status || ' does not match master status ' || f.status END,
            CASE WHEN s.master_version <> f.version
                 THEN 'CrewAI state reflects version ' || s.master_version || ', master is at ' || f.version END,
            CASE WHEN coalesce(e.n, 0) <> f.version OR e.last <> f.version
                 THEN 'version ' || f.version || ' but ' || coalesce(e.n, 0) || ' events' END
        ], NULL) AS problems
    FROM flows f
    LEFT JOIN children c USING ({KEYS})
    LEFT JOIN crewai_flow_states s USING ({KEYS})
    LEFT JOIN events e USING ({KEYS})
)
SELECT count(*) OVER () AS flows_checked, count(*) FILTER (WHERE cardinality(problems) > 0) OVER () AS inconsistent,
       client_account_id, engagement_id, flow_id, flow_type, status, version, problems
FROM checked
ORDER BY cardinality(problems) = 0, flow_id
LIMIT :limit
"""


class SqlConsistencyAuditor:
    def __init__(self, engine: AsyncEngine, child_tables: Iterable[str], bridged_types: Iterable[str]) -> None:
        self._engine = engine
        self._child_tables = sorted(child_tables)
        self._bridged_types = sorted(bridged_types)

    async def audit(self, limit: int = 100) -> AuditReport:
        started = time.perf_counter()
        async with self._engine.connect() as connection:
            await connection.execute(text("SET TRANSACTION READ ONLY"))
            present = [
                table
                for table in self._child_tables
                if (await connection.execute(text("SELECT to_regclass(:t)"), {"t": table})).scalar_one() is not None
            ]
            sql = text(audit_sql(present, self._bridged_types))
            rows = (await connection.execute(sql, {"limit": max(limit, 0) + 1})).mappings().all()
        checked = rows[0]["flows_checked"] if rows else 0
        inconsistent = rows[0]["inconsistent"] if rows else 0
        findings = [
            AuditFinding(
                flow_id=row["flow_id"],
                tenant=Tenant(row["client_account_id"], row["engagement_id"]),
                flow_type=row["flow_type"],
                status=row["status"],
                version=row["version"],
                problems=tuple(row["problems"]),
            )
            for row in rows
            if row["problems"]
        ][:limit]
        return AuditReport(checked, inconsistent, findings, round(time.perf_counter() - started, 3))
