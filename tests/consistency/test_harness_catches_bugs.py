"""The harness must be able to fail: each classic bug, switched on, is caught (and, but for one, shrunk to a
short example).

The switches live in tests/consistency/faults.py only; MFO's configuration cannot reach them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import Phase
from hypothesis import settings as hypothesis_settings
from hypothesis.stateful import run_state_machine_as_test

from entrypoints.settings import Settings
from tests.consistency.conftest import harness_settings
from tests.consistency.environment import Environment
from tests.consistency.faults import Switches
from tests.consistency.invariants import Inconsistency
from tests.consistency.machine import FlowConsistencyMachine

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SHRUNK = {"master_only": True, "own_session_child": True, "unfenced_completion": False}
"""Whether the counterexample is shrunk. An unfenced completion shows only after a claim, its lease lost and a late
completion: shrinking such an example replays it hundreds of times, minutes in all, so its first one is kept."""


@pytest.mark.parametrize("bug", sorted(SHRUNK))
def test_the_state_machine_catches_the_bug(settings: Settings, bug: str) -> None:
    environment = Environment(settings, Switches(**{bug: True}))
    FlowConsistencyMachine.environment = environment
    try:
        with pytest.raises(Inconsistency) as caught:
            run_state_machine_as_test(
                FlowConsistencyMachine,
                settings=hypothesis_settings(
                    harness_settings(),
                    max_examples=600,  # it stops at the first inconsistency; a rare bug may need many
                    stateful_step_count=15,  # short examples: each takes a few steps, and shrinking replays them
                    database=None,
                    # no explain phase: it re-runs a lot, for notes only
                    phases=[Phase.generate, Phase.shrink] if SHRUNK[bug] else [Phase.generate],
                ),
            )
    finally:
        environment.reset_database()  # the bug's inconsistent flows: the harness's later tests audit its database
        environment.close()
    counterexample = "\n".join(getattr(caught.value, "__notes__", []))
    assert "state = FlowConsistencyMachine()" in counterexample
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"counterexample-{bug}.txt").write_text(f"{caught.value}\n\n{counterexample}\n")
