"""The invariants, checked after every step for every flow (and some after every commit).

1. The model, the master row, the child row (through the type's projection: its status, version, progress and
   every column of its own), the stored CrewAI state (status, version, completed phases, the phase it waits on),
   ``GET /api/v1/flows/{id}/status``, the legacy status route and the list endpoint all agree, on the phase a flow
   runs too (``running_phase``: the attempt, its run id, its lease's owner).
2. ``version`` equals the number of events, and replaying the event log reproduces the stored flow (``run``
   included).
3. Leases and attempts: a flow with an attempt in progress has exactly one lease, with that attempt's run id and
   owner, expired only when the harness expired it; no other flow has one (none that is completed, failed, cancelled
   or deleted); every run id the events name has its attempt recorded, and the attempts are the model's (phase,
   attempt, owner, how each ended); the flows' ``run_due_at`` and the runners' queue of due work are the model's.
4. No tenant sees another's flow.
5. After a fault, nothing of the failed operation is visible (the model did not move, so neither may anything else).
6. The flow type's own invariants (``type_invariants.py``), given by its author.
7. After every commit (``commit_audit.py``; claims and completions included, the ones inside a single ``execute``
   too): the consistency auditor finds nothing, and leases and attempts agree with the flows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.events import Tenant
from domain.flow import Flow
from domain.flow_types import FlowTypeDefinition
from domain.lifecycle import FlowStatus, PhaseState
from domain.ports import ChildRecord
from domain.status_sync import master_status_for
from entrypoints.container import Container
from entrypoints.testing.consistency.entry_points import (
    observed_from_flow,
    observed_from_legacy,
    observed_from_unified,
    observed_run,
    run_key,
)
from entrypoints.testing.consistency.model import ModelFlow
from entrypoints.testing.consistency.type_invariants import TypeInvariants
from entrypoints.testing.requests import headers

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


_RUN_TABLES = text(
    "SELECT (SELECT json_agg(json_build_object('flow_id', flow_id, 'run_id', run_id, 'owner', owner,"
    " 'expired', expires_at < now())) FROM phase_leases) AS leases,"
    " (SELECT json_agg(json_build_object('flow_id', flow_id, 'run_id', run_id, 'phase', phase, 'attempt', attempt,"
    " 'owner', owner, 'result', result) ORDER BY started_at, attempt) FROM phase_attempts) AS attempts,"
    " (SELECT json_agg(json_build_object('flow_id', flow_id, 'run_due_at', run_due_at,"
    " 'due_now', run_due_at <= now())) FROM flows) AS due"
)


async def _run_tables(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    """Every lease, attempt (oldest first) and flow's ``run_due_at``, in one statement."""
    async with engine.connect() as connection:
        row = (await connection.execute(_RUN_TABLES)).mappings().one()
    tables = {name: list(row[name] or []) for name in ("leases", "attempts", "due")}
    for rows in tables.values():
        for item in rows:
            for key in ("flow_id", "run_id"):
                if item.get(key) is not None:
                    item[key] = UUID(item[key])
    return tables


async def check_stored_views(
    container: Container,
    flows: dict[UUID, Tracked],
    owner_engine: AsyncEngine,
    *,
    attempts_known: bool = True,
    invariants: TypeInvariants | None = None,
) -> None:
    """Master, child, CrewAI state and the event log of every flow, read in one unit of work; the leases, attempts
    and due work of all of them. ``attempts_known``: the model knows every attempt (the sequential machine; the
    concurrency test's linearization knows the flows' states, not the order of their discarded attempts)."""
    registry = container.flow_types()
    stored = await _run_tables(owner_engine)
    leases = {row["flow_id"]: row for row in stored["leases"]}
    attempts: dict[UUID, list[Any]] = defaultdict(list)
    for row in stored["attempts"]:
        attempts[row["flow_id"]].append(row)
    due_column = {row["flow_id"]: row for row in stored["due"]}
    tables = {"leases": leases, "attempts": attempts, "due": due_column}
    expect(set(leases) <= set(flows), f"leases of flows no one created: {set(leases) - set(flows)}")
    uow = container.unit_of_work()
    async with uow:
        for flow_id, tracked in flows.items():
            with naming_the_flow(tracked.model.flow_type, flow_id):
                await _check_flow(
                    uow, registry, flow_id, tracked, tables, invariants or TypeInvariants(), attempts_known
                )
    await check_queue(container, flows)


@contextmanager
def naming_the_flow(flow_type: str, flow_id: UUID) -> Iterator[None]:
    """An inconsistency found while checking a flow names the flow and its type."""
    try:
        yield
    except Inconsistency as found:
        raise Inconsistency(f"{flow_type} flow {flow_id}: {found}") from None


