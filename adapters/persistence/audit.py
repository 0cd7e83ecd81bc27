"""The consistency auditor: one set-based SQL statement over every flow of every tenant, or of one tenant.

A flow is reported when its child record is missing, its child status is not the one the master status maps to,
its child or its stored CrewAI state reflects another master version or status, a flow type that runs through
the bridge has no stored CrewAI state, or its version differs from its number of events.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from uuid import UUID

from adapters.persistence.database import Database
from domain.events import Tenant
from domain.lifecycle import FlowStatus
from domain.ports import AuditFinding, AuditReport
from domain.status_sync import child_status_for

WORK_MEM = "256MB"  # the grouping stays in memory up to millions of flows

BRIDGED = 16  # added to the master row's status code when its flow type runs through the CrewAI bridge
SHIFT = 32  # a view's integer: version * SHIFT + status code


def _code(column: str, statuses: Iterable[str]) -> str:
    """``column`` as a small integer: the position (from 1) of its value in ``statuses``, 0 for any other value."""
    cases = " ".join(f"WHEN '{value}' THEN {n}" for n, value in enumerate(statuses, start=1))
    return f"CASE {column} {cases} ELSE 0 END"


TENANT_COLUMNS = ("client_account_id", "engagement_id")


def tenant_condition(tenant_scoped: bool, first: int) -> str:
    """The ``WHERE`` of every table the audit reads: nothing, or the tenant's two columns as the positional
    parameters ``$first`` (client account) and ``$first+1`` (engagement)."""
    if not tenant_scoped:
        return ""
    return " WHERE " + " AND ".join(f"{column} = ${n}" for n, column in enumerate(TENANT_COLUMNS, start=first))


def tenant_arguments(tenant: Tenant | None) -> list[UUID]:
    """The tenant's values for ``tenant_condition``'s parameters, in their order (none for every tenant)."""
    return [] if tenant is None else [tenant.client_account_id, tenant.engagement_id]


def flows_checked_sql(tenant_scoped: bool = False) -> str:
    """The flows the audit checks; when ``tenant_scoped``, the tenant is ``$1`` and ``$2``."""
    return "SELECT count(*) FROM flows" + tenant_condition(tenant_scoped, first=1)


def audit_sql(child_tables: Iterable[str], bridged_types: Iterable[str], tenant_scoped: bool = False) -> str:
    """One pass: every stored view of every flow, grouped by flow id, and the groups that disagree.

    Before the grouping, every view is reduced to one integer: ``version * 32 + status code``, where a status code
    is the position of the master status it stands for (so a child status is compared through
    ``child_status_for``) and the master row adds 16 when its flow type runs through the CrewAI bridge. Each view
    fills its own column and leaves the others NULL, so the one hash aggregate runs seven plain integer aggregates
    per row, without FILTER clauses; the master row's ``ctid`` finds it again for the flows reported. Grouping by
    the flow id alone keeps the aggregate fast; the foreign keys from the child tables, CrewAI states and events to
    ``flows`` include the tenant, so these rows cannot belong to another tenant. The texts of a reported flow's
    child and CrewAI statuses are read back by key, for the report only. When a flow has more than one child
    record, the one reflecting the highest version is compared.

    The limit is the parameter ``$1``. ``tenant_scoped``: every table read (flows, CrewAI states, events, each child
    table) is restricted to the tenant in the parameters ``$2`` (client account) and ``$3`` (engagement) (a tenant's
    own audit, over the tenant prefix of every index); otherwise every tenant's flows are read.
    """
    where = tenant_condition(tenant_scoped, first=2)
    tables = sorted(child_tables)
    as_master = _code("status", [str(s) for s in FlowStatus])
    as_child = _code("status", [child_status_for(s) for s in FlowStatus])
    bridged = ", ".join(f"'{name}'" for name in sorted(bridged_types)) or "NULL"
    child = f"master_version * {SHIFT} + {as_child}"
    children = "".join(
        f"\n        UNION ALL SELECT flow_id, NULL, NULL, {child}, NULL, NULL FROM {t}{where}" for t in tables
    )
    key = " AND ".join(f"v.{k} = f.{k}" for k in ("client_account_id", "engagement_id", "flow_id"))
    child_text = (
        "coalesce(" + ", ".join(f"(SELECT v.status FROM {table} v WHERE {key})" for table in tables) + ")"
        if tables
        else "NULL"
    )
    crewai_text = f"(SELECT v.status FROM crewai_flow_states v WHERE {key})"
    master_code, master_version = f"d.master % {BRIDGED}", f"d.master / {SHIFT}"
    child_code, child_version = f"d.child % {SHIFT}", f"d.child / {SHIFT}"
    crewai_code, crewai_version = f"d.crewai % {SHIFT}", f"d.crewai / {SHIFT}"
    checks = [
        ("d.master IS NULL", "'master row missing'"),
        ("d.children = 0", "'child record missing'"),
        ("d.children > 1", "'more than one child record'"),
        (
            f"{child_code} <> {master_code}",
            f"'child status ' || {child_text} || ' does not match master status ' || f.status",
        ),
        (
            f"{child_version} <> {master_version}",
            f"'child reflects version ' || {child_version} || ', master is at ' || {master_version}",
        ),
        (f"d.master % {SHIFT} >= {BRIDGED} AND d.crewai IS NULL", "'CrewAI state missing'"),
        (
            f"{crewai_code} <> {master_code}",
            f"'CrewAI state status ' || {crewai_text} || ' does not match master status ' || f.status",
        ),
        (
            f"{crewai_version} <> {master_version}",
            f"'CrewAI state reflects version ' || {crewai_version} || ', master is at ' || {master_version}",
        ),
        (
            f"d.events <> {master_version} OR d.last_event <> {master_version}",
            f"'version ' || {master_version} || ' but ' || d.events || ' events'",
        ),
    ]
    problems = ",\n        ".join(f"CASE WHEN {when} THEN {what} END" for when, what in checks)
    disagree = "\n    OR ".join(f"coalesce({when}, false)" for when, _ in checks)
    master = f"version::bigint * {SHIFT} + {as_master} + CASE WHEN flow_type IN ({bridged}) THEN {BRIDGED} ELSE 0 END"
    return f"""
