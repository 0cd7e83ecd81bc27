"""Discovery's crew run through MFO's phase execution on real PostgreSQL, against tests/llm_stub.py's endpoint.

Each test builds a container of its own whose settings point ``MFO_LLM_*`` at the test's stub, so discovery's
field mapping is the container's crew; only the phase's policy is shortened (:data:`POLICY`), so that timeouts and
backoffs take a fraction of a second instead of minutes.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from dependency_injector import providers
from sqlalchemy.engine import make_url

from adapters.crewai_bridge import crewai_adapter
from adapters.crewai_bridge.runtime import load_crewai
from adapters.flow_types.discovery import phases
from adapters.flow_types.discovery.crew import LLMEndpoint, LLMRequestRefused, crew_field_mapping
from application.flow_type_registry import FlowTypeRegistry
from application.phase_runner import PhaseRunner, RunnerOptions
from domain.events import Tenant
from domain.flow import Flow
from domain.flow_types import PhaseContext
from domain.lifecycle import FlowStatus, Operation
from domain.phase_policy import Backoff, PhasePolicy
from domain.ports import Attempt
from entrypoints.container import Container, build_container, close_databases
from entrypoints.settings import LLMSettings, Settings
from tests.llm_stub import LLMStub, Received, answer, hang, outbound_connections, status
from tests.support import DISCOVERY_CSV, eventually

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:crewai")  # its own fields, read by itself

POLICY = PhasePolicy(
    timeout_seconds=2.0,
    max_attempts=3,
    backoff=Backoff(initial_seconds=0.3, multiplier=2.0, maximum_seconds=1.0, jitter=0.0),
    never_retry=(LLMRequestRefused,),
)
"""The crew's policy (adapters/flow_types/discovery/crew.py's ``crew_policy``) shortened: 2 s, then 0.3 s and 0.6 s
between attempts (no jitter, so each gap has a known least length)."""
DELAYS = (0.3, 0.6)

GOOD_ANSWER = json.dumps(
    {
        "hostname": "name",
        "type": "asset_type",
        "os": "os",
        "os_version": "os_version",
        "env": "environment",
        "depends_on": None,
    }
)
PROPOSAL = {
    "proposed_mappings": {
        "env": "environment",
        "hostname": "name",
        "os": "os",
        "os_version": "os_version",
        "type": "asset_type",
    },
    "unmapped_columns": ["depends_on"],
    "rejections": 0,
    "proposed_by": "crew",
}


@pytest.fixture(scope="module", autouse=True)
async def crew_warmed() -> None:
    """crewai's import, and its first crew run (a second or more of lazy imports before the first request), once
    here rather than inside a test's 2 s timeout."""
    load_crewai()
    stub = LLMStub().start()
    try:
        stub.script(answer('{"hostname": "name"}'))
        now = datetime.now(UTC)
        flow = Flow.create(
            flow_id=uuid4(),
            tenant=Tenant(uuid4(), uuid4()),
            flow_type="discovery",
            name="warm-up",
            phases=list(phases.PHASES),
            configuration={"data": DISCOVERY_CSV},
            actor="t",
            at=now,
        )
        flow.start(actor="t", at=now)
        flow.record_phase_outcome(Operation.EXECUTE_PHASE, "data_import", phases.data_import(flow), actor="t", at=now)
        endpoint = LLMEndpoint(stub.base_url, "stub-model", "test-key")
        await crew_field_mapping(endpoint)(flow, PhaseContext(flows=None))  # type: ignore[arg-type]
    finally:
        stub.close()


def shortened(
    registry: FlowTypeRegistry, policy: PhasePolicy, settings: Settings, container: Container
) -> FlowTypeRegistry:
    """``registry`` with discovery's field mapping under ``policy``, its handler (the container's crew) and
    its adapters (the CrewAI bridge, as entrypoints/container.py's ``build_flow_types`` gives them) kept."""
    crewed = registry.get("discovery")
    assert crewed.run["field_mapping"].__name__ == "field_mapping_by_crew"  # the settings gave it a crew
    definitions = [
        dataclasses.replace(d, policies={**d.policies, "field_mapping": policy}) if d.name == "discovery" else d
        for d in registry.definitions()
    ]
    observer = container.observer()
    return FlowTypeRegistry(definitions).with_bridge(
        lambda d, direct: crewai_adapter(d, direct, observer), settings.crewai.bridges
    )


