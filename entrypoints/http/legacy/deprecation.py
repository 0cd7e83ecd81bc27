"""What every legacy response carries, success or error: ``Deprecation`` (RFC 9745), ``Sunset`` (RFC 8594) and
``Link: <successor>; rel="successor-version"``; and the 410 Gone every legacy route answers once they are off.

The headers are added by :class:`LegacyMiddleware`, set on the legacy controllers. Litestar puts an exception
handler between a route's own middleware and its handler, so problem responses (4xx, 5xx, the 410) pass through
the middleware's ``send`` too. The middleware also counts the call in ``app.state.legacy_usage``.

A 405 (a legacy path called with a method it does not serve) is answered by the router before any route's
middleware runs; :func:`method_not_allowed` is the app-level handler that gives it the same headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.exceptions import MethodNotAllowedException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from domain.echo import excerpt
from entrypoints.http.legacy.usage import LegacyRoute
from entrypoints.http.problems import http_problem, problem
from entrypoints.settings import LegacySettings

LEGACY_ROUTE = "legacy_route"
"""The ``opt`` key of a legacy route handler that holds its :class:`LegacyRoute`."""
LEGACY_SUCCESSOR_ROOT = "/api/v1/flows"


def legacy_route_of(scope: Scope) -> LegacyRoute | None:
    """The legacy route the request was routed to; None for a handler Litestar adds to a legacy path itself (the
    ``OPTIONS`` handler of every path), which runs the controller's hooks too but is no legacy route of its own."""
    return scope["route_handler"].opt.get(LEGACY_ROUTE)


def successor_url(scope: Scope) -> str:
    """The unified URL that replaces this call, with the request's flow id in it (for Litestar's own ``OPTIONS``
    handler: the successor of the legacy route the path matches, else the unified API's root)."""
    route = legacy_route_of(scope)
    if route is None:
        routes = scope["litestar_app"].state.legacy_usage.routes
        return successor_at(routes, scope["path"]) or LEGACY_SUCCESSOR_ROOT
    return _successor(route, scope.get("path_params", {}).get("flow_id"))


def _successor(route: LegacyRoute, flow_id: object | None) -> str:
    if flow_id is None:
        return route.successor
    return route.successor.replace("{flow_id}", quote(str(flow_id), safe=""))


def _path_pattern(route: LegacyRoute) -> re.Pattern[str]:
    return re.compile("^" + re.escape(route.route).replace(re.escape("{flow_id}"), "(?P<flow_id>[^/]+)") + "/?$")


def deprecation_value(at: datetime) -> str:
    """An RFC 9745 structured-field date: ``@`` and the Unix time in seconds."""
    return f"@{int(at.timestamp())}"


def sunset_value(at: datetime) -> str:
    """An RFC 9110 IMF-fixdate, such as ``Wed, 30 Jun 2027 00:00:00 GMT``."""
    return format_datetime(at, usegmt=True)


def deprecation_headers(settings: LegacySettings, successor: str) -> dict[str, str]:
    return {
        "Deprecation": deprecation_value(settings.deprecated_at),
        "Sunset": sunset_value(settings.sunset),
        "Link": f'<{successor}>; rel="successor-version"',
    }


class LegacyMiddleware(ASGIMiddleware):
    """Counts each legacy call and adds the deprecation headers to whatever response it gets.

    Litestar's own ``OPTIONS`` handler of a legacy path passes here too: it is not a legacy route of its own (no
    count), and gets the headers of the legacy route its path matches."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        app = scope["litestar_app"]
        route = scope["route_handler"].opt.get(LEGACY_ROUTE)
        if route is not None:
            app.state.legacy_usage.record(route)
            successor: str | None = successor_url(scope)
        else:
            successor = successor_at(app.state.legacy_usage.routes, scope["path"])
        if successor is None:
            await next_app(scope, receive, send)
            return
        extra = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in deprecation_headers(app.state.settings.legacy, successor).items()
        ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *extra]}  # type: ignore[typeddict-item]
            await send(message)

        await next_app(scope, receive, send_with_headers)


def successor_at(routes: Iterable[LegacyRoute], path: str) -> str | None:
    """The successor URL of the legacy route ``path`` matches (with its flow id), None when it matches none."""
    for route in routes:
        match = _path_pattern(route).match(path)
        if match:
            return _successor(route, match.groupdict().get("flow_id"))
    return None


def method_not_allowed(request: Request[Any, Any, Any], e: MethodNotAllowedException) -> Response[Any]:
    """The app's 405 problem, with the deprecation headers when the path is a legacy one."""
    response = http_problem(request, e)
    successor = successor_at(request.app.state.legacy_usage.routes, request.url.path)
    if successor is not None:
        response.headers.update(deprecation_headers(request.app.state.settings.legacy, successor))
    return response


class LegacyRouteGone(Exception):
    """The legacy routes are switched off (``MFO_LEGACY_ENABLED=false``)."""

    def __init__(self, successor: str) -> None:
        self.successor = successor
        super().__init__(f"this legacy route is gone; use {successor}")


async def refuse_when_disabled(request: Request[Any, Any, Any]) -> None:
    """``before_request`` of the legacy controllers: runs before the body, the tenant or the flow are looked at."""
    if not request.app.state.settings.legacy.enabled:
        raise LegacyRouteGone(successor_url(request.scope))


def gone_problem(request: Request[Any, Any, Any], e: LegacyRouteGone) -> Response[Any]:
    return problem(
        request,
        410,
        "legacy-route-gone",
        "Legacy route gone",
        f"{request.method} {excerpt(request.url.path)} has been retired; use {e.successor} instead",
        successor=e.successor,
    )