async def _check_flow(
    uow: Any,
    registry: Any,
    flow_id: UUID,
    tracked: Tracked,
    tables: dict[str, Any],
    invariants: TypeInvariants,
    attempts_known: bool,
) -> None:
    """Every view of one flow against its model."""
    leases, attempts, due_column = tables["leases"], tables["attempts"], tables["due"]
    model, tenant = tracked.model, tracked.tenant
    await uow.scope(tenant)
    flow = await uow.flows.get(tenant, flow_id)
    expect(observed_from_flow(flow) == model.key(), f"master row {observed_from_flow(flow)} != model {model.key()}")
    adapter = registry.adapter_of(flow, uow)  # its recorded version and engine, not the current setting
    child = await adapter.load_child(tenant, flow_id)
    expect(child is not None, f"flow {flow_id} has no child record")
    assert child is not None
    projected = master_status_for(child.status)
    expect(
        (projected, child.master_version) == (model.status, model.version),
        f"child record ({child.status} -> {projected}, v{child.master_version}) != model "
        f"({model.status}, v{model.version})",
    )
    expect(
        ("crewai" in child.mirrors) == flow.contract.bridged,
        f"flow {flow_id} recorded bridged={flow.contract.bridged} but its CrewAI state is "
        f"{'there' if 'crewai' in child.mirrors else 'missing'}",
    )
    for name, mirror in child.mirrors.items():
        expect(
            (mirror.get("status"), mirror.get("master_version")) == (str(model.status), model.version),
            f"{name} state ({mirror.get('status')}, v{mirror.get('master_version')}) != model "
            f"({model.status}, v{model.version})",
        )
    check_child_fields(flow, model, child, registry.get(flow.flow_type, flow.contract.version))
    if "crewai" in child.mirrors:
        check_crewai_fields(flow_id, model, child.mirrors["crewai"])
    events = await uow.events.list(tenant, flow_id, 0, 100_000)
    expect(
        [e.version for e in events] == list(range(1, flow.version + 1)),
        f"flow {flow_id} is at version {flow.version} but has events {[e.version for e in events]}",
    )
    expect(Flow.replay(events) == flow, f"replaying the events of flow {flow_id} does not give its state")
    run_ids = {UUID(e.data["run"]["run_id"]) for e in events if (e.data.get("run") or {}).get("run_id")}
    check_lease(flow, model, leases.get(flow_id))
    check_attempts(flow, model, run_ids, attempts[flow_id], attempts_known)
    check_due(flow_id, model, due_column[flow_id])
    problems = invariants.problems(flow, child)
    expect(not problems, f"the {flow.flow_type} type's own invariants: " + "; ".join(problems))


def model_progress(model: ModelFlow) -> int:
    done = sum(1 for s in model.states if s in (PhaseState.COMPLETED, PhaseState.SKIPPED))
    return round(100 * done / len(model.states)) if model.states else 100


def check_child_fields(flow: Flow, model: ModelFlow, child: ChildRecord, definition: FlowTypeDefinition) -> None:
    """Every field the child record derives from the master: its progress, and each of the type's own columns as
    its projection computes them from the stored master (which the model has already been compared with)."""
    expect(
        child.progress_percent == model_progress(model),
        f"flow {flow.flow_id}: child progress {child.progress_percent}% != model {model_progress(model)}%",
    )
    projected = _as_json(dict(definition.child_table.project(flow)))
    stored = _as_json({name: child.details.get(name) for name in projected})
    expect(stored == projected, f"flow {flow.flow_id}: child columns {stored} != its projection {projected}")


def _as_json(values: dict[str, Any]) -> Any:
    return json.loads(json.dumps(values, default=str, sort_keys=True))


WAITING = (FlowStatus.WAITING_FOR_INPUT, FlowStatus.PAUSED)


def model_waiting_for(model: ModelFlow) -> str | None:
    """The phase the model waits on for input: its current phase while running with no attempt of it (waiting, or
    paused while waiting)."""
    current = model.current_phase
    if model.status not in WAITING or model.run is not None or current is None:
        return None
    return current if model.states[model.phases.index(current)] == PhaseState.RUNNING else None


def check_crewai_fields(flow_id: UUID, model: ModelFlow, mirror: dict[str, Any]) -> None:
    """Every field the CrewAI state mirrors beside status and version: the completed phases, and (where the flow can
    wait on one) the phase it waits on."""
    completed = sorted(p for p, s in zip(model.phases, model.states, strict=True) if s == PhaseState.COMPLETED)
    listed = sorted(mirror.get("completed_phases") or [])
    expect(listed == completed, f"flow {flow_id}: CrewAI state completed {listed}, model {completed}")
    if model.status in WAITING:
        expect(
            mirror.get("waiting_for") == model_waiting_for(model),
            f"flow {flow_id}: CrewAI state waits for {mirror.get('waiting_for')}, model {model_waiting_for(model)}",
        )


