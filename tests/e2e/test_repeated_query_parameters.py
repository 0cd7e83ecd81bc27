"""A query parameter that takes one value, given twice, is a 400 problem naming it (Litestar alone would keep the last
value); a parameter declared as a list may repeat."""

from __future__ import annotations

import pytest

from domain.events import Tenant
from tests.support import headers

SINGLE_VALUED = [
    ("/api/v1/flows", "q", ["a", ""]),
    ("/api/v1/flows", "flow_type", ["discovery", "assessment"]),
    ("/api/v1/flows", "cursor", ["x", "y"]),
    ("/api/v1/flows", "created_after", ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"]),
    ("/api/v1/flows", "limit", ["1", "2"]),
    ("/api/v1/queue", "limit", ["1", "2"]),
    ("/api/v1/admin/consistency", "limit", ["1", "2"]),
]


@pytest.mark.parametrize(("path", "name", "values"), SINGLE_VALUED)
async def test_a_single_valued_parameter_given_twice_is_a_400_naming_it(  # type: ignore[no-untyped-def]
    client, tenant: Tenant, path: str, name: str, values: list[str]
) -> None:
    answer = await client.get(path, params=[(name, v) for v in values], headers=headers(tenant))
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert f"'{name}' takes one value" in answer.json()["detail"]
    once = await client.get(path, params=[(name, values[0])], headers=headers(tenant))
    assert once.status_code != 400 or f"'{name}' takes one value" not in once.text


async def test_a_list_parameter_or_one_the_route_does_not_take_may_repeat(client, tenant: Tenant) -> None:  # type: ignore[no-untyped-def]
    answer = await client.get(
        "/api/v1/flows", params=[("status", "running"), ("status", "paused")], headers=headers(tenant)
    )
    assert answer.status_code == 200, answer.text
    ignored = await client.get("/api/v1/flow-types", params=[("x", "1"), ("x", "2")], headers=headers(tenant))
    assert ignored.status_code == 200, ignored.text
