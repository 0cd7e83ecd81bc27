"""Consistency audit runs, kept in PostgreSQL so every replica (and the dashboard) reads the same latest result.

The table is operator data across tenants, so, unlike the flow tables, its key is not the tenant: one row per run,
the newest :data:`KEEP_RUNS` kept. :class:`PgAuditLock` makes sure one replica audits at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Column, DateTime, Float, Identity, String, Table, bindparam, delete, insert, select
from sqlalchemy.dialects.postgresql import JSONB

from adapters.persistence.database import Database
from adapters.persistence.statements import Statement
from adapters.persistence.tables import metadata
from domain.events import Tenant
from domain.ports import AuditFinding, AuditReport, AuditRun

KEEP_RUNS = 1000
AUDIT_LOCK_KEY = 0x6D666F_A0D1  # pg_try_advisory_xact_lock key of the periodic audit ("mfo" + "audit")

consistency_audit_runs = Table(
    "consistency_audit_runs",
    metadata,
    Column("run_id", BigInteger, Identity(), primary_key=True),
    Column("trigger", String(32), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("flows_checked", BigInteger, nullable=False),
    Column("inconsistent", BigInteger, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("findings", JSONB, nullable=False),
)


_T = consistency_audit_runs
_RECORD = Statement(
    insert(_T)
    .values(
        trigger=bindparam("trigger"),
        started_at=bindparam("started_at"),
        finished_at=bindparam("finished_at"),
        flows_checked=bindparam("flows_checked"),
        inconsistent=bindparam("inconsistent"),
        seconds=bindparam("seconds"),
        findings=bindparam("findings", type_=JSONB),
    )
    .returning(_T.c.run_id)
)
_FORGET_OLD = Statement(delete(_T).where(_T.c.run_id <= bindparam("oldest_forgotten")))
_LATEST = Statement(select(_T).order_by(_T.c.run_id.desc()).limit(1))


def finding_json(finding: AuditFinding) -> dict[str, Any]:
    return {
        "flow_id": str(finding.flow_id),
        "client_account_id": str(finding.tenant.client_account_id),
        "engagement_id": str(finding.tenant.engagement_id),
        "flow_type": finding.flow_type,
        "status": finding.status,
        "version": finding.version,
        "problems": list(finding.problems),
    }


def _finding(data: dict[str, Any]) -> AuditFinding:
    return AuditFinding(
        flow_id=UUID(data["flow_id"]),
        tenant=Tenant(UUID(data["client_account_id"]), UUID(data["engagement_id"])),
        flow_type=data["flow_type"],
        status=data["status"],
        version=data["version"],
        problems=tuple(data["problems"]),
    )


class SqlAuditRunStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def record(self, run: AuditRun) -> AuditRun:
        params = {
            "trigger": run.trigger,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "flows_checked": run.report.flows_checked,
            "inconsistent": run.report.inconsistent,
            "seconds": run.report.seconds,
            "findings": [finding_json(f) for f in run.report.findings],
        }
        async with self._database.connection() as connection, connection.transaction():
            run_id = await connection.fetchval(_RECORD.sql, *_RECORD.arguments(params))
            await connection.execute(_FORGET_OLD.sql, *_FORGET_OLD.arguments({"oldest_forgotten": run_id - KEEP_RUNS}))
        return AuditRun(run.trigger, run.started_at, run.finished_at, run.report, run_id)

    async def latest(self) -> AuditRun | None:
        async with self._database.connection() as connection:
            row = await connection.fetchrow(_LATEST.sql, *_LATEST.arguments({}))
        if row is None:
            return None
        report = AuditReport(
            row["flows_checked"], row["inconsistent"], [_finding(f) for f in row["findings"]], row["seconds"]
        )
        return AuditRun(row["trigger"], row["started_at"], row["finished_at"], report, row["run_id"])


class PgAuditLock:
    """``pg_try_advisory_xact_lock`` in a transaction held open while the audit runs: released when it ends,
    even if this process dies, and never left behind on a pooled connection."""

    def __init__(self, database: Database, key: int = AUDIT_LOCK_KEY) -> None:
        self._database = database
        self._key = key

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[bool]:
        async with self._database.connection() as connection, connection.transaction():
            yield bool(await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", self._key))
