"""What the OpenAPI schema says about errors: every route documents the RFC 9457 problems it can answer."""

from __future__ import annotations

from litestar.openapi import ResponseSpec
from msgspec import Struct

from entrypoints.http.problems import PROBLEM_JSON


class ProblemOut(Struct, kw_only=True):
    """An RFC 9457 problem. Some problems add members (``current_status``, ``errors``, ...)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str


_MEANINGS = {
    400: "A malformed id, header, query parameter or JSON body",
    403: "The credential may not call this route: a tenant's on a platform route (or too low a role), or the "
    "platform operator's on a tenant's",
    404: "No such flow for this tenant, or no such route",
    409: "An illegal transition, a stale If-Match, or a request with the same Idempotency-Key still in progress",
    413: "The request body is larger than the configured limit",
    415: "A request body whose Content-Type is not JSON",
    422: "A body that breaks the schema, an unknown flow type or phase, unacceptable input, or a reused "
    "Idempotency-Key",
    431: "More request header fields, or more bytes of them, than the configured limits",
    503: "The database is unavailable; retry after Retry-After seconds",
}

READ_PROBLEMS = (400, 404, 431, 503)
WRITE_PROBLEMS = (400, 404, 409, 413, 415, 422, 431, 503)


def problem_responses(*status_codes: int) -> dict[int, ResponseSpec]:
    """The ``responses=`` of a route that can answer these problems."""
    return {
        code: ResponseSpec(data_container=ProblemOut, media_type=PROBLEM_JSON, description=_MEANINGS[code])
        for code in status_codes
    }


READ_RESPONSES = problem_responses(*READ_PROBLEMS)
WRITE_RESPONSES = problem_responses(*WRITE_PROBLEMS)


def phase_run_responses(data_container: type) -> dict[int, ResponseSpec]:
    """The answers of a route that claims a phase (``execute``, ``retry``): 202 claimed, 200 ended in time."""
    return {
        200: ResponseSpec(
            data_container=data_container,
            description="The attempt ended within Prefer: wait; the flow records its outcome",
        ),
        202: ResponseSpec(
            data_container=data_container,
            description="The phase is claimed and runs in the background; the flow shows its running phase",
        ),
        **WRITE_RESPONSES,
    }
