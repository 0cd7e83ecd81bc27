"""No client input reaches a 5xx: Hypothesis sends generated requests to every route of a real production-mode server.

Where the Schemathesis test (``test_api_fuzzing.py``) holds each OpenAPI operation to its schema, this one goes
where the schema does not: every path of ``app.routes`` (legacy, dashboard, ``/metrics``, ``/health``, ``/schema``)
with every method (the ones it does not serve, ``HEAD`` and ``OPTIONS`` included), odd path segments, cursors,
limits, ``If-Match``, ``Idempotency-Key``, ``Content-Type``, credentials with absurd claims, and, for every flow
type's create, configurations built on its example's structure (dates, huge numbers, nested values), each created
flow then run phase by phase. Every answer must be below 500. Failures are collected, one per (method, route,
status), so one run reports them all.

``MFO_HARNESS_PROFILE=deep`` (``make test-deep``) sends ten times as many requests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from domain.auth import Role
from domain.events import Tenant
from entrypoints.http.app import create_app
from entrypoints.settings import DatabaseSettings, Settings
from tests.e2e.server import Server, real_server
from tests.support import DISCOVERY_CSV, TEST_JWT_SECRET, auth_headers, platform_headers

PROFILE = os.environ.get("MFO_HARNESS_PROFILE", "ci")
EXAMPLES = int(os.environ.get("MFO_NO_5XX_EXAMPLES") or {"ci": 3, "deep": 30}[PROFILE])
"""Requests per route and focus; creates per flow type: ten times as many."""
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "BREW"]


def app_routes() -> list[tuple[str, tuple[str, ...]]]:
    """Every path template of an app built as production builds it, with the methods its handlers serve."""
    app = create_app(Settings(database=DatabaseSettings(url="postgresql+asyncpg://routes@127.0.0.1:1/none")))
    found = []
    for route in app.routes:
        methods = {m for handler in getattr(route, "route_handlers", []) for m in handler.http_methods}
        found.append((route.path, tuple(sorted(methods))))
    return sorted(found)


ROUTES = app_routes()


@dataclass
class World:
    """What the generated requests can name: the server, its tenant, flows in several states, the flow types."""

    server: Server
    tenant: Tenant
    flow_ids: list[str]
    completed: dict[str, str]
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signed_token(claims_json: str) -> str:
    """A token signed with the tests' secret whose payload is exactly ``claims_json`` (any JSON, even odd)."""
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64url(claims_json.encode())
    signature = hmac.new(TEST_JWT_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


# Strategies: each mixes values a probe would try with arbitrary ones.

ODD_NUMBERS = ["²", "١", "٣٤", "①", "9" * 16, str(2**31), str(2**63), "1" + "0" * 40, "-1", "0", "+1", " 1", "1e3"]
ODD_TEXT = ["", " ", "%00", "\x00", "\n", "..", "../..", "a" * 300, "\u202e", "💥", "null", "[]", "{}"]
printable_latin1 = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)
any_text = st.text(max_size=40)

numbers_as_text = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.integers(-(2**70), 2**70).map(str),
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=6),
)
extreme_datetimes = st.builds(
    lambda at, minutes: at.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.one_of(
        st.sampled_from([datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)]),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
    ),
    st.integers(-(24 * 60 - 1), 24 * 60 - 1),
)
list_cursors = st.builds(
    lambda at, flow_id: b64url(f"{at.isoformat()}|{flow_id}".encode()),
    extreme_datetimes,
    st.one_of(st.uuids().map(str), any_text),
)
cursors = st.one_of(
    st.sampled_from(ODD_NUMBERS), numbers_as_text, list_cursors, list_cursors, st.sampled_from(ODD_TEXT)
)
if_match = st.one_of(
    numbers_as_text.map(lambda n: f'"{n}"'), st.sampled_from(["*", 'W/"1"', '"1"', "1"]), printable_latin1
)
content_types = st.sampled_from(
    [None, "application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
     "application/merge-patch+json", "application/json; charset=latin-1", "*/*", "garbage"]
)  # fmt: skip
ABSURD_CLAIMS = ["1" + "0" * 400, "1e400", "NaN", "Infinity", "-Infinity", "1e308", "true", '"1"', "null", "[]"]
claim_values = st.one_of(
    st.sampled_from(ABSURD_CLAIMS),
    st.sampled_from(ABSURD_CLAIMS),
    st.integers(-(2**80), 2**80).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
ODD_DATES = ["9999-12-31", "9999-01-01", "0001-01-01", "2027-02-30", "20270104", "2027-01-04T00:00:00+14:00"]
dates = st.one_of(st.sampled_from(ODD_DATES), st.dates().map(lambda d: d.isoformat()))
far_dates = st.one_of(st.sampled_from(["9999-12-31", "9999-06-30"]), dates)
huge_ints = st.one_of(st.sampled_from([0, -1, 2**31, 2**63, 10**30, 10**300]), st.integers(-(2**70), 2**70))
json_values = st.recursive(
    st.none() | st.booleans() | huge_ints | st.floats(allow_nan=False, allow_infinity=False) | any_text | dates,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3),
    max_leaves=10,
)


