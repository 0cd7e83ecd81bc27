"""Read models the orchestrator's queries return."""

from __future__ import annotations

from dataclasses import dataclass

from domain.flow import Flow
from domain.lifecycle import FlowStatus
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
        if self.child is None:
            return False
        master = (child_status_for(self.flow.status), self.flow.version)
        mirrors_agree = all(
            (m.get("status"), m.get("master_version")) == (str(self.flow.status), self.flow.version)
            for m in self.child.mirrors.values()
        )
        return (self.child.status, self.child.master_version) == master and mirrors_agree
