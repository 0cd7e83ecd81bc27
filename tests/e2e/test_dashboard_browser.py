"""The dashboard in a real headless Chromium (Debian's, driven by Playwright) against the app served by uvicorn
on a real socket.

A flow is created and driven through the JSON API while the page is open; the page must show each new status and
phase by itself (it polls), with the master, child and CrewAI state side by side and the event timeline.
The final page is saved as test-artifacts/dashboard.png.
"""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import httpx
from playwright.sync_api import Page, expect

from domain.auth import Role
from domain.events import Tenant
from tests.support import DISCOVERY_CSV, auth_headers, headers

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SEEN_WITHIN_MS = 15_000  # the page polls every 2 s; the margin is for a loaded machine


def test_the_dashboard_follows_a_flow_driven_through_the_api(live_server: str, tenant: Tenant, page: Page) -> None:
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    expect.set_options(timeout=SEEN_WITHIN_MS)

    with httpx.Client(base_url=f"{live_server}/api/v1/flows", headers=headers(tenant), timeout=30) as api:

        def call(operation: str, body: dict | None = None) -> dict:
            response = api.post(f"/{flow_id}/{operation}", json=body)
            assert response.status_code == 200, (operation, response.text)
            return response.json()

        created = api.post(
            "", json={"flow_type": "discovery", "name": "dc-east", "configuration": {"data": DISCOVERY_CSV}}
        )
        assert created.status_code == 201, created.text
        flow_id = created.json()["flow_id"]

        audited = api.get(f"{live_server}/api/v1/admin/consistency")  # a tenant's audit: of its flows, not stored
        assert audited.status_code == 200 and audited.json()["scope"] == "tenant", audited.text

        page.goto(f"{live_server}/dashboard")
        expect(page.locator("h1")).to_contain_text("MFO")
        expect(page.locator("#list-note")).to_contain_text("Enter the tenant")
        page.fill("#access [name=clientAccountId]", str(tenant.client_account_id))
        page.fill("#access [name=engagementId]", str(tenant.engagement_id))
        page.click("#access button[type=submit]")

        row = page.locator(f"tr[data-flow-id='{flow_id}']")
        expect(row).to_contain_text("initialized")
        row.click()
        expect(page).to_have_url(f"{live_server}/dashboard#flow={flow_id}")
        master_status = page.get_by_test_id("master-status")
        current_phase = page.get_by_test_id("current-phase")
        expect(master_status).to_have_text("initialized")
        expect(page.get_by_test_id("flow-name")).to_have_text("dc-east")

        call("start")
        expect(master_status).to_have_text("running")
        expect(current_phase).to_have_text("data_import")
        expect(page.get_by_test_id("child-status")).to_have_text("in progress")

        call("execute")  # data_import
        expect(page.locator("#phases [data-phase=data_import]")).to_have_attribute("data-state", "completed")
        expect(current_phase).to_have_text("field_mapping")

        waiting = call("execute")  # field_mapping proposes, then waits
        assert waiting["status"] == "waiting_for_input"
        expect(master_status).to_have_text("waiting for input")
        expect(page.locator("#phases [data-phase=field_mapping]")).to_contain_text("waiting for input")
        expect(page.get_by_test_id("crewai-status")).to_have_text("waiting for input")

        call("input", {"approved": True, "mappings": {}})
        for _ in range(4):
            final = call("execute")
        assert final["status"] == "completed"

        expect(master_status).to_have_text("completed")
        expect(page.get_by_test_id("progress")).to_have_text("100%")
        expect(page.get_by_test_id("child-status")).to_have_text("complete")
        expect(page.get_by_test_id("crewai-status")).to_have_text("completed")
        expect(page.get_by_test_id("in-sync")).to_have_text("in sync")
        expect(page.locator("#phases [data-state=completed]")).to_have_count(len(final["phases"]))
        expect(row).to_contain_text("completed")
        events = api.get(f"/{flow_id}/events").json()["items"]
        expect(page.locator("#timeline li")).to_have_count(len(events))
        # the last phase: its claim, then its completion
        expect(page.locator(f"#timeline li[data-version='{events[-2]['version']}']")).to_contain_text("execute phase")
        expect(page.locator(f"#timeline li[data-version='{events[-1]['version']}']")).to_contain_text("complete phase")

        # Two more flows of the tenant, so the counts and the list have something to compare.
        waiting_id = api.post("", json={"flow_type": "discovery", "name": "dc-west", "configuration": {}}).json()
        api.post(f"/{waiting_id['flow_id']}/start")
        lab = api.post("", json={"flow_type": "discovery", "name": "lab", "configuration": {}}).json()
        expect(page.locator("#flow-list tbody tr")).to_have_count(3)
        expect(page.locator("#counts [data-count='discovery/completed']")).to_have_text("1")
        expect(page.locator("#counts [data-count='discovery/running']")).to_have_text("1")
        expect(page.locator("#counts [data-count='discovery/initialized']")).to_have_text("1")

        page.select_option("#filters [name=flowType]", "discovery")
        page.check("#status-filter input[value=completed]")
        expect(page.locator("#flow-list tbody tr")).to_have_count(1)
        expect(page.locator("#flow-list tbody tr")).to_have_attribute("data-flow-id", flow_id)
        page.uncheck("#status-filter input[value=completed]")
        expect(page.locator("#flow-list tbody tr")).to_have_count(3)

        # an auto-run flow waits for a worker (this server's runner does not poll): the queue view shows it, due
        assert api.post(f"/{lab['flow_id']}/start", json={"auto_run": True}).status_code == 200
        queued = page.locator(f"#queue-waiting tr[data-flow-id='{lab['flow_id']}']")
        expect(queued).to_contain_text("data_import")
        expect(queued).to_contain_text("now")
        expect(page.get_by_test_id("queue-due")).to_have_text("1 due now")

        expect(page.get_by_test_id("audit-verdict")).to_be_visible()
        expect(page.locator("#audit")).to_contain_text("on demand, this tenant's flows")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    unknown = uuid4()
    page.goto(f"{live_server}/dashboard#flow={unknown}")
    expect(page.locator("#detail-title")).to_have_text(f"no flow {unknown} for this tenant")
    expect(page.locator("#problem")).to_be_hidden()

    # Every API call goes through one function: a token entered in the form rides along with the tenant headers.
    token = auth_headers(tenant, Role.VIEWER)["Authorization"].removeprefix("Bearer ")
    page.fill("#access [name=token]", token)
    with page.expect_request(lambda r: "/api/v1/flows?" in r.url, timeout=SEEN_WITHIN_MS) as sent:
        page.click("#access button[type=submit]")
    assert sent.value.headers["authorization"] == f"Bearer {token}"
    assert sent.value.headers["x-client-account-id"] == str(tenant.client_account_id)
    assert sent.value.headers["x-engagement-id"] == str(tenant.engagement_id)
    expect(page.locator(f"tr[data-flow-id='{flow_id}']")).to_contain_text("completed")
    page.click("#audit-run")  # the audit needs an admin: a viewer is told, in the audit panel only
    expect(page.get_by_test_id("audit-refused")).to_contain_text("403")
    expect(page.locator("#problem")).to_be_hidden()
    assert page_errors == []


def test_the_dashboard_assets_are_served_from_the_package(live_server: str) -> None:
    with httpx.Client(base_url=live_server, timeout=10) as http:
        page = http.get("/dashboard")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        for asset, kind in (("/dashboard/dashboard.js", "javascript"), ("/dashboard/dashboard.css", "text/css")):
            response = http.get(asset)
            assert response.status_code == 200 and kind in response.headers["content-type"], asset
            assert asset in page.text
        assert "://" not in page.text.split("<body>")[0]  # nothing loaded from another host
        assert http.get("/dashboard/missing.js").status_code == 404