def credentials(world: World) -> st.SearchStrategy[dict[str, str]]:
    """Mostly an admin's valid token; sometimes none, another role, or a signed token with an absurd claim."""

    return st.one_of(
        st.just(auth_headers(world.tenant, Role.ADMIN, subject="fuzzer")),
        st.sampled_from(list(Role)).map(
            lambda role: (
                platform_headers("fuzzer")
                if role == Role.PLATFORM
                else auth_headers(world.tenant, role, subject="fuzzer")
            )
        ),
        st.just({}),
        absurd_credentials(world),
    )


def absurd_credentials(world: World) -> st.SearchStrategy[dict[str, str]]:
    """A token signed with the tests' secret, one of whose exp, iat or nbf is an odd value."""

    def absurd(claim: str, value: str) -> dict[str, str]:
        now = int(time.time())
        numbers = {"exp": str(now + 600), "iat": str(now - 10), claim: value}
        claims = {
            "sub": "fuzzer",
            "iss": "mfo",
            "aud": "mfo-api",
            "role": "admin",
            "client_account_id": str(world.tenant.client_account_id),
            "engagement_id": str(world.tenant.engagement_id),
        }
        text = json.dumps(claims)[:-1] + "".join(f', "{k}": {v}' for k, v in numbers.items()) + "}"
        return {"Authorization": f"Bearer {signed_token(text)}"}

    return st.builds(absurd, st.sampled_from(["exp", "iat", "nbf"]), claim_values)


def path_values(world: World, name: str) -> st.SearchStrategy[str]:
    if name == "flow_id":
        known = st.sampled_from(world.flow_ids)
        return st.one_of(known, known, known.map(str.upper), st.uuids().map(str), st.sampled_from(ODD_TEXT), any_text)
    control_characters = st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=3)
    return st.one_of(
        st.builds(lambda a, b: a + b, st.sampled_from(["index.html", "", "x"]), control_characters),
        st.sampled_from(ODD_TEXT),
        st.sampled_from(["index.html", "app.js", "openapi.json", "swagger"]),
        any_text,
        st.text(min_size=300, max_size=3000),
    )


def configuration_for(world: World, flow_type: str) -> st.SearchStrategy[dict[str, Any]]:
    """The flow type's example configuration, each value replaced by one of its kind or anything, plus extra keys."""
    example = world.examples.get(flow_type, {})
    extra_keys = ["start_date", "start_date", "wave_weeks", "wave_size", "rows", "data", "nested"]

    def value_like(key: str, value: Any) -> st.SearchStrategy[Any]:
        if key.endswith("_flow_id"):
            upstream = key.removesuffix("_flow_id")
            ids = [world.completed[upstream]] if upstream in world.completed else world.flow_ids
            return st.one_of(st.sampled_from(ids), st.sampled_from(ids), json_values)
        if isinstance(value, int):
            return st.one_of(st.integers(1, 10), huge_ints, json_values)
        if isinstance(value, str):
            return st.one_of(st.just(value), dates, any_text, json_values)
        return json_values

    fixed = st.fixed_dictionaries({key: value_like(key, value) for key, value in example.items()})
    extras = st.dictionaries(
        st.sampled_from(extra_keys),
        st.one_of(dates, dates, huge_ints, json_values, st.lists(st.dictionaries(any_text, json_values, max_size=3))),
        max_size=3,
    )
    return st.builds(lambda a, b: {**a, **b}, fixed, extras)


FOCUSES = ("anything", "method", "paging", "credentials", "path", "headers")
"""What one generated request varies most: everything a little, or one class of input hard (the others plain)."""


