"""The dashboard acts, in a real headless Chromium (Debian's, driven by Playwright) against the app under uvicorn
with its background worker: a discovery flow goes from creation to ``completed`` through the page alone (created in
its form, started with auto-run, paused and resumed, its field mappings rejected, refused, edited and approved in
the form built from the phase's declared input schema), a stale ``If-Match`` is shown as the 409 it is, and a bulk
cancel over a search counts, confirms and reports. Screenshots go to test-artifacts/dashboard-*.png.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from playwright.sync_api import Page, Route, expect

from domain.events import Tenant
from entrypoints.http.app import create_app
from entrypoints.local_postgres import free_port
from tests.e2e.test_dashboard_browser import ARTIFACTS
from tests.support import Hopeless, eventually_sync, headers

SEEN_WITHIN_MS = 30_000  # polled every 2 s, phases run by the worker; the margin is for a loaded machine


@pytest.fixture(scope="module")
def working_server(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The app under uvicorn on a free port with its background worker (auto-run flows run): the base URL."""
    port = free_port()
    app = create_app(settings, background_worker=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="working-server", daemon=True)
    thread.start()

    def started() -> bool:
        if not thread.is_alive():
            raise Hopeless("the server's thread ended")
        return server.started

    eventually_sync(started, within=60, what="the in-process server starting")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def open_dashboard(page: Page, base: str, tenant: Tenant) -> None:
    page.goto(f"{base}/dashboard")
    page.fill("#access [name=clientAccountId]", str(tenant.client_account_id))
    page.fill("#access [name=engagementId]", str(tenant.engagement_id))
    page.click("#access button[type=submit]")
    expect(page.locator("#list-note")).to_contain_text("0 flows")


def buttons(page: Page) -> list[str]:
    return page.locator("#actions button").evaluate_all("nodes => nodes.map(n => n.dataset.action)")


