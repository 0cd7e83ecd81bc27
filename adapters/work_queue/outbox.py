"""The WorkQueue port on pgqueuer's tables, written through the unit of work's own connection.

``enqueue_phase`` runs pgqueuer's own enqueue (``Queries.enqueue``: the INSERT into ``pgqueuer`` and
``pgqueuer_log``) on the unit of work's connection, inside its transaction.
The job therefore commits or rolls back with the state change that caused it, and the ``tg_pgqueuer_changed``
trigger's NOTIFY on ``ch_pgqueuer`` reaches the workers only at commit (PostgreSQL delivers notifications then).

Counted starts live in ``background_phase_attempts``, a table of MFO's own keyed by tenant, flow and version:
pgqueuer re-picks a job whose worker stopped sending heartbeats without counting it, so MFO counts them.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from pgqueuer.adapters.drivers.asyncpg import AsyncpgDriver
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment, QueryQueueBuilder
from pgqueuer.queries import Queries
from sqlalchemy import Column, DateTime, Integer, Table, bindparam, delete, func
from sqlalchemy.dialects.postgresql import insert

from adapters.persistence.statements import Executor, Statement, by_key, key_params
from adapters.persistence.storage_errors import translated_errors
from adapters.persistence.tables import metadata, tenant_columns
from domain.background import PhaseJob
from domain.events import Tenant

ENTRYPOINT = "mfo.run_phase"
"""The pgqueuer entrypoint of background phase jobs (the ``entrypoint`` column of the ``pgqueuer`` table)."""

background_phase_attempts = Table(
    "background_phase_attempts",
    metadata,
    *tenant_columns(),
    Column("flow_version", Integer, primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("last_started_at", DateTime(timezone=True), nullable=False),
)

_T = background_phase_attempts
_RECORD = Statement(
    insert(_T)
    .values(
        client_account_id=bindparam("c"),
        engagement_id=bindparam("e"),
        flow_id=bindparam("f"),
        flow_version=bindparam("v"),
        attempts=1,
        last_started_at=func.now(),
    )
    .on_conflict_do_update(
        index_elements=["client_account_id", "engagement_id", "flow_id", "flow_version"],
        set_={"attempts": _T.c.attempts + 1, "last_started_at": func.now()},
    )
    .returning(_T.c.attempts)
)
_CLEAR = Statement(delete(_T).where(by_key(_T), _T.c.flow_version == bindparam("v")))
_BUILDERS: dict[str, Any] = {"qbe": QueryBuilderEnvironment(), "qbq": QueryQueueBuilder()}


def job_payload(job: PhaseJob) -> bytes:
    return json.dumps(
        {
            "client_account_id": str(job.tenant.client_account_id),
            "engagement_id": str(job.tenant.engagement_id),
            "flow_id": str(job.flow_id),
            "expected_version": job.expected_version,
        }
    ).encode()


def job_from_payload(payload: bytes | None) -> PhaseJob:
    """The job a payload describes; ``ValueError`` when it describes none."""
    try:
        data = json.loads(payload or b"")
        tenant = Tenant(UUID(data["client_account_id"]), UUID(data["engagement_id"]))
        return PhaseJob(tenant, UUID(data["flow_id"]), int(data["expected_version"]))
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"not a phase job payload: {payload!r:.200}") from error


def dedupe_key(job: PhaseJob) -> str:
    return f"phase:{job.flow_id}:{job.expected_version}"


class PgQueuerWorkQueue:
    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    async def enqueue_phase(self, job: PhaseJob) -> None:
        # the unit of work's connection, its transaction begun: the job cannot commit on its own
        with translated_errors():
            queries = Queries(AsyncpgDriver(await self._executor.connection()), **_BUILDERS)
            await queries.enqueue(ENTRYPOINT, job_payload(job), dedupe_key=dedupe_key(job), on_conflict="skip")

    async def record_attempt(self, job: PhaseJob) -> int:
        params = {**key_params(job.tenant, job.flow_id), "v": job.expected_version}
        row = await self._executor.fetchrow(_RECORD, params)
        assert row is not None  # an upsert with RETURNING always returns its row
        return int(row["attempts"])

    async def clear_attempts(self, job: PhaseJob) -> None:
        await self._executor.execute(_CLEAR, {**key_params(job.tenant, job.flow_id), "v": job.expected_version})
