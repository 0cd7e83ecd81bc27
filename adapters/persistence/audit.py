"""The consistency auditor: one set-based SQL statement over every flow of every tenant.

A flow is reported when its child record is missing, its child status is not the one the master status maps to,
its child or its stored CrewAI state reflects another master version or status, a flow type that runs through
the bridge has no stored CrewAI state, or its version differs from its number of events.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import Tenant
from domain.lifecycle import FlowStatus
from domain.ports import AuditFinding, AuditReport
from domain.status_sync import child_status_for

WORK_MEM = "256MB"  # the grouping stays in memory up to millions of flows

# One row per stored view of a flow: 1 the master row, 2 its child record, 3 its CrewAI state, 4 each event.
MASTER, CHILD, CREWAI, EVENT = 1, 2, 3, 4


def audit_sql(child_tables: Iterable[str], bridged_types: Iterable[str]) -> str:
    """One pass: every stored view of every flow, grouped by flow id, and the groups that disagree.

    Grouping by the flow id alone keeps the single hash aggregate fast; the foreign keys from the child tables,
    CrewAI states and events to ``flows`` include the tenant, so these rows cannot belong to another tenant.
    """
    children = "".join(
        f"\n    UNION ALL SELECT flow_id, {CHILD}, NULL, status, master_version FROM {table}"
        for table in sorted(child_tables)
    )
    mapping = " ".join(f"WHEN '{s}' THEN '{child_status_for(s)}'" for s in FlowStatus)
    bridged = ", ".join(f"'{name}'" for name in sorted(bridged_types)) or "NULL"

    def of(source: int, column: str, aggregate: str = "max") -> str:
        return f"{aggregate}({column}) FILTER (WHERE src = {source})"

    master_status, master_version = of(MASTER, "status", "min"), of(MASTER, "version")
    child_status, child_version = of(CHILD, "status", "min"), of(CHILD, "version")
    crewai_status, crewai_version = of(CREWAI, "status", "min"), of(CREWAI, "version")
    events, last_event = f"count(*) FILTER (WHERE src = {EVENT})", of(EVENT, "version")
    checks = [
        (f"count(*) FILTER (WHERE src = {MASTER}) = 0", "'master row missing'"),
        (f"count(*) FILTER (WHERE src = {CHILD}) = 0", "'child record missing'"),
        (f"count(*) FILTER (WHERE src = {CHILD}) > 1", "'more than one child record'"),
        (
            f"{child_status} <> (CASE {master_status} {mapping} END)",
            f"'child status ' || {child_status} || ' does not match master status ' || {master_status}",
        ),
        (
            f"{child_version} <> {master_version}",
            f"'child reflects version ' || {child_version} || ', master is at ' || {master_version}",
        ),
        (
            f"bool_or(bridged) AND count(*) FILTER (WHERE src = {CREWAI}) = 0",
            "'CrewAI state missing'",
        ),
        (
            f"{crewai_status} <> {master_status}",
            f"'CrewAI state status ' || {crewai_status} || ' does not match master status ' || {master_status}",
        ),
        (
            f"{crewai_version} <> {master_version}",
            f"'CrewAI state reflects version ' || {crewai_version} || ', master is at ' || {master_version}",
        ),
        (
            f"{events} <> {master_version} OR {last_event} <> {master_version}",
            f"'version ' || {master_version} || ' but ' || {events} || ' events'",
        ),
    ]
    problems = ",\n        ".join(f"CASE WHEN {when} THEN {what} END" for when, what in checks)
    having = "\n    OR ".join(f"coalesce({when}, false)" for when, _ in checks)
    return f"""
WITH disagreeing AS (
    SELECT flow_id, array_remove(ARRAY[
        {problems}
       ], NULL) AS problems
    FROM (
        SELECT flow_id, {MASTER} AS src, flow_type IN ({bridged}), status, version FROM flows
        UNION ALL SELECT flow_id, {CREWAI}, NULL, status, master_version FROM crewai_flow_states
        UNION ALL SELECT flow_id, {EVENT}, NULL, NULL, version FROM flow_events{children}
    ) AS views (flow_id, src, bridged, status, version)
    GROUP BY flow_id
    HAVING {having}
)
SELECT count(*) OVER () AS inconsistent, d.flow_id, f.client_account_id, f.engagement_id, f.flow_type, f.status,
       f.version, d.problems
FROM disagreeing d LEFT JOIN flows f ON f.flow_id = d.flow_id
ORDER BY d.flow_id
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
            await connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            for setting in (f"work_mem = '{WORK_MEM}'", "max_parallel_workers_per_gather = 0", "jit = off"):
                await connection.execute(text(f"SET LOCAL {setting}"))
            checked = (await connection.execute(text("SELECT count(*) FROM flows"))).scalar_one()
            present = [
                table
                for table in self._child_tables
                if (await connection.execute(text("SELECT to_regclass(:t)"), {"t": table})).scalar_one() is not None
            ]
            sql = text(audit_sql(present, self._bridged_types))
            rows = (await connection.execute(sql, {"limit": max(limit, 1)})).mappings().all()
        inconsistent = rows[0]["inconsistent"] if rows else 0
        findings = [
            AuditFinding(
                flow_id=row["flow_id"],
                tenant=Tenant(row["client_account_id"] or UUID(int=0), row["engagement_id"] or UUID(int=0)),
                flow_type=row["flow_type"] or "",
                status=row["status"] or "",
                version=row["version"] or 0,
                problems=tuple(row["problems"]),
            )
            for row in rows[: max(limit, 0)]
        ]
        return AuditReport(checked, inconsistent, findings, round(time.perf_counter() - started, 3))