def check_lease(flow: Flow, model: ModelFlow, lease: Any) -> None:
    in_progress = flow.run.run_id if flow.run else None
    if lease is not None:
        expect(
            flow.status in (FlowStatus.RUNNING, FlowStatus.PAUSED) and lease["run_id"] == in_progress,
            f"flow {flow.flow_id} ({flow.status}, run {run_key(flow.run)}) holds the lease of {lease['run_id']}",
        )
    expect(
        (lease is None) == (in_progress is None),
        f"flow {flow.flow_id} runs {in_progress} but its lease is {lease and lease['run_id']}",
    )
    run = model.run
    if lease is not None and run is not None:
        held = (lease["owner"], lease["expired"])
        expect(
            held == (run.owner or lease["owner"], run.lease_expired),
            f"the lease of flow {flow.flow_id} is held by {held[0]} (expired: {held[1]}), model: "
            f"{run.owner} (expired: {run.lease_expired})",
        )


def check_attempts(flow: Flow, model: ModelFlow, run_ids: set[UUID], rows: list[Any], known: bool) -> None:
    recorded = {row["run_id"] for row in rows}
    expect(
        recorded == run_ids,
        f"flow {flow.flow_id}: its events name the runs {run_ids}, its attempts record {recorded}",
    )
    open_runs = {row["run_id"] for row in rows if row["result"] is None}
    in_progress = flow.run.run_id if flow.run and flow.run.run_id else None
    expect(
        open_runs == ({in_progress} if in_progress else set()),
        f"flow {flow.flow_id} runs {in_progress} but the attempts {open_runs} have not ended",
    )
    if not known:
        return
    stored = [(r["phase"], r["attempt"], r["result"]) for r in rows]
    expected = [(a.phase, a.attempt, a.result) for a in model.attempts]
    expect(stored == expected, f"flow {flow.flow_id}: attempts {stored} != model {expected}")
    for row, attempt in zip(rows, model.attempts, strict=True):
        expect(
            (attempt.run_id or row["run_id"], attempt.owner or row["owner"]) == (row["run_id"], row["owner"]),
            f"flow {flow.flow_id}: attempt {row['attempt']} of {row['phase']} is {row['run_id']} held by "
            f"{row['owner']}, model: {attempt.run_id} held by {attempt.owner}",
        )


def due_now(model: ModelFlow) -> bool | None:
    """Whether a runner must claim work of the flow now (True), later (False) or not at all (None)."""
    if model.status != FlowStatus.RUNNING:
        return None
    if model.run is not None:
        return model.run.due if model.run.run_id is None else None
    return True if model.auto_run and model.next_pending is not None else None


def check_due(flow_id: UUID, model: ModelFlow, row: Any) -> None:
    stored = None if row["run_due_at"] is None else bool(row["due_now"])
    expect(
        stored == due_now(model),
        f"flow {flow_id}: run_due_at {row['run_due_at']} (due now: {stored}), model: {due_now(model)} "
        f"({model.status}, run {model.run})",
    )


async def check_queue(container: Container, flows: dict[UUID, Tracked]) -> None:
    """The runners' queue: the expired leases first, then every flow with work due now."""
    work = await container.phase_queue().due(1000, 1 << 30)
    seen = [(w.flow_id, w.expired_run) for w in work]
    expired = {(fid, t.model.run.run_id) for fid, t in flows.items() if t.model.run and t.model.run.lease_expired}
    due = {(fid, None) for fid, t in flows.items() if due_now(t.model)}
    expect(
        set(seen) == expired | due and len(seen) == len(set(seen)),
        f"the due work {seen} != model: expired {expired}, due {due}",
    )
    expect(all(w.expired_run for w in work[: len(expired)]), f"the expired leases do not come first in {seen}")


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
        check_running_phase(model, status["running_phase"])
        if model.flow_type == "discovery":
            prefix = LEGACY_PREFIXES[step % 2]
            legacy = await client.get(f"{prefix}/{flow_id}/status", headers=headers(tracked.tenant))
            expect(legacy.status_code == 200, f"legacy status of {flow_id}: {legacy.status_code}")
            expect(
                observed_from_legacy(legacy.json()) == legacy_key(model),
                f"legacy status {observed_from_legacy(legacy.json())} != model {legacy_key(model)}",
            )


def check_running_phase(model: ModelFlow, running: dict[str, Any] | None) -> None:
    run = model.run
    expect(observed_run(running) == (run.key() if run else None), f"GET status running_phase {running} != model {run}")
    if run is None or run.run_id is None:
        expect(running is None or running["lease"] is None, f"GET status shows a lease of no attempt: {running}")
        return
    assert running is not None
    lease = running["lease"]
    expect(
        lease is not None and lease["expired"] == run.lease_expired and lease["owner"] == (run.owner or lease["owner"]),
        f"GET status shows the lease {lease}, model: held by {run.owner} (expired: {run.lease_expired})",
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
