"""The headline: every flow type, every entry point, faults, and every invariant after every step."""

from __future__ import annotations

import time

from hypothesis.stateful import run_state_machine_as_test

from entrypoints.settings import Settings
from tests.consistency.conftest import harness_settings
from tests.consistency.environment import STATS, Environment
from tests.consistency.machine import FlowConsistencyMachine


def test_no_two_views_of_a_flow_ever_disagree(settings: Settings) -> None:
    environment = Environment(settings)
    FlowConsistencyMachine.environment = environment
    steps_before, started = STATS.steps, time.perf_counter()
    try:
        run_state_machine_as_test(FlowConsistencyMachine, settings=harness_settings())
    finally:
        environment.close()
    steps = STATS.steps - steps_before
    elapsed = time.perf_counter() - started
    STATS.runs.append(f"state machine: {steps} steps, {elapsed:.1f} s, {steps / elapsed:.1f} steps/s")
    assert steps > 0
