from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.datastructures import State

from entrypoints.http.auth import principal_of
from entrypoints.http.openapi import TENANT_SECURITY, protected_responses
from entrypoints.http.schemas import FlowTypeListOut, FlowTypeOut


@get(
    "/api/v1/flow-types",
    operation_id="listFlowTypes",
    summary="Every registered flow type with its phases, its versions and how many of the tenant's flows use each",
    tags=["flow types"],
    security=TENANT_SECURITY,
    responses=protected_responses(431, 503),
)
async def list_flow_types(request: Request[Any, Any, Any], state: State) -> FlowTypeListOut:
    """A caller without a tenant (development mode without its headers) sees the versions without counts."""
    tenant = principal_of(request).tenant
    orchestrator = state.container.orchestrator()
    if tenant is None:
        listed = orchestrator.flow_type_versions_unused()
        return FlowTypeListOut(items=[FlowTypeOut.of(t, counted=False) for t in listed])
    listed = await orchestrator.flow_type_versions(tenant)
    return FlowTypeListOut(items=[FlowTypeOut.of(t) for t in listed])
