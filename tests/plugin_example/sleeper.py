"""Test-only flow types whose phases take as long as the configuration says: slow phases for worker tests.

``{"seconds": {"first": 3}}`` makes ``first`` sleep three seconds; ``{"raise_in": "first"}`` makes it raise an
unexpected error; ``{"pid_file": path}`` makes ``first`` write its process id there as it begins;
``{"cancelled_file": path}`` makes a phase whose sleep is cancelled (its flow cancelled, its timeout reached)
append ``<phase> <pid>`` to that file before it lets the cancellation go on. Each phase records the process that
ran it.

For the fault tests: ``{"first_attempt_seconds": {"first": 20}}`` makes the first attempt of ``first`` sleep 20
seconds instead (later attempts sleep as ``seconds`` says); ``{"attempts_log": folder}`` makes every attempt of every
phase append a line to ``folder/<flow id>.jsonl`` as it begins its work and another as it ends or is cancelled (see
:func:`log_attempt`): a process killed mid-phase leaves a beginning without an end.

``sleeper`` runs every phase under the default policy; ``sleeper_strict`` runs ``first`` under
:data:`STRICT_POLICY` (a 1 s timeout, 2 attempts, a short backoff). Registered through the ``mfo.flow_types``
entry point group only by the tests that need them (``sleeper = tests.plugin_example.sleeper:register``,
``sleeper_strict = tests.plugin_example.sleeper:register_strict``).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from domain.flow import Flow
from domain.flow_types import ChildTable, FlowTypeDefinition, PhaseContext, RunPhase
from domain.phase_policy import Backoff, PhasePolicy
from domain.phases import PhaseOutcome

PHASES = ("first", "second")
SLEEPER_FLOWS = ChildTable("sleeper_flows")
SLEEPER_STRICT_FLOWS = ChildTable("sleeper_strict_flows")
STRICT_POLICY = PhasePolicy(timeout_seconds=1.0, max_attempts=2, backoff=Backoff(initial_seconds=0.2, jitter=0))
"""``sleeper_strict``'s ``first``: an attempt longer than a second times out; two attempts in all."""


def sleeping(phase: str) -> RunPhase:
    async def run(flow: Flow, context: PhaseContext) -> PhaseOutcome:
        configuration = flow.configuration
        if configuration.get("raise_in") == phase:
            raise RuntimeError(f"sleeper crashed in {phase}")
        if phase == "first" and configuration.get("pid_file"):
            Path(configuration["pid_file"]).write_text(str(os.getpid()))
        if "attempts_log" in configuration or "first_attempt_seconds" in configuration:
            return await logged_attempt(flow, phase)
        try:
            await asyncio.sleep(float(configuration.get("seconds", {}).get(phase, 0)))  # the phase's work: a delay
        except asyncio.CancelledError:
            if configuration.get("cancelled_file"):
                with Path(configuration["cancelled_file"]).open("a") as record:
                    record.write(f"{phase} {os.getpid()}\n")
            raise
        return PhaseOutcome.completed({"pid": os.getpid()})

    return run


async def logged_attempt(flow: Flow, phase: str) -> PhaseOutcome:
    """A phase's attempt as the fault tests configure it: as long as ``first_attempt_seconds`` says for a first
    attempt (else ``seconds``), logged in ``attempts_log`` as it begins and ends."""
    seconds = flow.configuration.get("seconds", {}).get(phase, 0)
    if flow.run is not None and flow.run.attempt == 1:
        seconds = flow.configuration.get("first_attempt_seconds", {}).get(phase, seconds)
    log_attempt(flow, phase, "began")
    try:
        await asyncio.sleep(float(seconds))  # the phase's work: a delay
    except asyncio.CancelledError:  # its runner lost the lease, or is stopping
        log_attempt(flow, phase, "cancelled")
        raise
    log_attempt(flow, phase, "ended")
    return PhaseOutcome.completed({"pid": os.getpid()})


def log_attempt(flow: Flow, phase: str, what: str) -> None:
    """With ``attempts_log`` configured: one JSON line (``what``: ``began``, ``ended`` or ``cancelled``; the phase,
    the attempt and its run id as the flow's claim says, the process, the wall-clock time) appended in one write,
    which the kernel keeps whole however many processes append to the file."""
    folder = flow.configuration.get("attempts_log")
    if not folder:
        return
    run = flow.run
    line = {
        "what": what,
        "phase": phase,
        "attempt": run.attempt if run else None,
        "run_id": str(run.run_id) if run and run.run_id else None,
        "pid": os.getpid(),
        "at": time.time(),
    }
    descriptor = os.open(Path(folder) / f"{flow.flow_id}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, (json.dumps(line) + "\n").encode())
    finally:
        os.close(descriptor)


def register() -> FlowTypeDefinition:
    return FlowTypeDefinition(
        name="sleeper",
        phases=PHASES,
        run={phase: sleeping(phase) for phase in PHASES},
        child_table=SLEEPER_FLOWS,
        description="Sleeps in each phase as long as configured (tests only).",
        example_configuration={"seconds": {"first": 0.1}},
    )


def register_strict() -> FlowTypeDefinition:
    return FlowTypeDefinition(
        name="sleeper_strict",
        phases=PHASES,
        run={phase: sleeping(phase) for phase in PHASES},
        child_table=SLEEPER_STRICT_FLOWS,
        description="The sleeper, its first phase timed out after a second and attempted twice (tests only).",
        example_configuration={"seconds": {"first": 0.1}},
        policies={"first": STRICT_POLICY},
    )
