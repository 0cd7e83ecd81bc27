"""Idempotency-Key over HTTP: retries get the first answer and change nothing (counted in the database)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text

from domain.events import Tenant
from entrypoints.container import Container
from tests.support import DISCOVERY_CSV, eventually, headers, owner_engine_of

FLOWS = "/api/v1/flows"
BODY = {"flow_type": "discovery", "name": "dc", "configuration": {"data": DISCOVERY_CSV}}


async def count(container: Container, table: str, tenant: Tenant) -> int:
    async with owner_engine_of(container).connect() as connection:
        return (
            await connection.execute(
                text(f"SELECT count(*) FROM {table} WHERE client_account_id = :c AND engagement_id = :e"),
                {"c": tenant.client_account_id, "e": tenant.engagement_id},
            )
        ).scalar_one()


async def test_a_retried_create_returns_the_original_answer_and_creates_one_flow(client, container, tenant) -> None:
    h = headers(tenant, **{"Idempotency-Key": "create-1"})
    first = await client.post(FLOWS, json=BODY, headers=h)
    assert first.status_code == 201, first.text
    retry = await client.post(FLOWS, json=BODY, headers=h)
    assert retry.status_code == 201
    assert retry.content == first.content
    assert retry.headers["location"] == first.headers["location"]
    assert retry.headers["etag"] == first.headers["etag"] == '"1"'
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await count(container, "flows", tenant) == 1
    assert await count(container, "flow_events", tenant) == 1
    # the same body spelled differently is the same request
    respelled = await client.post(
        FLOWS,
        content=b'{"name":"dc","flow_type":"discovery","configuration":'
        + __import__("json").dumps(BODY["configuration"]).encode()
        + b"}",
        headers={**h, "Content-Type": "application/json"},
    )
    assert respelled.status_code == 201 and respelled.content == first.content


async def test_the_same_key_with_another_body_or_flow_is_422(client, container, tenant) -> None:
    h = headers(tenant, **{"Idempotency-Key": "k"})
    first = await client.post(FLOWS, json=BODY, headers=h)
    flow = first.json()["flow_id"]
    other = await client.post(FLOWS, json={**BODY, "name": "another"}, headers=h)
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["type"].endswith("/idempotency-key-reused")
    on_a_transition = await client.post(f"{FLOWS}/{flow}/start", headers=h)
    assert on_a_transition.status_code == 422
    assert await count(container, "flows", tenant) == 1
    assert await count(container, "flow_events", tenant) == 1
    h2 = headers(tenant, **{"Idempotency-Key": "start"})
    assert (await client.post(f"{FLOWS}/{flow}/start", headers=h2)).status_code == 200
    second = (await client.post(FLOWS, json=BODY, headers=headers(tenant))).json()["flow_id"]
    other_flow = await client.post(f"{FLOWS}/{second}/start", headers=h2)
    assert other_flow.status_code == 422
    assert (await client.get(f"{FLOWS}/{second}", headers=headers(tenant))).json()["status"] == "initialized"


async def test_retried_transitions_replay_without_a_second_change(client, container, tenant) -> None:
    h = headers(tenant)
    flow = (await client.post(FLOWS, json=BODY, headers=h)).json()["flow_id"]
    url = f"{FLOWS}/{flow}"
    steps: list[tuple[str, dict | None]] = [
        ("start", None),
        ("execute", None),
        ("execute", None),
        ("input", {"approved": True, "mappings": {}}),
        ("pause", None),
        ("resume", None),
        ("cancel", None),
    ]
    for number, (operation, body) in enumerate(steps):
        # an execute without Prefer: wait is answered with its claim (202), and its phase goes on in the background
        claim = operation == "execute"
        keyed = headers(tenant, wait=not claim, **{"Idempotency-Key": f"step-{number}"})
        first = await client.post(f"{url}/{operation}", json=body, headers=keyed)
        assert first.status_code == (202 if claim else 200), (operation, first.text)
        if claim:
            await eventually(phase_ended(client, url, tenant), within=10, what=f"the phase of step {number} ending")
        events = await count(container, "flow_events", tenant)
        retry = await client.post(f"{url}/{operation}", json=body, headers=keyed)
        assert (retry.status_code, without_clock(retry), retry.headers["etag"]) == (
            first.status_code,
            without_clock(first),
            first.headers["etag"],
        ), operation
        assert retry.headers["idempotent-replayed"] == "true"
        assert await count(container, "flow_events", tenant) == events, operation
    deleted = await client.delete(url, headers=headers(tenant, **{"Idempotency-Key": "del"}))
    again = await client.delete(url, headers=headers(tenant, **{"Idempotency-Key": "del"}))
    assert again.status_code == 200 and again.content == deleted.content
    executed = sum(1 for operation, _ in steps if operation == "execute")
    assert await count(container, "flow_events", tenant) == len(steps) + 2 + executed  # a completion per execute


def without_clock(response: Any) -> dict[str, Any]:
    """The answer's body less ``running_phase.running_seconds``: how long the claimed phase had run when the answer
    was rendered (the stored answer is rendered in the claim's transaction, the first response just after it)."""
    body = response.json()
    if body.get("running_phase"):
        assert body["running_phase"].pop("running_seconds") >= 0
    return body  # type: ignore[no-any-return]


def phase_ended(client: Any, url: str, tenant: Tenant) -> Callable[[], Awaitable[bool]]:
    async def ended() -> bool:
        return (await client.get(url, headers=headers(tenant))).json()["running_phase"] is None

    return ended


async def test_an_error_stores_no_key_and_a_retry_runs_again(client, container, tenant) -> None:
    h = headers(tenant)
    flow = (await client.post(FLOWS, json=BODY, headers=h)).json()["flow_id"]
    keyed = headers(tenant, **{"Idempotency-Key": "pause"})
    refused = await client.post(f"{FLOWS}/{flow}/pause", headers=keyed)
    assert refused.status_code == 409
    assert await count(container, "idempotency_keys", tenant) == 0
    await client.post(f"{FLOWS}/{flow}/start", headers=h)
    paused = await client.post(f"{FLOWS}/{flow}/pause", headers=keyed)
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert await count(container, "idempotency_keys", tenant) == 1


async def test_concurrent_requests_with_one_key_apply_once(client, container, tenant) -> None:
    h = headers(tenant, **{"Idempotency-Key": "race"})
    answers = await asyncio.gather(*(client.post(FLOWS, json=BODY, headers=h) for _ in range(8)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["flow_id"] for a in answers}) == 1
    assert sum(1 for a in answers if "idempotent-replayed" not in a.headers) == 1
    assert await count(container, "flows", tenant) == 1


async def test_malformed_keys_are_400(client, tenant) -> None:
    for bad in ["", "x" * 256, "has space", "tab\tkey"]:
        response = await client.post(FLOWS, json=BODY, headers=headers(tenant, **{"Idempotency-Key": bad}))
        assert response.status_code == 400, (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
