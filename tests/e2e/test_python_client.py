"""The generated Python client (clients/python, from docs/openapi.json) against a real server (``mfo serve``):
a discovery flow from create to completed, and a 409 parsed as a problem. The README's example is this test."""

from __future__ import annotations

import httpx
from mfo_client import AuthenticatedClient
from mfo_client.api.flows import create_flow, execute_phase, get_flow_status, pause_flow, start_flow, submit_input
from mfo_client.models import (
    ConflictProblemOut,
    CreateFlowRequest,
    CreateFlowRequestConfiguration,
    ExecutePhaseRequest,
    FlowOut,
    FlowStatus,
    FlowStatusOut,
    Operation,
    PhaseState,
    ProblemOut,
    StartFlowRequest,
    SubmitInputBody,
)

from adapters.auth import JwtCodec
from domain.auth import Role
from domain.events import Tenant
from tests.support import DISCOVERY_CSV, TEST_JWT_SECRET

MAPPINGS = {
    "hostname": "name",
    "type": "asset_type",
    "os": "os",
    "os_version": "os_version",
    "env": "environment",
    "depends_on": "depends_on",
}


def flow_of(answer: object) -> FlowOut:
    assert isinstance(answer, FlowOut), answer
    return answer


def test_a_discovery_flow_from_create_to_completed_through_the_generated_client(server: str, tenant: Tenant) -> None:
    token = JwtCodec(secret=TEST_JWT_SECRET).mint(tenant, Role.OPERATOR, "client-test")
    client = AuthenticatedClient(
        base_url=server,
        token=token,
        headers={"Prefer": "wait=30"},  # execute answers with the phase's outcome (200), not its claim (202)
        timeout=httpx.Timeout(60),
        raise_on_unexpected_status=True,
    )
    with client:
        configuration = CreateFlowRequestConfiguration.from_dict({"data": DISCOVERY_CSV})
        created = create_flow.sync_detailed(
            client=client,
            body=CreateFlowRequest(flow_type="discovery", name="datacentre-1", configuration=configuration),
        )
        assert created.status_code == 201
        flow = flow_of(created.parsed)
        assert flow.status is FlowStatus.INITIALIZED and flow.version == 1
        assert created.headers["ETag"] == '"1"'
        flow_id = str(flow.flow_id)

        flow = flow_of(start_flow.sync(flow_id, client=client, body=StartFlowRequest(auto_run=False)))
        assert flow.status is FlowStatus.RUNNING

        flow = flow_of(execute_phase.sync(flow_id, client=client, body=ExecutePhaseRequest()))  # data_import
        assert flow.phases[0].state is PhaseState.COMPLETED
        flow = flow_of(execute_phase.sync(flow_id, client=client, body=ExecutePhaseRequest()))  # field_mapping
        assert flow.status is FlowStatus.WAITING_FOR_INPUT and flow.current_phase == "field_mapping"
        assert Operation.SUBMIT_INPUT in flow.allowed_operations

        approval = SubmitInputBody.from_dict({"approved": True, "mappings": MAPPINGS})
        flow = flow_of(submit_input.sync(flow_id, client=client, body=approval))
        assert flow.status is FlowStatus.RUNNING

        while flow.status is FlowStatus.RUNNING:
            flow = flow_of(execute_phase.sync(flow_id, client=client, body=ExecutePhaseRequest()))
        assert flow.status is FlowStatus.COMPLETED, flow.error
        assert [phase.state for phase in flow.phases] == [PhaseState.COMPLETED] * len(flow.phases)

        status = get_flow_status.sync(flow_id, client=client)
        assert isinstance(status, FlowStatusOut) and status.in_sync
        assert status.master.status is FlowStatus.COMPLETED

        refused = pause_flow.sync_detailed(flow_id, client=client)
        assert refused.status_code == 409
        problem = refused.parsed
        assert isinstance(problem, ConflictProblemOut), problem
        assert problem.type_ == "https://mfo.dev/problems/illegal-transition"
        assert problem.current_status is FlowStatus.COMPLETED
        assert problem.requested_operation is Operation.PAUSE
        assert problem.allowed_operations == [Operation.DELETE]
        assert refused.headers["Content-Type"] == "application/problem+json"


def test_a_missing_credential_is_a_401_problem_through_the_generated_client(server: str) -> None:
    with AuthenticatedClient(base_url=server, token="not-a-token", raise_on_unexpected_status=True) as client:
        answer = get_flow_status.sync_detailed("7721c4f4-5f0e-4b9a-9d59-3c1f3f0a2b11", client=client)
    assert answer.status_code == 401
    assert isinstance(answer.parsed, ProblemOut) and answer.parsed.type_ == "https://mfo.dev/problems/unauthenticated"
