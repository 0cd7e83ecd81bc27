from __future__ import annotations

from litestar import get
from litestar.datastructures import State

from entrypoints.http.openapi import TENANT_SECURITY, protected_responses
from entrypoints.http.schemas import FlowTypeListOut, FlowTypeOut


@get(
    "/api/v1/flow-types",
    operation_id="listFlowTypes",
    summary="Every registered flow type with its phases",
    tags=["flow types"],
    security=TENANT_SECURITY,
    responses=protected_responses(431, 503),
)
async def list_flow_types(state: State) -> FlowTypeListOut:
    registry = state.container.flow_types()
    return FlowTypeListOut(items=[FlowTypeOut.of(d) for d in registry.definitions()])
