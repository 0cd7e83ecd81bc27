"""Every method on every path, served or not, answers below 500.

The routes come from the app itself (``app.routes``, so a route added later is covered without editing this test),
each path parameter filled, with and without a trailing slash, plus paths the app does not serve. Each is sent every
method of RFC 9110 and a token no server knows, in the app's configurations that change routing and hooks:
development mode with the legacy routes on, and production mode (a tenant's and the platform operator's token)
with the legacy routes off. Litestar's own ``OPTIONS`` handler of a legacy path used to run the legacy controller's
``before_request`` hook, which read the legacy route of a handler that has none: a 500 for ``OPTIONS`` on every
legacy path once the legacy routes were off.
"""

from __future__ import annotations

import re
import socket
from dataclasses import replace
from typing import Any
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from domain.events import Tenant
from entrypoints.http.app import create_app
from entrypoints.settings import AuthSettings, LegacySettings, Settings
from tests.support import asgi_client, auth_headers, container_on, headers, platform_headers

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PROPFIND"]
UNSERVED_PATHS = ["/", "/nothing-here", "/api", "/api/v1", "/api/v1/nothing", "/api/v1/flows/x/y/z", "/dashboard/x/y"]
_PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]+)?\}")
_FILLERS = {"file_path": "index.html", "path": "openapi.json"}


def filled(template: str) -> str:
    return _PARAMETER.sub(lambda m: _FILLERS.get(m.group(1), str(uuid4())), template)


def served_methods(route: Any) -> set[str]:
    methods = {m for handler in getattr(route, "route_handlers", []) for m in handler.http_methods}
    return methods | {"HEAD"} if "GET" in methods else methods


def configurations(settings: Settings) -> dict[str, tuple[Settings, list[dict[str, str]]]]:
    tenant = Tenant(uuid4(), uuid4())
    production = replace(settings, auth=replace(settings.auth, mode="production"))
    return {
        "dev, legacy on": (
            replace(settings, auth=AuthSettings(mode="dev", jwt_secret=settings.auth.jwt_secret)),
            [headers(tenant, wait=False)],
        ),
        "production, legacy off": (
            replace(production, legacy=LegacySettings(enabled=False)),
            [auth_headers(tenant, "admin"), platform_headers(), {}],
        ),
    }


@pytest.mark.parametrize("configuration", ["dev, legacy on", "production, legacy off"])
async def test_every_method_on_every_path_answers_below_500(settings, configuration) -> None:  # type: ignore[no-untyped-def]
    app_settings, credentials = configurations(settings)[configuration]
    async with container_on(app_settings) as own:
        app = create_app(app_settings, own)
        async with AsyncTestClient(app) as client:  # started, as a server starts it (/readyz is then 200)
            failures = await answers_of(client, app, credentials)
    assert not failures, f"{len(failures)} bad answers:\n" + "\n".join(sorted(set(failures))[:60])


async def answers_of(client: Any, app: Any, credentials: list[dict[str, str]]) -> list[str]:
    targets = [(filled(route.path), served_methods(route)) for route in app.routes]
    targets += [(path.rstrip("/") + "/", methods) for path, methods in targets if path != "/"]
    targets += [(path, set()) for path in UNSERVED_PATHS]
    failures: list[str] = []
    for path, served in targets:
        for method in METHODS:
            for credential in credentials:
                answer = await client.request(method, path, headers=credential)
                failures += problems_of(method, path, served, answer)
    return failures


def problems_of(method: str, path: str, served: set[str], answer: Any) -> list[str]:
    where = f"{method} {path}: {answer.status_code}"
    found = []
    if answer.status_code >= 500:
        found.append(f"{where} {answer.text[:200]}")
    is_problem = answer.headers.get("content-type", "").startswith("application/problem+json")
    if answer.status_code >= 400 and answer.content and method != "HEAD" and not is_problem:
        found.append(f"{where} is not a problem: {answer.headers.get('content-type')}")
    if served and method not in served:
        if answer.status_code != 405:
            found.append(f"{where}, not 405 for a method the path does not serve ({sorted(served)})")
        elif "allow" not in answer.headers:
            found.append(f"{where} without Allow")
        else:
            allowed = {m.strip() for m in answer.headers["allow"].split(",")}
            if not allowed <= served or not allowed:
                found.append(f"{where} Allow {sorted(allowed)} is not what the path serves ({sorted(served)})")
    return found


async def test_options_on_a_legacy_path_once_they_are_off_is_410_gone(settings, container) -> None:  # type: ignore[no-untyped-def]
    """The case that was a 500: Litestar's ``OPTIONS`` handler of a legacy path, legacy routes off."""
    app = create_app(replace(settings, legacy=LegacySettings(enabled=False)), container)
    tenant = Tenant(uuid4(), uuid4())
    async with asgi_client(app) as client:
        for path in (f"/api/v1/discovery/flows/{uuid4()}/pause", "/api/v1/unified-discovery/flows/active"):
            answer = await client.options(path, headers=headers(tenant, wait=False))
            assert answer.status_code == 410, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["successor"].startswith("/api/v1/flows")


RAW_METHODS = ["CONNECT", "TRACE", "PROPFIND", "M-SEARCH"]


def test_a_real_server_answers_every_method_below_500(server: str) -> None:
    """Through uvicorn's HTTP parser too: CONNECT (which proxies treat as a tunnel) and unknown tokens get a 405 or
    a 404 problem, never a 5xx or a dropped connection."""
    host, port = server.removeprefix("http://").split(":")
    for method in RAW_METHODS:
        for target in ("/api/v1/flows", "/health", "/nothing-here"):
            with socket.create_connection((host, int(port)), timeout=30) as connection:
                connection.sendall(f"{method} {target} HTTP/1.1\r\nHost: mfo\r\nConnection: close\r\n\r\n".encode())
                answer = b""
                while chunk := connection.recv(65536):
                    answer += chunk
            status_line, _, rest = answer.partition(b"\r\n")
            status = int(status_line.split()[1])
            assert status in (404, 405), (method, target, answer[:300])
            assert b"application/problem+json" in rest.lower(), (method, target, answer[:300])
