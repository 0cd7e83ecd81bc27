"""The background phase runner: what a queue worker does with one job of an auto-run flow.

Two transactions, in this order:

1. **Count the start.** Under the row lock, check that the flow is still at the job's version, running, and
   auto-run; if so count one more start of its phase and commit. A worker that dies in the phase has still used up
   an attempt; a flow that moved on (paused, cancelled, waiting, another version) or is busy costs none.
2. **Run the phase.** Under the lock again (the flow may have moved on in between), run the next phase exactly as
   ``execute_phase`` does, or, after ``max_attempts`` starts that never finished, fail it with an error that says so;
   write the master row, the child record, the event and the next phase's job, forget the counted starts, commit.
"""

from __future__ import annotations

from application.orchestration import LockedFlow, OrchestratorPart
from domain.background import BackgroundRun, PhaseJob, gave_up_error, runs_in_background
from domain.errors import FlowNotFound
from domain.flow import Flow
from domain.lifecycle import Operation
from domain.phases import PhaseOutcome
from domain.ports import UnitOfWork


class BackgroundPhaseRunner(OrchestratorPart):
    async def run(self, job: PhaseJob, *, max_attempts: int, actor: str) -> BackgroundRun:
        """Run the next phase of ``job``'s flow if it is still due (see the module's docstring)."""
        with self._observer.operation("background_phase", job.tenant, job.flow_id) as observed:
            async with self._uow as uow:  # 1. count the start
                await uow.scope(job.tenant)
                if await self._locked_if_due(uow, job) is None:
                    await self._forget(uow, job)
                    return BackgroundRun.SKIPPED
                attempt = await uow.work_queue.record_attempt(job)
                await uow.commit()

            async with self._uow as uow:  # 2. run the phase (or give up)
                await uow.scope(job.tenant)
                flow = await self._locked_if_due(uow, job)
                if flow is None:  # changed in between: nothing to do
                    await self._forget(uow, job)
                    return BackgroundRun.SKIPPED
                observed.flow(flow.flow_type, flow.flow_id)
                change = LockedFlow(flow, self.get_flow_service(flow.flow_type), observed)
                name = flow.phase_to_execute()
                if attempt > max_attempts:
                    result, outcome = BackgroundRun.GAVE_UP, PhaseOutcome.failed(gave_up_error(name, attempt - 1))
                else:
                    result = BackgroundRun.RAN
                    outcome = await self._run_phase(
                        change, name, change.adapter.run_phase(flow, name), unexpected_fails=False
                    )
                flow.record_phase_outcome(
                    Operation.EXECUTE_PHASE,
                    name,
                    outcome,
                    actor=actor,
                    at=self._clock.now(),
                    extra={"background_attempt": attempt},
                )
                await uow.flows.save(flow)
                await self._write_views(uow, change)
                await uow.work_queue.clear_attempts(job)
                await uow.commit()
        return result

    @staticmethod
    async def _locked_if_due(uow: UnitOfWork, job: PhaseJob) -> Flow | None:
        """The flow, locked, if its next phase is ``job``'s to run; else None."""
        try:
            flow = await uow.flows.get_for_update(job.tenant, job.flow_id)
        except FlowNotFound:
            return None
        if flow.version == job.expected_version and runs_in_background(flow):
            return flow
        return None

    @staticmethod
    async def _forget(uow: UnitOfWork, job: PhaseJob) -> None:
        """The job has nothing to do: forget its counted starts."""
        await uow.work_queue.clear_attempts(job)
        await uow.commit()
