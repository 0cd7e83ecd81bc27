"""What every HTTP request goes through before Litestar routes it: its metrics and server span
(:mod:`entrypoints.http.request_telemetry`), header fields past the size limits are a 431
(:mod:`entrypoints.http.header_limits`), and ``HEAD`` is answered as ``GET`` (:mod:`entrypoints.http.head_requests`).
Routing comes first in Litestar, before any middleware, so a request must be handled here to change what it is
routed to, or to be refused whatever its path."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.types import Receive, Scope, Send

from entrypoints.http.head_requests import answer_head_as_get, is_head
from entrypoints.http.header_limits import HeaderLimits, refuse_large_headers
from entrypoints.http.request_telemetry import RequestTelemetry


class EdgeCheckedLitestar(Litestar):
    """The app: Litestar, with the checks above in front of its router."""

    def __init__(
        self, *args: Any, header_limits: HeaderLimits, request_telemetry: RequestTelemetry, **kwargs: Any
    ) -> None:
        self.header_limits = header_limits
        self.request_telemetry = request_telemetry
        super().__init__(*args, **kwargs)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # type: ignore[override]
        if scope["type"] == "http":
            await self.request_telemetry(scope, receive, send, self._checked)
            return
        await super().__call__(scope, receive, send)  # type: ignore[arg-type]

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        reason = self.header_limits.excess(scope["headers"])
        if reason is not None:
            await refuse_large_headers(scope, send, reason)
            return
        if is_head(scope):
            await answer_head_as_get(scope, receive, send, super().__call__)  # type: ignore[arg-type]
            return
        await super().__call__(scope, receive, send)  # type: ignore[arg-type]