WITH grouped AS (
    SELECT flow_id, max(m) AS master, max(ref) AS master_ref, count(c) AS children, max(c) AS child,
           max(s) AS crewai, count(e) AS events, max(e) AS last_event
    FROM (
        SELECT flow_id, {master}, ctid, NULL::bigint, NULL::bigint, NULL::integer FROM flows{where}
        UNION ALL SELECT flow_id, NULL, NULL, NULL, master_version * {SHIFT} + {as_master}, NULL
        FROM crewai_flow_states{where}
        UNION ALL SELECT flow_id, NULL, NULL, NULL, NULL, version FROM flow_events{where}{children}
    ) AS views (flow_id, m, ref, c, s, e)
    GROUP BY flow_id
), disagreeing AS (
    SELECT * FROM grouped d
    WHERE {disagree}
)
SELECT count(*) OVER () AS inconsistent, d.flow_id, f.client_account_id, f.engagement_id, f.flow_type, f.status,
       f.version, array_remove(ARRAY[
        {problems}
       ], NULL) AS problems
FROM disagreeing d LEFT JOIN flows f ON f.ctid = d.master_ref
ORDER BY d.flow_id
LIMIT $1
"""


class SqlConsistencyAuditor:
    """The audit, run on the schema owner's database (it reads every tenant): one read-only, repeatable-read
    transaction, so every view it compares is of the same instant."""

    def __init__(self, database: Database, child_tables: Iterable[str], bridged_types: Iterable[str]) -> None:
        self._database = database
        self._child_tables = sorted(child_tables)
        self._bridged_types = sorted(bridged_types)

    async def audit(self, limit: int = 100, tenant: Tenant | None = None) -> AuditReport:
        """Every tenant's flows, or only ``tenant``'s (its counts and findings alone)."""
        scoped, tenant_ids = tenant is not None, tenant_arguments(tenant)
        started = time.perf_counter()
        async with (
            self._database.connection() as connection,
            connection.transaction(isolation="repeatable_read", readonly=True),
        ):
            await connection.execute(
                f"SET LOCAL work_mem = '{WORK_MEM}'; SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off"
            )
            checked = await connection.fetchval(flows_checked_sql(scoped), *tenant_ids)
            present = [
                table
                for table in self._child_tables
                if await connection.fetchval("SELECT to_regclass($1)", table) is not None
            ]
            sql = audit_sql(present, self._bridged_types, scoped)
            rows = await connection.fetch(sql, max(limit, 1), *tenant_ids)
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
