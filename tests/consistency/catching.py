"""How a test expects the harness to catch a bug: a short budget, shrinking (unless told not to), and the
counterexample Hypothesis noted."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import Phase

from entrypoints.testing.consistency.harness import ConsistencyHarness
from entrypoints.testing.consistency.invariants import Inconsistency


def caught(harness: ConsistencyHarness, shrunk: bool = True, **options: Any) -> tuple[Inconsistency, str]:
    """The inconsistency the harness finds, and its counterexample (the steps Hypothesis noted)."""
    with pytest.raises(Inconsistency) as found:
        harness.check(
            **{
                "max_examples": 600,  # it stops at the first inconsistency; a rare bug may need many
                "stateful_step_count": 15,  # short examples: each takes a few steps, and shrinking replays them
                "database": None,
                # no explain phase: it re-runs a lot, for notes only
                "phases": [Phase.generate, Phase.shrink] if shrunk else [Phase.generate],
                **options,
            }
        )
    counterexample = "\n".join(getattr(found.value, "__notes__", []))
    assert "state = FlowConsistencyMachine()" in counterexample
    return found.value, counterexample
