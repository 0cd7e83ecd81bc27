"""Phase execution's three parts as the harness drives them, one call each, as a runner does: a claim leased to an
owner, the handler's run (or a chosen ending) and the completion, a runner's claim of due work; and the lease table,
where a lease is made to expire as when its runner stops renewing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.background import ClaimedRun, DueWork
from domain.events import Tenant
from domain.flow import AttemptEnd
from domain.lifecycle import Operation
from domain.phases import PhaseOutcome
from entrypoints.container import Container
from entrypoints.testing.consistency.entry_points import EXCEPTIONS, Outcome, call_outcome, failure, observed_from_flow
from entrypoints.testing.consistency.model import End

LEASE_SECONDS = 300.0
"""The leases the harness's claims take: none expires unless the harness expires it."""
NO_TENANT_LIMIT = 1 << 30


class PhaseParts:
    """Phase execution's three parts, one call each, on the orchestrator from the container (a new unit of work per
    call), and the lease table through the schema owner's engine."""

    name = "phases"

    def __init__(self, container: Container, owner_engine: AsyncEngine) -> None:
        self.container = container
        self.owner_engine = owner_engine

    async def claim(
        self, tenant: Tenant, flow_id: UUID, operation: Operation, owner: str, expected: int | None = None
    ) -> tuple[Outcome, ClaimedRun | None]:
        """``claim_phase`` (``execute_phase`` or ``retry``), leased to ``owner``."""
        call = self.container.orchestrator().claim_phase(
            tenant,
            flow_id,
            operation,
            actor="harness",
            owner=owner,
            lease_seconds=LEASE_SECONDS,
            expected_version=expected,
        )
        return await _claimed(call)

    async def complete(self, claimed: ClaimedRun, end: End) -> Outcome:
        """End the attempt as ``end`` says (``End.HANDLER``: ``run_claimed`` runs the type's handler), then
        ``complete_run``."""
        return await self.complete_with(claimed, await self.ending(claimed, end))

    async def ending(self, claimed: ClaimedRun, end: End) -> AttemptEnd:
        if end == End.HANDLER:
            return await self.container.orchestrator().run_claimed(claimed)
        return attempt_end(end)

    async def complete_with(self, claimed: ClaimedRun, ending: AttemptEnd) -> Outcome:
        return await call_outcome(self.container.orchestrator().complete_run(claimed, ending, actor="harness"), 200)

    async def claim_due(
        self, work: DueWork, owner: str, tenant_limit: int = NO_TENANT_LIMIT
    ) -> tuple[Outcome, ClaimedRun | None]:
        call = self.container.orchestrator().claim_due(
            work, owner=owner, lease_seconds=LEASE_SECONDS, tenant_limit=tenant_limit, actor="harness-runner"
        )
        return await _claimed(call)

    async def expire_lease(self, run_id: UUID) -> bool:
        """Move the lease of ``run_id`` into the past, as when its runner stops renewing it; whether it had one."""
        async with self.owner_engine.begin() as connection:
            result = await connection.execute(
                text("UPDATE phase_leases SET expires_at = now() - interval '1 second' WHERE run_id = :run_id"),
                {"run_id": run_id},
            )
        return result.rowcount == 1

    async def due(self) -> list[DueWork]:
        """Every due work item, as a polling runner sees it (no limit reached)."""
        return await self.container.phase_queue().due(1000, NO_TENANT_LIMIT)


async def _claimed(call: Any) -> tuple[Outcome, ClaimedRun | None]:
    try:
        claimed = await call
    except tuple(EXCEPTIONS) as error:
        return failure(error), None
    except Exception:
        return Outcome(500, "InternalError"), None
    if claimed is None:
        return Outcome(200), None
    flow = claimed.flow
    return Outcome(200, flow_id=flow.flow_id, observed=observed_from_flow(flow)), claimed


def attempt_end(end: End) -> AttemptEnd:
    """The ``AttemptEnd`` an attempt that did not succeed reports (``End.HANDLER`` is the handler's own)."""
    if end == End.FAILED:
        return AttemptEnd.of(PhaseOutcome.failed("the harness's handler judged the flow's data"))
    now = datetime.now(UTC)
    retry_at = {
        End.RETRY_DUE: now - timedelta(seconds=1),
        End.RETRY_LATER: now + timedelta(hours=1),
        End.GAVE_UP: None,
    }[end]
    return AttemptEnd.failed("phase raised an unexpected error (RuntimeError: the harness's attempt)", retry_at)
