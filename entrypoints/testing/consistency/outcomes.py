"""How the machine checks what a step returned against the model's prediction, and counts the states the run
reached (printed with the harness's figures)."""

from __future__ import annotations

from domain.lifecycle import FlowStatus
from entrypoints.testing.consistency.entry_points import Outcome
from entrypoints.testing.consistency.environment import STATS
from entrypoints.testing.consistency.invariants import Tracked, expect, outcome_agrees
from entrypoints.testing.consistency.model import ERROR_STATUS, ModelFlow, Prediction


def observe(tracked: Tracked, what: str, prediction: Prediction, outcome: Outcome, legacy: bool = False) -> None:
    """The outcome must be the predicted one; the flow's model moves to it."""
    kind = what.split(" ")[0]
    STATS.outcomes[f"{outcome.error or 'ok'}"] += 1
    STATS.outcomes[f"{kind}:{outcome.error or ('none' if outcome.observed is None else 'ok')}"] += 1
    where = f"{what} on a {tracked.model.flow_type} flow {tracked.model.key()}"
    if prediction.error is not None:
        expect(
            (outcome.error, outcome.status_code) == (prediction.error, ERROR_STATUS[prediction.error]),
            f"{where}: expected {prediction.error}, got {outcome}",
        )
        return
    expect(outcome.ok, f"{where}: expected success, got {outcome}")
    if prediction.none:
        expect(outcome.observed is None, f"{where}: expected nothing claimed or recorded, got {outcome}")
        STATS.outcomes[f"[{kind} returned nothing]"] += 1
        match = prediction.outcomes[0]
    else:
        observed = outcome.observed
        match = next((m for m in prediction.outcomes if observed and outcome_agrees(observed, m, legacy)), None)
        expect(match is not None, f"{where}: {observed} is none of {[m.key() for m in prediction.outcomes]}")
        assert match is not None
    count_effects(tracked.model, match)
    tracked.model = match


def count_effects(before: ModelFlow, after: ModelFlow) -> None:
    """The states of phase execution a step reached."""
    was, run = before.run, after.run
    effects = {
        "paused while a phase ran": before.in_progress and after.status == FlowStatus.PAUSED != before.status,
        "stopped while a phase ran": before.in_progress and after.status in (FlowStatus.CANCELLED, FlowStatus.DELETED),
        "completed while paused": before.in_progress and before.status == FlowStatus.PAUSED and not after.run,
        "next attempt scheduled": bool(was and was.run_id and run and run.run_id is None),
        "next attempt claimed": bool(was and was.run_id is None and run and run.run_id),
        "auto-run phase claimed": bool(not was and run and run.run_id and before.auto_run),
    }
    for effect, happened in effects.items():
        if happened:
            STATS.outcomes[f"[{effect}]"] += 1
