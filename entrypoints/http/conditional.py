"""Conditional reads (RFC 9110 §13.1.2): ``If-None-Match`` answered ``304 Not Modified`` when the client's copy is
still the representation the read would send, so that a page polling the API re-downloads nothing unchanged.

Two kinds of ETag are given out on reads:

- a flow and its status: ``"<version>"``, the validator ``If-Match`` takes. A version names one state of the flow, its
  child record and its mirrors (each change writes them together and moves the version on), so the body is the same
  for the same version, except while a phase runs: then it shows seconds running and whether the lease expired,
  which change with the clock. Such a read is never answered 304.
- a list (flows, the queue): a strong ETag made of a hash of the exact body bytes, so equal tags mean equal bytes.

``If-None-Match`` compares weakly (a ``W/`` prefix is ignored on either side), as §13.1.2 asks; ``*`` matches any
current representation.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.openapi import ResponseSpec

IF_NONE_MATCH = "If-None-Match"
MAX_IF_NONE_MATCH_LENGTH = 8192
"""A longer header is not compared at all (the read is answered in full)."""


NOT_MODIFIED = {
    304: ResponseSpec(
        data_container=None,
        description="Not Modified: the If-None-Match names the current ETag; no body",
    )
}
"""The extra answer (in the OpenAPI schema) of a read that takes ``If-None-Match``."""


def opaque(tag: str) -> str:
    """The quoted part of an entity tag, without ``W/`` (the weak comparison of RFC 9110 §8.8.3.2)."""
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(request: Request, etag: str) -> bool:
    """True when the request's ``If-None-Match`` names ``etag`` (or is ``*``): the client's copy is current."""
    raw = request.headers.get(IF_NONE_MATCH)
    if raw is None or len(raw) > MAX_IF_NONE_MATCH_LENGTH:
        return False
    if raw.strip() == "*":
        return True
    wanted = opaque(etag)
    return any(opaque(tag) == wanted for tag in raw.split(","))


def not_modified(etag: str) -> Response[Any]:
    """A 304 carries the ETag it confirms and no body (RFC 9110 §15.4.5)."""
    return Response(content=b"", status_code=304, headers={"ETag": etag})


def body_etag(body: bytes) -> str:
    """A strong ETag of exactly these bytes."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def conditional_json(request: Request, content: msgspec.Struct) -> Response[Any]:
    """``content`` as JSON with a strong ETag of its bytes, or a 304 when the client already holds those bytes."""
    body = msgspec.json.encode(content)
    etag = body_etag(body)
    if none_match(request, etag):
        return not_modified(etag)
    return Response(content=body, media_type="application/json", headers={"ETag": etag})
