"""Read models the orchestrator's queries return."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.flow import Flow
from domain.lifecycle import FlowStatus, PhaseState
from domain.ports import ChildRecord, Lease
from domain.status_sync import child_status_for


@dataclass(frozen=True)
class FlowStatusView:
    """The master flow and its child record side by side."""

    flow: Flow
    child: ChildRecord | None
    child_projected_status: FlowStatus | None
    lease: Lease | None = None
    """The lease of the attempt in progress, if a phase is running."""

    @property
    def in_sync(self) -> bool:
        """Whether the child record and every mirror agree with the master on every field they mirror of it: the
        child's status, version and progress; a mirror's status and version, and (the CrewAI state) its completed
        phases and the phase it waits on. A flow whose contract runs it through the CrewAI bridge must have that
        mirror."""
        child, flow = self.child, self.flow
        if child is None:
            return False
        master = (child_status_for(flow.status), flow.version, flow.progress_percent)
        if (child.status, child.master_version, child.progress_percent) != master:
            return False
        if flow.contract.bridged and "crewai" not in child.mirrors:
            return False
        return all(mirror_disagreement(flow, mirror) is None for mirror in child.mirrors.values())


WAITING_STATUSES = (FlowStatus.WAITING_FOR_INPUT, FlowStatus.PAUSED)
"""Where a flow can wait on a phase for input; in other statuses the phase a mirror last waited on is history."""


def completed_phases(flow: Flow) -> list[str]:
    return sorted(p.name for p in flow.phases if p.state == PhaseState.COMPLETED)


def mirror_disagreement(flow: Flow, mirror: Mapping[str, Any]) -> str | None:
    """What a stored mirror of ``flow`` (a dict of the fields it keeps) says that the master does not, or None:
    the status and version every mirror records, and the completed phases and waited-on phase where it keeps
    them (the CrewAI state)."""
    if (mirror.get("status"), mirror.get("master_version")) != (str(flow.status), flow.version):
        return (
            f"mirror is at {mirror.get('status')} version {mirror.get('master_version')}, "
            f"master at {flow.status} version {flow.version}"
        )
    if "completed_phases" in mirror and sorted(mirror["completed_phases"] or []) != completed_phases(flow):
        return (
            f"mirror lists completed phases {sorted(mirror['completed_phases'] or [])}, master {completed_phases(flow)}"
        )
    if "waiting_for" in mirror and flow.status in WAITING_STATUSES and mirror["waiting_for"] != flow.waiting_for():
        return f"mirror waits for {mirror['waiting_for']}, master for {flow.waiting_for()}"
    return None
