"""Discovery's field mapping by a real CrewAI crew, against tests/llm_stub.py's endpoint and no other network."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from adapters.crewai_bridge.event_listener import captured_events
from adapters.crewai_bridge.phase_flow import phase_flow_class
from adapters.crewai_bridge.runtime import console_suppressed, load_crewai
from adapters.flow_types.discovery import phases, register
from adapters.flow_types.discovery.crew import (
    LLMEndpoint,
    LLMRequestRefused,
    LLMUnavailable,
    MalformedCrewAnswer,
    crew_field_mapping,
    crew_policy,
    with_crew,
)
from application.flow_type_registry import FlowTypeRegistry
from domain.events import Tenant
from domain.flow import Flow
from domain.flow_types import PhaseContext
from domain.lifecycle import Operation
from domain.phases import PhaseOutcome, PhaseResultKind
from entrypoints.container import build_flow_types
from entrypoints.settings import LLMSettings, Settings
from tests.llm_stub import Behaviour, LLMStub, answer, hang, outbound_connections, status
from tests.support import eventually

CSV = "Hostname,OS,Env,Rack {position}\nweb1,Ubuntu,prod,r1\n"
COLUMNS = ["Env", "Hostname", "OS", "Rack {position}"]  # as data_import sorts them
CONTEXT = PhaseContext(flows=None)  # type: ignore[arg-type]  # field mapping reads no other flow
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:crewai")  # its own fields, read by itself


@pytest.fixture(scope="module", autouse=True)
def crewai_loaded() -> None:
    """crewai's import (seconds) once, not inside the first test."""
    load_crewai()


def imported_flow() -> Flow:
    """A discovery flow whose data_import has completed."""
    now = datetime.now(UTC)
    flow = Flow.create(
        flow_id=uuid4(),
        tenant=Tenant(uuid4(), uuid4()),
        flow_type="discovery",
        name="d",
        phases=list(phases.PHASES),
        configuration={"data": CSV},
        actor="t",
        at=now,
    )
    flow.start(actor="t", at=now)
    flow.record_phase_outcome(Operation.EXECUTE_PHASE, "data_import", phases.data_import(flow), actor="t", at=now)
    return flow


def endpoint_of(stub: LLMStub, timeout: float = 10.0) -> LLMEndpoint:
    return LLMEndpoint(stub.base_url, "stub-model", "test-key", request_timeout_seconds=timeout)


async def test_a_good_answer_becomes_the_proposal_a_client_approves(llm_stub: LLMStub) -> None:
    llm_stub.script(answer('{"Hostname": "name", "OS": "os", "Env": "environment", "Rack {position}": null}'))
    flow = imported_flow()
    with outbound_connections() as connections:
        outcome = await crew_field_mapping(endpoint_of(llm_stub))(flow, CONTEXT)
    assert outcome.kind == PhaseResultKind.NEEDS_INPUT
    assert outcome.result == {
        "proposed_mappings": {"Env": "environment", "Hostname": "name", "OS": "os"},
        "unmapped_columns": ["Rack {position}"],
        "rejections": 0,
        "proposed_by": "crew",
    }
    [request] = llm_stub.received
    assert (request.method, request.path, request.answered) == ("POST", "/v1/chat/completions", True)
    assert request.body["model"] == "stub-model"
    assert request.headers["authorization"] == "Bearer test-key"
    prompt = "\n".join(message["content"] for message in request.body["messages"])
    assert all(column in prompt for column in COLUMNS) and all(target in prompt for target in phases.TARGET_FIELDS)
    assert {tuple(address) for address in connections} == {("127.0.0.1", llm_stub.port)}  # nowhere else
    flow.record_phase_outcome(Operation.COMPLETE_PHASE, "field_mapping", outcome, actor="t", at=datetime.now(UTC))
    approved = phases.accept_field_mapping(flow, {"approved": True, "mappings": {}})
    assert approved.result["mappings"] == outcome.result["proposed_mappings"]


async def test_an_answer_in_a_code_fence_is_taken(llm_stub: LLMStub) -> None:
    llm_stub.script(answer('```json\n{"Hostname": "name"}\n```'))
    outcome = await crew_field_mapping(endpoint_of(llm_stub))(imported_flow(), CONTEXT)
    assert outcome.result["proposed_mappings"] == {"Hostname": "name"}
    assert outcome.result["unmapped_columns"] == ["Env", "OS", "Rack {position}"]


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("The hostname column is the name.", "not JSON"),
        ('["Hostname", "name"]', "not an object"),
        ('{"Hostname": "name", "Serial": "name"}', "not imported: ['Serial']"),
        ('{"Hostname": "server_name"}', "no target field: {'Hostname': 'server_name'}"),
        ('{"Hostname": "name", "Hostname": "os"}', "duplicate keys"),
    ],
)
async def test_a_malformed_answer_is_refused(llm_stub: LLMStub, content: str, complaint: str) -> None:
    llm_stub.script(answer(content))
    with pytest.raises(MalformedCrewAnswer, match=re.escape(complaint)) as raised:
        await crew_field_mapping(endpoint_of(llm_stub))(imported_flow(), CONTEXT)
    assert crew_policy(endpoint_of(llm_stub)).retries(raised.value)
    assert len(llm_stub.received) == 1


