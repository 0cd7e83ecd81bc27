from __future__ import annotations

from litestar import get
from litestar.datastructures import State

from entrypoints.http.schemas import FlowTypeListOut, FlowTypeOut


@get(
    "/api/v1/flow-types",
    operation_id="listFlowTypes",
    summary="Every registered flow type with its phases",
    tags=["flow types"],
)
async def list_flow_types(state: State) -> FlowTypeListOut:
    registry = state.container.flow_types()
    return FlowTypeListOut(items=[FlowTypeOut.of(d) for d in registry.definitions()])
