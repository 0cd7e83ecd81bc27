"""The headline: every flow type, every entry point, faults, and every invariant after every step, run through the
shipped plugin's ``mfo_consistency`` fixture."""

from __future__ import annotations

from typing import Any

from tests.consistency.conftest import discovery_columns_follow_the_phases


def test_no_two_views_of_a_flow_ever_disagree(mfo_consistency: Any) -> None:
    assert mfo_consistency.flow_types is None  # MFO's own types, all of them
    assert discovery_columns_follow_the_phases in mfo_consistency.invariants.by_type["discovery"]
    assert mfo_consistency.check() > 0
