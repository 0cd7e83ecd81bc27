"""The bench's long-phase flow type: one phase that waits as long as the flow's configuration says (30 s by default).

Registered through a distribution's ``mfo.flow_types`` entry point that the long-phase bench writes next to it
(bench/long_phases.py), as a type outside MFO would be; never registered by MFO itself.
"""

from __future__ import annotations

import asyncio

from domain.flow import Flow
from domain.flow_types import ChildTable, FlowTypeDefinition, PhaseContext
from domain.phase_policy import PhasePolicy
from domain.phases import PhaseOutcome

LONG_FLOWS = ChildTable("bench_long_flows")


async def wait(flow: Flow, context: PhaseContext) -> PhaseOutcome:
    seconds = float(flow.configuration.get("seconds", 30))
    await asyncio.sleep(seconds)  # the phase's work: a call that takes this long (an LLM's answer, say)
    return PhaseOutcome.completed({"waited_s": seconds})


def register() -> FlowTypeDefinition:
    return FlowTypeDefinition(
        name="bench_long",
        phases=("wait",),
        run={"wait": wait},
        child_table=LONG_FLOWS,
        description="One phase that waits configuration.seconds (the long-phase bench only).",
        example_configuration={"seconds": 1},
        default_policy=PhasePolicy(timeout_seconds=600, max_attempts=1),
    )
