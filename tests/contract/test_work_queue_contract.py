"""WorkQueue: a queued job is one per flow version, published by commit and lost by rollback; starts are counted per
job and forgotten when cleared. The same tests on the fake and on PostgreSQL (pgqueuer's table); the implementation's
``queued_jobs`` observes what a worker would find."""

from __future__ import annotations

from domain.background import PhaseJob
from tests.contract.conftest import Implementation


async def test_an_enqueued_job_is_published_by_commit(implementation: Implementation) -> None:
    flow = await implementation.stored_flow(started=True)
    job = PhaseJob(implementation.tenant, flow.flow_id, flow.version)
    async with implementation.scoped() as uow:
        await uow.work_queue.enqueue_phase(job)
        assert await implementation.queued_jobs(flow) == [], "no worker sees a job before its commit"
        await uow.commit()
    assert await implementation.queued_jobs(flow) == [job]


async def test_a_job_is_queued_once_per_flow_version(implementation: Implementation) -> None:
    flow = await implementation.stored_flow(started=True)
    job = PhaseJob(implementation.tenant, flow.flow_id, flow.version)
    async with implementation.scoped() as uow:
        await uow.work_queue.enqueue_phase(job)
        await uow.work_queue.enqueue_phase(job)
        await uow.commit()
    async with implementation.scoped() as uow:
        await uow.work_queue.enqueue_phase(job)
        await uow.commit()
    assert await implementation.queued_jobs(flow) == [job]
    later = PhaseJob(implementation.tenant, flow.flow_id, flow.version + 1)
    async with implementation.scoped() as uow:
        await uow.work_queue.enqueue_phase(later)
        await uow.commit()
    assert await implementation.queued_jobs(flow) == [job, later]


async def test_an_enqueue_in_a_rolled_back_unit_of_work_leaves_no_job(implementation: Implementation) -> None:
    flow = await implementation.stored_flow(started=True)
    job = PhaseJob(implementation.tenant, flow.flow_id, flow.version)
    async with implementation.scoped() as uow:
        await uow.work_queue.enqueue_phase(job)
        await uow.rollback()
    async with implementation.scoped() as uow:
        await uow.work_queue.enqueue_phase(job)  # left without commit
    assert await implementation.queued_jobs(flow) == []


async def test_starts_are_counted_per_job_and_cleared(implementation: Implementation) -> None:
    flow = await implementation.stored_flow(started=True)
    job = PhaseJob(implementation.tenant, flow.flow_id, flow.version)
    other_version = PhaseJob(implementation.tenant, flow.flow_id, flow.version + 1)
    counts = []
    for _ in range(3):
        async with implementation.scoped() as uow:
            counts.append(await uow.work_queue.record_attempt(job))
            await uow.commit()
    assert counts == [1, 2, 3]
    async with implementation.scoped() as uow:
        assert await uow.work_queue.record_attempt(other_version) == 1
        assert await uow.work_queue.record_attempt(job) == 4  # uncommitted: rolled back on leaving
    async with implementation.scoped() as uow:
        assert await uow.work_queue.record_attempt(job) == 4
        await uow.work_queue.clear_attempts(job)
        await uow.commit()
    async with implementation.scoped() as uow:
        assert await uow.work_queue.record_attempt(job) == 1
        assert await uow.work_queue.record_attempt(other_version) == 1  # its start above was rolled back
        await uow.work_queue.clear_attempts(other_version)
        await uow.work_queue.clear_attempts(other_version)  # clearing what is not counted is nothing
        assert await uow.work_queue.record_attempt(other_version) == 1
