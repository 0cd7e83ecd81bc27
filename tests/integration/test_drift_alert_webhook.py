"""The server audits periodically; drift (a child row changed behind the orchestrator's back) is logged as an error,
shown by /metrics and POSTed to a webhook on 127.0.0.1, which fails once so the alert must be retried. On a database
of its own: its periodic audit sees only its own drift, and no other test's audit run."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import text

from domain.events import Tenant
from entrypoints.http.app import create_app
from entrypoints.settings import ObservabilitySettings
from tests.observing import JsonLines, scrape, value
from tests.support import (
    DISCOVERY_CSV,
    asgi_client,
    container_on,
    database_of_its_own,
    eventually,
    owner_engine_of,
    platform_headers,
)

settings, _ = database_of_its_own("mfo_drift_alert")


class Receiver:
    """A webhook on 127.0.0.1 that answers 500 to the first POST and 204 to the others."""

    def __init__(self) -> None:
        self.received: list[tuple[int, dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = 500 if not receiver.received else 204
                receiver.received.append((status, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/mfo"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def delivered(self) -> list[dict]:
        return [body for status, body in self.received if status == 204]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def json_lines() -> Iterator[JsonLines]:
    with JsonLines.capture() as lines:
        yield lines


async def test_periodic_audit_logs_sets_the_metric_and_posts_the_alert(
    settings, tenant: Tenant, receiver: Receiver, json_lines: JsonLines
) -> None:  # type: ignore[no-untyped-def]
    observing = ObservabilitySettings(
        audit_interval_seconds=0.2,
        audit_findings_limit=10_000,
        alert_webhook_url=receiver.url,
        alert_attempts=3,
        alert_backoff_seconds=0.05,
        metrics_cache_seconds=0,  # the gauge must show the drift at the scrape after the alert
    )
    settings = replace(settings, observability=observing)
    async with container_on(settings) as container:
        flow = await container.orchestrator().create_flow(tenant, "discovery", "d", {"data": DISCOVERY_CSV}, actor="t")
        async with owner_engine_of(container).begin() as connection:
            await connection.execute(  # drift: the child row changed behind the orchestrator's back
                text("UPDATE discovery_flows SET status = 'complete' WHERE flow_id = :id"), {"id": flow.flow_id}
            )
        app = create_app(settings, container)
        async with app.lifespan(), asgi_client(app) as client:

            async def delivered() -> dict | None:
                scraped = await scrape(client)
                return scraped if value(scraped, "mfo_drift_alerts_total", result="delivered") >= 1 else None

            # The receiver records its 204 before the sender has read it; the sender counts the delivery after.
            scraped = await eventually(delivered, within=10, what="the drift alert counted as delivered", every=0.1)
            latest = (await client.get("/api/v1/admin/consistency/latest", headers=platform_headers())).json()

    alert = receiver.delivered()[0]
    assert [status for status, _ in receiver.received[:2]] == [500, 204]  # retried after the failure
    assert receiver.received[0][1]["run_id"] == alert["run_id"]
    assert alert["type"] == "mfo.consistency.drift" and alert["inconsistent"] >= 1
    mine = [f for f in alert["findings"] if f["flow_id"] == str(flow.flow_id)]
    assert mine and any("child status complete" in p for p in mine[0]["problems"])

    drift = [line for line in json_lines.lines if line["logger"] == "mfo.consistency"]
    assert drift and drift[0]["level"] == "error" and drift[0]["trigger"] == "periodic"
    assert str(flow.flow_id) in drift[0]["inconsistent_flow_ids"]

    assert value(scraped, "mfo_consistency_inconsistent_flows") >= 1
    assert value(scraped, "mfo_drift_alerts_total", result="delivered") >= 1
    assert latest["trigger"] == "periodic" and latest["consistent"] is False
