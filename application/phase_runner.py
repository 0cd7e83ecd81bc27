"""The phase runner: runs many claimed attempts at once in one process, each as an asyncio task.

One runner per process (``mfo serve`` and ``mfo worker`` each have one), named by its ``owner`` id. It

- runs the attempts the process claims (``run``: an ``execute`` or ``retry`` from the API), and, when it
  ``polls``, claims due work itself (:meth:`PhaseQueue.due`: auto-run flows' next phases, attempts due again after
  their backoff, attempts whose lease expired), at most ``capacity`` at once and, per tenant, no more than
  ``tenant_limit`` leases held;
- renews the leases of all its attempts in one statement per heartbeat; an attempt whose lease it no longer holds
  (its flow cancelled or deleted, its lease expired and taken over) is cancelled at once: the handler's task is
  cancelled, and its completion records only that it was discarded;
- completes each attempt in its own transaction, trying again while the database is unavailable (a completion
  is never lost to a restart of PostgreSQL while its lease may still be renewed), and goes straight on to the next
  phase of an auto-run flow it just advanced.

Each transaction is a fresh :class:`PhaseExecution` (``execution``), on a unit of work of its own: no pooled
connection is held while a handler runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID, uuid4

from application.phase_execution import PhaseExecution
from domain.background import ClaimedRun, DueWork, due_at
from domain.errors import ConcurrentModification, FlowNotFound, StorageUnavailable
from domain.flow import AttemptEnd, Flow
from domain.ports import Clock, PhaseQueue

log = logging.getLogger("mfo.runner")


@dataclass(frozen=True)
class RunnerOptions:
    lease_seconds: float = 30.0
    """An attempt whose lease is not renewed for this long is taken to have lost its runner, and is attempted again."""
    heartbeat_seconds: float = 2.0
    """How often the runner renews its leases (and so notices a cancelled flow)."""
    poll_seconds: float = 0.5
    """How long a polling runner waits between looks for due work when it found none."""
    capacity: int = 10
    """Attempts of due work one runner runs at once (attempts claimed through the API are not limited)."""
    tenant_limit: int = 5
    """Leases one tenant may hold at once before runners claim no more of its due work."""
    polls: bool = True
    """Whether the runner claims due work itself (else it runs only what the process claims)."""
    actor: str = "worker"


def runner_id() -> str:
    """A process-unique owner id: host, process and a random part (a restarted process is another owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"


@dataclass
class _Running:
    task: asyncio.Task[None]
    claimed: ClaimedRun
    background: bool
    revoked: bool = False


class PhaseRunner:
    def __init__(
        self,
        execution: Callable[[], PhaseExecution],
        queue: PhaseQueue,
        clock: Clock,
        options: RunnerOptions | None = None,
        owner: str | None = None,
    ) -> None:
        self._execution = execution
        self._queue = queue
        self._clock = clock
        self.options = options or RunnerOptions()
        self.owner = owner or runner_id()
        self._running: dict[UUID, _Running] = {}
        """The attempts in progress, by run id."""
        self._done: dict[UUID, asyncio.Event] = {}
        """Set when the task that began with the run of that id has finished (for ``wait``)."""
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = False
        self._wake = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        self._loops.append(asyncio.create_task(self._heartbeats(), name="mfo-runner-heartbeat"))
        if self.options.polls:
            self._loops.append(asyncio.create_task(self._polls(), name="mfo-runner-poll"))

    async def stop(self) -> None:
        """Stop claiming, cancel the running attempts (their leases lapse, and other runners take them over)."""
        self._stopping = True
        self._wake.set()
        for running in list(self._running.values()):
            running.task.cancel()
        await asyncio.gather(*(r.task for r in list(self._running.values())), return_exceptions=True)
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops.clear()
        await self._queue.unlisten()

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def is_running(self) -> bool:
        """Whether the runner's loops are alive (for readiness)."""
        return bool(self._loops) and all(not loop.done() for loop in self._loops)

    # -- attempts -------------------------------------------------------------------------

    def run(self, claimed: ClaimedRun, *, background: bool = False) -> None:
        """Run a claimed attempt (leased to this runner) in a task of its own, and complete it."""
        assert claimed.owner == self.owner, "a runner runs only the attempts leased to it"
        self._done[claimed.run_id] = asyncio.Event()
        task = asyncio.create_task(self._drive(claimed, background), name=f"mfo-run-{claimed.run_id}")
        self._running[claimed.run_id] = _Running(task, claimed, background)

    async def wait(self, run_id: UUID, seconds: float) -> bool:
        """Wait up to ``seconds`` for the task that began with attempt ``run_id`` to end; whether it did."""
        done = self._done.get(run_id)
        if done is None:
            return True
        try:
            await asyncio.wait_for(done.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def revoke(self, flow_id: UUID) -> None:
        """The flow was cancelled or deleted here: cancel its attempt now rather than at the next heartbeat."""
        for running in list(self._running.values()):
            if running.claimed.flow.flow_id == flow_id:
                self._cancel(running)

    @staticmethod
    def _cancel(running: _Running) -> None:
        """Cancel a revoked attempt's task once (a second cancel would interrupt the recording of its discard)."""
        if not running.revoked:
            running.revoked = True
            running.task.cancel()

    async def _drive(self, claimed: ClaimedRun, background: bool) -> None:
        first, current = claimed.run_id, claimed
        try:
            while True:
                end = await self._attempt(current)
                if end is None:
                    return
                flow = await self._complete(current, end, go_on=background and not self._stopping)
                self._running.pop(current.run_id, None)
                if flow is None or self._stopping:
                    return
                following = self._continued(current, flow) or await self._next(flow)
                if following is None:
                    return
                task = asyncio.current_task()
                assert task is not None
                self._running[following.run_id] = _Running(task, following, background)
                current = following
        finally:
            self._running.pop(current.run_id, None)
            done = self._done.pop(first, None)
            if done is not None:
                done.set()
            self._wake.set()

    async def _attempt(self, claimed: ClaimedRun) -> AttemptEnd | None:
        """Run the handler; None when the attempt was stopped because the runner is stopping."""
        try:
            return await self._execution().run_claimed(claimed)
        except asyncio.CancelledError:
            running = self._running.get(claimed.run_id)
            if running is not None and running.revoked:
                # the flow no longer runs this attempt: record that its (absent) outcome was discarded
                await self._complete(claimed, AttemptEnd.failed("cancelled: its lease was revoked", None))
                return None
            raise

    async def _complete(self, claimed: ClaimedRun, end: AttemptEnd, *, go_on: bool = False) -> Flow | None:
        delay = 0.2
        while True:
            try:
                return await self._execution().complete_run(claimed, end, actor=claimed.actor, go_on=go_on)
            except FlowNotFound:
                return None
            except (StorageUnavailable, ConcurrentModification) as error:
                if self._stopping:
                    raise
                log.warning("completing run %s failed (%s); again in %.1f s", claimed.run_id, error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _continued(self, ended: ClaimedRun, flow: Flow) -> ClaimedRun | None:
        """The next phase's attempt the completion claimed for this runner (``go_on``), if it did."""
        run = flow.run
        if run is None or run.run_id is None or run.run_id == ended.run_id or run.attempt != 1:
            return None
        return ClaimedRun(flow, run.run_id, self.owner, self.options.lease_seconds, self.options.actor)

    async def _next(self, flow: Flow) -> ClaimedRun | None:
        """Go straight on to the next phase of an auto-run flow this attempt left due now."""
        due = due_at(flow)
        if due is None or due > self._clock.now():
            return None
        try:
            return await self._execution().claim_due(
                DueWork(flow.tenant, flow.flow_id),
                owner=self.owner,
                lease_seconds=self.options.lease_seconds,
                tenant_limit=self.options.tenant_limit,
                actor=self.options.actor,
            )
        except (StorageUnavailable, ConcurrentModification):
            return None  # a poll finds it later

    # -- loops ----------------------------------------------------------------------------

    async def _heartbeats(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.options.heartbeat_seconds)
            held_runs = {r.claimed.run_id: r for r in self._running.values()}
            if not held_runs:
                continue
            try:
                held = await self._queue.renew(self.owner, list(held_runs), self.options.lease_seconds)
            except Exception as error:  # the database away: try again at the next beat
                log.warning("renewing %d leases failed: %s", len(held_runs), error)
                continue
            for run_id, running in held_runs.items():
                if run_id not in held and self._running.get(run_id) is running and not running.task.done():
                    log.info("run %s lost its lease: cancelling it", run_id)
                    self._cancel(running)

    async def _polls(self) -> None:
        while not self._stopping:
            found = 0
            try:
                if not self._queue.listening:  # wake at once when a commit makes work due; else poll only
                    await self._queue.listen(self._wake.set)
            except Exception as error:
                log.warning(
                    "listening for due work failed (%s); polling every %.1f s", error, self.options.poll_seconds
                )
            self._wake.clear()  # before the look: a notification heard during it calls for another at once
            try:
                found = await self._poll_once()
            except Exception as error:
                log.warning("polling for due work failed: %s", error)
            if found == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.options.poll_seconds)

    async def _poll_once(self) -> int:
        free = self.options.capacity - sum(1 for r in self._running.values() if r.background)
        if free <= 0:
            return 0
        started = 0
        for work in await self._queue.due(free, self.options.tenant_limit):
            if self._stopping:
                break
            try:
                claimed = await self._execution().claim_due(
                    work,
                    owner=self.owner,
                    lease_seconds=self.options.lease_seconds,
                    tenant_limit=self.options.tenant_limit,
                    actor=self.options.actor,
                )
            except (StorageUnavailable, ConcurrentModification) as error:
                log.info("claiming due work of flow %s failed: %s", work.flow_id, error)
                continue
            if claimed is not None:
                self.run(claimed, background=True)
                started += 1
            elif work.expired_run is not None:
                started += 1  # the expired attempt was ended: its next attempt may be due at once
        return started
