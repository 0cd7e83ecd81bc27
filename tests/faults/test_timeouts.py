"""A lock timeout and a statement timeout fire mid-operation, after the master row was already updated in the
request's transaction, while clients create and drive flows.

- Lock timeout: a second session holds every existing child row (``discovery_flows``) locked, so a transition's
  child write waits past ``MFO_DB_LOCK_TIMEOUT_MS``: 409 ``flow-busy`` with Retry-After (ADR 0010).
- Statement timeout: a trigger (installed in this test's own cluster only) makes the event insert sleep past
  ``MFO_DB_STATEMENT_TIMEOUT_MS``: 503 ``storage-unavailable`` with Retry-After.

Either way the whole transaction rolls back: nothing acknowledged is lost and the auditor finds nothing half-written.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from entrypoints.local_postgres import LocalPostgres
from tests.faults.environment import audit_findings, changed_after_refusals, lost_writes
from tests.faults.load import Load
from tests.support import eventually

pytestmark = pytest.mark.slow

SLOW_EVENTS = [
    "CREATE TABLE fault_switch (slow boolean NOT NULL)",
    "INSERT INTO fault_switch VALUES (false)",
    """CREATE FUNCTION fault_slow_event() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT slow FROM fault_switch) THEN PERFORM pg_sleep(5); END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER fault_slow_event BEFORE INSERT ON flow_events FOR EACH ROW EXECUTE FUNCTION fault_slow_event()",
]


async def test_lock_and_statement_timeouts_mid_operation(cluster: LocalPostgres, serve) -> None:  # type: ignore[no-untyped-def]
    url = cluster.url(cluster.port or 0)
    side = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with side.connect() as connection:
        for statement in SLOW_EVENTS:
            await connection.execute(text(statement))
    server = serve(MFO_DB_STATEMENT_TIMEOUT_MS="1000", MFO_DB_LOCK_TIMEOUT_MS="300", MFO_IDEMPOTENCY_WAIT_MS="500")
    await server.start()
    load = Load(server.base_url)
    load.start()
    try:
        await eventually(
            lambda: load.ledger.acks >= 30, within=20, what="acknowledged writes before the faults", detail=load.summary
        )

        async with side.connect() as holder:  # every child row locked: transitions wait, creates do not
            await holder.execute(text("BEGIN"))
            await holder.execute(text("SELECT 1 FROM discovery_flows FOR UPDATE"))
            await eventually(
                lambda: load.count(409, "flow-busy") >= 4, within=15, what="lock timeouts", detail=load.summary
            )
            await holder.execute(text("ROLLBACK"))

        async with side.connect() as switch:  # every event insert now outlasts the statement timeout
            await switch.execute(text("UPDATE fault_switch SET slow = true"))
            before = load.count(503, "storage-unavailable")
            await eventually(
                lambda: load.count(503, "storage-unavailable") >= before + 4,
                within=15,
                what="statement timeouts",
                detail=load.summary,
            )
            await switch.execute(text("UPDATE fault_switch SET slow = false"))

        acks_after = load.ledger.acks
        await eventually(
            lambda: load.ledger.acks >= acks_after + 30, within=20, what="writes after the faults", detail=load.summary
        )
    finally:
        await load.stop()
        await side.dispose()

    assert load.violations == [], "\n".join(load.violations[:20]) + "\n" + server.log_tail()
    assert await lost_writes(url, load.ledger) == []
    assert await changed_after_refusals(url, load.unchanged) == []
    assert await audit_findings(url) == []
