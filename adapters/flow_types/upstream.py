"""Reading another flow of the same tenant, as a later flow type's input."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.errors import FlowNotFound, PhaseFailed
from domain.flow import Flow
from domain.flow_types import FlowReader
from domain.lifecycle import FlowStatus


async def completed_upstream(flows: FlowReader, flow: Flow, key: str, flow_type: str) -> Flow:
    """The completed ``flow_type`` flow named by ``configuration[key]``, in the same tenant."""
    raw: Any = flow.configuration.get(key)
    try:
        upstream_id = UUID(str(raw))
    except ValueError:
        raise PhaseFailed(f"the configuration needs '{key}': the id of a completed {flow_type} flow") from None
    try:
        upstream = await flows.get(flow.tenant, upstream_id)
    except FlowNotFound:
        raise PhaseFailed(f"there is no {flow_type} flow {upstream_id} in this tenant") from None
    if upstream.flow_type != flow_type:
        raise PhaseFailed(f"flow {upstream_id} is a {upstream.flow_type} flow, not a {flow_type} flow")
    if upstream.status != FlowStatus.COMPLETED:
        raise PhaseFailed(f"{flow_type} flow {upstream_id} is '{upstream.status}'; it must be completed first")
    return upstream
