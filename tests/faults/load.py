"""A few concurrent HTTP clients creating and driving flows, and a ledger of every acknowledged (2xx) write.

Every response is checked as it arrives: 2xx, 409 or 503 (problem+json; a 503 with ``Retry-After``). A transport
error is allowed only while the API process itself is down (an outage window); a client timeout never is.

An ``execute`` waits for its phase (``Prefer: wait``) for less than the client's timeout: 200 with the outcome when
the phase ended in time, else 202 with the claim (both acknowledged writes). While a phase runs the client reads the
flow (or pauses it) rather than executing again. A flow's version may then grow without any request of the client:
its runner completes the attempt. So a refusal that says nothing was changed is checked afterwards
(:attr:`Load.unchanged`): every event between the refused version and the one the client read next is the runner's.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import httpx

from domain.auth import Role
from domain.events import Tenant
from tests.support import DISCOVERY_CSV, auth_headers

PROBLEM_JSON = "application/problem+json"
TERMINAL = {"completed", "failed", "cancelled", "deleted"}


SUBJECT = "fault-load"
"""The actor of every client's requests (and of the completions of the attempts they claimed, which a runner
records in their name)."""
PHASE_WAIT_SECONDS = 2
"""``Prefer: wait`` of an ``execute``: well under the client's timeout, so a phase whose completion waits for the
database is answered 202 (its claim) rather than cut off by the client."""


def tenant_headers(tenant: Tenant) -> dict[str, str]:
    """How the fault tests say who they are: an operator's bearer token for ``tenant`` (production auth)."""
    return auth_headers(tenant, Role.OPERATOR, subject=SUBJECT, Prefer=f"wait={PHASE_WAIT_SECONDS}")


@dataclass(frozen=True)
class Ack:
    version: int
    status: str


@dataclass
class Ledger:
    """The highest acknowledged version of every flow, with the status the API acknowledged for it."""

    acked: dict[str, Ack] = field(default_factory=dict)
    acks: int = 0
    last_ack_at: float = 0.0
    ack_times: list[float] = field(default_factory=list)
    """When each write was acknowledged (monotonic clock): the gaps between them are the unavailability."""

    def record(self, body: dict[str, Any]) -> None:
        flow_id, ack = body["flow_id"], Ack(body["version"], body["status"])
        known = self.acked.get(flow_id)
        if known is None or ack.version > known.version:
            self.acked[flow_id] = ack
        self.acks += 1
        self.last_ack_at = time.monotonic()
        self.ack_times.append(self.last_ack_at)

    def longest_gap(self, since: float, until: float) -> float:
        """The longest time without an acknowledged write between ``since`` and ``until`` (monotonic clock)."""
        inside = [since, *(t for t in self.ack_times if since < t < until), until]
        return max(later - earlier for earlier, later in itertools.pairwise(inside))


@dataclass(frozen=True)
class Seen:
    """What a client last knew of a flow: its version, status and whether it runs a phase (then ``execute`` is a
    409 naming it)."""

    version: int
    status: str
    phase_running: bool

    @classmethod
    def of(cls, body: dict[str, Any]) -> Seen:
        return cls(body["version"], body["status"], body.get("running_phase") is not None)


@dataclass(frozen=True)
class Unchanged:
    """A refusal said the flow was left at ``version``; the client next read it at ``read_version``."""

    flow_id: str
    version: int
    read_version: int


@dataclass
class Window:
    start: float
    end: float | None = None