@st.composite
def requests(draw: st.DrawFn, world: World, template: str, served: tuple[str, ...], focus: str) -> dict[str, Any]:
    """One request to the route ``template``: a method, its path, query, headers and body, varied as ``focus`` says."""
    plain = focus != "anything"
    served_or_head = [*served, "HEAD"] if "GET" in served else list(served)
    if focus == "method":
        method = draw(st.sampled_from(METHODS))
    else:
        method = draw(st.one_of(st.sampled_from(served_or_head or METHODS), st.sampled_from(METHODS)))
        if plain and served:
            method = draw(st.sampled_from(served_or_head))

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if focus != "path" and plain:
            return world.flow_ids[0] if name == "flow_id" else "index.html"
        return quote(draw(path_values(world, name)), safe="")

    path = re.sub(r"\{(\w+)(?::\w+)?\}", value_of, template)
    paging = {"limit": numbers_as_text, "cursor": cursors}
    others = {
        "status": st.one_of(st.sampled_from(["running", "failed", "completed"]), any_text),
        "flow_type": st.one_of(st.sampled_from(list(world.examples)), any_text),
        "include_deleted": st.sampled_from(["true", "false", "maybe", ""]),
    }
    if focus == "paging":
        query = draw(st.fixed_dictionaries({"cursor": cursors}, optional={"limit": numbers_as_text}))
    else:
        query = {} if plain else draw(st.fixed_dictionaries({}, optional={**paging, **others}))
    admin = auth_headers(world.tenant, Role.ADMIN, subject="fuzzer")
    if focus == "credentials":
        headers = dict(draw(absurd_credentials(world)))
    else:
        headers = dict(admin) if plain else dict(draw(credentials(world)))
    if focus in ("headers", "anything"):
        optional_headers = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "If-Match": if_match,
                    "Idempotency-Key": st.one_of(st.uuids().map(str), printable_latin1, st.just("k" * 300)),
                    "X-Request-ID": printable_latin1,
                    "X-Actor": printable_latin1,
                },
            )
        )
        headers.update(optional_headers)
        content_type = draw(content_types)
        if content_type is not None:
            headers["Content-Type"] = content_type
        if draw(st.integers(0, 4)) == 0:  # now and then, past the header limits
            size = draw(st.sampled_from([1, 400]))
            headers.update({f"X-Filler-{i}": "x" * size for i in range(draw(st.integers(1, 120)))})
    body: Any = None
    if template.rstrip("/") == "/api/v1/flows" and method == "POST":
        flow_type = draw(st.one_of(st.sampled_from(list(world.examples)), any_text))
        body = {"flow_type": flow_type, "name": draw(st.one_of(st.just("fuzz"), any_text)),
                "configuration": draw(configuration_for(world, flow_type))}  # fmt: skip
    elif method in ("POST", "PUT", "PATCH", "DELETE"):
        body = draw(st.one_of(st.none(), json_values, st.dictionaries(any_text, json_values, max_size=3)))
    return {"method": method, "path": path, "template": template, "query": query, "headers": headers, "body": body}


@st.composite
def creates(draw: st.DrawFn, world: World, flow_type: str) -> dict[str, Any]:
    """A create of ``flow_type`` in the shape it accepts, with a configuration built on its example's."""
    dated = draw(
        st.fixed_dictionaries(
            {"start_date": far_dates}, optional={"wave_weeks": st.one_of(st.integers(1, 4), huge_ints)}
        )
    )
    configuration = {**draw(configuration_for(world, flow_type)), **dated}
    body = {"flow_type": flow_type, "name": "fuzz", "configuration": configuration}
    headers = {**auth_headers(world.tenant, Role.OPERATOR, subject="fuzzer"), "Content-Type": "application/json"}
    return {"method": "POST", "path": "/api/v1/flows", "template": "/api/v1/flows", "query": {}, "headers": headers,
            "body": body}  # fmt: skip


class Failures:
    """Each distinct (method, route, status) of a 5xx, with one reproduction."""

    def __init__(self) -> None:
        self.sent = 0
        self.found: dict[tuple[str, str, int], str] = {}

    def check(self, label: tuple[str, str], request: dict[str, Any], response: httpx.Response) -> None:
        self.sent += 1
        if response.status_code >= 500:
            key = (*label, response.status_code)
            if key not in self.found:
                shown = {k: v for k, v in request.items() if k != "headers"}
                headers = {k: v for k, v in request["headers"].items() if not k.startswith("X-Filler")}
                self.found[key] = f"{label} -> {response.status_code} {response.text[:300]}\n  {shown}\n  {headers}"


def send(http: httpx.Client, request: dict[str, Any]) -> httpx.Response:
    content = None if request["body"] is None else json.dumps(request["body"]).encode()
    headers = [(k.encode(), v.strip(" \t").encode()) for k, v in request["headers"].items()]  # as h11 can send them
    return http.request(request["method"], request["path"], params=request["query"], content=content, headers=headers)


