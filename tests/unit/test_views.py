"""FlowStatusView.in_sync: the child record and every mirror beside it reflect the master's status and version.

mutmut does not mutate ``@property`` bodies, so these cases are written out one by one."""

from __future__ import annotations

import pytest

from application.views import FlowStatusView
from domain.lifecycle import FlowStatus
from domain.ports import ChildRecord
from domain.status_sync import child_status_for
from tests.unit.flow_builders import flow_in

RUNNING_AT_2 = {"status": "running", "master_version": 2}


def view(child_status: str | None = None, version_offset: int = 0, **mirrors: dict) -> FlowStatusView:
    flow, _ = flow_in(FlowStatus.RUNNING)
    status = child_status if child_status is not None else child_status_for(flow.status)
    child = ChildRecord(flow.flow_id, status, flow.version + version_offset, flow.progress_percent, mirrors=mirrors)
    return FlowStatusView(flow, child, FlowStatus.RUNNING)


def test_a_child_and_mirrors_at_the_masters_status_and_version_are_in_sync() -> None:
    assert view().in_sync
    assert view(crewai=RUNNING_AT_2, other=RUNNING_AT_2).in_sync


def test_a_missing_child_is_not_in_sync() -> None:
    flow, _ = flow_in(FlowStatus.RUNNING)
    assert not FlowStatusView(flow, None, None).in_sync


BEHIND = {
    "child-status": ("paused", 0, {}),
    "child-version": (None, -1, {}),
    "mirror-status": (None, 0, {"crewai": {"status": "paused", "master_version": 2}}),
    "mirror-version": (None, 0, {"crewai": {"status": "running", "master_version": 1}}),
    "mirror-without-version": (None, 0, {"crewai": {"status": "running"}}),
    "one-mirror-of-two": (None, 0, {"ok": RUNNING_AT_2, "stale": {"status": "running", "master_version": 1}}),
}


@pytest.mark.parametrize("case", list(BEHIND))
def test_any_view_behind_the_master_is_not_in_sync(case: str) -> None:
    child_status, version_offset, mirrors = BEHIND[case]
    assert not view(child_status, version_offset, **mirrors).in_sync
