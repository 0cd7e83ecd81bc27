"""What the orchestrator's parts share, on fakes: a phase's outcome and its timing, the error an unexpected failure
records, which flows a caller restricted to one type sees, and the direct adapter of a definition."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import uuid4

import pytest

from application import orchestration
from application.direct_adapter import DirectFlowTypeAdapter
from application.flow_type_registry import FlowTypeRegistry
from application.orchestration import _outcome_of, unexpected_error, visible
from application.orchestrator import MasterFlowOrchestrator
from domain.errors import FlowBusy, FlowNotFound, IllegalTransition, PhaseFailed
from domain.events import Tenant
from domain.flow import Flow
from domain.flow_types import (
    ChildTable,
    FlowTypeDefinition,
    PhaseContext,
    any_configuration,
    no_columns,
    pure_input,
    pure_phase,
)
from domain.phases import PhaseOutcome, PhaseResultKind
from tests.fakes import FakeClock, FakeUnitOfWork, fake_flow_type
from tests.unit.flow_builders import new_flow

TENANT = Tenant(uuid4(), uuid4())


def test_an_unexpected_error_names_the_phase_the_errors_type_and_message_and_the_retry() -> None:
    assert unexpected_error("collect", ValueError("bad row")) == (
        "phase 'collect' raised an unexpected error (ValueError: bad row); POST .../retry runs it again"
    )


def test_an_unexpected_errors_message_is_cut_to_300_characters() -> None:
    exactly = "x" * (300 - len("ValueError: "))
    assert f"(ValueError: {exactly})" in unexpected_error("p", ValueError(exactly))
    cut = unexpected_error("p", ValueError(exactly + "y"))
    assert cut == f"phase 'p' raised an unexpected error (ValueError: {exactly[:-1]}…); POST .../retry runs it again"


async def outcome(value: PhaseOutcome | BaseException) -> PhaseOutcome:
    if isinstance(value, BaseException):
        raise value
    return value


async def test_an_outcome_is_timed_beside_the_timings_the_phase_reported() -> None:
    reported = PhaseOutcome.completed({"n": 1}).with_trace(timings_ms={"crew": 5.0}, events=["e"])
    timed = await _outcome_of("p", outcome(reported), True)
    assert (timed.kind, timed.result) == (PhaseResultKind.COMPLETED, {"n": 1})
    assert timed.trace["events"] == ["e"]
    assert set(timed.trace["timings_ms"]) == {"crew", "orchestrator"} and timed.trace["timings_ms"]["crew"] == 5.0
    orchestrator_ms = timed.trace["timings_ms"]["orchestrator"]
    assert 0 <= orchestrator_ms < 1000 and orchestrator_ms == round(orchestrator_ms, 3)


async def test_a_phase_failure_is_a_failed_outcome_with_its_details() -> None:
    failed = await _outcome_of("p", outcome(PhaseFailed("no rows", {"row": 3})), False)
    assert (failed.kind, failed.error, failed.result) == (PhaseResultKind.FAILED, "no rows", {"row": 3})
    assert "orchestrator" in failed.trace["timings_ms"]


async def test_an_unexpected_error_fails_the_phase_only_when_asked_and_a_domain_error_always_aborts() -> None:
    failed = await _outcome_of("p", outcome(RuntimeError("boom")), True)
    assert (failed.kind, failed.error) == (PhaseResultKind.FAILED, unexpected_error("p", RuntimeError("boom")))
    assert "orchestrator" in failed.trace["timings_ms"]
    with pytest.raises(RuntimeError):
        await _outcome_of("p", outcome(RuntimeError("boom")), False)
    with pytest.raises(FlowBusy):
        await _outcome_of("p", outcome(FlowBusy("lock_timeout")), True)


def test_a_flow_is_visible_unless_the_caller_sees_only_another_type() -> None:
    flow = new_flow()
    assert visible(flow, None) is flow
    assert visible(flow, "fake") is flow
    with pytest.raises(FlowNotFound) as raised:
        visible(flow, "discovery")
    assert raised.value.flow_id == flow.flow_id


class RecordingAdapter(DirectFlowTypeAdapter):
    """The direct adapter, keeping the outcome each child write was given."""

    saved: list[PhaseOutcome | None] = []

    async def save_child(self, flow: Flow, outcome: PhaseOutcome | None = None) -> None:
        RecordingAdapter.saved.append(outcome)
        await super().save_child(flow, outcome)


async def test_the_child_record_is_written_with_the_outcome_of_the_phase_just_run() -> None:
    RecordingAdapter.saved = []
    registry = FlowTypeRegistry().with_adapters(lambda d, f: None)
    registry.register(fake_flow_type(), adapter=lambda uow: RecordingAdapter(fake_flow_type(), uow))
    mfo = MasterFlowOrchestrator(FakeUnitOfWork(), registry, FakeClock())
    flow = await mfo.create_flow(TENANT, "fake", "f", {}, actor="a")
    await mfo.start_flow(TENANT, flow.flow_id, actor="a")
    await mfo.execute_phase(TENANT, flow.flow_id, actor="a")
    created, started, claimed, ran = RecordingAdapter.saved
    assert (created, started, claimed) == (None, None, None)  # the claim has no outcome yet
    assert ran is not None and ran.kind == PhaseResultKind.COMPLETED and "orchestrator" in ran.trace["timings_ms"]


# -- the direct adapter ------------------------------------------------------------------------


async def test_the_direct_adapter_refuses_input_for_a_phase_that_takes_none() -> None:
    uow = FakeUnitOfWork()
    adapter = DirectFlowTypeAdapter(fake_flow_type(), uow)  # type: ignore[arg-type]
    flow = new_flow()
    with pytest.raises(IllegalTransition) as raised:
        await adapter.accept_input(flow, "collect", {})
    assert (raised.value.flow_id, raised.value.current_status, raised.value.operation, raised.value.reason) == (
        flow.flow_id,
        "initialized",
        "submit_input",
        "phase 'collect' takes no input",
    )
    async with uow:
        accepted = await adapter.accept_input(flow, "review", {"approved": True})
    assert accepted == PhaseOutcome.completed({"approved": True})


async def test_the_direct_adapters_handlers_read_other_flows_through_its_unit_of_work() -> None:
    uow = FakeUnitOfWork()
    mfo = MasterFlowOrchestrator(uow, FlowTypeRegistry([fake_flow_type()]), FakeClock())
    source = await mfo.create_flow(TENANT, "fake", "source", {}, actor="a")
    seen: list[Any] = []

    async def run(flow: Flow, context: PhaseContext) -> PhaseOutcome:
        seen.append((await context.flows.get(TENANT, source.flow_id)).name)
        return PhaseOutcome.completed({})

    async def accept(flow: Flow, payload: dict[str, Any], context: PhaseContext) -> PhaseOutcome:
        seen.append((await context.flows.get(TENANT, source.flow_id)).name)
        return PhaseOutcome.completed(payload)

    definition = dataclasses.replace(fake_flow_type(), run={"collect": run}, accept={"collect": accept})
    async with uow:
        adapter = DirectFlowTypeAdapter(definition, uow)  # type: ignore[arg-type]
        await adapter.run_phase(new_flow(), "collect")
        assert await adapter.accept_input(new_flow(), "collect", {"x": 1}) == PhaseOutcome.completed({"x": 1})
    assert seen == ["source", "source"]


async def test_the_direct_adapter_keeps_the_child_record_in_the_definitions_table() -> None:
    uow = FakeUnitOfWork()
    flow = new_flow()
    async with uow:
        adapter = DirectFlowTypeAdapter(fake_flow_type(name="other"), uow)  # type: ignore[arg-type]
        assert await adapter.load_child(flow.tenant, flow.flow_id) is None
        await adapter.save_child(flow)
        child = await adapter.load_child(flow.tenant, flow.flow_id)
        assert child is not None and (child.flow_id, child.master_version) == (flow.flow_id, 1)
        assert ("other_flows", flow.tenant, flow.flow_id) in uow.staged.children  # type: ignore[union-attr]


# -- declaring a flow type ---------------------------------------------------------------------


async def test_pure_handlers_run_the_plain_function_and_keep_its_name() -> None:
    def collect(flow: Flow) -> PhaseOutcome:
        return PhaseOutcome.completed({"name": flow.name})

    def review(flow: Flow, payload: dict[str, Any]) -> PhaseOutcome:
        return PhaseOutcome.completed({"name": flow.name, **payload})

    context = PhaseContext(flows=None)  # type: ignore[arg-type]
    run, accept = pure_phase(collect), pure_input(review)
    assert (run.__name__, run.__qualname__, accept.__name__, accept.__qualname__) == (
        "collect",
        "collect",
        "review",
        "review",
    )
    flow = new_flow()
    assert await run(flow, context) == PhaseOutcome.completed({"name": "f"})
    assert await accept(flow, {"ok": True}, context) == PhaseOutcome.completed({"name": "f", "ok": True})


def test_a_definitions_defaults_take_any_configuration_and_project_no_columns() -> None:
    definition = FlowTypeDefinition(
        "plain", ("only",), run={"only": pure_phase(lambda f: None)}, child_table=ChildTable("t")
    )  # type: ignore[arg-type, return-value]
    assert definition.accept == {} and definition.input_phases == ()
    assert (definition.description, definition.example_configuration, definition.example_inputs) == ("", {}, {})
    assert definition.validate_configuration is any_configuration
    assert any_configuration({"anything": 1}) is None
    assert definition.child_table.columns == () and definition.child_table.project is no_columns
    assert no_columns(new_flow()) == {}


class SteppingTimer:
    """``time`` as _outcome_of sees it: each perf_counter() call returns the next reading."""

    def __init__(self, *readings: float) -> None:
        self.readings = list(readings)

    def perf_counter(self) -> float:
        return self.readings.pop(0)


async def test_the_orchestrators_timing_is_the_phases_wall_time_in_milliseconds_to_three_places(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(orchestration, "time", SteppingTimer(10.0, 10.0123456))
    timed = await _outcome_of("p", outcome(PhaseOutcome.completed({})), True)
    assert timed.trace["timings_ms"] == {"orchestrator": 12.346}