@pytest.mark.parametrize(
    ("behaviour", "said"),
    [
        (status(429, retry_after=7), "HTTP 429 (Retry-After: 7)"),
        (status(500), "HTTP 500"),
        (status(503), "HTTP 503"),
        (status(408), "HTTP 408"),
    ],
)
async def test_a_busy_or_failing_endpoint_is_a_retryable_attempt(
    llm_stub: LLMStub, behaviour: Behaviour, said: str
) -> None:
    llm_stub.script(behaviour)
    started = time.monotonic()
    with pytest.raises(LLMUnavailable, match=re.escape(said)) as raised:
        await crew_field_mapping(endpoint_of(llm_stub))(imported_flow(), CONTEXT)
    assert crew_policy(endpoint_of(llm_stub)).retries(raised.value)
    # the phase's policy is the one retry layer: neither the SDK, nor crewai's agent or rate-limit retry, asked again
    assert len(llm_stub.received) == 1 and time.monotonic() - started < 2


async def test_a_request_past_its_timeout_is_a_retryable_attempt(llm_stub: LLMStub) -> None:
    llm_stub.script(answer('{"Hostname": "name"}', delay_seconds=3))
    with pytest.raises(LLMUnavailable, match="did not answer in time"):
        await crew_field_mapping(endpoint_of(llm_stub, timeout=0.5))(imported_flow(), CONTEXT)
    [request] = llm_stub.received
    await eventually(lambda: request.disconnected, within=2, what="the timed-out request closed")
    assert not request.answered


@pytest.mark.parametrize("code", [400, 401, 403, 404])
async def test_a_refused_request_is_never_retried(llm_stub: LLMStub, code: int) -> None:
    llm_stub.script(status(code))
    with pytest.raises(LLMRequestRefused, match=f"HTTP {code}") as raised:
        await crew_field_mapping(endpoint_of(llm_stub))(imported_flow(), CONTEXT)
    assert not crew_policy(endpoint_of(llm_stub)).retries(raised.value)
    assert len(llm_stub.received) == 1


@pytest.mark.parametrize("how", ["cancel", "timeout"])
async def test_a_cancelled_phase_abandons_its_request_at_once(llm_stub: LLMStub, how: str) -> None:
    llm_stub.script(hang())
    handler = crew_field_mapping(endpoint_of(llm_stub, timeout=30))
    if how == "cancel":
        task = asyncio.ensure_future(handler(imported_flow(), CONTEXT))
        await eventually(lambda: llm_stub.received, within=3, what="the crew's request")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    else:  # as an orchestrator enforcing the phase's timeout would
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(handler(imported_flow(), CONTEXT), timeout=1.0)
    stopped = time.monotonic()
    [request] = llm_stub.received
    await eventually(lambda: request.disconnected, within=2, what="the stub saw the client go away")
    assert request.disconnected_at is not None and request.disconnected_at - stopped < 2
    await asyncio.sleep(0.3)
    assert len(llm_stub.received) == 1  # and nothing asked again


async def test_crewais_own_llm_call_outlives_a_cancelled_task(llm_stub: LLMStub) -> None:
    """Why the crew's LLM call is bound to the phase's loop: with a plain ``crewai.LLM`` the request runs in
    crewai's worker thread and stays open after the task is cancelled (until the client's timeout)."""
    from crewai import LLM, Agent, Crew, Task

    llm = LLM(model="openai/stub-model", base_url=llm_stub.base_url, api_key="k", custom_openai=True, timeout=3)
    agent = Agent(role="r", goal="g", backstory="b", llm=llm, max_retry_limit=0)
    crew = Crew(agents=[agent], tasks=[Task(description="d", expected_output="e", agent=agent)], tracing=False)
    llm_stub.script(hang())
    with console_suppressed():
        task = asyncio.ensure_future(crew.akickoff())
        await eventually(lambda: llm_stub.received, within=3, what="the crew's request")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await asyncio.sleep(1.0)
    assert not llm_stub.received[0].disconnected


