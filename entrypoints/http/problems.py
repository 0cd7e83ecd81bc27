"""RFC 9457 problem details: every error the API returns, mapped in one table."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from domain.echo import excerpt
from domain.errors import (
    ConcurrentModification,
    DomainError,
    FlowBusy,
    FlowNotFound,
    IllegalTransition,
    InvalidCursor,
    InvalidFlowInput,
    MigrationRefused,
    StorageUnavailable,
    UnknownFlowType,
    UnknownFlowTypeVersion,
    UnknownPhase,
    VersionConflict,
)
from domain.idempotency import IdempotencyKeyInProgress, IdempotencyKeyReused
from domain.lifecycle import FlowStatus, allowed_operations
from entrypoints.http.head_requests import allow_with_head

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://mfo.dev/problems/"

logger = logging.getLogger("mfo.http")


class BadRequest(Exception):
    """A malformed id, header or query parameter."""

    def __init__(self, detail: str, **extensions: Any) -> None:
        self.detail = detail
        self.extensions = extensions
        super().__init__(detail)


def problem_body(status: int, slug: str, title: str, detail: str, instance: str) -> dict[str, Any]:
    """The members every problem has (RFC 9457)."""
    return {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail, "instance": instance}


def problem(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body = problem_body(status, slug, title, detail, excerpt(request.url.path))
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _illegal(request: Request, e: IllegalTransition) -> Response:
    known = {status.value for status in FlowStatus}
    if e.allowed is not None:
        allowed: list[Any] = e.allowed
    else:
        allowed = allowed_operations(FlowStatus(e.current_status)) if e.current_status in known else []
    return problem(
        request,
        409,
        "illegal-transition",
        "Illegal transition",
        str(e),
        flow_id=str(e.flow_id),
        current_status=e.current_status,
        requested_operation=e.operation,
        allowed_operations=[str(op) for op in allowed],
        reason=e.reason,
    )


def _domain(request: Request, e: DomainError) -> Response:
    if isinstance(e, FlowNotFound):
        return problem(request, 404, "flow-not-found", "Flow not found", str(e), flow_id=str(e.flow_id))
    if isinstance(e, IllegalTransition):
        return _illegal(request, e)
    if isinstance(e, VersionConflict):
        return problem(
            request,
            409,
            "version-conflict",
            "Version conflict",
            str(e),
            flow_id=str(e.flow_id),
            expected_version=e.expected_version,
            current_version=e.current_version,
        )
    if isinstance(e, UnknownFlowType):
        return problem(request, 422, "unknown-flow-type", "Unknown flow type", str(e), known_flow_types=e.known)
    if isinstance(e, MigrationRefused):
        return problem(
            request,
            409,
            "migration-refused",
            "Migration refused",
            str(e),
            flow_id=str(e.flow_id),
            from_version=e.from_version,
            to_version=e.to_version,
            reason=e.reason,
        )
    if isinstance(e, UnknownFlowTypeVersion):
        return problem(
            request, 422, "unknown-flow-type-version", "Unknown flow type version", str(e), known_versions=e.known
        )
    if isinstance(e, UnknownPhase):
        return problem(request, 422, "unknown-phase", "Unknown phase", str(e), phases=e.phases)
    if isinstance(e, InvalidFlowInput):
        return problem(request, 422, "invalid-input", "Invalid input", str(e))
    if isinstance(e, InvalidCursor):
        return problem(request, 400, "invalid-cursor", "Invalid cursor", str(e))
    if isinstance(e, FlowBusy):  # ADR 0010: a conflict over one flow, not an outage
        return problem(request, 409, "flow-busy", "Flow busy", str(e), headers={"Retry-After": "1"})
    if isinstance(e, ConcurrentModification):
        return problem(request, 409, "concurrent-modification", "Concurrent modification", str(e))
    if isinstance(e, IdempotencyKeyReused):
        return problem(request, 422, "idempotency-key-reused", "Idempotency key reused", str(e))
    if isinstance(e, IdempotencyKeyInProgress):
        return problem(
            request, 409, "idempotency-key-in-progress", "Request in progress", str(e), headers={"Retry-After": "1"}
        )
    if isinstance(e, StorageUnavailable):
        logger.warning("flow store unavailable: %s", e.reason)
        return problem(
            request,
            503,
            "storage-unavailable",
            "Storage unavailable",
            str(e),
            headers={"Retry-After": "2"},
            outcome_unknown=e.outcome_unknown or None,
        )
    return _unexpected(request, e)


def _bad_request(request: Request, e: BadRequest) -> Response:
    return problem(request, 400, "bad-request", "Bad request", e.detail, **e.extensions)


def _validation(request: Request, e: ValidationException) -> Response:
    errors = [_shortened(err) for err in e.extra] if isinstance(e.extra, list) else []
    in_body = any(isinstance(err, dict) and err.get("source") == "body" for err in errors)
    if in_body:
        return problem(request, 422, "invalid-body", "Invalid request body", _describe(errors), errors=errors)
    return problem(request, 400, "bad-request", "Bad request", _describe(errors) or str(e.detail), errors=errors)


def _shortened(error: Any) -> Any:
    """A validation error with the client's text in it (an unknown field's name, a value) cut to an excerpt."""
    if not isinstance(error, dict):
        return excerpt(error)
    return {k: excerpt(v) if isinstance(v, str) else v for k, v in error.items()}


def _describe(errors: list[Any]) -> str:
    parts = []
    for err in errors:
        if isinstance(err, dict):
            key = err.get("key")
            parts.append(f"{key}: {err.get('message')}" if key else str(err.get("message")))
    return "; ".join(parts)


HTTP_PROBLEMS = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("body-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}
"""The problem type and title of each status Litestar's own HTTP exceptions carry."""


def http_problem(request: Request, e: HTTPException) -> Response:
    status = e.status_code
    slug, title = HTTP_PROBLEMS.get(status, ("http-error", "HTTP error"))
    detail = excerpt(e.detail, 300)
    headers = dict(e.headers or {})
    if status == 405:
        allow = next((name for name in headers if name.lower() == "allow"), None)
        if allow is not None:
            headers[allow] = allow_with_head(headers[allow])
    if status == 400 and "json" in detail.lower() and not detail.startswith("the request body"):
        detail = f"the request body is not valid JSON: {detail}"
    return problem(request, status, slug, title, detail, headers=headers)


def _unexpected(request: Request, e: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(
        request,
        500,
        "internal-error",
        "Internal error",
        "an unexpected error occurred; a change that failed before its commit was rolled back, but the error may "
        "have come after it: read the flow before retrying",
    )


EXCEPTION_HANDLERS = {
    DomainError: _domain,
    BadRequest: _bad_request,
    ValidationException: _validation,
    HTTPException: http_problem,
    Exception: _unexpected,
}
