"""Every way in to a flow operation, behind one interface the harness drives.

- ``unified``: the HTTP API (``/api/v1/flows``), through the real Litestar app;
- ``legacy:discovery`` and ``legacy:unified-discovery``: the two legacy route families (discovery flows only);
- ``python``: the orchestrator from the container, as the CrewAI bridge and the discovery service are reached
  in-process.

Each call returns an :class:`Outcome`: the flow's observable state on success, or the error class and HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.errors import (
    ConcurrentModification,
    FlowNotFound,
    IllegalTransition,
    StorageUnavailable,
    VersionConflict,
)
from domain.events import Tenant
from domain.lifecycle import FlowStatus, Operation, PhaseState
from entrypoints.container import Container
from tests.support import headers

PROBLEM_TYPES = {
    "illegal-transition": "IllegalTransition",
    "version-conflict": "VersionConflict",
    "flow-not-found": "FlowNotFound",
    "storage-unavailable": "StorageUnavailable",
    "concurrent-modification": "ConcurrentModification",
    "internal-error": "InternalError",
    "invalid-body": "ValidationError",
}
EXCEPTIONS = {
    IllegalTransition: "IllegalTransition",
    VersionConflict: "VersionConflict",
    FlowNotFound: "FlowNotFound",
    StorageUnavailable: "StorageUnavailable",
    ConcurrentModification: "ConcurrentModification",
}
ROUTES = {
    Operation.START: "start",
    Operation.EXECUTE_PHASE: "execute",
    Operation.SUBMIT_INPUT: "input",
    Operation.PAUSE: "pause",
    Operation.RESUME: "resume",
    Operation.CANCEL: "cancel",
    Operation.RETRY: "retry",
}
LEGACY_OPERATIONS = frozenset(
    {Operation.EXECUTE_PHASE, Operation.PAUSE, Operation.RESUME, Operation.RETRY, Operation.DELETE}
)


@dataclass(frozen=True)
class Outcome:
    status_code: int
    error: str | None = None
    flow_id: UUID | None = None
    observed: tuple | None = None  # (status, version, current_phase, phase states) or a legacy subset

    @property
    def ok(self) -> bool:
        return self.error is None


def observed_from_unified(body: dict[str, Any]) -> tuple:
    states = tuple(PhaseState(p["state"]) for p in body["phases"])
    return (FlowStatus(body["status"]), body["version"], body["current_phase"], states)


def observed_from_flow(flow: Any) -> tuple:
    return (flow.status, flow.version, flow.current_phase, tuple(p.state for p in flow.phases))


def observed_from_legacy(body: dict[str, Any]) -> tuple:
    """The legacy shape carries no phase states, only completion flags: compared as far as it goes."""
    return (
        FlowStatus(body["status"]),
        body["version"],
        body["current_phase"],
        tuple(body["phase_completion"].values()),
    )


class HttpEntry:
    def __init__(self, client: Any, name: str, prefix: str) -> None:
        self.client = client
        self.name = name
        self.prefix = prefix

    @property
    def legacy(self) -> bool:
        return self.prefix != "/api/v1/flows"

    def serves(self, flow_type: str, operation: Operation) -> bool:
        return not self.legacy or (flow_type == "discovery" and operation in LEGACY_OPERATIONS)

    async def create(self, tenant: Tenant, flow_type: str, configuration: dict) -> Outcome:
        if self.legacy:
            body = {"flow_name": "harness", "configuration": configuration}
            response = await self.client.post(f"{self.prefix}/initialize", json=body, headers=headers(tenant))
        else:
            body = {"flow_type": flow_type, "name": "harness", "configuration": configuration}
            response = await self.client.post(self.prefix, json=body, headers=headers(tenant))
        return self._outcome(response)

    async def operate(
        self, tenant: Tenant, flow_id: UUID, operation: Operation, payload: Any = None, expected: int | None = None
    ) -> Outcome:
        extra = {"If-Match": f'"{expected}"'} if expected is not None else {}
        h = headers(tenant, **extra)
        url = f"{self.prefix}/{flow_id}"
        if operation == Operation.DELETE:
            response = await self.client.delete(url, headers=h)
        else:
            response = await self.client.post(f"{url}/{ROUTES[operation]}", json=payload, headers=h)
        return self._outcome(response)

    def _outcome(self, response: Any) -> Outcome:
        body = response.json()
        if response.status_code >= 400:
            slug = body.get("type", "").rsplit("/", 1)[-1]
            return Outcome(response.status_code, PROBLEM_TYPES.get(slug, f"unexpected:{slug}"))
        observed = observed_from_legacy(body) if self.legacy else observed_from_unified(body)
        return Outcome(response.status_code, flow_id=UUID(body["flow_id"]), observed=observed)


class PythonEntry:
    """The orchestrator straight from the container: a new unit of work per call, as a request has."""

    name = "python"
    legacy = False

    def __init__(self, container: Container) -> None:
        self.container = container

    def serves(self, flow_type: str, operation: Operation) -> bool:
        return True

    async def create(self, tenant: Tenant, flow_type: str, configuration: dict) -> Outcome:
        return await self._call(
            self.container.orchestrator().create_flow(tenant, flow_type, "harness", configuration, actor="harness"),
            201,
        )

    async def operate(
        self, tenant: Tenant, flow_id: UUID, operation: Operation, payload: Any = None, expected: int | None = None
    ) -> Outcome:
        mfo = self.container.orchestrator()
        kwargs = {"actor": "harness", "expected_version": expected}
        calls = {
            Operation.START: lambda: mfo.start_flow(tenant, flow_id, **kwargs),
            Operation.EXECUTE_PHASE: lambda: mfo.execute_phase(tenant, flow_id, **kwargs),
            Operation.SUBMIT_INPUT: lambda: mfo.submit_input(tenant, flow_id, payload, **kwargs),
            Operation.PAUSE: lambda: mfo.pause_flow(tenant, flow_id, **kwargs),
            Operation.RESUME: lambda: mfo.resume_flow(tenant, flow_id, **kwargs),
            Operation.CANCEL: lambda: mfo.cancel_flow(tenant, flow_id, **kwargs),
            Operation.RETRY: lambda: mfo.retry_flow(tenant, flow_id, **kwargs),
            Operation.DELETE: lambda: mfo.delete_flow(tenant, flow_id, **kwargs),
        }
        return await self._call(calls[operation](), 200)

    @staticmethod
    async def _call(call: Any, status_code: int) -> Outcome:
        try:
            flow = await call
        except tuple(EXCEPTIONS) as error:
            name = EXCEPTIONS[type(error)]
            return Outcome({"FlowNotFound": 404, "StorageUnavailable": 503}.get(name, 409), name)
        except Exception:
            return Outcome(500, "InternalError")
        return Outcome(status_code, flow_id=flow.flow_id, observed=observed_from_flow(flow))