async def test_the_crew_runs_inside_the_crewai_bridge(llm_stub: LLMStub) -> None:
    """Discovery runs through the CrewAI bridge by default: the crew then runs in one of its Flow's steps."""
    handler = crew_field_mapping(endpoint_of(llm_stub))

    async def kickoff() -> PhaseOutcome:
        instance = phase_flow_class("discovery", phases.PHASES, ("field_mapping",))(tracing=False)
        flow = imported_flow()

        async def runner(phase: str, mode: str) -> PhaseOutcome:
            return await handler(flow, CONTEXT)

        instance.runner = runner
        with captured_events(), console_suppressed():
            await instance.kickoff_async(inputs={"mode": "run", "next_phase": "field_mapping"})
        return instance.outcome  # type: ignore[no-any-return]

    llm_stub.script(answer('{"Hostname": "name"}'), status(401))
    outcome = await kickoff()
    assert (outcome.kind, outcome.result["proposed_mappings"]) == (PhaseResultKind.NEEDS_INPUT, {"Hostname": "name"})
    with pytest.raises(LLMRequestRefused):  # its type intact: the policy's never_retry still applies
        await kickoff()


def test_with_crew_without_an_endpoint_is_the_definition_itself() -> None:
    definition = register()
    assert with_crew(definition, None) is definition


def test_with_crew_swaps_the_field_mapping_handler_and_sets_its_policy() -> None:
    definition = register()
    endpoint = LLMEndpoint("http://127.0.0.1:9/v1", "m", "k", request_timeout_seconds=90)
    crewed = with_crew(definition, endpoint)
    assert crewed.run["field_mapping"].__name__ == "field_mapping_by_crew"
    assert definition.run["field_mapping"].__name__ == "field_mapping"  # the original is left as it was
    assert {p: h for p, h in crewed.run.items() if p != "field_mapping"} == {
        p: h for p, h in definition.run.items() if p != "field_mapping"
    }
    policy = crewed.policy_for("field_mapping")
    assert policy.never_retry == (LLMRequestRefused,) and policy.max_attempts == 3
    assert policy.timeout_seconds == 180 and policy.backoff.delay_seconds(1) > 0
    assert crewed.policy_for("data_import") == definition.policy_for("data_import")
    assert FlowTypeRegistry([crewed]).get("discovery") is crewed  # a well-formed definition
    with pytest.raises(ValueError, match="no field_mapping phase"):
        with_crew(replace(definition, name="other", phases=("data_import",), run={}), endpoint)


def test_the_container_gives_discovery_a_crew_only_when_the_llm_is_configured() -> None:
    plain = build_flow_types(Settings()).get("discovery")
    assert plain.run["field_mapping"].__name__ == "field_mapping" and "field_mapping" not in plain.policies
    settings = Settings(llm=LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", api_key="k"))
    crewed = build_flow_types(settings).get("discovery")
    assert crewed.run["field_mapping"].__name__ == "field_mapping_by_crew"
    assert crewed.policy_for("field_mapping").never_retry == (LLMRequestRefused,)


def test_the_llm_settings_come_all_three_or_not_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MFO_LLM_BASE_URL", "MFO_LLM_MODEL", "MFO_LLM_API_KEY", "MFO_LLM_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert Settings.from_env().llm == LLMSettings()
    monkeypatch.setenv("MFO_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    with pytest.raises(SystemExit, match="MFO_LLM_MODEL, MFO_LLM_API_KEY not set"):
        Settings.from_env()
    monkeypatch.setenv("MFO_LLM_MODEL", "m")
    with pytest.raises(SystemExit, match=r"(?m)^  MFO_LLM_API_KEY not set"):
        Settings.from_env()
    monkeypatch.setenv("MFO_LLM_API_KEY", "sk-secret")
    monkeypatch.setenv("MFO_LLM_TIMEOUT_SECONDS", "12.5")
    llm = Settings.from_env().llm
    assert (llm.base_url, llm.model, llm.api_key, llm.timeout_seconds) == (
        "http://127.0.0.1:9/v1",
        "m",
        "sk-secret",
        12.5,
    )
    assert "sk-secret" not in repr(llm)
    monkeypatch.setenv("MFO_LLM_BASE_URL", "127.0.0.1:9/v1")
    with pytest.raises(SystemExit, match="must be an http:// or https:// URL"):
        Settings.from_env()
    monkeypatch.setenv("MFO_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MFO_LLM_TIMEOUT_SECONDS", "0")
    with pytest.raises(SystemExit, match="MFO_LLM_TIMEOUT_SECONDS must be more than 0 seconds"):
        Settings.from_env()
