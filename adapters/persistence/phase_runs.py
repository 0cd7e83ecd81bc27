"""phase_leases and phase_attempts: the PhaseRuns port (a tenant's, through the unit of work) and the PhaseQueue
port (every tenant's, on the owner's pool, for runners).

A lease's times are the database's (``now()``), so every runner measures them on one clock. An attempt's start and
end are the database's clock when it is written (``clock_timestamp()``), under the flow's row lock: so a flow's
attempts are ordered as their claims committed, even when the claims' transactions began in another order (one
waited for the lock).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import fields
from typing import Any
from uuid import UUID

import asyncpg
from sqlalchemy import text

from adapters.persistence.database import Database, connect_host_by_host, postgres_dsn
from adapters.persistence.statements import Executor, Statement, key_params
from adapters.persistence.storage_errors import translated_errors
from domain.background import AttemptResult, DueWork, HeldPhase, QueuedFlow, TenantQueue
from domain.events import Tenant
from domain.flow import Flow
from domain.ports import Attempt, Lease

log = logging.getLogger("mfo.runner")
DUE_CHANNEL = "mfo_phase_due"
"""The channel a change that made work due notifies (at its commit, as PostgreSQL delivers notifications)."""
_ANNOUNCE = Statement(text(f"SELECT pg_notify('{DUE_CHANNEL}', '')"))
_TENANT = "client_account_id = :c AND engagement_id = :e"
_HOLD_TENANT = Statement(
    text(
        "SELECT pg_advisory_xact_lock(hashtextextended("
        "CAST(CAST(:c AS uuid) AS text) || '/' || CAST(CAST(:e AS uuid) AS text), 20231))"
    )
)
_RUNNING = Statement(text(f"SELECT count(*) AS n FROM phase_leases WHERE {_TENANT}"))
_GRANT = Statement(
    text(
        "WITH lease AS ("
        " INSERT INTO phase_leases (client_account_id, engagement_id, flow_id, run_id, owner, granted_at, expires_at)"
        " VALUES (:c, :e, :f, :run_id, :owner, now(), now() + make_interval(secs => :seconds))"
        " ON CONFLICT (client_account_id, engagement_id, flow_id) DO UPDATE SET run_id = excluded.run_id,"
        " owner = excluded.owner, granted_at = excluded.granted_at, expires_at = excluded.expires_at)"
        " INSERT INTO phase_attempts (client_account_id, engagement_id, flow_id, run_id, phase, attempt, owner,"
        " started_at) VALUES (:c, :e, :f, :run_id, :phase, :attempt, :owner, clock_timestamp())"
    )
)
_END = Statement(
    text(
        "WITH lease AS (DELETE FROM phase_leases WHERE client_account_id = :c AND engagement_id = :e"
        " AND flow_id = :f AND run_id = :run_id)"
        " UPDATE phase_attempts SET ended_at = coalesce(ended_at, clock_timestamp()), result = :result,"
        " detail = CASE WHEN :result = 'discarded' AND result IS NOT NULL"
        " THEN coalesce(detail || '; ', '') || :detail ELSE :detail END"
        " WHERE client_account_id = :c AND engagement_id = :e AND flow_id = :f AND run_id = :run_id"
        " AND (CAST(:result AS text) <> 'discarded' OR result IS NULL OR result IN ('revoked', 'retrying'))"
    )
)
_LEASE = Statement(
    text(
        "SELECT run_id, owner, expires_at FROM phase_leases WHERE client_account_id = :c AND engagement_id = :e"
        " AND flow_id = :f"
    )
)
_ATTEMPTS = Statement(
    text(
        "SELECT run_id, phase, attempt, owner, started_at, ended_at, result, detail FROM phase_attempts"
        " WHERE client_account_id = :c AND engagement_id = :e AND flow_id = :f"
        " ORDER BY started_at DESC, attempt DESC LIMIT :limit"
    )
)

_WAITING = Statement(
    text(
        "SELECT flow_id, name, flow_type, coalesce(phase_run->>'phase', current_phase) AS phase,"
        " coalesce(CAST(phase_run->>'attempt' AS integer) + 1, 1) AS attempt, run_due_at AS due_at,"
        " run_due_at <= now() AS due, count(*) OVER () AS total, count(*) FILTER (WHERE run_due_at <= now()) OVER ()"
        f" AS due_total FROM flows WHERE {_TENANT} AND run_due_at IS NOT NULL ORDER BY run_due_at, flow_id"
        " LIMIT :limit"
    )
)
_HELD = Statement(
    text(
        "SELECT l.flow_id, f.name, f.flow_type, a.phase, a.attempt, l.owner, a.started_at, l.expires_at,"
        " l.expires_at < now() AS expired, count(*) OVER () AS total,"
        " count(*) FILTER (WHERE l.expires_at < now()) OVER () AS expired_total"
        " FROM phase_leases l"
        " JOIN flows f USING (client_account_id, engagement_id, flow_id)"
        " JOIN phase_attempts a USING (client_account_id, engagement_id, flow_id, run_id)"
        " WHERE l.client_account_id = :c AND l.engagement_id = :e ORDER BY a.started_at, l.flow_id LIMIT :limit"
    )
)
_NOW = Statement(text("SELECT now() AS now"))


class PgPhaseRuns:
    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    async def hold_tenant(self, tenant: Tenant) -> None:
        await self._executor.fetchrow(_HOLD_TENANT, _tenant(tenant))

    async def running(self, tenant: Tenant) -> int:
        row = await self._executor.fetchrow(_RUNNING, _tenant(tenant))
        assert row is not None
        return int(row["n"])

    async def grant(self, flow: Flow, run_id: UUID, owner: str, lease_seconds: float) -> None:
        assert flow.run is not None and flow.run.run_id == run_id
        params = {
            **key_params(flow.tenant, flow.flow_id),
            "run_id": run_id,
            "owner": owner,
            "seconds": float(lease_seconds),
            "phase": flow.run.phase,
            "attempt": flow.run.attempt,
        }
        await self._executor.execute(_GRANT, params)

    async def end(self, tenant: Tenant, flow_id: UUID, run_id: UUID, result: str, detail: str | None) -> None:
        params = {**key_params(tenant, flow_id), "run_id": run_id, "result": str(result), "detail": detail}
        await self._executor.execute(_END, params)

    async def lease_of(self, tenant: Tenant, flow_id: UUID) -> Lease | None:
        row = await self._executor.fetchrow(_LEASE, key_params(tenant, flow_id))
        return None if row is None else Lease(row["run_id"], row["owner"], row["expires_at"])

    async def attempts(self, tenant: Tenant, flow_id: UUID, limit: int) -> list[Attempt]:
        rows = await self._executor.fetch(_ATTEMPTS, {**key_params(tenant, flow_id), "limit": limit})
        return [Attempt(**dict(row)) for row in rows]

    async def announce_due(self) -> None:
        await self._executor.fetchrow(_ANNOUNCE, {})

    async def queue(self, tenant: Tenant, limit: int) -> TenantQueue:
        params = {**_tenant(tenant), "limit": limit}
        now = await self._executor.fetchrow(_NOW, {})
        waiting = await self._executor.fetch(_WAITING, params)
        held = await self._executor.fetch(_HELD, params)
        assert now is not None
        return TenantQueue(
            checked_at=now["now"],
            waiting=[QueuedFlow(**{k: r[k] for k in _QUEUED_FIELDS}) for r in waiting],
            running=[HeldPhase(**{k: r[k] for k in _HELD_FIELDS}) for r in held],
            waiting_count=waiting[0]["total"] if waiting else 0,
            due_count=waiting[0]["due_total"] if waiting else 0,
            running_count=held[0]["total"] if held else 0,
            expired_count=held[0]["expired_total"] if held else 0,
        )


_QUEUED_FIELDS = [f.name for f in fields(QueuedFlow)]
_HELD_FIELDS = [f.name for f in fields(HeldPhase)]


def _tenant(tenant: Tenant) -> dict[str, Any]:
    return {"c": tenant.client_account_id, "e": tenant.engagement_id}


_DUE_SQL = """
WITH expired AS (
    SELECT client_account_id, engagement_id, flow_id, run_id, expires_at FROM phase_leases
    WHERE expires_at < now() ORDER BY expires_at LIMIT $1
), held AS (
    SELECT client_account_id, engagement_id, count(*) AS n FROM phase_leases GROUP BY 1, 2
), due AS (
    SELECT client_account_id, engagement_id, flow_id, run_due_at,
           row_number() OVER (PARTITION BY client_account_id, engagement_id ORDER BY run_due_at, flow_id) AS turn
    FROM flows WHERE run_due_at <= now()
)
SELECT client_account_id, engagement_id, flow_id, run_id, 0 AS turn, expires_at AS due FROM expired
UNION ALL
SELECT * FROM (
    SELECT d.client_account_id, d.engagement_id, d.flow_id, NULL::uuid, d.turn, d.run_due_at
    FROM due d LEFT JOIN held h USING (client_account_id, engagement_id)
    WHERE d.turn + coalesce(h.n, 0) <= $2
    ORDER BY d.turn, d.run_due_at LIMIT $1
) fair
ORDER BY turn, due
LIMIT $1
"""
_RENEW_SQL = (
    "UPDATE phase_leases SET expires_at = now() + make_interval(secs => $3)"
    " WHERE owner = $1 AND run_id = ANY($2::uuid[]) RETURNING run_id"
)


class PgPhaseQueue:
    """Every tenant's due work, on the schema owner's pool (row-level security does not restrict it); ``listen``
    holds a connection of its own (outside the pool) to ``url`` for the notifications of due work. With no ``url``
    (behind PgBouncer without ``MFO_DB_LISTEN_URL``: a LISTEN there would stop hearing once its transaction ended)
    it listens to nothing, and the runner polls only."""

    def __init__(self, database: Database, url: str | None = None) -> None:
        self._database = database
        self._url = url
        self._listener: asyncpg.Connection | None = None
        self._said_polling = False

    async def due(self, limit: int, tenant_limit: int) -> list[DueWork]:
        async with self._database.connection() as connection:
            rows = await connection.fetch(_DUE_SQL, limit, tenant_limit)
        return [
            DueWork(Tenant(r["client_account_id"], r["engagement_id"]), r["flow_id"], expired_run=r["run_id"])
            for r in rows
        ]

    async def renew(self, owner: str, run_ids: list[UUID], lease_seconds: float) -> set[UUID]:
        async with self._database.connection() as connection:
            rows = await connection.fetch(_RENEW_SQL, owner, run_ids, float(lease_seconds))
        return {r["run_id"] for r in rows}

    async def listen(self, wake: Callable[[], None]) -> None:
        await self.unlisten()
        if self._url is None:
            if not self._said_polling:
                log.info("no database URL to LISTEN on for due work (MFO_DB_LISTEN_URL): polling only")
                self._said_polling = True
            return
        with translated_errors():
            connection = await connect_host_by_host(
                postgres_dsn(self._url),
                timeout=self._database.options.connect_timeout_seconds,
                server_settings={"application_name": "mfo-runner-listen"},
            )
            await connection.add_listener(DUE_CHANNEL, lambda *_: wake())
        connection.add_termination_listener(lambda _: wake())  # lost: the runner's next poll listens again
        self._listener = connection

    @property
    def listening(self) -> bool:
        return self._listener is not None and not self._listener.is_closed()

    async def unlisten(self) -> None:
        connection, self._listener = self._listener, None
        if connection is not None and not connection.is_closed():
            connection.terminate()


__all__ = ["AttemptResult", "PgPhaseQueue", "PgPhaseRuns"]
