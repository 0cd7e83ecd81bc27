"""The legacy ``/api/v1/discovery/flows`` and ``/api/v1/unified-discovery/flows`` routes.

Both families are built by one factory, :func:`legacy_controller`, so they share every line. Each route is one
call to the ``MasterFlowOrchestrator``, restricted to discovery flows (legacy routes see no other type, which
answers 404 as if it did not exist), so a change is one transaction like any other. The answers use the legacy
shape of :mod:`entrypoints.http.legacy.schemas`; errors stay RFC 9457 problems. Every response carries the
deprecation headers (:mod:`entrypoints.http.legacy.deprecation`).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, delete, get, post
from litestar.datastructures import State
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, QueryParameter

from domain.flow import Flow
from domain.lifecycle import ACTIVE_STATUSES, FlowStatus, Operation
from domain.ports import FlowFilter
from entrypoints.http.dependencies import FlowChange, etag, parse_flow_id
from entrypoints.http.flows import FLOW_DEPENDENCIES, PHASE_RUN_DESCRIPTION, Change, FlowId, PageLimit, Read, page_limit
from entrypoints.http.legacy.deprecation import (
    LEGACY_ROUTE,
    LegacyMiddleware,
    LegacyRouteGone,
    gone_problem,
    refuse_when_disabled,
)
from entrypoints.http.legacy.schemas import (
    LegacyActiveFlowsOut,
    LegacyFlowOut,
    LegacyFlowStatusOut,
    LegacyInitializeRequest,
)
from entrypoints.http.legacy.usage import LegacyRoute
from entrypoints.http.openapi import READ_RESPONSES, TENANT_SECURITY, WRITE_RESPONSES, phase_run_responses
from entrypoints.http.schemas import ExecutePhaseRequest

DISCOVERY = "discovery"
UNIFIED = "/api/v1/flows"
ACTIVE = tuple(status for status in FlowStatus if status in ACTIVE_STATUSES)


def legacy_controller(family: str, prefix: str) -> type[Controller]:
    """A controller serving the legacy discovery routes under ``prefix``, counted as ``family``."""
    camel = "".join(part.capitalize() for part in family.replace("_", "-").split("-"))

    def meta(
        method: str,
        suffix: str,
        name: str,
        summary: str,
        responses: dict[int, Any] | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """The decorator arguments of one route; its successor is the unified URL of the same suffix."""
        successor = UNIFIED + suffix if "{flow_id}" in suffix else UNIFIED
        return {
            "path": suffix.replace("{flow_id}", "{flow_id:str}"),
            "operation_id": f"legacy{camel}{name}",
            "summary": f"{summary} (deprecated: use {successor})",
            "deprecated": True,
            "description": description,
            "responses": responses or (READ_RESPONSES if method == "GET" else WRITE_RESPONSES),
            "opt": {LEGACY_ROUTE: LegacyRoute(family, prefix + suffix, method, successor)},
        }

    class LegacyController(Controller):
        path = prefix
        tags = ["legacy"]
        security = TENANT_SECURITY
        dependencies = FLOW_DEPENDENCIES
        middleware = [LegacyMiddleware()]
        before_request = refuse_when_disabled
        exception_handlers = {LegacyRouteGone: gone_problem}  # type: ignore[dict-item]

        @post(status_code=201, **meta("POST", "/initialize", "Initialize", "Create and start a discovery flow"))
        async def initialize(self, data: JSONBody[LegacyInitializeRequest], change: Change) -> Response[LegacyFlowOut]:
            flow = await change.orchestrator.initialize_flow(
                change.tenant, DISCOVERY, data.flow_name, data.flow_configuration(), actor=change.actor
            )
            return _answer(flow, 201, Location=f"{UNIFIED}/{flow.flow_id}")

        @get(**meta("GET", "/active", "ActiveFlows", "The tenant's active discovery flows, newest first"))
        async def active(
            self,
            state: State,
            read: Read,
            limit: PageLimit = None,
            cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
        ) -> LegacyActiveFlowsOut:
            page = await read.orchestrator.list_flows(
                read.tenant,
                FlowFilter(flow_type=DISCOVERY, statuses=ACTIVE),
                limit=page_limit(state, limit),
                cursor=cursor,
            )
            return LegacyActiveFlowsOut(
                success=True, flows=[LegacyFlowOut.of(f) for f in page.items], next_cursor=page.next_cursor
            )

        @get(
            **meta(
                "GET",
                "/{flow_id}/status",
                "FlowStatus",
                "A discovery flow's status, master and child",
            )
        )
        async def status(self, flow_id: FlowId, read: Read) -> Response[LegacyFlowStatusOut]:
            view = await read.orchestrator.get_flow_status(read.tenant, parse_flow_id(flow_id), flow_type=DISCOVERY)
            return Response(LegacyFlowStatusOut.of_view(view), headers={"ETag": etag(view.flow.version)})

        @post(
            status_code=202,
            **meta(
                "POST",
                "/{flow_id}/execute",
                "ExecutePhase",
                "Run the next (or a named) phase",
                phase_run_responses(LegacyFlowOut),
                PHASE_RUN_DESCRIPTION,
            ),
        )
        async def execute(
            self,
            flow_id: FlowId,
            change: Change,
            data: JSONBody[ExecutePhaseRequest | None] = None,
        ) -> Response[LegacyFlowOut]:
            phase = data.phase if data else None
            run = await change.restricted_to(DISCOVERY).run_phase(Operation.EXECUTE_PHASE, flow_id, phase)
            return _phase_answer(change, *run)

        @post(
            status_code=200,
            **meta("POST", "/{flow_id}/pause", "Pause", "Pause a running flow"),
        )
        async def pause(
            self,
            flow_id: FlowId,
            change: Change,
        ) -> Response[LegacyFlowOut]:
            return _answer(await change.restricted_to(DISCOVERY).apply(change.orchestrator.pause_flow, flow_id))

        @post(
            status_code=200,
            **meta("POST", "/{flow_id}/resume", "Resume", "Resume a paused flow"),
        )
        async def resume(
            self,
            flow_id: FlowId,
            change: Change,
        ) -> Response[LegacyFlowOut]:
            return _answer(await change.restricted_to(DISCOVERY).apply(change.orchestrator.resume_flow, flow_id))

        @post(
            status_code=202,
            **meta(
                "POST",
                "/{flow_id}/retry",
                "Retry",
                "Re-run a failed flow's phase",
                phase_run_responses(LegacyFlowOut),
                PHASE_RUN_DESCRIPTION,
            ),
        )
        async def retry(
            self,
            flow_id: FlowId,
            change: Change,
        ) -> Response[LegacyFlowOut]:
            return _phase_answer(change, *await change.restricted_to(DISCOVERY).run_phase(Operation.RETRY, flow_id))

        @delete(
            status_code=200,
            **meta("DELETE", "/{flow_id}", "Delete", "Delete a discovery flow (soft)"),
        )
        async def remove(
            self,
            flow_id: FlowId,
            change: Change,
        ) -> Response[LegacyFlowOut]:
            flow = await change.restricted_to(DISCOVERY).apply(change.orchestrator.delete_flow, flow_id)
            return _answer(change.stopped(flow))

    name = f"Legacy{camel}Controller"
    LegacyController.__name__ = LegacyController.__qualname__ = name
    return LegacyController


def legacy_routes(*controllers: type[Controller]) -> list[LegacyRoute]:
    """Every legacy route the controllers serve, for the usage counter to list (at zero) before any call."""
    return sorted(
        value.opt[LEGACY_ROUTE]
        for controller in controllers
        for value in vars(controller).values()
        if isinstance(value, HTTPRouteHandler) and LEGACY_ROUTE in value.opt
    )


def _phase_answer(change: FlowChange, flow: Flow, ended: bool) -> Response[LegacyFlowOut]:
    """As the unified routes answer a claimed phase: 200 when it ended within ``Prefer: wait``, else 202."""
    headers = {"Preference-Applied": f"wait={change.wait_seconds}"} if change.wait_seconds else {}
    return _answer(flow, 200 if ended else 202, **headers)


def _answer(flow: Flow, status_code: int = 200, **headers: str) -> Response[LegacyFlowOut]:
    return Response(LegacyFlowOut.of(flow), status_code=status_code, headers={"ETag": etag(flow.version), **headers})


DiscoveryLegacyController = legacy_controller("discovery", "/api/v1/discovery/flows")
UnifiedDiscoveryLegacyController = legacy_controller("unified-discovery", "/api/v1/unified-discovery/flows")
LEGACY_CONTROLLERS = (DiscoveryLegacyController, UnifiedDiscoveryLegacyController)