@pytest.fixture
def policy() -> PhasePolicy:
    """The field mapping's policy in :func:`crew_container` (a test may parametrize another)."""
    return POLICY


@pytest.fixture
async def crew_container(settings: Settings, llm_stub: LLMStub, policy: PhasePolicy) -> AsyncIterator[Container]:
    """A container whose discovery field mapping asks a crew on ``llm_stub``, under ``policy``. The LLM's own
    request timeout (30 s) is far beyond the policy's, so only the policy can end a hanging request."""
    llm = LLMSettings(base_url=llm_stub.base_url, model="stub-model", api_key="test-key", timeout_seconds=30)
    crewed_settings = dataclasses.replace(settings, llm=llm)
    container = build_container(crewed_settings)
    container.flow_types.override(
        providers.Object(shortened(container.flow_types(), policy, crewed_settings, container))
    )
    assert container.phase_execution().flow_types.get("discovery").policy_for("field_mapping") == policy
    try:
        yield container
    finally:
        container.flow_types.reset_override()
        await close_databases(container)


async def flow_at_field_mapping(container: Container, tenant: Tenant) -> Flow:
    """A started discovery flow whose data_import has run: field_mapping is next."""
    mfo = container.orchestrator
    flow = await mfo().create_flow(tenant, "discovery", "crew", {"data": DISCOVERY_CSV}, actor="t")
    await mfo().start_flow(tenant, flow.flow_id, actor="t")
    imported = await mfo().execute_phase(tenant, flow.flow_id, actor="t")
    assert imported.status == FlowStatus.RUNNING and imported.current_phase == "field_mapping", imported
    return imported


async def attempts_of(container: Container, tenant: Tenant, flow_id: UUID) -> list[Attempt]:
    """The flow's attempts of field_mapping, oldest first."""
    attempts = await container.orchestrator().get_phase_attempts(tenant, flow_id)
    return sorted((a for a in attempts if a.phase == "field_mapping"), key=lambda a: a.attempt)


async def consistent(container: Container, tenant: Tenant, flow_id: UUID) -> Flow:
    """The stored flow, after checking its version counts its events and its views agree with it."""
    mfo = container.orchestrator
    flow = await mfo().get_flow(tenant, flow_id)
    assert flow.version == len(await mfo().get_flow_events(tenant, flow_id))
    assert (await mfo().get_flow_status(tenant, flow_id)).in_sync
    return flow


def requests_to(stub: LLMStub) -> list[Received]:
    return [r for r in stub.received if r.path == "/v1/chat/completions"]


async def test_a_good_answer_ends_the_phase_waiting_for_the_crews_proposal(
    crew_container: Container, settings: Settings, llm_stub: LLMStub, tenant: Tenant
) -> None:
    flow = await flow_at_field_mapping(crew_container, tenant)
    llm_stub.script(answer(GOOD_ANSWER))
    with outbound_connections() as connections:
        done = await crew_container.orchestrator().execute_phase(tenant, flow.flow_id, actor="t")
    assert (done.status, done.current_phase) == (FlowStatus.WAITING_FOR_INPUT, "field_mapping")
    assert done.phase_results["field_mapping"] == PROPOSAL
    [request] = llm_stub.received
    assert (request.path, request.answered, request.body["model"]) == ("/v1/chat/completions", True, "stub-model")
    assert request.headers["authorization"] == "Bearer test-key"
    database = make_url(settings.database.url or "")
    elsewhere = {tuple(a) if isinstance(a, tuple) else a for a in connections} - {(database.host, database.port)}
    assert elsewhere == {("127.0.0.1", llm_stub.port)}, elsewhere  # the database and the stub, nowhere else
    [attempt] = await attempts_of(crew_container, tenant, flow.flow_id)
    assert (attempt.attempt, attempt.result) == (1, "needs_input")
    stored = await consistent(crew_container, tenant, flow.flow_id)
    assert stored.phase_results["field_mapping"] == PROPOSAL and stored.version == flow.version + 2  # claim, complete
    approved = await crew_container.orchestrator().submit_input(
        tenant, flow.flow_id, {"approved": True, "mappings": {}}, actor="t"
    )
    assert approved.phase_results["field_mapping"]["mappings"] == PROPOSAL["proposed_mappings"]