def test_a_discovery_flow_is_driven_to_completed_through_the_page_alone(
    working_server: str,
    tenant: Tenant,
    page: Page,
) -> None:
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/api/v1/" in r.url else None)
    expect.set_options(timeout=SEEN_WITHIN_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    open_dashboard(page, working_server, tenant)

    # created in the page's form (its configuration prefilled with the type's example)
    page.select_option("#create [name=flowType]", "discovery")
    expect(page.locator("#create [name=configuration]")).to_have_value(re.compile(r'"data": "hostname,type'))
    page.fill("#create [name=name]", "dc-east")
    page.click("#create button[type=submit]")
    master_status = page.get_by_test_id("master-status")
    expect(master_status).to_have_text("initialized")
    flow_id = page.url.split("#flow=")[1]
    expect(page.get_by_test_id("flow-name")).to_have_text("dc-east")
    with httpx.Client(base_url=f"{working_server}/api/v1/flows", headers=headers(tenant), timeout=30) as api:
        flow = api.get(f"/{flow_id}").json()
        assert flow["name"] == "dc-east" and flow["configuration"]["data"].startswith("hostname,")
        expect(page.locator("#actions button")).to_have_count(4)
        assert buttons(page) == ["start", "start-auto", "cancel", "delete"]  # initialized: what its status allows

        # a stale If-Match: the 409's title and detail are shown; the page had sent the flow's ETag
        sent_if_match: list[str] = []

        def stale(route: Route) -> None:
            sent_if_match.append(route.request.headers.get("if-match", ""))
            route.continue_(headers={**route.request.headers, "if-match": '"999"'})

        page.route(f"**/api/v1/flows/{flow_id}/start", stale)
        page.click("#actions [data-action=start-auto]")
        expect(page.get_by_test_id("problem-title")).to_have_text("409 Version conflict")
        expect(page.get_by_test_id("problem-detail")).to_contain_text("999")
        assert sent_if_match == [f'"{flow["version"]}"']
        page.unroute(f"**/api/v1/flows/{flow_id}/start")
        assert api.get(f"/{flow_id}").json()["status"] == "initialized", "a refused change changed nothing"

        # started with auto-run: the worker runs data_import and field_mapping, which waits for its mappings
        page.click("#actions [data-action=start-auto]")
        expect(master_status).to_have_text("waiting for input")
        expect(page.locator("#action-problem")).to_be_hidden()
        panel = page.locator("#input-panel")
        expect(panel).to_contain_text("Waiting for input: field mapping")
        expect(page.get_by_test_id("proposal")).to_contain_text("hostname")
        mapping = page.locator("#input-form [data-field='input.mappings[hostname]']")
        expect(mapping).to_have_value('"name"')  # prefilled from the proposal (x-prefill)
        expect(page.locator("#input-form .schema-map tbody tr")).to_have_count(6)
        assert buttons(page) == ["pause", "cancel", "delete"]

        # paused and resumed from the page: it waits for its input again
        page.click("#actions [data-action=pause]")
        expect(master_status).to_have_text("paused")
        assert buttons(page) == ["resume", "cancel", "delete"]
        page.click("#actions [data-action=resume]")
        expect(master_status).to_have_text("waiting for input")

        # rejected: the proposal stays, counted
        page.click("#input-form [data-action=reject]")
        expect(page.get_by_test_id("proposal")).to_contain_text("rejections")
        expect(page.locator("[data-testid=proposal] dd[data-key=rejections]")).to_have_text("1")
        assert api.get(f"/{flow_id}").json()["phase_results"]["field_mapping"]["rejections"] == 1

        # the mappings edited: no column left for 'name' is refused with the handler's reason, in the form
        page.click("#input-form tr[data-key=hostname] button")
        page.click("#input-form [data-action=approve]")
        expect(page.get_by_test_id("input-problem")).to_contain_text("422")
        expect(page.get_by_test_id("input-problem")).to_contain_text("one column must map to the target field 'name'")
        page.fill("#input-form [data-new-key='input.mappings']", "hostname")
        page.click("#input-form .schema-map .row button")
        page.select_option("#input-form [data-field='input.mappings[hostname]']", '"name"')
        page.select_option("#input-form [data-field='input.mappings[env]']", '"owner"')  # an edit the flow keeps
        page.screenshot(path=str(ARTIFACTS / "dashboard-input.png"), full_page=True)
        page.click("#input-form [data-action=approve]")

        # the worker runs the remaining phases
        expect(master_status).to_have_text("completed")
        expect(page.get_by_test_id("progress")).to_have_text("100%")
        expect(page.get_by_test_id("in-sync")).to_have_text("in sync")
        expect(panel).to_be_hidden()
        assert buttons(page) == ["delete"]
        done = api.get(f"/{flow_id}").json()
        assert done["status"] == "completed"
        assert done["phase_results"]["field_mapping"]["mappings"]["hostname"] == "name"
        assert done["phase_results"]["field_mapping"]["mappings"]["env"] == "owner"
        expect(page.locator("#attempts tbody tr")).to_have_count(len(done["phases"]))  # one attempt each
        page.screenshot(path=str(ARTIFACTS / "dashboard-completed.png"), full_page=True)

        # an assessment of it, through the page too: its review's form is built from assessment's own schema
        page.select_option("#create [name=flowType]", "assessment")
        page.fill("#create [name=configuration]", json.dumps({"discovery_flow_id": flow_id}))
        page.fill("#create [name=name]", "dc-east 6R")
        page.click("#create button[type=submit]")
        expect(page.get_by_test_id("flow-name")).to_have_text("dc-east 6R")
        assessment_id = page.url.split("#flow=")[1]
        page.click("#actions [data-action=start-auto]")
        expect(panel).to_contain_text("Waiting for input: recommendation review")
        expect(page.locator("[data-testid=proposal] tr[data-key=web2]")).to_contain_text("rehost")
        page.select_option("#input-form [data-new-key='input.overrides']", "web2")  # x-keys: the applications
        page.click("#input-form .schema-map .row button")
        page.select_option("#input-form [data-field='input.overrides[web2]']", '"replatform"')
        page.click("#input-form [data-action=approve]")
        expect(master_status).to_have_text("completed")
        summary = api.get(f"/{assessment_id}").json()["phase_results"]["assessment_summary"]
        assert summary["overridden"] == ["web2"] and summary["strategies"]["web2"] == "replatform"

        # a flow whose data cannot be imported fails; Retry runs its failed phase again (and it fails again)
        broken = api.post("", json={"flow_type": "discovery", "name": "broken", "configuration": {}}).json()
        page.goto(f"{working_server}/dashboard#flow={broken['flow_id']}")
        page.click("#actions [data-action=start-auto]")
        expect(master_status).to_have_text("failed")
        assert buttons(page) == ["retry", "cancel", "delete"]
        page.click("#actions [data-action=retry]")
        expect(page.locator("#attempts tbody tr")).to_have_count(2)
        expect(master_status).to_have_text("failed")

        # search by id, then by name
        page.fill("#filters [name=q]", flow_id[:8])
        page.press("#filters [name=q]", "Enter")
        expect(page.locator("#flow-list tbody tr")).to_have_count(1)

        # bulk cancel over a search: counted (a cancelled flow cannot be cancelled again), confirmed, reported
        made = [
            api.post("", json={"flow_type": "discovery", "name": f"bulk-{n}", "configuration": {}}) for n in range(4)
        ]
        ids = [m.json()["flow_id"] for m in made]
        assert api.post(f"/{ids[0]}/cancel").status_code == 200
        assert api.post(f"/{ids[1]}/start").status_code == 200
        page.fill("#filters [name=q]", "bulk-")
        page.press("#filters [name=q]", "Enter")
        expect(page.locator("#flow-list tbody tr")).to_have_count(4)
        page.select_option("#bulk-operation", "cancel")
        page.click("#bulk-review")
        expect(page.get_by_test_id("bulk-count")).to_have_text("Cancel 3 of the 4 flows the filter matches?")
        assert {api.get(f"/{i}").json()["status"] for i in ids[1:]} == {"initialized", "running"}, "not before"
        page.screenshot(path=str(ARTIFACTS / "dashboard-bulk.png"), full_page=True)
        page.click("[data-action=bulk-confirm]")
        expect(page.get_by_test_id("bulk-summary")).to_have_text("3 cancelled")
        assert [api.get(f"/{i}").json()["status"] for i in ids] == ["cancelled"] * 4
        expect(page.locator("#flow-list tbody tr .badge.s-cancelled")).to_have_count(4)

        # deleted from its page, after a confirmation
        page.fill("#filters [name=q]", "")
        page.press("#filters [name=q]", "Enter")
        page.goto(f"{working_server}/dashboard#flow={ids[0]}")
        expect(master_status).to_have_text("cancelled")
        page.click("#actions [data-action=delete]")
        expect(page.locator("#actions")).to_contain_text('Delete the flow "bulk-0"?')
        assert api.get(f"/{ids[0]}").json()["status"] == "cancelled", "nothing without the confirmation"
        page.click("#actions [data-action=confirm-delete]")
        expect(master_status).to_have_text("deleted")
        assert api.get(f"/{ids[0]}").json()["status"] == "deleted"

    # the queue view answers, the polled reads came back 304 when nothing changed, and the token stays in the tab
    expect(page.get_by_test_id("queue-running")).to_contain_text("running")
    assert 304 in statuses, "the polls re-downloaded unchanged reads"
    assert page.evaluate("localStorage.getItem('mfo.dashboard.access')") is None
    assert str(tenant.client_account_id) in page.evaluate("sessionStorage.getItem('mfo.dashboard.access')")
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    assert page_errors == []
