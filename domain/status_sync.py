"""Status sync: the one pure mapping from a master status to the child record's status.

Every flow type's child record stores ``child_status_for(master.status)``. The mapping is
one-to-one, so a child's status projects back to exactly one master status, which is how
every view of a flow is compared.
"""

from __future__ import annotations

from domain.lifecycle import FlowStatus

_CHILD_STATUS: dict[FlowStatus, str] = {
    FlowStatus.INITIALIZED: "pending",
    FlowStatus.RUNNING: "in_progress",
    FlowStatus.PAUSED: "paused",
    FlowStatus.WAITING_FOR_INPUT: "awaiting_input",
    FlowStatus.COMPLETED: "complete",
    FlowStatus.FAILED: "error",
    FlowStatus.CANCELLED: "cancelled",
    FlowStatus.DELETED: "archived",
}
_MASTER_STATUS: dict[str, FlowStatus] = {child: master for master, child in _CHILD_STATUS.items()}

CHILD_STATUSES: tuple[str, ...] = tuple(_CHILD_STATUS.values())


def child_status_for(master_status: FlowStatus | str) -> str:
    return _CHILD_STATUS[FlowStatus(master_status)]


def master_status_for(child_status: str) -> FlowStatus:
    """Project a child status back onto the master lifecycle."""
    try:
        return _MASTER_STATUS[child_status]
    except KeyError:
        raise ValueError(f"'{child_status}' is not a child status") from None
