"""Request-scoped dependencies: the orchestrator (with its own unit of work), tenant, actor, If-Match.

The tenant and actor come from the principal the ``authorize`` guard authenticated (:mod:`entrypoints.http.auth`).
A route takes them together, as one :class:`FlowRead` or :class:`FlowChange`: Litestar resolves the dependencies
of one level concurrently, in a task group of their own, so each route has one (docs/performance.md).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.datastructures import State

from application.orchestrator import MasterFlowOrchestrator
from application.phase_runner import PhaseRunner
from domain.echo import excerpt
from domain.errors import StorageUnavailable
from domain.events import Tenant
from domain.flow import Flow
from domain.idempotency import IdempotentRequest
from domain.lifecycle import Operation
from entrypoints.http.auth import DEV_TENANT_HEADERS, principal_of
from entrypoints.http.paging import POSTGRES_INTEGER_MAX
from entrypoints.http.problems import BadRequest

_PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait\s*=\s*\"?([0-9]{1,6})\"?(?=$|[,;\s])", re.ASCII | re.IGNORECASE)
MAX_WAIT_SECONDS = 60
"""The longest ``Prefer: wait`` a request is held for (RFC 7240 leaves the cap to the server)."""
_IF_MATCH = re.compile(r'^\s*(?:W/)?"?([0-9]{1,10})"?\s*$', re.ASCII)
"""An ETag this API gives out: a version in ASCII digits (``\\d`` alone would also take other scripts' digits)."""


@dataclass(frozen=True, slots=True)
class FlowRead:
    """What a reading route needs: an orchestrator on the request's own unit of work, and the caller's tenant."""

    orchestrator: MasterFlowOrchestrator
    tenant: Tenant


@dataclass(frozen=True, slots=True)
class FlowChange(FlowRead):
    """What a changing route needs besides: who acts, the version ``If-Match`` expects (None: any), the flow type
    the route is restricted to (the legacy routes: discovery) and the request's ``Idempotency-Key``, if any."""

    actor: str
    expected_version: int | None
    flow_type: str | None = None
    idempotency: IdempotentRequest | None = None
    runner: PhaseRunner | None = None
    wait_seconds: int = 0
    """``Prefer: wait=N`` (RFC 7240): how long an ``execute`` or ``retry`` may wait for its phase to end."""

    def restricted_to(self, flow_type: str) -> FlowChange:
        return replace(self, flow_type=flow_type)

    async def apply(self, operation: Callable[..., Awaitable[Flow]], flow_id: str, *args: Any, **options: Any) -> Flow:
        """``operation``, one of the orchestrator's changes of a flow (``orchestrator.pause_flow``), on the flow
        ``flow_id`` names: for this tenant, by this actor, at the version ``If-Match`` expects, within the route's
        flow type and under its idempotency key. ``args`` and ``options`` are the operation's own (a phase, an
        input)."""
        return await operation(
            self.tenant,
            parse_flow_id(flow_id),
            *args,
            actor=self.actor,
            expected_version=self.expected_version,
            flow_type=self.flow_type,
            idempotency=self.idempotency,
            **options,
        )

    async def run_phase(self, operation: Operation, flow_id: str, phase: str | None = None) -> tuple[Flow, bool]:
        """Claim a phase of the flow (``execute_phase`` or ``retry``), hand it to this process's runner, and wait
        for it as ``Prefer: wait`` allows: the flow, and whether the claimed attempt has ended (its outcome is in
        the flow) or still runs (the flow as the claim left it)."""
        runner = self.runner
        assert runner is not None, "a route that runs phases has the process's runner"
        claimed = await self.orchestrator.claim_phase(
            self.tenant,
            parse_flow_id(flow_id),
            operation,
            actor=self.actor,
            owner=runner.owner,
            lease_seconds=runner.options.lease_seconds,
            phase=phase,
            expected_version=self.expected_version,
            flow_type=self.flow_type,
            idempotency=self.idempotency,
        )
        runner.run(claimed)
        if self.wait_seconds <= 0 or not await runner.wait(claimed.run_id, self.wait_seconds):
            return claimed.flow, False
        try:
            flow = await self.orchestrator.get_flow(self.tenant, claimed.flow.flow_id, flow_type=self.flow_type)
        except StorageUnavailable:  # the claim is committed: a 503 would say nothing was changed
            return claimed.flow, False
        return flow, flow.run is None or flow.run.run_id != claimed.run_id

    def stopped(self, flow: Flow) -> Flow:
        """After a cancel or a delete: stop the flow's attempt at once if this process runs it (other processes
        notice at their next heartbeat)."""
        if self.runner is not None:
            self.runner.revoke(flow.flow_id)
        return flow


def provide_orchestrator(state: State) -> MasterFlowOrchestrator:
    """A fresh orchestrator on a fresh unit of work: everything in this request shares it."""
    return state.container.orchestrator()


def provide_read(request: Request, state: State) -> FlowRead:
    return FlowRead(provide_orchestrator(state), provide_tenant(request))


def provide_change(request: Request, state: State) -> FlowChange:
    return FlowChange(
        provide_orchestrator(state),
        provide_tenant(request),
        provide_actor(request),
        provide_expected_version(request),
        runner=state.phase_runner(),
        wait_seconds=provide_wait(request),
    )


def provide_wait(request: Request) -> int:
    """The ``wait`` preference of ``Prefer`` (RFC 7240), at most :data:`MAX_WAIT_SECONDS`; 0 when absent. A
    preference the server cannot read is ignored, as the RFC asks."""
    seconds = 0
    for value in request.headers.getall("Prefer", []):
        match = _PREFER_WAIT.search(value)
        if match:
            seconds = max(seconds, int(match.group(1)))
    return min(seconds, MAX_WAIT_SECONDS)


def provide_tenant(request: Request) -> Tenant:
    """The tenant of the authenticated caller (see :mod:`entrypoints.http.auth`), never a header's in production."""
    tenant = principal_of(request).tenant
    if tenant is None:  # dev mode without tenant headers
        raise BadRequest(f"the header {DEV_TENANT_HEADERS[0]} is required", header=DEV_TENANT_HEADERS[0])
    return tenant


def provide_actor(request: Request) -> str:
    """Who acts: the credential's subject; only a development-mode caller without credentials names itself."""
    principal = principal_of(request)
    if principal.method != "dev-headers":
        return principal.subject
    actor = request.headers.get("X-Actor", "anonymous").strip()
    if not actor or len(actor) > 200:
        raise BadRequest("the header X-Actor must have 1 to 200 characters", header="X-Actor")
    return actor


def provide_expected_version(request: Request) -> int | None:
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    match = _IF_MATCH.match(raw)
    if not match or int(match.group(1)) > POSTGRES_INTEGER_MAX:
        raise BadRequest(
            f'If-Match must be an ETag this API gave out, such as "3"; got {excerpt(raw, 40)!r}', header="If-Match"
        )
    return int(match.group(1))


def parse_uuid(raw: str, what: str) -> UUID:
    try:
        return UUID(raw.strip())
    except ValueError:
        raise BadRequest(f"{what} must be a UUID, not {excerpt(raw)!r}") from None


def parse_flow_id(raw: str) -> UUID:
    return parse_uuid(raw, "the flow id")


def etag(version: int) -> str:
    return f'"{version}"'
