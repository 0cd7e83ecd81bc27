"""A test-only flow type whose phases take as long as the configuration says: slow phases for worker tests.

``{"seconds": {"first": 3}}`` makes ``first`` sleep three seconds; ``{"raise_in": "first"}`` makes it raise an
unexpected error; ``{"pid_file": path}`` makes ``first`` write its process id there as it begins. Each phase
records the process that ran it. Registered through the ``mfo.flow_types`` entry point group only by the tests
that need it (``sleeper = tests.plugin_example.sleeper:register``).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from domain.flow import Flow
from domain.flow_types import ChildTable, FlowTypeDefinition, PhaseContext, RunPhase
from domain.phases import PhaseOutcome

PHASES = ("first", "second")
SLEEPER_FLOWS = ChildTable("sleeper_flows")


def sleeping(phase: str) -> RunPhase:
    async def run(flow: Flow, context: PhaseContext) -> PhaseOutcome:
        if flow.configuration.get("raise_in") == phase:
            raise RuntimeError(f"sleeper crashed in {phase}")
        if phase == "first" and flow.configuration.get("pid_file"):
            Path(flow.configuration["pid_file"]).write_text(str(os.getpid()))
        await asyncio.sleep(float(flow.configuration.get("seconds", {}).get(phase, 0)))  # the phase's work: a delay
        return PhaseOutcome.completed({"pid": os.getpid()})

    return run


def register() -> FlowTypeDefinition:
    return FlowTypeDefinition(
        name="sleeper",
        phases=PHASES,
        run={phase: sleeping(phase) for phase in PHASES},
        child_table=SLEEPER_FLOWS,
        description="Sleeps in each phase as long as configured (tests only).",
        example_configuration={"seconds": {"first": 0.1}},
    )
