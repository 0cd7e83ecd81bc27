"""``Idempotency-Key`` on POST /api/v1/flows and on every transition: the request side and the replayed answer.

The key, what was asked (method, path, body) and how to render the answer are handed to the orchestrator, which
claims the key in the change's own transaction (the ``idempotency`` argument of every command). A retry gets the stored
answer back from :func:`replay`, with ``Idempotent-Replayed: true``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Request, Response
from litestar.datastructures import State
from litestar.params import HeaderParameter

from domain.flow import Flow
from domain.idempotency import MAX_KEY_LENGTH, IdempotentReplay, IdempotentRequest, StoredResponse
from entrypoints.http.dependencies import FlowChange, etag, provide_change
from entrypoints.http.schemas import FlowOut

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"

IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name=IDEMPOTENCY_HEADER,
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        pattern=KEY_PATTERN,
        description="Makes the request safe to retry: a retry with the same key and body gets the first answer "
        "back and changes nothing; the same key with another request is refused (422).",
        required=False,
    ),
]


def flow_answer(flow: Flow, status_code: int = 200, **headers: str) -> StoredResponse:
    """The answer of a change: the flow as JSON, with its ``ETag`` (and any other headers)."""
    return StoredResponse(
        status_code=status_code,
        body=msgspec.json.encode(FlowOut.of(flow)),
        headers={"ETag": etag(flow.version), **headers},
    )


def as_response(answer: StoredResponse, **extra_headers: str) -> Response[FlowOut]:
    return Response(
        content=answer.body,
        status_code=answer.status_code,
        headers={**answer.headers, **extra_headers},
        media_type=answer.media_type,
    )


async def provide_idempotent_change(
    request: Request, state: State, idempotency_key: IdempotencyKeyHeader = None
) -> FlowChange:
    """:func:`provide_change`, its orchestrator claiming the request's ``Idempotency-Key`` when one was sent."""
    change = provide_change(request, state)
    if idempotency_key is None:
        return change
    return replace(change, idempotency=await idempotent_request(request, state, idempotency_key))


async def idempotent_request(request: Request, state: State, idempotency_key: str) -> IdempotentRequest:
    """The request's idempotency key with what it asks for."""
    status_code = request.route_handler.status_code or 200
    collection = request.url.path.rstrip("/")

    def render(flow: Flow) -> StoredResponse:
        if status_code == 201:
            return flow_answer(flow, 201, Location=f"{collection}/{flow.flow_id}")
        return flow_answer(flow, status_code)

    return IdempotentRequest(
        key=idempotency_key,
        fingerprint=fingerprint(request.method, normalized_target(request.url.path), await request.body()),
        ttl=timedelta(seconds=state.settings.idempotency.ttl_seconds),
        render=render,
    )


def normalized_target(path: str) -> str:
    """The path as the routes read it: each segment that is a flow id in its canonical form (a UUID in lower case,
    however it was spelt), no trailing slash. Two paths naming the same flow are the same target."""
    return "/".join(_canonical_segment(segment) for segment in path.rstrip("/").split("/"))


def _canonical_segment(segment: str) -> str:
    try:
        return str(UUID(segment.strip()))
    except ValueError:
        return segment


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What a request asks for: its method, path and body (JSON compared by value, not by spelling)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode() if body else b""
    except (ValueError, RecursionError):  # not JSON (the body's own parsing will say why): compare the bytes
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.rstrip("/").encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def replay(request: Request, e: IdempotentReplay) -> Response[FlowOut]:
    return as_response(e.response, **{REPLAYED_HEADER: "true"})
