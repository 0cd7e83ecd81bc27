"""Every request gets an id (its ``X-Request-ID``, or a new one), echoed in the response, and logs one JSON line.

The id is bound to the log context for the whole request, so every line the request logs carries it; the tenant
is bound by the ``authorize`` guard once the credential is verified (:func:`bind_log_tenant`), so it is always the
credential's (in dev mode a header-only caller's credential is its headers), never a header's in production; the
orchestrator's observer adds the flow id.
"""

from __future__ import annotations

import logging
import re
import time
from uuid import uuid4

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from domain.events import Tenant

REQUEST_ID = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

logger = logging.getLogger("mfo.http")


def request_id_of(raw: str | None) -> str:
    """The client's id when it is a short token of safe characters; otherwise a new one."""
    if raw and _SAFE_ID.match(raw.strip()):
        return raw.strip()
    return uuid4().hex


def bind_log_tenant(connection: ASGIConnection, tenant: Tenant | None) -> None:
    """From now until the request ends, every line it logs names ``tenant`` (the authenticated caller's).

    The field is set in the request's log context, which the middleware below resets when the request ends.
    """
    if tenant is not None:
        connection.app.state.container.log_fields()(tenant=f"{tenant.client_account_id}/{tenant.engagement_id}")


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
        with bind(request_id=request_id, flow_id=flow_id[:64]):
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
