"""What the OpenAPI schema declares beyond the routes' own types: the credentials (security schemes, and which
routes need which), the RFC 9457 problems every route can answer (the 401 and 403 of every protected one among them),
and the examples. ``docs/openapi.json`` is this schema, committed (:mod:`entrypoints.http.openapi_document`).

Every example is built from the wire Structs and the domain's enums, so it cannot name a field or a status the API
does not have.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar.enums import RequestEncodingType
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import Components, Example, SecurityRequirement, SecurityScheme
from litestar.params import Body, BodyKwarg
from msgspec import Struct

from domain.auth import Role
from domain.lifecycle import FlowStatus, Operation, allowed_operations
from entrypoints.http.auth import DEV_TENANT_HEADERS, forbidden_reason
from entrypoints.http.problems import PROBLEM_JSON, problem_body


class ProblemOut(Struct, kw_only=True):
    """An RFC 9457 problem. Some problems add members (``current_status``, ``errors``, ...)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str


class ConflictProblemOut(ProblemOut, kw_only=True):
    """A 409: an illegal transition (``illegal-transition``: ``current_status``, ``requested_operation`` and the
    ``allowed_operations``), a stale ``If-Match`` (``version-conflict``: ``expected_version``, ``current_version``),
    a flow busy past the lock timeout (``flow-busy``), an ``Idempotency-Key`` still in use
    (``idempotency-key-in-progress``) or a migration its mapping cannot express (``migration-refused``:
    ``from_version``, ``to_version`` and the ``reason``)."""

    flow_id: UUID | None = None
    current_status: FlowStatus | None = None
    requested_operation: Operation | None = None
    allowed_operations: list[Operation] | None = None
    reason: str | None = None
    expected_version: int | None = None
    current_version: int | None = None
    from_version: int | None = None
    to_version: int | None = None


class ForbiddenProblemOut(ProblemOut, kw_only=True):
    """A 403: the credential's ``role`` and the ``required_role`` of the route."""

    role: Role | None = None
    required_role: Role | None = None


# -- credentials ----------------------------------------------------------------------------------------------------

BEARER, API_KEY, DEV_ACCOUNT, DEV_ENGAGEMENT = "bearerAuth", "apiKeyAuth", "devClientAccountId", "devEngagementId"

SECURITY_SCHEMES: dict[str, SecurityScheme] = {
    BEARER: SecurityScheme(
        type="http",
        scheme="bearer",
        bearer_format="JWT or API key",
        description="A JWT (`mfo token`: HS256 with MFO_JWT_SECRET or RS256 with MFO_JWT_PUBLIC_KEY) or an API key "
        "(`mfo api-key create`), as `Authorization: Bearer ...`. The tenant and the role come from it.",
    ),
    API_KEY: SecurityScheme(
        type="apiKey",
        name="X-API-Key",
        security_scheme_in="header",
        description="An API key (`mfo api-key create`) in a header of its own.",
    ),
    DEV_ACCOUNT: SecurityScheme(
        type="apiKey",
        name=DEV_TENANT_HEADERS[0],
        security_scheme_in="header",
        description="Development mode only (MFO_AUTH_MODE=dev, what `make run` uses): a request without a credential "
        f"is an admin of the tenant {DEV_TENANT_HEADERS[0]} and {DEV_TENANT_HEADERS[1]} name. Ignored otherwise.",
    ),
    DEV_ENGAGEMENT: SecurityScheme(
        type="apiKey",
        name=DEV_TENANT_HEADERS[1],
        security_scheme_in="header",
        description=f"Development mode only, with {DEV_TENANT_HEADERS[0]}.",
    ),
}

PLATFORM_SECURITY: list[SecurityRequirement] = [{BEARER: []}, {API_KEY: []}]
"""The platform operator's routes: a platform credential in every mode (``mfo token --platform``)."""
TENANT_SECURITY: list[SecurityRequirement] = [*PLATFORM_SECURITY, {DEV_ACCOUNT: [], DEV_ENGAGEMENT: []}]
"""A tenant's routes: a credential, or in development mode the two tenant headers together."""


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="MFO - Master Flow Orchestrator",
        version=version,
        description="One owner for the lifecycle of long-running, multi-phase flows. Every `/api/v1` route needs a "
        "credential (see the security schemes); errors are RFC 9457 problems (`application/problem+json`).",
        path="/schema",
        components=Components(security_schemes=dict(SECURITY_SCHEMES)),
    )


# -- examples -------------------------------------------------------------------------------------------------------

EXAMPLE_FLOW_ID = UUID("7721c4f4-5f0e-4b9a-9d59-3c1f3f0a2b11")


def example(summary: str, value: Struct | dict[str, Any]) -> Example:
    """An example whose value is a wire Struct, or a dict holding no None (the schema's serialisation drops a dict's
    None members, not a Struct's fields: a Struct's ``null`` stays in the document)."""
    return Example(summary=summary, value=value)


