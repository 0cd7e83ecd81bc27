"""The legacy wire shapes. They are a contract with old clients: keep them stable.

A flow, as every legacy route but ``active`` and ``status`` answers it::

    {
      "success": true,
      "flow_id": "6f1c…",                 # str (UUID)
      "flow_name": "datacentre-1",        # str
      "status": "running",                # the master status (initialized, running, paused, waiting_for_input,
                                          # completed, failed, cancelled, deleted)
      "current_phase": "field_mapping",   # str | null
      "progress_percentage": 33.0,        # float, 0.0 to 100.0
      "phase_completion": {"data_import": true, "field_mapping": false, …},  # phase -> completed (skipped: false)
      "version": 4,                       # int, also the ETag
      "error": null,                      # str | null
      "created_at": "2026-…T…Z",          # ISO 8601
      "updated_at": "2026-…T…Z"
    }

``GET …/{flow_id}/status`` adds ``"child_status"`` (the flow type's own status, str | null) and ``"in_sync"``
(bool, master and child agree). ``GET …/active`` answers ``{"success": true, "flows": [flow…], "next_cursor":
str | null}``. Errors are RFC 9457 problems, as on the unified API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec import Struct

from application.views import FlowStatusView
from domain.flow import Flow, FlowSummary
from domain.lifecycle import FlowStatus, PhaseState
from entrypoints.http.schemas import Name


class LegacyInitializeRequest(Struct, forbid_unknown_fields=True):
    """``raw_data``, when given, becomes ``configuration["rows"]`` (replacing any rows there)."""

    flow_name: Name
    configuration: dict[str, Any] = {}
    raw_data: list[dict[str, Any]] | None = None

    def flow_configuration(self) -> dict[str, Any]:
        if self.raw_data is None:
            return dict(self.configuration)
        return {**self.configuration, "rows": self.raw_data}


class LegacyFlowOut(Struct):
    success: bool
    flow_id: str
    flow_name: str
    status: FlowStatus
    current_phase: str | None
    progress_percentage: float
    phase_completion: dict[str, bool]
    version: int
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, flow: Flow | FlowSummary) -> LegacyFlowOut:
        return cls(**_flow_fields(flow))


class LegacyFlowStatusOut(LegacyFlowOut):
    child_status: str | None
    in_sync: bool

    @classmethod
    def of_view(cls, view: FlowStatusView) -> LegacyFlowStatusOut:
        child_status = None if view.child is None else view.child.status
        return cls(**_flow_fields(view.flow), child_status=child_status, in_sync=view.in_sync)


class LegacyActiveFlowsOut(Struct):
    success: bool
    flows: list[LegacyFlowOut]
    next_cursor: str | None


class LegacyUsageItemOut(Struct):
    family: str
    method: str
    route: str
    count: int


class LegacyUsageOut(Struct):
    items: list[LegacyUsageItemOut]
    total: int


def _flow_fields(flow: Flow | FlowSummary) -> dict[str, Any]:
    return {
        "success": True,
        "flow_id": str(flow.flow_id),
        "flow_name": flow.name,
        "status": str(flow.status),
        "current_phase": flow.current_phase,
        "progress_percentage": float(flow.progress_percent),
        "phase_completion": {p.name: p.state == PhaseState.COMPLETED for p in flow.phases},
        "version": flow.version,
        "error": flow.error,
        "created_at": flow.created_at,
        "updated_at": flow.updated_at,
    }
