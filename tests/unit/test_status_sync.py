from __future__ import annotations

import pytest

from domain.lifecycle import FlowStatus
from domain.status_sync import CHILD_STATUSES, child_status_for, master_status_for


@pytest.mark.parametrize("status", list(FlowStatus))
def test_every_master_status_maps_to_a_child_status_and_back(status: FlowStatus) -> None:
    child = child_status_for(status)
    assert child in CHILD_STATUSES
    assert master_status_for(child) == status


def test_the_mapping_is_one_to_one() -> None:
    assert len(set(CHILD_STATUSES)) == len(FlowStatus)


def test_an_unknown_child_status_is_refused() -> None:
    with pytest.raises(ValueError, match="not a child status"):
        master_status_for("running")


# Written out by hand: the child records store these strings, so changing one is a data migration.
CHILD_STATUS_OF = {
    FlowStatus.INITIALIZED: "pending",
    FlowStatus.RUNNING: "in_progress",
    FlowStatus.PAUSED: "paused",
    FlowStatus.WAITING_FOR_INPUT: "awaiting_input",
    FlowStatus.COMPLETED: "complete",
    FlowStatus.FAILED: "error",
    FlowStatus.CANCELLED: "cancelled",
    FlowStatus.DELETED: "archived",
}


@pytest.mark.parametrize("status", list(FlowStatus))
def test_each_master_status_has_its_stored_child_status(status: FlowStatus) -> None:
    assert child_status_for(status) == CHILD_STATUS_OF[status]
    assert child_status_for(str(status)) == CHILD_STATUS_OF[status]
    assert master_status_for(CHILD_STATUS_OF[status]) == status