def run_created_flow(http: httpx.Client, world: World, created: httpx.Response, failures: Failures) -> None:
    """A flow the fuzzer created: started and run phase by phase (waiting phases given their example input)."""
    flow = created.json()
    base = f"/api/v1/flows/{flow['flow_id']}"
    headers = auth_headers(world.tenant, Role.ADMIN, subject="fuzzer")
    steps: list[tuple[str, Any]] = [("start", None)] + [("execute", None)] * 8
    for operation, body in steps:
        response = http.post(f"{base}/{operation}", json=body, headers=headers)
        label = ("POST", f"/api/v1/flows/{{flow_id}}/{operation} (a fuzzed {flow['flow_type']} flow)")
        failures.check(label, {"method": "POST", "path": f"{base}/{operation}", "body": body, "headers": {}}, response)
        if response.status_code != 200:
            return
        flow = response.json()
        if flow["status"] == "waiting_for_input":
            payload = world.inputs.get(flow["flow_type"], {}).get(flow["current_phase"], {"approved": True})
            response = http.post(f"{base}/input", json=payload, headers=headers)
            sent = {"method": "POST", "path": f"{base}/input", "body": payload, "headers": {}}
            failures.check(("POST", "/api/v1/flows/{flow_id}/input"), sent, response)
        if flow["status"] in ("completed", "failed"):
            return


def complete(http: httpx.Client, flow_type: str, configuration: dict[str, Any], inputs: dict[str, Any]) -> str:
    flow = http.post("/api/v1/flows", json={"flow_type": flow_type, "name": "seed", "configuration": configuration})
    assert flow.status_code == 201, flow.text
    body = http.post(f"/api/v1/flows/{flow.json()['flow_id']}/start").json()
    while body["status"] != "completed":
        operation = "input" if body["status"] == "waiting_for_input" else "execute"
        payload = inputs.get(body["current_phase"]) if operation == "input" else None
        response = http.post(f"/api/v1/flows/{body['flow_id']}/{operation}", json=payload)
        assert response.status_code == 200, response.text
        body = response.json()
    return body["flow_id"]


@pytest.fixture(scope="module")
def world(migrated_url: str) -> Iterator[World]:
    """``mfo serve`` in production auth mode; a tenant with flows in several states and one completed of each type
    an upstream id can name."""
    tenant = Tenant(uuid4(), uuid4())
    with real_server(migrated_url, MFO_AUTH_MODE="production", MFO_JWT_SECRET=TEST_JWT_SECRET) as server:
        headers = auth_headers(tenant, Role.ADMIN, subject="seed")
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as http:
            types = http.get("/api/v1/flow-types").json()
            listed = types["items"] if isinstance(types, dict) else types
            examples = {t["name"]: t.get("example_configuration") or {} for t in listed}
            inputs = {t["name"]: t.get("example_inputs") or {} for t in listed}
            discovery = complete(http, "discovery", {"data": DISCOVERY_CSV}, inputs["discovery"])
            assessment = complete(http, "assessment", {"discovery_flow_id": discovery}, inputs["assessment"])
            flow_ids = []  # not the two upstream flows: a fuzzed DELETE or cancel must not take them away
            for steps in ([], ["start"], ["start", "execute"], ["start", "pause"], ["cancel"]):
                body = {"flow_type": "discovery", "name": "seed", "configuration": {"data": DISCOVERY_CSV}}
                flow = http.post("/api/v1/flows", json=body).json()["flow_id"]
                for step in steps:
                    http.post(f"/api/v1/flows/{flow}/{step}")
                flow_ids.append(flow)
        yield World(server, tenant, flow_ids, {"discovery": discovery, "assessment": assessment}, examples, inputs)


def test_no_generated_request_to_any_route_reaches_a_5xx(world: World) -> None:
    failures = Failures()
    started = time.perf_counter()
    with httpx.Client(base_url=world.server.base_url, timeout=30) as http:

        def probe_all(strategy: st.SearchStrategy[dict[str, Any]], examples: int) -> None:
            @given(request=strategy)
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=PROFILE != "deep",
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def probe(request: dict[str, Any]) -> None:
                response = send(http, request)
                failures.check((request["method"], request["template"]), request, response)
                if request["method"] == "HEAD" and response.content:
                    failures.found.setdefault(("HEAD", request["template"], -1), f"HEAD {request} answered a body")
                if response.status_code == 201 and request["template"].rstrip("/") == "/api/v1/flows":
                    run_created_flow(http, world, response, failures)

            probe()

        for template, served in ROUTES:
            for focus in FOCUSES:
                examples = EXAMPLES * 4 if focus == "path" and "{" in template else EXAMPLES
                probe_all(requests(world, template, served, focus), examples)
        for flow_type in sorted(world.examples):
            probe_all(creates(world, flow_type), EXAMPLES * 10)
    seconds = time.perf_counter() - started
    print(f"no-5xx fuzzing: {failures.sent} requests to {len(ROUTES)} routes in {seconds:.0f} s")
    report = "\n\n".join(failures.found.values())
    if failures.found:
        print(f"{report}\n\nserver log:\n{world.server.log_tail(4000)}")
    assert not failures.found, f"{len(failures.found)} 5xx (each reproduced above with -s): {sorted(failures.found)}"