def json_body(*examples: Example) -> BodyKwarg:
    """A JSON request body with its examples: ``data: Annotated[CreateFlowRequest, json_body(...)]``."""
    return Body(media_type=RequestEncodingType.JSON, examples=list(examples) or None)


def problem_example(status: int, slug: str, title: str, detail: str, **extensions: Any) -> Example:
    body = problem_body(status, slug, title, detail, f"/api/v1/flows/{EXAMPLE_FLOW_ID}")
    return example(title, {**body, **extensions})


def illegal_transition_example() -> Example:
    current, requested = FlowStatus.COMPLETED, Operation.PAUSE
    return problem_example(
        409,
        "illegal-transition",
        "Illegal transition",
        f"flow {EXAMPLE_FLOW_ID} is '{current}': operation '{requested}' is not allowed",
        flow_id=str(EXAMPLE_FLOW_ID),
        current_status=current,
        requested_operation=requested,
        allowed_operations=allowed_operations(current),
    )


def version_conflict_example() -> Example:
    return problem_example(
        409,
        "version-conflict",
        "Version conflict",
        f"flow {EXAMPLE_FLOW_ID} is at version 5, not 4",
        flow_id=str(EXAMPLE_FLOW_ID),
        expected_version=4,
        current_version=5,
    )


# -- problems -------------------------------------------------------------------------------------------------------

_MEANINGS = {
    400: "A malformed id, header, query parameter or JSON body",
    401: "No credential, or one that is not valid (expired, wrong signature, revoked); the answer carries "
    "WWW-Authenticate: Bearer",
    403: "The credential may not call this route: a tenant's on a platform route (or too low a role), or the "
    "platform operator's on a tenant's",
    404: "No such flow for this tenant, or no such route",
    409: "An illegal transition, a stale If-Match, a request with the same Idempotency-Key still in progress, or a "
    "migration the version's mapping cannot express",
    413: "The request body is larger than the configured limit",
    415: "A request body whose Content-Type is not JSON",
    422: "A body that breaks the schema, an unknown flow type or phase, unacceptable input, or a reused "
    "Idempotency-Key",
    431: "More request header fields, or more bytes of them, than the configured limits",
    503: "The database is unavailable; retry after Retry-After seconds",
}

_CONTAINERS: dict[int, type[ProblemOut]] = {403: ForbiddenProblemOut, 409: ConflictProblemOut}


def _examples(status: int) -> list[Example] | None:
    if status == 401:
        return [
            problem_example(
                401, "unauthenticated", "Authentication required", "this route needs a bearer token or an API key"
            )
        ]
    if status == 403:
        viewer, operator = Role.VIEWER, Role.OPERATOR
        return [
            problem_example(
                403,
                "forbidden",
                "Role not allowed",
                forbidden_reason(viewer, operator),
                role=viewer,
                required_role=operator,
            )
        ]
    if status == 409:
        return [illegal_transition_example(), version_conflict_example()]
    return None


AUTH_PROBLEMS = (401, 403)
"""What every protected route (every ``/api/v1`` route) can answer: no valid credential, or not the right one."""
READ_PROBLEMS = (400, *AUTH_PROBLEMS, 404, 431, 503)
WRITE_PROBLEMS = (400, *AUTH_PROBLEMS, 404, 409, 413, 415, 422, 431, 503)


def problem_responses(*status_codes: int) -> dict[int, ResponseSpec]:
    """The ``responses=`` of a route that can answer these problems."""
    return {
        code: ResponseSpec(
            data_container=_CONTAINERS.get(code, ProblemOut),
            media_type=PROBLEM_JSON,
            description=_MEANINGS[code],
            generate_examples=False,
            examples=_examples(code),
        )
        for code in status_codes
    }


def protected_responses(*status_codes: int) -> dict[int, ResponseSpec]:
    """The ``responses=`` of a protected route: these problems, and the 401 and 403 of :data:`AUTH_PROBLEMS`."""
    return problem_responses(*sorted({*status_codes, *AUTH_PROBLEMS}))


READ_RESPONSES = problem_responses(*READ_PROBLEMS)
WRITE_RESPONSES = problem_responses(*WRITE_PROBLEMS)


def success(data_container: type, description: str, *examples: Example) -> ResponseSpec:
    """A success answer with its examples (declared in ``responses=``, it replaces the one Litestar derives)."""
    return ResponseSpec(
        data_container=data_container, description=description, generate_examples=False, examples=list(examples) or None
    )


def phase_run_responses(data_container: type, *examples: Example) -> dict[int, ResponseSpec]:
    """The answers of a route that claims a phase (``execute``, ``retry``): 202 claimed, 200 ended in time."""
    return {
        200: success(
            data_container, "The attempt ended within Prefer: wait; the flow records its outcome", *examples[1:2]
        ),
        202: success(
            data_container,
            "The phase is claimed and runs in the background; the flow shows its running phase",
            *examples[:1],
        ),
        **WRITE_RESPONSES,
    }
