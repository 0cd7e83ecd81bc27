"""Background execution: which flows run their phases on a worker, and what a queued phase job carries.

A flow started with ``auto_run`` keeps running its phases in the background for as long as it is ``running``:
each state change that leaves such a flow running queues one job for the flow's *new* version, in the same
transaction. A job for a version the flow has moved past (a pause, a cancel, a phase run through the API, input
that is still awaited) finds nothing to do and ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain.events import Tenant
from domain.flow import Flow
from domain.lifecycle import FlowStatus


@dataclass(frozen=True)
class PhaseJob:
    """Run the next pending phase of ``flow_id``, provided it is still at ``expected_version``."""

    tenant: Tenant
    flow_id: UUID
    expected_version: int


class BackgroundRun(StrEnum):
    RAN = "ran"
    """The phase ran and its outcome was committed (completed, waiting for input or failed)."""
    SKIPPED = "skipped"
    """The flow was no longer at the expected version, no longer running, or gone: nothing to do."""
    GAVE_UP = "gave_up"
    """The phase was started too many times without finishing; the flow was marked failed."""


def runs_in_background(flow: Flow) -> bool:
    """Whether the flow's next phase is a worker's to run."""
    return flow.auto_run and flow.status == FlowStatus.RUNNING


def job_for(flow: Flow) -> PhaseJob | None:
    """The job to queue after a change to ``flow``, or None when no phase is a worker's to run."""
    if not runs_in_background(flow):
        return None
    return PhaseJob(flow.tenant, flow.flow_id, flow.version)


def gave_up_error(phase: str, attempts: int) -> str:
    return (
        f"phase '{phase}' was started {attempts} times in the background and never finished (the worker running "
        "it stopped, or the phase raised an unexpected error); POST .../retry runs it again"
    )
