"""GET /api/v1/queue: the tenant's background work, for the dashboard's queue and worker view."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from msgspec import Struct

from domain.background import HeldPhase, QueuedFlow, TenantQueue
from entrypoints.http.conditional import NOT_MODIFIED, conditional_json
from entrypoints.http.dependencies import FlowRead, provide_read
from entrypoints.http.flows import PageLimit, page_limit
from entrypoints.http.openapi import TENANT_SECURITY, protected_responses


class QueuedFlowOut(Struct):
    flow_id: UUID
    name: str
    flow_type: str
    phase: str | None
    attempt: int | None
    due_at: datetime
    due: bool


class HeldPhaseOut(Struct):
    flow_id: UUID
    name: str
    flow_type: str
    phase: str
    attempt: int
    owner: str
    started_at: datetime
    lease_expires_at: datetime
    lease_expired: bool


class QueueOut(Struct):
    """Counts are of all the tenant's work; the lists show at most ``limit`` each. (No time of the answer: the
    same work is the same bytes, so a poll is answered 304 until it changes; ``Date`` says when.)"""

    waiting: list[QueuedFlowOut]
    running: list[HeldPhaseOut]
    waiting_count: int
    due_count: int
    running_count: int
    expired_count: int

    @classmethod
    def of(cls, queue: TenantQueue) -> QueueOut:
        return cls(
            waiting=[_queued(q) for q in queue.waiting],
            running=[_held(h) for h in queue.running],
            waiting_count=queue.waiting_count,
            due_count=queue.due_count,
            running_count=queue.running_count,
            expired_count=queue.expired_count,
        )


def _queued(q: QueuedFlow) -> QueuedFlowOut:
    return QueuedFlowOut(q.flow_id, q.name, q.flow_type, q.phase, q.attempt, q.due_at, q.due)


def _held(h: HeldPhase) -> HeldPhaseOut:
    return HeldPhaseOut(
        h.flow_id, h.name, h.flow_type, h.phase, h.attempt, h.owner, h.started_at, h.expires_at, h.expired
    )


@get(
    "/api/v1/queue",
    responses={**protected_responses(400, 431, 503), **NOT_MODIFIED},
    security=TENANT_SECURITY,
    operation_id="getQueue",
    summary="The tenant's flows waiting for a worker and its phases running, with their attempts and leases",
    description="Answers 304 to an `If-None-Match` naming its current ETag.",
    tags=["flows"],
    dependencies={"read": Provide(provide_read, sync_to_thread=False)},
)
async def get_queue(
    request: Request, state: State, read: NamedDependency[FlowRead], limit: PageLimit = None
) -> Response[QueueOut]:
    queue = await read.orchestrator.get_queue(read.tenant, limit=page_limit(state, limit))
    response: Any = conditional_json(request, QueueOut.of(queue))
    return response
