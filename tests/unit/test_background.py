"""domain.background: which flows a worker runs, the job queued for them, and the error of a phase given up on."""

from __future__ import annotations

from domain.background import gave_up_error, job_for, runs_in_background
from domain.lifecycle import FlowStatus
from tests.unit.flow_builders import flow_in


def test_the_given_up_error_names_the_phase_the_attempts_and_the_way_out() -> None:
    assert gave_up_error("collect", 3) == (
        "phase 'collect' was started 3 times in the background and never finished (the worker running "
        "it stopped, or the phase raised an unexpected error); POST .../retry runs it again"
    )


def test_only_a_running_auto_run_flow_gets_a_job_for_its_current_version() -> None:
    flow, tick = flow_in(FlowStatus.INITIALIZED)
    flow.start(actor="t", at=tick(), auto_run=True)
    assert runs_in_background(flow)
    job = job_for(flow)
    assert job is not None
    assert (job.tenant, job.flow_id, job.expected_version) == (flow.tenant, flow.flow_id, flow.version)
    flow.pause(actor="t", at=tick())
    assert not runs_in_background(flow)
    assert job_for(flow) is None
    manual, _ = flow_in(FlowStatus.RUNNING)
    assert (runs_in_background(manual), job_for(manual)) == (False, None)
