"""How the harness calls MFO's HTTP API: in-process, in the caller's event loop, as a development-mode tenant."""

from __future__ import annotations

from typing import Any

from domain.events import Tenant

WAIT_FOR_PHASES = {"Prefer": "wait=30"}
"""Sent unless a caller says otherwise: an ``execute`` or ``retry`` answers with the phase's outcome (200) rather
than with its claim (202)."""


def headers(tenant: Tenant, *, wait: bool = True, **extra: str) -> dict[str, str]:
    """Development-mode tenancy: the tenant named in headers."""
    return {
        "X-Client-Account-ID": str(tenant.client_account_id),
        "X-Engagement-ID": str(tenant.engagement_id),
        **(WAIT_FOR_PHASES if wait else {}),
        **extra,
    }


def asgi_client(app: Any) -> Any:
    """An HTTP client that calls the app in this event loop (so it shares the caller's pool)."""
    import httpx

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mfo.test")