async def test_a_busy_endpoint_is_attempted_again_after_the_backoff(
    crew_container: Container, llm_stub: LLMStub, tenant: Tenant
) -> None:
    flow = await flow_at_field_mapping(crew_container, tenant)
    llm_stub.script(status(500), status(429, retry_after=1), answer(GOOD_ANSWER))
    done = await crew_container.orchestrator().execute_phase(tenant, flow.flow_id, actor="t")
    assert done.status == FlowStatus.WAITING_FOR_INPUT and done.phase_results["field_mapping"] == PROPOSAL
    attempts = await attempts_of(crew_container, tenant, flow.flow_id)
    assert [(a.attempt, a.result) for a in attempts] == [(1, "retrying"), (2, "retrying"), (3, "needs_input")]
    assert "HTTP 500" in (attempts[0].detail or "") and "HTTP 429 (Retry-After: 1)" in (attempts[1].detail or "")
    requests = requests_to(llm_stub)
    assert [r.answered for r in requests] == [True, True, True]
    events = await crew_container.orchestrator().get_flow_events(tenant, flow.flow_id, after_version=flow.version)
    assert [e.operation for e in events] == [
        "execute_phase",
        *["complete_phase", "reattempt_phase"] * 2,
        "complete_phase",
    ]
    for n, delay in enumerate(DELAYS):
        failed, reattempted = events[1 + 2 * n], events[2 + 2 * n]
        retry_at = datetime.fromisoformat(failed.data["run"]["retry_at"])
        # the backoff after n + 1 failed attempts (from just before the completion was recorded), waited out
        assert delay - 0.2 < (retry_at - failed.occurred_at).total_seconds() <= delay, (n, retry_at)
        assert reattempted.occurred_at >= retry_at and attempts[n + 1].started_at >= retry_at
        assert requests[n + 1].at - requests[n].at >= delay, (n, requests[n + 1].at - requests[n].at)
    await consistent(crew_container, tenant, flow.flow_id)


async def test_a_malformed_answer_each_time_fails_the_flow_after_its_attempts(
    crew_container: Container, llm_stub: LLMStub, tenant: Tenant
) -> None:
    flow = await flow_at_field_mapping(crew_container, tenant)
    llm_stub.script(answer("The hostname column is the name."))
    done = await crew_container.orchestrator().execute_phase(tenant, flow.flow_id, actor="t")
    assert done.status == FlowStatus.FAILED
    error = done.error or ""
    assert error.startswith("phase 'field_mapping' failed after 3 attempts (attempt 1: "), error
    for n in (1, 2, 3):
        assert f"attempt {n}: phase 'field_mapping' raised an unexpected error (MalformedCrewAnswer: " in error
    assert error.count("the crew's answer is not JSON") == 3
    assert len(requests_to(llm_stub)) == 3
    attempts = await attempts_of(crew_container, tenant, flow.flow_id)
    assert [a.result for a in attempts] == ["retrying", "retrying", "failed"]
    await consistent(crew_container, tenant, flow.flow_id)


async def test_a_refused_request_fails_the_flow_after_one_attempt(
    crew_container: Container, llm_stub: LLMStub, tenant: Tenant
) -> None:
    flow = await flow_at_field_mapping(crew_container, tenant)
    llm_stub.script(status(401), answer(GOOD_ANSWER))  # a retry would have been answered well
    done = await crew_container.orchestrator().execute_phase(tenant, flow.flow_id, actor="t")
    assert done.status == FlowStatus.FAILED
    assert "LLMRequestRefused: the LLM endpoint refused the request: HTTP 401" in (done.error or ""), done.error
    assert "attempt 1:" not in (done.error or "")  # one attempt: no list of them
    assert len(requests_to(llm_stub)) == 1
    attempts = await attempts_of(crew_container, tenant, flow.flow_id)
    assert [(a.attempt, a.result) for a in attempts] == [(1, "failed")]
    await consistent(crew_container, tenant, flow.flow_id)


