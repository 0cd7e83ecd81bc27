"""The reads the dashboard builds on: each input phase's declared JSON Schema, the list's search and time filters,
the tenant's queue, and conditional GETs (``If-None-Match`` -> 304) on every read the page polls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from domain.events import Tenant
from tests.support import DISCOVERY_CSV, headers

FLOWS = "/api/v1/flows"


async def create(client, tenant: Tenant, name: str, configuration: dict | None = None) -> dict:  # type: ignore[no-untyped-def]
    body = {"flow_type": "discovery", "name": name, "configuration": configuration or {"data": DISCOVERY_CSV}}
    response = await client.post(FLOWS, json=body, headers=headers(tenant))
    assert response.status_code == 201, response.text
    return response.json()


async def post(client, tenant: Tenant, flow_id: str, operation: str, body: dict | None = None) -> dict:  # type: ignore[no-untyped-def]
    response = await client.post(f"{FLOWS}/{flow_id}/{operation}", json=body, headers=headers(tenant))
    assert response.status_code == 200, response.text
    return response.json()


def pointer(document: dict, path: str) -> object:
    """RFC 6901, for the plain keys the schemas use."""
    for key in path.lstrip("/").split("/"):
        document = document[key]
    return document


async def test_every_input_phase_declares_the_json_schema_of_its_input(client) -> None:  # type: ignore[no-untyped-def]
    types = {t["name"]: t for t in (await client.get("/api/v1/flow-types")).json()["items"]}
    for name in ("discovery", "assessment"):
        flow_type = types[name]
        assert sorted(flow_type["input_schemas"]) == sorted(flow_type["input_phases"]), name
        for phase, schema in flow_type["input_schemas"].items():
            Draft202012Validator.check_schema(schema)
            Draft202012Validator(schema).validate(flow_type["example_inputs"][phase])
    mappings = types["discovery"]["input_schemas"]["field_mapping"]
    with pytest.raises(ValidationError):  # what the accept handler refuses, the schema refuses too
        Draft202012Validator(mappings).validate({"approved": True, "mappings": {"hostname": "no_such_field"}})
    with pytest.raises(ValidationError):
        Draft202012Validator(mappings).validate({"mappings": {}})
    overrides = types["assessment"]["input_schemas"]["recommendation_review"]
    with pytest.raises(ValidationError):
        Draft202012Validator(overrides).validate({"approved": True, "overrides": {"web1": "rebuild"}})


async def test_the_form_is_prefilled_from_what_the_waiting_phase_proposed(client, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    schema = {t["name"]: t for t in (await client.get("/api/v1/flow-types")).json()["items"]}["discovery"][
        "input_schemas"
    ]["field_mapping"]
    flow = await create(client, tenant, "prefilled")
    await post(client, tenant, flow["flow_id"], "start")
    await post(client, tenant, flow["flow_id"], "execute")
    waiting = await post(client, tenant, flow["flow_id"], "execute")
    assert waiting["status"] == "waiting_for_input"
    proposal = pointer(waiting["phase_results"]["field_mapping"], schema["properties"]["mappings"]["x-prefill"])
    assert proposal == {"hostname": "name", "type": "asset_type", "os": "os", "os_version": "os_version",
                        "env": "environment", "depends_on": "depends_on"}  # fmt: skip
    body = {"approved": True, "mappings": proposal}
    Draft202012Validator(schema).validate(body)  # the prefilled form is valid as it stands, and accepted
    assert (await post(client, tenant, flow["flow_id"], "input", body))["status"] == "running"


async def test_the_list_searches_by_name_or_id_and_filters_by_creation_time(client, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    east = await create(client, tenant, "DC East")
    west = await create(client, tenant, "dc-west")
    await create(client, tenant, "lab")

    async def names(**query: str) -> list[str]:
        response = await client.get(FLOWS, params=query, headers=headers(tenant))
        assert response.status_code == 200, response.text
        return [f["name"] for f in response.json()["items"]]

    assert await names(q="dc") == ["dc-west", "DC East"]
    assert await names(q=" east ") == ["DC East"]
    assert await names(q=east["flow_id"]) == ["DC East"]
    assert await names(q=west["flow_id"][:13]) == ["dc-west"]
    west_created = west["created_at"]
    assert await names(created_after=west_created) == ["lab", "dc-west"]
    assert await names(created_before=west_created) == ["DC East"]
    assert await names(q="dc", created_after=west_created, limit="1") == ["dc-west"]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await names(created_after=later) == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-05-01T12:00:00"}, "created_before"),  # no offset: which time zone?
        ({"created_after": "2026-05-02T00:00:00Z", "created_before": "2026-05-01T00:00:00Z"}, "created_after"),
        ({"created_after": "0001-01-01T00:00:00+23:59"}, "created_after"),  # before year 1 in UTC
        ({"created_before": "9999-12-31T23:59:59-23:59"}, "created_before"),  # after year 9999 in UTC
        ({"q": "x" * 201}, "q"),
        ({"q": "tab\there"}, "q"),
    ],
)
async def test_a_filter_that_cannot_be_read_is_a_400_naming_it(client, tenant: Tenant, query, parameter) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(FLOWS, params=query, headers=headers(tenant))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["parameter"] == parameter and parameter in response.json()["detail"]


async def test_the_queue_shows_the_tenants_flows_waiting_for_a_worker(client, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    empty = await client.get("/api/v1/queue", headers=headers(tenant))
    assert empty.status_code == 200, empty.text
    assert empty.json()["waiting"] == [] and empty.json()["running"] == [] and empty.json()["waiting_count"] == 0
    flow = await create(client, tenant, "queued")
    await post(client, tenant, flow["flow_id"], "start", {"auto_run": True})  # this app has no polling worker
    queue = (await client.get("/api/v1/queue", headers=headers(tenant))).json()
    assert [(q["flow_id"], q["phase"], q["attempt"], q["due"]) for q in queue["waiting"]] == [
        (flow["flow_id"], "data_import", 1, True)
    ]
    assert (queue["waiting_count"], queue["due_count"], queue["running_count"]) == (1, 1, 0)
    other = await client.get("/api/v1/queue", headers=headers(Tenant(uuid4(), uuid4())))
    assert other.json()["waiting"] == [], "another tenant's queue is its own"


@pytest.mark.parametrize("path", [FLOWS, "/api/v1/queue", "{flow}", "{flow}/status"])
async def test_a_polled_read_is_answered_304_until_it_changes(client, tenant: Tenant, path: str) -> None:  # type: ignore[no-untyped-def]
    flow = await create(client, tenant, "polled")
    url = path.format(flow=f"{FLOWS}/{flow['flow_id']}")
    first = await client.get(url, headers=headers(tenant))
    assert first.status_code == 200 and first.headers["etag"].startswith('"'), first.text
    tag = first.headers["etag"]
    for sent in (tag, f"W/{tag}", f'"nope", {tag}', "*"):  # If-None-Match compares weakly (RFC 9110 13.1.2)
        again = await client.get(url, headers=headers(tenant, **{"If-None-Match": sent}))
        assert again.status_code == 304, sent
        assert again.content == b"" and again.headers["etag"] == tag
    assert (await client.get(url, headers=headers(tenant, **{"If-None-Match": '"nope"'}))).status_code == 200
    await post(client, tenant, flow["flow_id"], "start", {"auto_run": True})
    changed = await client.get(url, headers=headers(tenant, **{"If-None-Match": tag}))
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert changed.json() != first.json()
    same = await client.get(url, headers=headers(tenant))
    assert same.content == changed.content, "equal tags, equal bytes"


async def test_a_flow_running_a_phase_is_never_answered_304_and_the_queue_shows_its_lease(  # type: ignore[no-untyped-def]
    client, container, tenant: Tenant
) -> None:
    flow = await create(client, tenant, "claimed")
    await post(client, tenant, flow["flow_id"], "start")
    claimed = await container.orchestrator().claim_phase(  # claimed, not run: no runner of this app takes it
        tenant, UUID(flow["flow_id"]), actor="tester", owner="runner-elsewhere", lease_seconds=3600
    )
    url = f"{FLOWS}/{flow['flow_id']}"
    for read in (url, f"{url}/status"):
        first = await client.get(read, headers=headers(tenant))
        assert first.json()["running_phase"]["phase"] == "data_import"
        again = await client.get(read, headers=headers(tenant, **{"If-None-Match": first.headers["etag"]}))
        assert again.status_code == 200, "its running seconds move on: the copy is not current"
    queue = (await client.get("/api/v1/queue", headers=headers(tenant))).json()
    assert [(h["flow_id"], h["phase"], h["attempt"], h["owner"], h["lease_expired"]) for h in queue["running"]] == [
        (flow["flow_id"], "data_import", 1, "runner-elsewhere", False)
    ]
    assert (queue["running_count"], queue["expired_count"], queue["waiting_count"]) == (1, 0, 0)
    assert claimed.run_id is not None
