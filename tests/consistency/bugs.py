"""MFO's own bug switches: each reintroduces a classic mistake, and a test shows the harness catches it. Nothing
here is reachable from MFO's configuration: the tests install them through the harness's ``Environment``.

- ``own_session_child``: the adapter commits its child update in a session of its own;
- ``master_only``: a status change is written to the master row only;
- ``unlocked``: read-modify-write without a lock or a version check (and an event log that drops a duplicate);
- ``unfenced_completion``: a completion ends whatever attempt its flow runs now, not the one it completes (no
  run-id fencing), so a late completion of an attempt that was taken over records its outcome for the next.
"""

from __future__ import annotations

import asyncio
import dataclasses
from uuid import UUID

from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert

from adapters.persistence.event_log import PgFlowEventLog, event_row
from adapters.persistence.flow_repository import PgFlowRepository, row_of
from adapters.persistence.statements import KEY_COLUMNS, Statement, by_key, key_params
from adapters.persistence.tables import flow_events, flows
from adapters.persistence.unit_of_work import AsyncpgUnitOfWork
from application.orchestrator import MasterFlowOrchestrator
from domain.background import ClaimedRun
from domain.events import FlowEvent, Tenant
from domain.flow import AttemptEnd, Flow
from domain.phases import PhaseOutcome
from entrypoints.testing.consistency.faults import FaultyAdapter, Switches


@dataclasses.dataclass
class Bugs(Switches):
    own_session_child: bool = False
    master_only: bool = False
    unfenced_completion: bool = False


class BuggyAdapter(FaultyAdapter):
    """The harness's adapter, writing the child row as the switched-on bug does."""

    async def write_child(self, flow: Flow, outcome: PhaseOutcome | None) -> None:
        switches = self._switches
        assert isinstance(switches, Bugs)
        created = flow.version == len(flow.pending_events)  # this operation created the flow
        if switches.master_only and not created:
            pass  # the bug: the status change reaches the master row only
        elif switches.own_session_child and not created:
            own = self._own_uow()
            async with own:
                await own.scope(flow.tenant)  # else row-level security refuses the write outright
                await self._factory(own).save_child(flow, outcome)
                await own.commit()
        else:
            await super().write_child(flow, outcome)


_UNCHECKED_SAVE = Statement(
    update(flows)
    .where(by_key(flows))
    .values({c.name: bindparam(f"new_{c.name}") for c in flows.c if c.name not in KEY_COLUMNS})
)
_APPEND_IGNORING_DUPLICATES = Statement(insert(flow_events).on_conflict_do_nothing())


class UnlockedFlowRepository(PgFlowRepository):
    """Reads without ``FOR UPDATE`` and writes without checking the version: last writer wins."""

    async def get_for_update(self, tenant: Tenant, flow_id: UUID) -> Flow:
        flow = await self.get(tenant, flow_id)
        await asyncio.sleep(0.005)  # as a slow handler would: widens the window between read and write
        return flow

    async def save(self, flow: Flow) -> None:
        values = {f"new_{k}": v for k, v in row_of(flow).items()}
        await self._executor.execute(_UNCHECKED_SAVE, {**values, **key_params(flow.tenant, flow.flow_id)})


class DroppingEventLog(PgFlowEventLog):
    """Drops an event whose version is taken, instead of failing the transaction."""

    async def append(self, events: list[FlowEvent]) -> None:
        for event in events:
            await self._executor.execute(_APPEND_IGNORING_DUPLICATES, event_row(event))


class UnlockedUnitOfWork(AsyncpgUnitOfWork):
    async def __aenter__(self) -> UnlockedUnitOfWork:
        await super().__aenter__()
        self.flows = UnlockedFlowRepository(self)
        self.events = DroppingEventLog(self)
        return self


class UnfencedOrchestrator(MasterFlowOrchestrator):
    """Completes the attempt its flow runs when the completion arrives, whichever attempt ended."""

    async def complete_run(self, claimed: ClaimedRun, end: AttemptEnd, *, actor: str) -> Flow | None:
        flow = await self.get_flow(claimed.tenant, claimed.flow.flow_id)
        if flow.run is not None:  # the bug: the flow's run id (None between two attempts), not the claim's
            claimed = dataclasses.replace(claimed, run_id=flow.run.run_id)  # type: ignore[arg-type]
        return await super().complete_run(claimed, end, actor=actor)