async def test_a_hanging_request_is_abandoned_at_the_timeout_and_attempted_again(
    crew_container: Container, llm_stub: LLMStub, tenant: Tenant
) -> None:
    flow = await flow_at_field_mapping(crew_container, tenant)
    llm_stub.script(hang(), answer(GOOD_ANSWER))
    done = await crew_container.orchestrator().execute_phase(tenant, flow.flow_id, actor="t")
    assert done.status == FlowStatus.WAITING_FOR_INPUT and done.phase_results["field_mapping"] == PROPOSAL
    first, second = requests_to(llm_stub)
    assert first.disconnected and not first.answered and first.disconnected_at is not None
    # the policy's timeout, not the LLM's own (30 s), ended the request: at about 2 s, and the client went at once
    assert first.disconnected_at - first.at < POLICY.timeout_seconds + 1.0, first.disconnected_at - first.at
    assert second.at >= first.disconnected_at  # the next attempt began after the first one's request was dropped
    attempts = await attempts_of(crew_container, tenant, flow.flow_id)
    assert [(a.attempt, a.result) for a in attempts] == [(1, "retrying"), (2, "needs_input")]
    assert attempts[0].detail == "phase 'field_mapping' timed out after 2 s"
    assert attempts[0].ended_at is not None
    assert (attempts[0].ended_at - attempts[0].started_at).total_seconds() >= POLICY.timeout_seconds
    await consistent(crew_container, tenant, flow.flow_id)


@asynccontextmanager
async def started(runner: PhaseRunner) -> AsyncIterator[PhaseRunner]:
    runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


@pytest.mark.parametrize("policy", [dataclasses.replace(POLICY, timeout_seconds=30)], ids=["no-timeout"])
@pytest.mark.parametrize(
    ("how", "heartbeat_seconds"),
    [
        # a heartbeat far off: only the revoke can drop the request within the time asserted
        ("revoke", 10.0),
        ("heartbeat", 0.2),
    ],
)
async def test_cancelling_the_flow_abandons_its_running_llm_call(
    crew_container: Container, llm_stub: LLMStub, tenant: Tenant, how: str, heartbeat_seconds: float
) -> None:
    """The policy's timeout is 30 s here: only the cancel can end the request within the time asserted."""
    flow = await flow_at_field_mapping(crew_container, tenant)
    llm_stub.script(hang())
    options = RunnerOptions(heartbeat_seconds=heartbeat_seconds, lease_seconds=30, polls=False, actor="runner")
    async with started(crew_container.phase_runner(options=options)) as runner:
        mfo = crew_container.orchestrator
        claimed = await mfo().claim_phase(tenant, flow.flow_id, actor="t", owner=runner.owner, lease_seconds=30)
        runner.run(claimed)
        [request] = await eventually(lambda: requests_to(llm_stub), within=5, what="the crew's request")
        cancelled = await mfo().cancel_flow(tenant, flow.flow_id, actor="t")
        at_cancel = time.monotonic()
        if how == "revoke":
            # the cancel revoked the attempt; its runner hears of it only now (its heartbeat is 10 s away)
            [revoked] = await attempts_of(crew_container, tenant, flow.flow_id)
            assert (revoked.result, revoked.detail) == ("revoked", "the flow was cancelled while the attempt ran")
            runner.revoke(flow.flow_id)
        await eventually(lambda: request.disconnected, within=3, what="the stub saw the client go away")
        assert request.disconnected_at is not None and request.disconnected_at - at_cancel < 1.5
        assert not request.answered
        assert await runner.wait(claimed.run_id, 5), "the runner's attempt did not end"
        assert runner.running == 0
    assert cancelled.status == FlowStatus.CANCELLED
    stored = await consistent(crew_container, tenant, flow.flow_id)
    assert (stored.status, stored.version, stored.run) == (FlowStatus.CANCELLED, cancelled.version, None)
    [attempt] = await attempts_of(crew_container, tenant, flow.flow_id)
    assert (attempt.run_id, attempt.owner, attempt.result) == (claimed.run_id, runner.owner, "discarded")
    assert "the flow was cancelled while the attempt ran" in (attempt.detail or ""), attempt.detail
    assert "its outcome (cancelled: its lease was revoked) was discarded" in (attempt.detail or ""), attempt.detail
    assert len(requests_to(llm_stub)) == 1  # and nothing asked again
