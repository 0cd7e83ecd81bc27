"""Schemathesis against the live OpenAPI schema of a real server: every operation, valid and invalid input.

Zero 5xx answers and zero answers that break the schema (status code, content type, headers, body), over at least
2,000 requests (counted). ``MFO_HARNESS_PROFILE=deep`` (``make test-deep``) sends many more.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from domain.auth import Role
from domain.events import Tenant
from tests.e2e.server import Server, real_server
from tests.support import DISCOVERY_CSV, TEST_JWT_SECRET, auth_headers, platform_headers

PROFILE = os.environ.get("MFO_HARNESS_PROFILE", "ci")
EXAMPLES_PER_OPERATION_AND_MODE = int(os.environ.get("MFO_FUZZ_EXAMPLES") or {"ci": 50, "deep": 500}[PROFILE])
MINIMUM_REQUESTS = 2_000

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CHECKS = {GenerationMode.POSITIVE: CONFORMANCE, GenerationMode.NEGATIVE: [*CONFORMANCE, negative_data_rejection]}


PLATFORM_OPERATIONS = {"latestConsistencyAudit", "legacyUsage"}
"""The platform operator's routes: a tenant's credential would only ever get their 403."""


def credentials(tenant: Tenant, operation_id: str | None = None) -> dict[str, str]:
    """The one place the fuzzer's requests get their credentials: an admin's bearer token for ``tenant``, or the
    platform operator's for the platform's routes."""
    if operation_id in PLATFORM_OPERATIONS:
        return platform_headers(subject="fuzzer")
    return auth_headers(tenant, Role.ADMIN, subject="fuzzer")


@pytest.fixture(scope="module")
def fuzzed_server(migrated_url: str) -> Iterator[Server]:
    """``mfo serve`` in production auth mode, its output in a file (thousands of requests would fill a pipe)."""
    with real_server(migrated_url, MFO_AUTH_MODE="production", MFO_JWT_SECRET=TEST_JWT_SECRET) as running:
        yield running


def seed_flows(base_url: str, tenant: Tenant) -> list[str]:
    """Flows in many states, so generated requests reach real transitions and not only 404s."""
    ids = []
    with httpx.Client(base_url=f"{base_url}/api/v1/flows", headers=credentials(tenant), timeout=30) as http:
        body = {"flow_type": "discovery", "name": "seed", "configuration": {"data": DISCOVERY_CSV}}
        for steps in ([], ["start"], ["start", "execute", "execute"], ["start", "pause"], ["cancel"]):
            flow = http.post("", json=body).json()["flow_id"]
            for step in steps:
                assert http.post(f"/{flow}/{step}").status_code == 200
            ids.append(flow)
        failing = {"flow_type": "discovery", "name": "fails", "configuration": {"data": "not,a\ncsv"}}
        flow = http.post("", json=failing).json()["flow_id"]
        http.post(f"/{flow}/start")
        http.post(f"/{flow}/execute")
        ids.append(flow)
    return ids


class Tally:
    """Requests sent per operation, and each distinct failure (operation, check, status) with one reproduction."""

    def __init__(self) -> None:
        self.requests = 0
        self.by_operation: dict[str, int] = {}
        self.failures: dict[tuple[str, str, int], str] = {}

    def record(self, label: str, failure: BaseException, case: Any, status: int) -> None:
        found = failure.exceptions if isinstance(failure, FailureGroup) else (failure,)
        for one in found:
            title = getattr(one, "title", None) or f"{type(one).__name__}: {one}"
            key = (label, str(title), status)
            if key not in self.failures:
                self.failures[key] = f"{label} -> {status}: {title}\n{one}\n  {case.as_curl_command()}"


def fuzz(operation: Any, mode: GenerationMode, tenant: Tenant, flow_ids: list[str], tally: Tally) -> None:
    session = requests.Session()
    label = f"{operation.label} [{mode.value}]"

    @given(case=operation.as_strategy(generation_mode=mode), known=st.none() | st.sampled_from(flow_ids))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def send(case: Any, known: str | None) -> None:
        if known is not None and mode is GenerationMode.POSITIVE and "flow_id" in (case.path_parameters or {}):
            case.path_parameters["flow_id"] = known
        tally.requests += 1
        tally.by_operation[label] = tally.by_operation.get(label, 0) + 1
        sent = credentials(tenant, operation.definition.raw.get("operationId"))
        response = case.call(session=session, headers=sent, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS[mode], headers=sent)
        except (Exception, FailureGroup) as failure:  # every failure is collected: one run reports them all
            tally.record(label, failure, case, response.status_code)

    with contextlib.suppress(Unsatisfiable):
        send()


def can_be_negated(operation: Any) -> bool:
    """False when every input is a plain string (or there is none): no request to it breaks its schema."""
    raw = operation.definition.raw
    if "requestBody" in raw:
        return True
    return any(parameter.get("schema") != {"type": "string"} for parameter in raw.get("parameters", []))


def test_every_operation_answers_within_its_schema_and_never_5xx(fuzzed_server: Server, tenant: Tenant) -> None:
    server = fuzzed_server
    schema = schemathesis.openapi.from_url(f"{server.base_url}/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    flow_ids = seed_flows(server.base_url, tenant)
    tally = Tally()
    started = time.perf_counter()
    for operation in operations:
        fuzz(operation, GenerationMode.POSITIVE, tenant, flow_ids, tally)
        if can_be_negated(operation):
            fuzz(operation, GenerationMode.NEGATIVE, tenant, flow_ids, tally)
    seconds = time.perf_counter() - started
    print(f"schemathesis: {tally.requests} requests to {len(operations)} operations in {seconds:.0f} s")
    report = "\n\n".join(tally.failures.values())
    assert not tally.failures, f"{len(tally.failures)} failures:\n{report}\n\nserver log:\n{server.log_tail(5000)}"
    assert {f"{op.label} [positive]" for op in operations} <= set(tally.by_operation)
    assert tally.requests >= MINIMUM_REQUESTS, tally.by_operation
