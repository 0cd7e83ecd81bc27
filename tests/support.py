"""Helpers shared by integration and end-to-end tests."""

from __future__ import annotations

import dataclasses
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.flow_types.discovery import DiscoveryFlowService, register
from application.flow_type_registry import FlowTypeRegistry
from domain.events import Tenant
from domain.flow import Flow

DISCOVERY_CSV = (
    "hostname,type,os,os_version,env,depends_on\n"
    "web1,server,Ubuntu,16.04,prod,db1\n"
    "db1,database,RHEL,7,prod,\n"
    "web2,server,Ubuntu,22.04,dev,db1;web1\n"
)


def headers(tenant: Tenant, **extra: str) -> dict[str, str]:
    return {"X-Client-Account-ID": str(tenant.client_account_id), "X-Engagement-ID": str(tenant.engagement_id), **extra}


async def snapshot(engine: AsyncEngine, flow_id: UUID) -> dict[str, Any]:
    """Everything stored about a flow, read on a separate connection."""
    async with engine.connect() as connection:
        master = (
            (await connection.execute(text("SELECT * FROM flows WHERE flow_id = :id"), {"id": flow_id}))
            .mappings()
            .all()
        )
        child = (
            (await connection.execute(text("SELECT * FROM discovery_flows WHERE flow_id = :id"), {"id": flow_id}))
            .mappings()
            .all()
        )
        events = (
            (
                await connection.execute(
                    text("SELECT * FROM flow_events WHERE flow_id = :id ORDER BY version"), {"id": flow_id}
                )
            )
            .mappings()
            .all()
        )
    return {"master": [dict(r) for r in master], "child": [dict(r) for r in child], "events": [dict(r) for r in events]}


class ExplodingDiscovery(DiscoveryFlowService):
    """Writes its child row, then raises: the failure comes after every write of the operation but the event."""

    armed = False

    async def save_child(self, flow: Flow) -> None:
        await super().save_child(flow)
        if ExplodingDiscovery.armed:
            raise RuntimeError("adapter failed after writing its child row")


def registry_with(factory: Any) -> FlowTypeRegistry:
    return FlowTypeRegistry([dataclasses.replace(register(), factory=factory)])


def asgi_client(app: Any) -> Any:
    """An HTTP client that calls the app in this event loop (so it shares the test's pool)."""
    import httpx

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mfo.test")
