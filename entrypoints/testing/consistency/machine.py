"""The stateful machine: flows of every registered type, in two tenants, driven through every entry point and
through phase execution's parts one at a time (the rules of ``phase_rules.py``), with faults, and every invariant
checked after every step."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from domain.events import Tenant
from domain.lifecycle import INTERNAL_OPERATIONS, Operation, allowed_operations
from entrypoints.testing.consistency.entry_points import HttpEntry, Outcome, PythonEntry
from entrypoints.testing.consistency.environment import STATS, Environment
from entrypoints.testing.consistency.invariants import (
    Inconsistency,
    Tracked,
    check_http_views,
    check_stored_views,
    expect,
    outcome_agrees,
)
from entrypoints.testing.consistency.model import ModelFlow, Prediction, predict
from entrypoints.testing.consistency.phase_rules import ENTRY_NAMES, FLOWS, QUIET_STEPS, PhaseExecutionRules

OPERATIONS = [
    op for op in Operation if op not in (Operation.CREATE, Operation.MIGRATE) and op not in INTERNAL_OPERATIONS
]
"""Every client operation but ``migrate``, which needs a second version of a type (the harness registers one of
each): tests/unit/test_flow_type_versions.py and tests/e2e/test_flow_versions_over_http.py cover it."""
MAX_FLOWS = 5


class FlowConsistencyMachine(PhaseExecutionRules):
    """Set ``FlowConsistencyMachine.environment`` before running."""

    environment: Environment

    def __init__(self) -> None:
        super().__init__()
        env = self.environment
        env.reset_database()
        STATS.examples += 1
        self.env = env
        self.parts = env.parts
        self.tenants = [Tenant(uuid4(), uuid4()), Tenant(uuid4(), uuid4())]
        self.tracked: dict[UUID, Tracked] = {}
        self.entries: dict[str, Any] = {
            name: HttpEntry(env.client, name, prefix, env.runner_owner)
            for name, prefix in (
                ("unified", "/api/v1/flows"),
                ("legacy:discovery", "/api/v1/discovery/flows"),
                ("legacy:unified-discovery", "/api/v1/unified-discovery/flows"),
            )
        }
        self.entries["python"] = PythonEntry(env.container)
        self.step_number = 0
        self.last_step = "nothing yet"
        self.quiet_steps = 0  # steps since the last fault or bad request

    # -- creating flows -------------------------------------------------------------------

    @initialize(target=FLOWS, data=st.data(), tenant=st.integers(0, 1))
    def first_flow(self, data: st.DataObject, tenant: int) -> UUID:
        flow_type = data.draw(st.sampled_from(self.env.type_order), label="flow_type")
        return self._create(flow_type, tenant, "unified")

    @precondition(lambda self: len(self.tracked) < MAX_FLOWS)
    @rule(target=FLOWS, data=st.data(), tenant=st.integers(0, 1), entry=st.sampled_from(ENTRY_NAMES))
    def create(self, data: st.DataObject, tenant: int, entry: str) -> UUID:
        flow_type = data.draw(st.sampled_from(self.env.type_order), label="flow_type")
        return self._create(flow_type, tenant, entry)

    def _create(self, flow_type: str, tenant_index: int, entry_name: str) -> UUID:
        definition = self.env.definitions[flow_type]
        entry = self.entries[entry_name]
        legacy = getattr(entry, "legacy", False)
        if legacy and flow_type != "discovery":
            entry, legacy = self.entries["unified"], False
        tenant = self.tenants[tenant_index]
        self.last_step = f"create via {entry.name}, on a {flow_type} flow"
        outcome = self.env.run(entry.create(tenant, flow_type, definition.example_configuration))
        attempts = tuple(definition.policy_for(p).max_attempts for p in definition.phases)
        model = ModelFlow.created(flow_type, definition.phases, definition.input_phases, attempts)
        if legacy:  # the legacy initialize creates and starts, in one transaction
            model = predict(model, Operation.START).outcomes[0]
        with self._at_this_step():
            expect(outcome.ok and outcome.flow_id is not None, f"create via {entry.name}: {outcome}")
            assert outcome.observed is not None and outcome.flow_id is not None
            expect(outcome_agrees(outcome.observed, model, legacy), f"create: {outcome.observed} != {model.key()}")
        self.tracked[outcome.flow_id] = Tracked(tenant, model)
        return outcome.flow_id

    # -- a client's operations ------------------------------------------------------------

    @rule(flow_id=FLOWS, data=st.data(), entry=st.sampled_from(ENTRY_NAMES))
    def operate(self, flow_id: UUID, data: st.DataObject, entry: str) -> None:
        """Mostly an operation that moves the flow on (so runs go deep into the lifecycle), else any operation."""
        tracked = self.tracked[flow_id]
        legal = allowed_operations(tracked.model.status)
        forward = [op for op in legal if op not in (Operation.CANCEL, Operation.DELETE)] or legal
        choices = st.sampled_from(OPERATIONS)
        if forward:
            choices = st.one_of(st.sampled_from(forward), st.sampled_from(forward), st.sampled_from(OPERATIONS))
        operation = data.draw(choices, label="operation")
        auto_run = operation == Operation.START and data.draw(st.booleans(), label="auto_run")
        self._apply(flow_id, tracked.tenant, operation, entry, auto_run=auto_run)

    @precondition(lambda self: self.quiet_steps >= QUIET_STEPS)
    @rule(
        flow_id=FLOWS,
        operation=st.sampled_from(OPERATIONS),
        entry=st.sampled_from(ENTRY_NAMES),
        offset=st.sampled_from([-1, 1]),
    )
    def stale_if_match(self, flow_id: UUID, operation: Operation, entry: str, offset: int) -> None:
        self.quiet_steps = 0
        stale = self.tracked[flow_id].model.version + offset
        self._apply(flow_id, self.tracked[flow_id].tenant, operation, entry, expected=stale)

    @precondition(lambda self: self.quiet_steps >= QUIET_STEPS)
    @rule(flow_id=FLOWS, operation=st.sampled_from(OPERATIONS), entry=st.sampled_from(ENTRY_NAMES))
    def other_tenant(self, flow_id: UUID, operation: Operation, entry: str) -> None:
        self.quiet_steps = 0
        tracked = self.tracked[flow_id]
        other = self.tenants[1 - self.tenants.index(tracked.tenant)]
        self._apply(flow_id, other, operation, entry, prediction=Prediction(error="FlowNotFound"))

    @precondition(lambda self: self.quiet_steps >= QUIET_STEPS)
    @rule(
        flow_id=FLOWS,
        operation=st.sampled_from(OPERATIONS),
        entry=st.sampled_from(ENTRY_NAMES),
        fault=st.sampled_from(["crash", "kill"]),
    )
    def fault(self, flow_id: UUID, operation: Operation, entry: str, fault: str) -> None:
        """An adapter failure or a killed connection mid-operation (for ``execute``: mid-claim): the operation must
        leave no trace."""
        self.quiet_steps = 0
        tracked = self.tracked[flow_id]
        prediction = predict(tracked.model, operation)
        if prediction.error is None:
            prediction = Prediction(error="InternalError" if fault == "crash" else "StorageUnavailable")
        with self._armed(fault):
            self._apply(flow_id, tracked.tenant, operation, entry, prediction=prediction)

    @precondition(lambda self: self.quiet_steps >= QUIET_STEPS)
    @rule(flow_id=FLOWS)
    def malformed_input(self, flow_id: UUID) -> None:
        """A body of the wrong shape is a 422 and changes nothing."""
        self.quiet_steps = 0
        tracked = self.tracked[flow_id]
        self.last_step = f"malformed input via unified, on a {tracked.model.flow_type} flow"
        outcome = self.env.run(
            self.entries["unified"].operate(tracked.tenant, flow_id, Operation.SUBMIT_INPUT, payload=[1, 2])
        )
        with self._at_this_step():
            expect((outcome.status_code, outcome.error) == (422, "ValidationError"), f"malformed input: {outcome}")

    def _apply(  # type: ignore[override]
        self,
        flow_id: UUID,
        tenant: Tenant,
        operation: Operation,
        entry_name: str,
        *,
        expected: int | None = None,
        auto_run: bool = False,
        prediction: Prediction | None = None,
    ) -> None:
        tracked = self.tracked[flow_id]
        entry = self.entries[entry_name]
        if not entry.serves(tracked.model.flow_type, operation):
            entry = self.entries["unified"]
        chains = isinstance(entry, HttpEntry) and self._leases(tracked.tenant) < self.env.settings.worker.tenant_limit
        if prediction is None:
            prediction = predict(
                tracked.model, operation, expected, auto_run=auto_run, owner=entry.owner, chains=chains
            )
        payload = None
        if operation == Operation.SUBMIT_INPUT:
            definition = self.env.definitions[tracked.model.flow_type]
            payload = definition.example_inputs.get(tracked.model.current_phase or "", {})
        elif auto_run:
            payload = {"auto_run": True}
        if chains and tracked.model.auto_run and operation in (Operation.EXECUTE_PHASE, Operation.RETRY):
            STATS.outcomes["[an auto-run flow's phase run by the app's runner]"] += 1
        outcome: Outcome = self.env.run(entry.operate(tenant, flow_id, operation, payload, expected))
        self._observe(flow_id, f"{operation} via {entry.name}", prediction, outcome, getattr(entry, "legacy", False))

    # -- invariants -----------------------------------------------------------------------

    def _naming_its_type(self, finding: str) -> str:
        """An audit's finding (``flow <id> ...``), the flow's type named."""
        for flow_id, tracked in self.tracked.items():
            finding = finding.replace(f"flow {flow_id}", f"{tracked.model.flow_type} flow {flow_id}")
        return finding

    @invariant()
    def every_view_agrees(self) -> None:
        self.step_number += 1
        self.quiet_steps += 1
        STATS.steps += 1
        try:
            findings = [self._naming_its_type(finding) for finding in self.env.audit.findings]
            expect(not findings, "after a commit: " + "; ".join(findings))
            self.env.run(
                check_stored_views(self.env.container, self.tracked, self.env.admin, invariants=self.env.invariants)
            )
            self.env.run(check_http_views(self.env.client, self.tenants, self.tracked, self.step_number))
        except Inconsistency as found:
            raise Inconsistency(f"after step {self.step_number} ({self.last_step}): {found}") from None
