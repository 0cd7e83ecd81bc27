"""Background execution: when a flow needs a worker, and what a claimed attempt of a phase is.

A phase runs in three steps (application/phase_execution.py): a **claim** (one transaction: the flow records that
the phase started, and a lease names the runner that holds it), the **run** of the handler with no transaction open,
and its **completion** (one transaction, fenced by the run's id). Nothing but the flow's own row says that work is
due: a flow started with ``auto_run`` whose next phase is pending, or a phase whose failed attempt is due again,
is due (:func:`due_at`); an attempt whose lease expired (its worker stopped) is found by its lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from domain.events import Tenant
from domain.flow import Flow
from domain.lifecycle import FlowStatus


def due_at(flow: Flow) -> datetime | None:
    """When a worker should next claim work of ``flow``, or None when no worker needs to."""
    if flow.status != FlowStatus.RUNNING:
        return None
    if flow.run is not None:
        return flow.run.retry_at  # None while an attempt is in progress: its lease covers it
    if flow.auto_run and flow.next_pending_phase() is not None:
        return flow.updated_at
    return None


@dataclass(frozen=True)
class DueWork:
    """A flow a worker may claim work of: its next phase, its next attempt, or an attempt whose lease expired."""

    tenant: Tenant
    flow_id: UUID
    expired_run: UUID | None = None
    """The attempt whose lease expired, when that is why the flow is due."""


@dataclass(frozen=True)
class ClaimedRun:
    """An attempt a runner holds: what it needs to run the handler and to complete the attempt."""

    flow: Flow
    """The flow as the claim committed it (its ``run`` is this attempt)."""
    run_id: UUID
    owner: str
    lease_seconds: float
    actor: str = "worker"
    """Who asked for the attempt (the caller of ``execute``, or a runner's actor): its completion is theirs too."""

    @property
    def phase(self) -> str:
        assert self.flow.run is not None
        return self.flow.run.phase

    @property
    def tenant(self) -> Tenant:
        return self.flow.tenant


class AttemptResult(StrEnum):
    """How an attempt ended, as the phase's attempts record it."""

    COMPLETED = "completed"
    NEEDS_INPUT = "needs_input"
    FAILED = "failed"
    """The handler failed the flow (a failed outcome, ``PhaseFailed``), or the last attempt failed."""
    RETRYING = "retrying"
    """The attempt failed (raised, timed out, its worker stopped) and another is due."""
    REVOKED = "revoked"
    """The flow was cancelled or deleted while the attempt ran."""
    DISCARDED = "discarded"
    """The attempt ended after the flow stopped expecting it: its outcome was not recorded."""


@dataclass(frozen=True)
class QueuedFlow:
    """A flow of the tenant a worker will claim work of: its next phase (auto-run) or its next attempt of a phase
    (a retry, with the attempt's number), due now or at ``due_at``."""

    flow_id: UUID
    name: str
    flow_type: str
    phase: str | None
    attempt: int | None
    due_at: datetime
    due: bool


@dataclass(frozen=True)
class HeldPhase:
    """An attempt of a phase in progress: the runner holding its lease and until when. An expired lease's runner
    stopped renewing it; a worker takes the attempt over."""

    flow_id: UUID
    name: str
    flow_type: str
    phase: str
    attempt: int
    owner: str
    started_at: datetime
    expires_at: datetime
    expired: bool


@dataclass(frozen=True)
class TenantQueue:
    """A tenant's background work as the database holds it at ``checked_at`` (its clock): the flows waiting for a
    worker, soonest first, and the phases running, oldest first (each list at most its limit; the counts are
    all of them)."""

    checked_at: datetime
    waiting: list[QueuedFlow]
    running: list[HeldPhase]
    waiting_count: int
    due_count: int
    running_count: int
    expired_count: int
