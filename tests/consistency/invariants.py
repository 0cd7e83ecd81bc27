"""The invariants, checked after every step for every flow.

1. The model, the master row, the child row (through the type's projection), the stored CrewAI state,
   ``GET /api/v1/flows/{id}/status``, the legacy status route and the list endpoint all agree.
2. ``version`` equals the number of events, and replaying the event log reproduces the current state.
3. No tenant sees another's flow.
4. After a fault, nothing of the failed operation is visible (the model did not move, so neither may anything else).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.events import Tenant
from domain.flow import Flow
from domain.lifecycle import PhaseState
from domain.status_sync import master_status_for
from entrypoints.container import Container
from tests.consistency.entry_points import observed_from_flow, observed_from_legacy, observed_from_unified
from tests.consistency.model import ModelFlow
from tests.support import headers

LEGACY_PREFIXES = ("/api/v1/discovery/flows", "/api/v1/unified-discovery/flows")


@dataclass
class Tracked:
    tenant: Tenant
    model: ModelFlow


class Inconsistency(AssertionError):
    pass


def legacy_key(model: ModelFlow) -> tuple:
    return (model.status, model.version, model.current_phase, tuple(s == PhaseState.COMPLETED for s in model.states))


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Inconsistency(message)


async def check_stored_views(container: Container, bridged: frozenset[str], flows: dict[UUID, Tracked]) -> None:
    """Master, child, CrewAI state and the event log of every flow, read in one unit of work."""
    registry = container.flow_types()
    uow = container.unit_of_work()
    async with uow:
        for flow_id, tracked in flows.items():
            model, tenant = tracked.model, tracked.tenant
            await uow.scope(tenant)
            flow = await uow.flows.get(tenant, flow_id)
            expect(
                observed_from_flow(flow) == model.key(), f"master row {observed_from_flow(flow)} != model {model.key()}"
            )
            adapter = registry.adapter_for(flow.flow_type, uow)
            child = await adapter.load_child(tenant, flow_id)
            expect(child is not None, f"flow {flow_id} has no child record")
            assert child is not None
            projected = master_status_for(child.status)
            expect(
                (projected, child.master_version) == (model.status, model.version),
                f"child record ({child.status} -> {projected}, v{child.master_version}) != model "
                f"({model.status}, v{model.version})",
            )
            if flow.flow_type in bridged:
                expect("crewai" in child.mirrors, f"flow {flow_id} has no stored CrewAI state")
            for name, mirror in child.mirrors.items():
                expect(
                    (mirror.get("status"), mirror.get("master_version")) == (str(model.status), model.version),
                    f"{name} state ({mirror.get('status')}, v{mirror.get('master_version')}) != model "
                    f"({model.status}, v{model.version})",
                )
            events = await uow.events.list(tenant, flow_id, 0, 100_000)
            expect(
                [e.version for e in events] == list(range(1, flow.version + 1)),
                f"flow {flow_id} is at version {flow.version} but has events {[e.version for e in events]}",
            )
            expect(Flow.replay(events) == flow, f"replaying the events of flow {flow_id} does not give its state")


async def check_http_views(client: Any, tenants: list[Tenant], flows: dict[UUID, Tracked], step: int) -> None:
    """The status route, a legacy status route and the list endpoint, for every flow and tenant."""
    for tenant in tenants:
        listed = await client.get("/api/v1/flows?include_deleted=true&limit=200", headers=headers(tenant))
        expect(listed.status_code == 200, f"list failed: {listed.text}")
        seen = {UUID(item["flow_id"]): (item["status"], item["version"]) for item in listed.json()["items"]}
        mine = {fid: (str(t.model.status), t.model.version) for fid, t in flows.items() if t.tenant == tenant}
        expect(seen == mine, f"tenant {tenant.client_account_id} lists {seen}, expected {mine}")
    for flow_id, tracked in flows.items():
        model = tracked.model
        response = await client.get(f"/api/v1/flows/{flow_id}/status", headers=headers(tracked.tenant))
        expect(response.status_code == 200, f"status of {flow_id}: {response.status_code}")
        status = response.json()
        master = status["master"]
        expect(
            (master["status"], master["version"], master["current_phase"])
            == (str(model.status), model.version, model.current_phase),
            f"GET status master {master} != model {model.key()}",
        )
        expect(status["child"]["projected_status"] == str(model.status), f"GET status child {status['child']}")
        expect(status["in_sync"] is True, f"GET status says not in sync: {status}")
        if model.flow_type == "discovery":
            prefix = LEGACY_PREFIXES[step % 2]
            legacy = await client.get(f"{prefix}/{flow_id}/status", headers=headers(tracked.tenant))
            expect(legacy.status_code == 200, f"legacy status of {flow_id}: {legacy.status_code}")
            expect(
                observed_from_legacy(legacy.json()) == legacy_key(model),
                f"legacy status {observed_from_legacy(legacy.json())} != model {legacy_key(model)}",
            )


def outcome_agrees(observed: tuple, model: ModelFlow, legacy: bool) -> bool:
    return observed == (legacy_key(model) if legacy else model.key())


__all__ = [
    "Inconsistency",
    "Tracked",
    "check_http_views",
    "check_stored_views",
    "legacy_key",
    "observed_from_unified",
    "outcome_agrees",
]
