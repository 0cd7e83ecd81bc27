"""Every request gets an id (its ``X-Request-ID``, or a new one), echoed in the response, and logs one JSON line.

The id and the tenant (from the tenant headers, when they are UUIDs) are bound to the log context for the whole
request, so every line the request logs carries them; the orchestrator's observer adds the flow id.
"""

from __future__ import annotations

import logging
import re
import time
from uuid import UUID, uuid4

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

logger = logging.getLogger("mfo.http")


def request_id_of(raw: str | None) -> str:
    """The client's id when it is a short token of safe characters; otherwise a new one."""
    if raw and _SAFE_ID.match(raw.strip()):
        return raw.strip()
    return uuid4().hex


def _tenant_of(headers: dict[str, str]) -> str:
    try:
        account = UUID(headers.get("x-client-account-id", "").strip())
        engagement = UUID(headers.get("x-engagement-id", "").strip())
    except ValueError:
        return ""
    return f"{account}/{engagement}"


class RequestContextMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        request_id = request_id_of(headers.get(REQUEST_ID.lower()))
        flow_id = str(scope.get("path_params", {}).get("flow_id") or "")
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = [(REQUEST_ID.lower().encode(), request_id.encode("latin-1"))]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}  # type: ignore[typeddict-item]
            await send(message)

        bind = scope["litestar_app"].state.container.log_context()
        with bind(request_id=request_id, tenant=_tenant_of(headers), flow_id=flow_id[:64]):
            try:
                await next_app(scope, receive, send_with_id)
            finally:
                logger.info(
                    "request finished",
                    extra={
                        "method": scope.get("method"),
                        "path": scope.get("path"),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                    },
                )
