"""Health endpoints, public (no credential) and documented in the OpenAPI schema:

- ``GET /livez``: the process answers (nothing else is asked; a failing database never restarts the process);
- ``GET /readyz``: the process should get traffic: the database answers, its schema is at the migrations' head, the
  phase runner is running (it runs the phases the API claims, and polls for due work under ``MFO_WORKER_IN_SERVE``),
  and the server is not shutting down. Once ``mfo serve`` receives SIGTERM it answers 503 for
  ``MFO_SHUTDOWN_GRACE_SECONDS`` while still serving, so a load balancer stops sending requests before the server
  stops accepting them and drains (:mod:`entrypoints.draining_server`);
- ``GET /health``: the database answers (kept as it was for existing clients).
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from msgspec import Struct

from entrypoints.http.schemas import HealthOut

RETRY_AFTER = {"Retry-After": "2"}


class Readiness:
    """Whether the process is shutting down (its readiness is then false whatever the checks say)."""

    def __init__(self) -> None:
        self.draining = False

    def drain(self) -> None:
        self.draining = True

    async def stop(self) -> None:
        """The app's first shutdown hook: not ready from the moment shutdown begins, however it began."""
        self.drain()


class LivenessOut(Struct):
    status: str


class ReadinessOut(Struct):
    status: str
    """``ready`` or ``not_ready``."""
    checks: dict[str, str]
    """Each check and its result: ``ok``, or what is wrong (``database``, ``migrations``, ``phase_runner``,
    ``shutdown``)."""


@get(
    "/health",
    operation_id="health",
    summary="Liveness and database check",
    tags=["health"],
    responses={503: ResponseSpec(HealthOut, description="The database does not answer")},
)
async def health(state: State) -> Response[HealthOut]:
    try:
        version = await state.container.database_health().check()
    except Exception as error:  # any failure to reach the database means unhealthy
        return Response(
            HealthOut("unavailable", f"unreachable: {error.__class__.__name__}"),
            status_code=503,
            headers=RETRY_AFTER,
        )
    return Response(HealthOut("ok", f"PostgreSQL {version}"))


@get("/livez", operation_id="livez", summary="Liveness: the process answers", tags=["health"])
async def livez() -> LivenessOut:
    return LivenessOut("alive")


@get(
    "/readyz",
    operation_id="readyz",
    summary="Readiness: database reachable, schema at head, phase runner running, not shutting down",
    tags=["health"],
    responses={503: ResponseSpec(ReadinessOut, description="Not ready: the checks say which part is not")},
)
async def readyz(state: State) -> Response[ReadinessOut]:
    checks = await readiness_checks(state)
    ready = all(result == "ok" for result in checks.values())
    return Response(
        ReadinessOut("ready" if ready else "not_ready", checks),
        status_code=200 if ready else 503,
        headers=None if ready else RETRY_AFTER,
    )


async def readiness_checks(state: State) -> dict[str, str]:
    container: Any = state.container
    checks = {"shutdown": "shutting down" if state.readiness.draining else "ok"}
    try:
        await container.database_health().check()
        checks["database"] = "ok"
    except Exception as error:  # unreachable, timed out, refused: not ready, whatever the reason
        checks["database"] = f"unreachable: {error.__class__.__name__}"
    try:
        checks["migrations"] = await container.schema_revision().behind() or "ok"
    except Exception as error:
        checks["migrations"] = f"unknown: {error.__class__.__name__}"
    runner = state.phase_runner
    checks["phase_runner"] = "ok" if runner.is_running else "not running"
    return checks


HEALTH_ROUTES = [health, livez, readyz]
