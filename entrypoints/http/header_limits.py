"""Request headers past a size limit: 431 Request Header Fields Too Large (RFC 6585), as a problem, before routing.

Two limits, both settings (``MFO_MAX_HEADER_COUNT``, ``MFO_MAX_HEADER_BYTES``): how many header fields, and how
many bytes their names and values take together. The ASGI server has limits of its own (h11 refuses a head over
64 KiB); these are the API's, lower, and the same behind any server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from litestar.types import Scope, Send

from domain.echo import excerpt
from entrypoints.http.problems import PROBLEM_JSON, problem_body


@dataclass(frozen=True, slots=True)
class HeaderLimits:
    max_count: int
    max_bytes: int

    def excess(self, headers: list[tuple[bytes, bytes]]) -> str | None:
        """Why ``headers`` are refused, or None when they are within both limits."""
        if len(headers) > self.max_count:
            return f"the request has {len(headers)} header fields; at most {self.max_count} are accepted"
        size = sum(len(name) + len(value) for name, value in headers)
        if size > self.max_bytes:
            return f"the request's header fields take {size} bytes; at most {self.max_bytes} are accepted"
        return None


async def refuse_large_headers(scope: Scope, send: Send, reason: str) -> None:
    """Answer 431 with a problem saying ``reason``; the request's body is not read."""
    body = json.dumps(
        problem_body(431, "headers-too-large", "Request header fields too large", reason, excerpt(scope["path"]))
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 431,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
