"""/api/v1/flows: thin routes, each one orchestrator call. No database session here."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from domain.echo import excerpt
from domain.flow import Flow
from domain.lifecycle import FlowStatus, Operation
from entrypoints.http import examples
from entrypoints.http.conditional import NOT_MODIFIED, conditional_json, none_match, not_modified
from entrypoints.http.dependencies import FlowChange, FlowRead, etag, parse_flow_id, provide_change, provide_read
from entrypoints.http.flow_filters import flow_filter
from entrypoints.http.idempotency import as_response, flow_answer, provide_idempotent_change
from entrypoints.http.openapi import (
    READ_RESPONSES,
    TENANT_SECURITY,
    WRITE_RESPONSES,
    json_body,
    phase_run_responses,
    protected_responses,
    success,
)
from entrypoints.http.paging import events_after
from entrypoints.http.paging import page_limit as parse_page_limit
from entrypoints.http.problems import BadRequest
from entrypoints.http.schemas import (
    AttemptListOut,
    AttemptOut,
    CreateFlowRequest,
    EventOut,
    EventPageOut,
    ExecutePhaseRequest,
    FlowOut,
    FlowPageOut,
    FlowStatusOut,
    FlowSummaryOut,
    MigrateFlowRequest,
    StartFlowRequest,
)

Read = NamedDependency[FlowRead]
Change = NamedDependency[FlowChange]
FlowId = FromPath[str]
PageLimit = Annotated[
    str | None, QueryParameter(max_length=16, description="Page size: a whole number from 1 to the configured maximum.")
]
"""A string the route parses itself (:mod:`entrypoints.http.paging`): ASCII digits in the configured range."""

FLOW_DEPENDENCIES = {
    "read": Provide(provide_read, sync_to_thread=False),
    "change": Provide(provide_change, sync_to_thread=False),
}
"""Each route takes one of these (``read`` or ``change``): one dependency to resolve per request."""


def flow_response(flow: Flow, status_code: int = 200, **headers: str) -> Response[FlowOut]:
    """The flow with its ``ETag``: the same bytes an idempotent retry is answered with."""
    return as_response(flow_answer(flow, status_code, **headers))


PHASE_RUN_DESCRIPTION = (
    "Claims the phase and answers at once: 202 with the flow running it (`running_phase`), which a runner runs "
    "outside any request. `Prefer: wait=N` (RFC 7240, N up to 60 seconds) waits up to N seconds for the attempt "
    "to end: 200 with its outcome recorded in the flow when it ended in time (`Preference-Applied: wait=N`), "
    "else 202 with the flow as the claim left it. A flow already running a phase is a 409 that names it."
)


def phase_run_response(change: FlowChange, flow: Flow, ended: bool) -> Response[FlowOut]:
    """200 with the outcome when the claimed attempt ended within ``Prefer: wait``, else 202 with the claim."""
    headers = {"Preference-Applied": f"wait={change.wait_seconds}"} if change.wait_seconds else {}
    return flow_response(flow, 200 if ended else 202, **headers)


def page_limit(state: State, limit: str | None) -> int:
    """``limit`` checked against the configured page sizes (:mod:`entrypoints.http.paging`)."""
    return parse_page_limit(limit, state.settings.api.default_page_size, state.settings.api.max_page_size)


def status_filter_schema() -> list[Schema]:
    """``status`` as the schema declares it: none, or statuses (the route parses the strings itself)."""
    statuses = Schema(type=OpenAPIType.STRING, enum=[str(status) for status in FlowStatus])
    return [Schema(type=OpenAPIType.ARRAY, items=statuses), Schema(type=OpenAPIType.NULL)]


def parse_statuses(raw: list[str] | None) -> tuple[FlowStatus, ...] | None:
    if not raw:
        return None
    try:
        return tuple(FlowStatus(s) for s in raw)
    except ValueError:
        known = ", ".join(FlowStatus)
        raise BadRequest(f"status must be one of {known}; got {excerpt(', '.join(raw))}", parameter="status") from None


class FlowController(Controller):
    path = "/api/v1/flows"
    tags = ["flows"]
    security = TENANT_SECURITY
    dependencies = {**FLOW_DEPENDENCIES, "change": Provide(provide_idempotent_change)}  # changes take Idempotency-Key

    @post(
        "/",
        responses={201: success(FlowOut, "The flow, created", examples.created()), **WRITE_RESPONSES},
        operation_id="createFlow",
        summary="Create a flow",
        status_code=201,
    )
    async def create_flow(
        self,
        data: Annotated[CreateFlowRequest, json_body(*examples.create_request())],
        change: Change,
    ) -> Response[FlowOut]:
        flow = await change.orchestrator.create_flow(
            change.tenant,
            data.flow_type,
            data.name,
            data.configuration,
            actor=change.actor,
            idempotency=change.idempotency,
        )
        return flow_response(flow, 201, Location=f"{self.path}/{flow.flow_id}")

    @get(
        "/",
        responses={**protected_responses(400, 422, 431, 503), **NOT_MODIFIED},
        operation_id="listFlows",
        summary="List flows, newest first, with cursor pagination",
    )
    async def list_flows(
        self,
        request: Request,
        state: State,
        read: Read,
        flow_type: FromQuery[str | None] = None,
        status: Annotated[
            list[str] | None,
            QueryParameter(
                description="Filter by status; repeat for several.",
                schema_extra={"one_of": status_filter_schema()},
            ),
        ] = None,
        include_deleted: FromQuery[bool] = False,
        limit: PageLimit = None,
        cursor: Annotated[str | None, QueryParameter(max_length=512)] = None,
        q: Annotated[
            str | None, QueryParameter(max_length=512, description="A name containing it, or an id starting with it.")
        ] = None,
        created_after: Annotated[
            str | None, QueryParameter(max_length=64, description="Created at or after this RFC 3339 date-time.")
        ] = None,
        created_before: Annotated[
            str | None, QueryParameter(max_length=64, description="Created before this RFC 3339 date-time.")
        ] = None,
    ) -> Response[FlowPageOut]:
        page = await read.orchestrator.list_flows(
            read.tenant,
            flow_filter(
                flow_type=flow_type,
                statuses=parse_statuses(status),
                include_deleted=include_deleted,
                q=q,
                created_after=created_after,
                created_before=created_before,
            ),
            limit=page_limit(state, limit),
            cursor=cursor,
        )
        listed = FlowPageOut(items=[FlowSummaryOut.of(f) for f in page.items], next_cursor=page.next_cursor)
        response: Any = conditional_json(request, listed)
        return response

    @get("/{flow_id:str}", responses={**READ_RESPONSES, **NOT_MODIFIED}, operation_id="getFlow", summary="Get a flow")
    async def get_flow(self, request: Request, flow_id: FlowId, read: Read) -> Response[FlowOut]:
        flow = await read.orchestrator.get_flow(read.tenant, parse_flow_id(flow_id))
        if flow.run is None and none_match(request, etag(flow.version)):
            return not_modified(etag(flow.version))
        return flow_response(flow)

    @get(
        "/{flow_id:str}/status",
        responses={**READ_RESPONSES, **NOT_MODIFIED},
        operation_id="getFlowStatus",
        summary="Master, child and phase states side by side",
    )
    async def get_flow_status(self, request: Request, flow_id: FlowId, read: Read) -> Response[FlowStatusOut]:
        view = await read.orchestrator.get_flow_status(read.tenant, parse_flow_id(flow_id))
        tag = etag(view.flow.version)
        if view.flow.run is None and none_match(request, tag):
            return not_modified(tag)
        return Response(FlowStatusOut.of(view), headers={"ETag": tag})

    @get(
        "/{flow_id:str}/events",
        responses=READ_RESPONSES,
        operation_id="getFlowEvents",
        summary="The flow's events, oldest first",
    )
    async def get_flow_events(
        self,
        state: State,
        flow_id: FlowId,
        read: Read,
        limit: PageLimit = None,
        cursor: Annotated[
            str | None, QueryParameter(max_length=16, description="The version to continue after.")
        ] = None,
    ) -> EventPageOut:
        size = page_limit(state, limit)
        after = events_after(cursor)
        events = await read.orchestrator.get_flow_events(
            read.tenant, parse_flow_id(flow_id), after_version=after, limit=size + 1
        )
        items = [EventOut.of(e) for e in events[:size]]
        next_cursor = str(items[-1].version) if len(events) > size else None
        return EventPageOut(items=items, next_cursor=next_cursor)

    @post(
        "/{flow_id:str}/start",
        responses={200: success(FlowOut, "The flow, running", examples.started()), **WRITE_RESPONSES},
        operation_id="startFlow",
        summary="Start a flow",
        status_code=200,
    )
    async def start_flow(
        self,
        flow_id: FlowId,
        change: Change,
        data: Annotated[StartFlowRequest | None, json_body(*examples.start_request())] = None,
    ) -> Response[FlowOut]:
        return flow_response(
            await change.apply(change.orchestrator.start_flow, flow_id, auto_run=data.auto_run if data else False)
        )

    @post(
        "/{flow_id:str}/execute",
        responses=phase_run_responses(FlowOut, examples.claimed(), examples.waiting_for_input()),
        operation_id="executePhase",
        summary="Run the next (or a named) phase",
        description=PHASE_RUN_DESCRIPTION,
        status_code=202,
    )
    async def execute_phase(
        self,
        flow_id: FlowId,
        change: Change,
        data: Annotated[
            ExecutePhaseRequest | None,
            json_body(*examples.execute_request()),
        ] = None,
    ) -> Response[FlowOut]:
        phase = data.phase if data else None
        return phase_run_response(change, *await change.run_phase(Operation.EXECUTE_PHASE, flow_id, phase))

    @post(
        "/{flow_id:str}/input",
        responses={200: success(FlowOut, "The input accepted", examples.input_accepted()), **WRITE_RESPONSES},
        operation_id="submitInput",
        summary="Give the input a waiting phase needs",
        status_code=200,
    )
    async def submit_input(
        self,
        flow_id: FlowId,
        data: Annotated[dict[str, Any], json_body(*examples.input_request())],
        change: Change,
    ) -> Response[FlowOut]:
        return flow_response(await change.apply(change.orchestrator.submit_input, flow_id, data))

    @post(
        "/{flow_id:str}/pause",
        responses=WRITE_RESPONSES,
        operation_id="pauseFlow",
        summary="Pause a running flow",
        status_code=200,
    )
    async def pause_flow(
        self,
        flow_id: FlowId,
        change: Change,
    ) -> Response[FlowOut]:
        return flow_response(await change.apply(change.orchestrator.pause_flow, flow_id))

    @post(
        "/{flow_id:str}/resume",
        responses=WRITE_RESPONSES,
        operation_id="resumeFlow",
        summary="Resume a paused flow",
        status_code=200,
    )
    async def resume_flow(
        self,
        flow_id: FlowId,
        change: Change,
    ) -> Response[FlowOut]:
        return flow_response(await change.apply(change.orchestrator.resume_flow, flow_id))

    @post(
        "/{flow_id:str}/cancel",
        responses=WRITE_RESPONSES,
        operation_id="cancelFlow",
        summary="Cancel a flow",
        status_code=200,
    )
    async def cancel_flow(
        self,
        flow_id: FlowId,
        change: Change,
    ) -> Response[FlowOut]:
        return flow_response(change.stopped(await change.apply(change.orchestrator.cancel_flow, flow_id)))

    @post(
        "/{flow_id:str}/retry",
        responses=phase_run_responses(FlowOut),
        operation_id="retryFlow",
        summary="Re-run a failed flow's failed phase",
        description=PHASE_RUN_DESCRIPTION,
        status_code=202,
    )
    async def retry_flow(
        self,
        flow_id: FlowId,
        change: Change,
    ) -> Response[FlowOut]:
        return phase_run_response(change, *await change.run_phase(Operation.RETRY, flow_id))

    @post(
        "/{flow_id:str}/migrate",
        responses=WRITE_RESPONSES,
        operation_id="migrateFlow",
        summary="Move a flow to another version of its type",
        description=(
            "Under the mapping the target version declares: phases of the same name are kept (with their state and "
            "result), the version's new phases are added as pending, and a phase the mapping drops goes only if it "
            "has not run. One transaction and one event. A migration the mapping cannot express (a completed phase "
            "dropped, a phase in progress, no mapping from the flow's version) is a 409 `migration-refused` that "
            "says why; nothing changes."
        ),
        status_code=200,
    )
    async def migrate_flow(
        self,
        flow_id: FlowId,
        data: JSONBody[MigrateFlowRequest],
        change: Change,
    ) -> Response[FlowOut]:
        return flow_response(await change.apply(change.orchestrator.migrate_flow, flow_id, data.to_version))

    @get(
        "/{flow_id:str}/attempts",
        responses=READ_RESPONSES,
        operation_id="getPhaseAttempts",
        summary="The flow's attempts of phases, newest first, and how each ended",
    )
    async def get_phase_attempts(
        self, state: State, flow_id: FlowId, read: Read, limit: PageLimit = None
    ) -> AttemptListOut:
        attempts = await read.orchestrator.get_phase_attempts(
            read.tenant, parse_flow_id(flow_id), limit=page_limit(state, limit)
        )
        return AttemptListOut(items=[AttemptOut.of(a) for a in attempts])

    @delete(
        "/{flow_id:str}",
        responses=WRITE_RESPONSES,
        operation_id="deleteFlow",
        summary="Delete a flow (soft)",
        status_code=200,
    )
    async def delete_flow(
        self,
        flow_id: FlowId,
        change: Change,
    ) -> Response[FlowOut]:
        return flow_response(change.stopped(await change.apply(change.orchestrator.delete_flow, flow_id)))
