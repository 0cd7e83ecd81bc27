"""Each flow type over HTTP: discovery -> assessment -> wave planning, and the flow-type listing."""

from __future__ import annotations

from domain.events import Tenant
from tests.support import DISCOVERY_INPUTS, completed_flow, headers

ESTATE = (
    "hostname,type,os,os_version,env,depends_on\n"
    "web1,server,Ubuntu,16.04,prod,db1\n"
    "web2,server,Ubuntu,22.04,prod,db1\n"
    "db1,database,RHEL,7,prod,\n"
    "mail,email,Windows Server,2019,prod,\n"
    "old,server,CentOS,6,dev,\n"
    "api,server,Ubuntu,22.04,prod,cache\n"
    "cache,server,Ubuntu,22.04,prod,api\n"
    "lab,server,Ubuntu,22.04,test,\n"
)


async def test_the_flow_types_are_listed_with_their_phases(client) -> None:
    types = {t["name"]: t for t in (await client.get("/api/v1/flow-types")).json()["items"]}
    assert set(types) >= {"discovery", "assessment", "planning"}
    assert types["assessment"]["phases"] == [
        "inventory_intake",
        "six_r_scoring",
        "recommendation_review",
        "assessment_summary",
    ]
    assert types["assessment"]["input_phases"] == ["recommendation_review"]
    assert types["planning"]["phases"] == ["scope_intake", "move_grouping", "wave_assignment", "schedule"]


async def test_discovery_then_assessment_then_planning(client, tenant: Tenant) -> None:
    discovery = await completed_flow(client, tenant, "discovery", {"data": ESTATE}, DISCOVERY_INPUTS)
    assessment = await completed_flow(
        client,
        tenant,
        "assessment",
        {"discovery_flow_id": discovery["flow_id"]},
        {"recommendation_review": {"approved": True, "overrides": {"web2": "replatform"}}},
    )
    recommendations = assessment["phase_results"]["six_r_scoring"]["recommendations"]
    assert {name: r["strategy"] for name, r in recommendations.items()} == {
        "web1": "replatform",  # R5: Ubuntu 16.04 is past end of support (debt 50), one dependant
        "web2": "rehost",  # R6
        "db1": "replatform",  # R5: a database
        "mail": "repurchase",  # R3: email is a commodity
        "old": "retire",  # R1: nothing depends on it, not in production
        "api": "rehost",  # R6: in a cycle, but low debt
        "cache": "rehost",
        "lab": "retire",
    }
    summary = assessment["phase_results"]["assessment_summary"]
    assert summary["strategies"]["web2"] == "replatform" and summary["overridden"] == ["web2"]
    assert summary["to_migrate"] == ["api", "cache", "db1", "mail", "web1", "web2"]
    status = (await client.get(f"/api/v1/flows/{assessment['flow_id']}/status", headers=headers(tenant))).json()
    assert status["in_sync"] and status["child"]["details"]["application_count"] == 8

    planning = await completed_flow(
        client,
        tenant,
        "planning",
        {"assessment_flow_id": assessment["flow_id"], "wave_size": 3, "start_date": "2027-01-04", "wave_weeks": 2},
        {},
    )
    results = planning["phase_results"]
    assert results["scope_intake"]["excluded"] == ["lab", "old"]
    assert results["move_grouping"]["groups"] == [["db1", "web1", "web2"], ["api", "cache"], ["mail"]]
    # simplest first: the rehost pair, then the group with a replatform, then the repurchase; a group that
    # does not fit in the current wave starts the next one
    assert results["schedule"]["waves"] == [
        {"wave": 1, "applications": ["api", "cache"], "starts": "2027-01-04", "ends": "2027-01-17"},
        {"wave": 2, "applications": ["db1", "web1", "web2"], "starts": "2027-01-18", "ends": "2027-01-31"},
        {"wave": 3, "applications": ["mail"], "starts": "2027-02-01", "ends": "2027-02-14"},
    ]


async def test_a_later_type_needs_a_completed_upstream_flow(client, tenant: Tenant, other_tenant: Tenant) -> None:
    h = headers(tenant)
    created = await client.post("/api/v1/flows", json={"flow_type": "discovery", "name": "unfinished"}, headers=h)
    unfinished = created.json()["flow_id"]
    for config, message in [
        ({}, "needs 'discovery_flow_id'"),
        ({"discovery_flow_id": unfinished}, "must be completed first"),
        ({"discovery_flow_id": "00000000-0000-0000-0000-000000000000"}, "no discovery flow"),
    ]:
        flow = (
            await client.post(
                "/api/v1/flows", json={"flow_type": "assessment", "name": "a", "configuration": config}, headers=h
            )
        ).json()
        await client.post(f"/api/v1/flows/{flow['flow_id']}/start", headers=h)
        failed = (await client.post(f"/api/v1/flows/{flow['flow_id']}/execute", headers=h)).json()
        assert failed["status"] == "failed" and message in failed["error"], failed["error"]
    theirs = await completed_flow(client, other_tenant, "discovery", {"data": ESTATE}, DISCOVERY_INPUTS)
    flow = (
        await client.post(
            "/api/v1/flows",
            json={"flow_type": "assessment", "name": "a", "configuration": {"discovery_flow_id": theirs["flow_id"]}},
            headers=h,
        )
    ).json()
    await client.post(f"/api/v1/flows/{flow['flow_id']}/start", headers=h)
    failed = (await client.post(f"/api/v1/flows/{flow['flow_id']}/execute", headers=h)).json()
    assert failed["status"] == "failed" and "no discovery flow" in failed["error"]


async def test_a_configuration_a_phase_could_not_take_is_refused_at_create_naming_the_field(
    client, tenant: Tenant
) -> None:
    for flow_type, configuration, field in [
        ("planning", {"wave_weeks": 10**30}, "wave_weeks"),
        ("planning", {"start_date": "9999-12-31"}, "start_date"),
        ("planning", {"wave_size": 0}, "wave_size"),
        ("assessment", {"discovery_flow_id": "not a uuid"}, "discovery_flow_id"),
    ]:
        body = {"flow_type": flow_type, "name": "bad", "configuration": configuration}
        response = await client.post("/api/v1/flows", json=body, headers=headers(tenant))
        assert response.status_code == 422, (flow_type, configuration, response.text)
        assert field in response.json()["detail"], response.json()
    listed = await client.get("/api/v1/flows?include_deleted=true", headers=headers(tenant))
    assert listed.json()["items"] == []  # nothing was stored
