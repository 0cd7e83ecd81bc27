"""Every way in to a flow operation, behind one interface the harness drives.

- ``unified``: the HTTP API (``/api/v1/flows``), through the real Litestar app (``execute`` and ``retry`` with
  ``Prefer: wait``: the app's runner runs the claimed phase and the answer is its outcome);
- ``legacy:discovery`` and ``legacy:unified-discovery``: the two legacy route families (discovery flows only);
- ``python``: the orchestrator from the container, as the CrewAI bridge and the discovery service are reached
  in-process (``execute_phase`` claims, runs and completes the phase in the caller's task);
- :class:`~entrypoints.testing.consistency.phase_parts.PhaseParts`: the three parts of phase execution one call at a
  time, as a runner drives them (a claim leased to an owner, a completion with a chosen ending, a claim of due work,
  a lease that expires).

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
from domain.flow import PhaseRun
from domain.lifecycle import FlowStatus, Operation, PhaseState
from entrypoints.container import Container
from entrypoints.testing.requests import headers

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
    observed: tuple | None = None
    """(status, version, current_phase, phase states, auto_run, run), or a legacy subset; None when the call
    returned nothing (nothing was claimed, a completion was discarded)."""

    @property
    def ok(self) -> bool:
        return self.error is None


def run_key(run: PhaseRun | None) -> tuple | None:
    """The run as the model keys it: phase, attempt, run id, whether it waits for its next attempt, earlier
    failures."""
    if run is None:
        return None
    return (run.phase, run.attempt, run.run_id, run.retry_at is not None, len(run.errors))


def observed_run(running: dict[str, Any] | None) -> tuple | None:
    """An HTTP body's ``running_phase`` as the model keys a run."""
    if running is None:
        return None
    run_id = None if running["run_id"] is None else UUID(running["run_id"])
    waiting = running["retry_at"] is not None
    return (running["phase"], running["attempt"], run_id, waiting, len(running["earlier_attempts"]))


def observed_from_unified(body: dict[str, Any]) -> tuple:
    states = tuple(PhaseState(p["state"]) for p in body["phases"])
    run = observed_run(body["running_phase"])
    return (FlowStatus(body["status"]), body["version"], body["current_phase"], states, body["auto_run"], run)


def observed_from_flow(flow: Any) -> tuple:
    states = tuple(p.state for p in flow.phases)
    return (flow.status, flow.version, flow.current_phase, states, flow.auto_run, run_key(flow.run))


def observed_from_legacy(body: dict[str, Any]) -> tuple:
    """The legacy shape carries no phase states, only completion flags: compared as far as it goes."""
    return (
        FlowStatus(body["status"]),
        body["version"],
        body["current_phase"],
        tuple(body["phase_completion"].values()),
    )


class HttpEntry:
    def __init__(self, client: Any, name: str, prefix: str, owner: str | None = None) -> None:
        self.client = client
        self.name = name
        self.prefix = prefix
        self.owner = owner
        """The owner of the phases it runs: the app's runner."""

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
    owner = "inline"

    def __init__(self, container: Container) -> None:
        self.container = container

    def serves(self, flow_type: str, operation: Operation) -> bool:
        return True

    async def create(self, tenant: Tenant, flow_type: str, configuration: dict) -> Outcome:
        return await call_outcome(
            self.container.orchestrator().create_flow(tenant, flow_type, "harness", configuration, actor="harness"),
            201,
        )

    async def operate(
        self, tenant: Tenant, flow_id: UUID, operation: Operation, payload: Any = None, expected: int | None = None
    ) -> Outcome:
        mfo = self.container.orchestrator()
        kwargs = {"actor": "harness", "expected_version": expected}
        calls = {
            Operation.START: lambda: mfo.start_flow(
                tenant, flow_id, auto_run=bool(payload and payload.get("auto_run")), **kwargs
            ),
            Operation.EXECUTE_PHASE: lambda: mfo.execute_phase(tenant, flow_id, **kwargs),
            Operation.SUBMIT_INPUT: lambda: mfo.submit_input(tenant, flow_id, payload, **kwargs),
            Operation.PAUSE: lambda: mfo.pause_flow(tenant, flow_id, **kwargs),
            Operation.RESUME: lambda: mfo.resume_flow(tenant, flow_id, **kwargs),
            Operation.CANCEL: lambda: mfo.cancel_flow(tenant, flow_id, **kwargs),
            Operation.RETRY: lambda: mfo.retry_flow(tenant, flow_id, **kwargs),
            Operation.DELETE: lambda: mfo.delete_flow(tenant, flow_id, **kwargs),
        }
        return await call_outcome(calls[operation](), 200)


async def call_outcome(call: Any, status_code: int) -> Outcome:
    """What awaiting ``call`` gave: the flow it returned (None: nothing), or the error it raised."""
    try:
        flow = await call
    except tuple(EXCEPTIONS) as error:
        return failure(error)
    except Exception:
        return Outcome(500, "InternalError")
    if flow is None:
        return Outcome(status_code)
    return Outcome(status_code, flow_id=flow.flow_id, observed=observed_from_flow(flow))


def failure(error: Exception) -> Outcome:
    name = next(name for kind, name in EXCEPTIONS.items() if isinstance(error, kind))
    return Outcome({"FlowNotFound": 404, "StorageUnavailable": 503}.get(name, 409), name)
