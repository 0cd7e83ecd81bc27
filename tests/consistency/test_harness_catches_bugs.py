"""The harness must be able to fail: each classic bug, switched on, is caught (and, but for one, shrunk to a
short example); so is a type's own invariant that does not hold.

The switches live in tests/consistency/bugs.py only; MFO's configuration cannot reach them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.flow import Flow
from domain.ports import ChildRecord
from entrypoints.testing.consistency.harness import ConsistencyHarness
from entrypoints.testing.consistency.type_invariants import TypeInvariants
from tests.consistency.bugs import BuggyAdapter, Bugs, UnfencedOrchestrator
from tests.consistency.catching import caught

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SHRUNK = {"master_only": True, "own_session_child": True, "unfenced_completion": False}
"""Whether the counterexample is shrunk. An unfenced completion shows only after a claim, its lease lost and a late
completion: shrinking such an example replays it hundreds of times, minutes in all, so its first one is kept."""


@pytest.mark.parametrize("bug", sorted(SHRUNK))
def test_the_state_machine_catches_the_bug(mfo_consistency: ConsistencyHarness, bug: str) -> None:
    orchestrator = UnfencedOrchestrator if bug == "unfenced_completion" else None
    error, counterexample = caught(
        mfo_consistency, SHRUNK[bug], switches=Bugs(**{bug: True}), adapter=BuggyAdapter, orchestrator=orchestrator
    )
    assert re.match(r"(at|after) step \d+ \(", str(error)), error  # names the step, its entry point and the flow's type
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"counterexample-{bug}.txt").write_text(f"{error}\n\n{counterexample}\n")


def never_started(flow: Flow, child: ChildRecord) -> str | None:
    """A false invariant of discovery's: its flows do start."""
    return f"the child row is {child.status}" if child.status != "pending" else None


def test_a_types_own_invariant_that_does_not_hold_is_caught(mfo_consistency: ConsistencyHarness) -> None:
    lying = ConsistencyHarness(
        mfo_consistency.settings, flow_types=["discovery"], invariants=TypeInvariants({"discovery": (never_started,)})
    )
    error, _ = caught(lying)
    assert "the discovery type's own invariants: never_started: the child row is in_progress" in str(error), error
