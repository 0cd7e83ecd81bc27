"""``HEAD`` on a ``GET`` route, as RFC 9110 (section 9.3.2) says: the status and headers ``GET`` would answer, no body.

Litestar routes a ``HEAD`` only to handlers that declare it, so every ``@get`` route would answer it 405. Instead, a
``HEAD`` request is routed as the ``GET`` it asks about (on a copy of the scope: the server keeps its own, and knows
the answer to a ``HEAD`` has no body), and every body chunk of the answer is sent empty. A path that serves no
``GET`` answers the ``GET``'s 405, whose ``Allow`` names no ``HEAD`` either.
"""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send


def is_head(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["method"] == "HEAD"


async def answer_head_as_get(scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """Call ``app`` with ``GET`` in place of ``HEAD``, keeping the answer's status and headers but not its body."""

    async def send_without_body(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}  # type: ignore[typeddict-item]
        await send(message)

    as_get = {**scope, "method": "GET"}
    try:
        await app(as_get, receive, send_without_body)  # type: ignore[arg-type]
    finally:
        if "path_template" in as_get:  # the route it was routed to, for the request's metrics and span
            scope["path_template"] = as_get["path_template"]


def allow_with_head(allow: str) -> str:
    """An ``Allow`` value naming ``HEAD`` too when it names ``GET`` (every ``GET`` route answers ``HEAD``)."""
    methods = [m.strip() for m in allow.split(",") if m.strip()]
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    return ", ".join(sorted(methods))