@dataclass
class Load:
    base_url: str
    clients: int = 4
    timeout_seconds: float = 5.0
    ledger: Ledger = field(default_factory=Ledger)
    violations: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    transport_errors: int = 0
    outcome_unknown: int = 0  # 503s that said the commit's outcome is unknown
    slowest: float = 0.0
    api_down: list[Window] = field(default_factory=list)
    unchanged: list[Unchanged] = field(default_factory=list)
    """Refusals that said nothing was changed, and the version read next: checked against the events afterwards."""
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._client(n)) for n in range(self.clients)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    def api_going_down(self) -> None:
        self.api_down.append(Window(time.monotonic()))

    def api_up_again(self) -> None:
        self.api_down[-1].end = time.monotonic()

    def summary(self) -> str:
        return (
            f"{self.ledger.acks} writes acknowledged, statuses {dict(self.statuses)}, problems {dict(self.problems)}, "
            f"{self.transport_errors} transport errors, {self.outcome_unknown} unknown outcomes, "
            f"slowest {self.slowest:.2f} s, violations {self.violations[:5]}"
        )

    def count(self, status: int, problem_type: str = "") -> int:
        """Responses with this status (and problem type suffix, if given)."""
        if not problem_type:
            return self.statuses[status]
        return sum(n for key, n in self.problems.items() if key == f"{status} {problem_type}")

    async def _client(self, number: int) -> None:
        tenant = Tenant(uuid4(), uuid4())
        known: dict[str, Seen | None] = {}  # flow id -> last known state (None: unknown, read it first)
        unchanged: dict[str, int] = {}  # flow id -> its version, as a refusal said nothing was changed
        rng = random.Random(number)
        async with httpx.AsyncClient(
            base_url=self.base_url, headers=tenant_headers(tenant), timeout=self.timeout_seconds
        ) as http:
            while not self._stop.is_set():
                active = [f for f, s in known.items() if s is None or s.status not in TERMINAL]
                if len(active) < 3 or rng.random() < 0.15:
                    body, _ = await self._call(http, "POST", "/api/v1/flows", _new_flow(number))
                    if body is not None:
                        known[body["flow_id"]] = Seen.of(body)
                    continue
                flow_id = rng.choice(active)
                state = known[flow_id]
                method, path, payload = _next_step(flow_id, state, rng)
                body, nothing_changed = await self._call(http, method, path, payload)
                if state is not None and state.phase_running and method == "GET":
                    await asyncio.sleep(0.05)  # a client's polling interval while a phase runs: not a condition
                if body is None:
                    known[flow_id] = None  # the outcome is unknown, or a refusal said it changed nothing: read it
                    if nothing_changed and state is not None:
                        unchanged[flow_id] = state.version
                    continue
                known[flow_id] = Seen.of(body)
                if method == "GET" and flow_id in unchanged:
                    self.unchanged.append(Unchanged(flow_id, unchanged[flow_id], body["version"]))
                unchanged.pop(flow_id, None)

    async def _call(
        self, http: httpx.AsyncClient, method: str, path: str, payload: Any
    ) -> tuple[dict[str, Any] | None, bool]:
        """The response's JSON when 2xx (a write's is recorded in the ledger); else None, after checking the
        refusal, and whether it said that nothing was changed."""
        started = time.monotonic()
        try:
            response = await http.request(method, path, json=payload)
        except httpx.TimeoutException as error:
            self.violations.append(f"{method} {path} hung past {self.timeout_seconds} s ({error.__class__.__name__})")
            return None, False
        except httpx.TransportError as error:
            self.transport_errors += 1
            if not self._while_api_down(started, time.monotonic()):
                self.violations.append(f"{method} {path}: {error!r} while the API process was up")
            await asyncio.sleep(0.1)  # a client's back-off, as a real one would: not waiting for a condition
            return None, False
        finally:
            self.slowest = max(self.slowest, time.monotonic() - started)
        self.statuses[response.status_code] += 1
        if response.is_success:
            body = response.json()
            if method == "POST":
                self.ledger.record(body)
            return body, False
        nothing_changed = self._check_refusal(method, path, response)
        if response.status_code == 503:
            await asyncio.sleep(0.2)  # a client's back-off after a 503: not waiting for a condition
        return None, nothing_changed

    def _check_refusal(self, method: str, path: str, response: httpx.Response) -> bool:
        """Whether the refusal (409 or 503, problem+json; a 503 with Retry-After) says nothing was changed."""
        what = f"{method} {path} -> {response.status_code}"
        if response.status_code not in (409, 503):
            self.violations.append(f"{what}: {response.text[:300]}")
            return False
        if not response.headers.get("content-type", "").startswith(PROBLEM_JSON):
            self.violations.append(f"{what} is not problem+json: {response.headers.get('content-type')}")
            return False
        problem = response.json()
        self.problems[f"{response.status_code} {problem.get('type', '').rsplit('/', 1)[-1]}"] += 1
        if response.status_code == 503 and not response.headers.get("retry-after", "").isdigit():
            self.violations.append(f"{what} without a Retry-After: {dict(response.headers)}")
        if problem.get("outcome_unknown"):
            self.outcome_unknown += 1
            return False
        return True

    def _while_api_down(self, started: float, ended: float) -> bool:
        return any(started <= (w.end or ended) and ended >= w.start for w in self.api_down)


def _new_flow(client: int) -> dict[str, Any]:
    return {"flow_type": "discovery", "name": f"load {client}", "configuration": {"data": DISCOVERY_CSV}}


def _next_step(flow_id: str, state: Seen | None, rng: random.Random) -> tuple[str, str, Any]:
    path = f"/api/v1/flows/{flow_id}"
    if state is None:
        return "GET", path, None
    status = state.status
    if status == "initialized":
        return "POST", f"{path}/start", None
    if status == "paused":
        return "POST", f"{path}/resume", None
    if status == "waiting_for_input":
        return "POST", f"{path}/input", {"approved": True, "mappings": {}}
    if status == "running" and rng.random() < 0.2:
        return "POST", f"{path}/pause", None
    if state.phase_running:  # executing again would be a 409: see how the phase is getting on
        return "GET", path, None
    return "POST", f"{path}/execute", None
