"""Request-scoped dependencies: the orchestrator (with its own unit of work), tenant, actor, If-Match."""

from __future__ import annotations

import re
from uuid import UUID

from litestar import Request
from litestar.datastructures import State

from application.orchestrator import MasterFlowOrchestrator
from domain.events import Tenant
from entrypoints.http.problems import BadRequest

TENANT_HEADERS = ("X-Client-Account-ID", "X-Engagement-ID")
_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def provide_orchestrator(state: State) -> MasterFlowOrchestrator:
    """A fresh orchestrator on a fresh unit of work: everything in this request shares it."""
    return state.container.orchestrator()


def provide_tenant(request: Request) -> Tenant:
    values = []
    for header in TENANT_HEADERS:
        raw = request.headers.get(header)
        if not raw:
            raise BadRequest(f"the header {header} is required", header=header)
        values.append(parse_uuid(raw, f"the header {header}"))
    return Tenant(client_account_id=values[0], engagement_id=values[1])


def provide_actor(request: Request) -> str:
    actor = request.headers.get("X-Actor", "anonymous").strip()
    if not actor or len(actor) > 200:
        raise BadRequest("the header X-Actor must have 1 to 200 characters", header="X-Actor")
    return actor


def provide_expected_version(request: Request) -> int | None:
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    match = _IF_MATCH.match(raw)
    if not match:
        raise BadRequest(
            f'If-Match must be an ETag this API gave out, such as "3"; got {raw[:40]!r}', header="If-Match"
        )
    return int(match.group(1))


def parse_uuid(raw: str, what: str) -> UUID:
    try:
        return UUID(raw.strip())
    except ValueError:
        raise BadRequest(f"{what} must be a UUID, not {raw[:64]!r}") from None


def parse_flow_id(raw: str) -> UUID:
    return parse_uuid(raw, "the flow id")


def etag(version: int) -> str:
    return f'"{version}"'
