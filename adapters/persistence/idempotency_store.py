"""IdempotencyStore on PostgreSQL: one row per tenant and key, written in the unit of work's transaction.

``claim`` inserts the key first thing in the transaction. The primary key makes a concurrent claim of the same key
wait for this transaction: when it commits, the waiter finds the stored answer; when it rolls back, the waiter takes
the key itself. The wait is bounded by ``lock_timeout`` (then: in progress, 409).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Uuid,
    and_,
    bindparam,
    delete,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert

from adapters.persistence.statements import Executor, Statement
from adapters.persistence.storage_errors import LOCK_NOT_AVAILABLE, sqlstate
from adapters.persistence.tables import metadata
from domain.errors import FlowBusy
from domain.events import Tenant
from domain.idempotency import (
    MAX_KEY_LENGTH,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    StoredResponse,
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("client_account_id", Uuid, primary_key=True),
    Column("engagement_id", Uuid, primary_key=True),
    Column("idempotency_key", String(MAX_KEY_LENGTH), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("status_code", Integer),
    Column("media_type", String(100)),
    Column("response_headers", JSONB),
    Column("response_body", LargeBinary),
)
Index("ix_idempotency_keys_expires_at", idempotency_keys.c.expires_at)

_KEY = and_(
    idempotency_keys.c.client_account_id == bindparam("c"),
    idempotency_keys.c.engagement_id == bindparam("e"),
    idempotency_keys.c.idempotency_key == bindparam("k"),
)
_KEY_COLUMNS = (
    idempotency_keys.c.client_account_id,
    idempotency_keys.c.engagement_id,
    idempotency_keys.c.idempotency_key,
)
_NEW = insert(idempotency_keys).values(
    client_account_id=bindparam("c"),
    engagement_id=bindparam("e"),
    idempotency_key=bindparam("k"),
    fingerprint=bindparam("fingerprint"),
    created_at=bindparam("now"),
    expires_at=bindparam("expires_at"),
)
# An expired key is taken over as if it were new; a live one is left alone (and no row comes back).
_CLAIM = Statement(
    _NEW.on_conflict_do_update(
        index_elements=["client_account_id", "engagement_id", "idempotency_key"],
        set_={
            "fingerprint": _NEW.excluded.fingerprint,
            "created_at": _NEW.excluded.created_at,
            "expires_at": _NEW.excluded.expires_at,
            "status_code": None,
            "media_type": None,
            "response_headers": None,
            "response_body": None,
        },
        where=idempotency_keys.c.expires_at <= _NEW.excluded.created_at,
    ).returning(idempotency_keys.c.idempotency_key)
)
_STORED = Statement(
    select(
        idempotency_keys.c.fingerprint,
        idempotency_keys.c.status_code,
        idempotency_keys.c.media_type,
        idempotency_keys.c.response_headers,
        idempotency_keys.c.response_body,
    ).where(_KEY)
)
_COMPLETE = Statement(
    update(idempotency_keys)
    .where(_KEY)
    .values(
        status_code=bindparam("status_code"),
        media_type=bindparam("media_type"),
        response_headers=bindparam("response_headers"),
        response_body=bindparam("response_body"),
    )
)
# The expired keys in a materialized CTE, run once: as a plain IN (subquery) the planner may rescan the subquery
# once per outer row (a nested loop semi join), and the LIMIT then bounds each scan instead of the whole DELETE.
_LOCK_WAIT = Statement(
    text("SELECT current_setting('lock_timeout') AS previous, set_config('lock_timeout', :wait, true)").bindparams(
        bindparam("wait", type_=String)
    )
)
"""How long a claim waits for a key another unit of work holds (transaction-local), returning the wait before."""
_EXPIRED = (
    select(*_KEY_COLUMNS)
    .where(idempotency_keys.c.expires_at <= bindparam("now"))
    .limit(bindparam("page"))
    .with_for_update(skip_locked=True)
    .cte("expired")
    .prefix_with("MATERIALIZED")
)
_PURGE = Statement(delete(idempotency_keys).where(tuple_(*_KEY_COLUMNS).in_(select(*_EXPIRED.c))))


class PgIdempotencyStore:
    def __init__(self, executor: Executor, wait_ms: int = 10_000) -> None:
        self._executor = executor
        self._wait_ms = int(wait_ms)

    async def claim(
        self, tenant: Tenant, key: str, fingerprint: str, *, now: datetime, expires_at: datetime
    ) -> StoredResponse | None:
        params = _params(tenant, key)
        waited = await self._executor.fetchrow(_LOCK_WAIT, {"wait": f"{self._wait_ms}ms"})
        assert waited is not None
        try:
            claimed = await self._executor.fetchrow(
                _CLAIM, {**params, "fingerprint": fingerprint, "now": now, "expires_at": expires_at}
            )
        except FlowBusy as busy:  # another unit of work holds the key past the wait
            if sqlstate(busy.__cause__) == LOCK_NOT_AVAILABLE:
                raise IdempotencyKeyInProgress(key) from busy
            raise
        await self._executor.fetchrow(_LOCK_WAIT, {"wait": waited["previous"]})  # the pool's own lock wait again
        if claimed is not None:
            return None
        row = await self._executor.fetchrow(_STORED, params)
        assert row is not None  # the key exists: the claim conflicted with it
        if row["fingerprint"] != fingerprint:
            raise IdempotencyKeyReused(key)
        if row["status_code"] is None:  # not reachable while claims and answers share one transaction
            raise IdempotencyKeyInProgress(key)
        return StoredResponse(
            status_code=row["status_code"],
            body=bytes(row["response_body"]),
            headers=dict(row["response_headers"] or {}),
            media_type=row["media_type"] or "application/json",
        )

    async def complete(self, tenant: Tenant, key: str, response: StoredResponse) -> None:
        await self._executor.execute(
            _COMPLETE,
            {
                **_params(tenant, key),
                "status_code": response.status_code,
                "media_type": response.media_type,
                "response_headers": response.headers,
                "response_body": response.body,
            },
        )

    async def purge_expired(self, now: datetime, limit: int) -> int:
        return await self._executor.execute(_PURGE, {"now": now, "page": limit})


def _params(tenant: Tenant, key: str) -> dict[str, Any]:
    return {"c": tenant.client_account_id, "e": tenant.engagement_id, "k": key}
