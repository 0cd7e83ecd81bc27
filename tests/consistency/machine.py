"""The stateful machine: flows of every registered type, in two tenants, driven through every entry point,
with faults, and every invariant checked after every step."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from domain.events import Tenant
from domain.lifecycle import Operation, allowed_operations
from tests.consistency.entry_points import HttpEntry, Outcome, PythonEntry
from tests.consistency.environment import STATS, Environment
from tests.consistency.invariants import (
    Tracked,
    check_http_views,
    check_stored_views,
    outcome_agrees,
)
from tests.consistency.model import ERROR_STATUS, ModelFlow, Prediction, predict

OPERATIONS = [op for op in Operation if op != Operation.CREATE]
ENTRY_NAMES = ["unified", "legacy:discovery", "legacy:unified-discovery", "python"]
MAX_FLOWS = 5
QUIET_STEPS = 2  # a fault or bad request at most every other step, so that flows also get deep into their lifecycle


class FlowConsistencyMachine(RuleBasedStateMachine):
    """Set ``FlowConsistencyMachine.environment`` before running."""

    environment: Environment
    flows = Bundle("flows")

    def __init__(self) -> None:
        super().__init__()
        env = self.environment
        env.reset_database()
        STATS.examples += 1
        self.env = env
        self.tenants = [Tenant(uuid4(), uuid4()), Tenant(uuid4(), uuid4())]
        self.tracked: dict[UUID, Tracked] = {}
        self.entries: dict[str, Any] = {
            "unified": HttpEntry(env.client, "unified", "/api/v1/flows"),
            "legacy:discovery": HttpEntry(env.client, "legacy:discovery", "/api/v1/discovery/flows"),
            "legacy:unified-discovery": HttpEntry(
                env.client, "legacy:unified-discovery", "/api/v1/unified-discovery/flows"
            ),
            "python": PythonEntry(env.container),
        }
        self.step_number = 0
        self.quiet_steps = 0  # steps since the last fault or bad request

    # -- creating flows -------------------------------------------------------------------

    @initialize(target=flows, flow_type=st.sampled_from(["discovery"]), tenant=st.integers(0, 1))
    def first_flow(self, flow_type: str, tenant: int) -> UUID:
        return self._create(flow_type, tenant, "unified")

    @precondition(lambda self: len(self.tracked) < MAX_FLOWS)
    @rule(target=flows, data=st.data(), tenant=st.integers(0, 1), entry=st.sampled_from(ENTRY_NAMES))
    def create(self, data: st.DataObject, tenant: int, entry: str) -> UUID:
        flow_type = data.draw(st.sampled_from(sorted(self.env.definitions)), label="flow_type")
        return self._create(flow_type, tenant, entry)

    def _create(self, flow_type: str, tenant_index: int, entry_name: str) -> UUID:
        definition = self.env.definitions[flow_type]
        entry = self.entries[entry_name]
        legacy = getattr(entry, "legacy", False)
        if legacy and flow_type != "discovery":
            entry, legacy = self.entries["unified"], False
        tenant = self.tenants[tenant_index]
        outcome = self.env.run(entry.create(tenant, flow_type, definition.example_configuration))
        model = ModelFlow.created(flow_type, definition.phases, definition.input_phases)
        if legacy:  # the legacy initialize creates and starts, in one transaction
            model = predict(model, Operation.START).outcomes[0]
        assert outcome.ok and outcome.flow_id is not None, f"create via {entry.name}: {outcome}"
        assert outcome_agrees(outcome.observed, model, legacy), f"create: {outcome.observed} != {model.key()}"
        self.tracked[outcome.flow_id] = Tracked(tenant, model)
        return outcome.flow_id

    # -- operations -----------------------------------------------------------------------

    @rule(flow_id=flows, data=st.data(), entry=st.sampled_from(ENTRY_NAMES))
    def operate(self, flow_id: UUID, data: st.DataObject, entry: str) -> None:
        """Mostly an operation that moves the flow on (so runs go deep into the lifecycle), else any operation."""
        tracked = self.tracked[flow_id]
        legal = allowed_operations(tracked.model.status)
        forward = [op for op in legal if op not in (Operation.CANCEL, Operation.DELETE)] or legal
        choices = st.sampled_from(OPERATIONS)
        if forward:
            choices = st.one_of(st.sampled_from(OPERATIONS), st.sampled_from(forward), st.sampled_from(forward))
        operation = data.draw(choices, label="operation")
        self._apply(flow_id, tracked.tenant, operation, entry, predict(tracked.model, operation))

    @precondition(lambda self: self.quiet_steps >= QUIET_STEPS)
    @rule(
        flow_id=flows,
        operation=st.sampled_from(OPERATIONS),
        entry=st.sampled_from(ENTRY_NAMES),
        offset=st.sampled_from([-1, 1]),
    )
    def stale_if_match(self, flow_id: UUID, operation: Operation, entry: str, offset: int) -> None:
        self.quiet_steps = 0
        tracked = self.tracked[flow_id]
        stale = tracked.model.version + offset
        prediction = predict(tracked.model, operation, expected_version=stale)
        assert prediction.error == "VersionConflict"
        self._apply(flow_id, tracked.tenant, operation, entry, prediction, expected=stale)

    @precondition(lambda self: self.quiet_steps >= QUIET_STEPS)
    @rule(flow_id=flows, operation=st.sampled_from(OPERATIONS), entry=st.sampled_from(ENTRY_NAMES))
    def other_tenant(self, flow_id: UUID, operation: Operation, entry: str) -> None:
        self.quiet_steps = 0
        tracked = self.tracked[flow_id]
        other = self.tenants[1 - self.tenants.index(tracked.tenant)]
        self._apply(flow_id, other, operation, entry, Prediction(error="FlowNotFound"))

    @precondition(lambda self: self.quiet_steps >= QUIET_STEPS)
    @rule(
        flow_id=flows,
        operation=st.sampled_from(OPERATIONS),
        entry=st.sampled_from(ENTRY_NAMES),
        fault=st.sampled_from(["crash", "kill"]),
    )
    def fault(self, flow_id: UUID, operation: Operation, entry: str, fault: str) -> None:
        """An adapter failure or a killed connection mid-operation: the operation must leave no trace."""
        self.quiet_steps = 0
        tracked = self.tracked[flow_id]
        prediction = predict(tracked.model, operation)
        if prediction.error is None:
            prediction = Prediction(error="InternalError" if fault == "crash" else "StorageUnavailable")
        if fault == "crash":
            self.env.switches.crash_next = True
        else:
            self.env.switches.kill_next = True
        try:
            self._apply(flow_id, tracked.tenant, operation, entry, prediction)
        finally:
            self.env.switches.crash_next = self.env.switches.kill_next = False

    @precondition(lambda self: self.quiet_steps >= QUIET_STEPS)
    @rule(flow_id=flows)
    def malformed_input(self, flow_id: UUID) -> None:
        """A body of the wrong shape is a 422 and changes nothing."""
        self.quiet_steps = 0
        tracked = self.tracked[flow_id]
        outcome = self.env.run(
            self.entries["unified"].operate(tracked.tenant, flow_id, Operation.SUBMIT_INPUT, payload=[1, 2])
        )
        assert (outcome.status_code, outcome.error) == (422, "ValidationError"), outcome

    def _apply(
        self,
        flow_id: UUID,
        tenant: Tenant,
        operation: Operation,
        entry_name: str,
        prediction: Prediction,
        expected: int | None = None,
    ) -> None:
        tracked = self.tracked[flow_id]
        entry = self.entries[entry_name]
        if not entry.serves(tracked.model.flow_type, operation):
            entry = self.entries["unified"]
        payload = None
        if operation == Operation.SUBMIT_INPUT:
            definition = self.env.definitions[tracked.model.flow_type]
            payload = definition.example_inputs.get(tracked.model.current_phase or "", {})
        outcome: Outcome = self.env.run(entry.operate(tenant, flow_id, operation, payload, expected))
        STATS.outcomes[f"{outcome.error or 'ok'}"] += 1
        STATS.outcomes[f"via {entry.name}"] += 1
        STATS.outcomes[f"{operation}:{outcome.error or 'ok'}"] += 1
        where = f"{operation} via {entry.name} on {tracked.model.key()}"
        if prediction.error is not None:
            assert (outcome.error, outcome.status_code) == (prediction.error, ERROR_STATUS[prediction.error]), (
                f"{where}: expected {prediction.error}, got {outcome}"
            )
            return
        assert outcome.ok, f"{where}: expected success, got {outcome}"
        legacy = getattr(entry, "legacy", False)
        match = next((m for m in prediction.outcomes if outcome_agrees(outcome.observed, m, legacy)), None)
        assert match is not None, f"{where}: {outcome.observed} is none of {[m.key() for m in prediction.outcomes]}"
        tracked.model = match

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def every_view_agrees(self) -> None:
        self.step_number += 1
        self.quiet_steps += 1
        STATS.steps += 1
        self.env.run(check_stored_views(self.env.container, self.env.bridged, self.tracked))
        self.env.run(check_http_views(self.env.client, self.tenants, self.tracked, self.step_number))
