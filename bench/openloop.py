"""An open-loop HTTP load generator for a running MFO server: requests at a fixed arrival rate, each request's
latency counted from the instant it was scheduled to be sent.

    .venv/bin/python -m bench.openloop --url http://127.0.0.1:8000 --scenario status --rate 300 --requests 6000
        [--warmup 2] [--max-in-flight 64] [--arrivals poisson] [--tenants 100] [--seeded-flows 1000000]
        [--tokens-file PATH] [--timeout 30]

Why open loop: a closed-loop client sends its next request only once the last one is answered, so while the server
stalls it sends nothing, and the requests it would have sent meanwhile never show their wait (coordinated
omission); at saturation its latency is the queue it builds itself (Little's law, docs/performance.md). Here the
send instants are fixed before the first request, at a mean of --rate per second: Poisson arrivals by default, the
schedule ``pgbench --rate`` follows, or evenly spaced with ``--arrivals uniform``. One scheduler launches each
request as its own asyncio task at its instant, whatever is still outstanding; a request sent late (the event loop
busy, or the cap below reached) is still timed from its scheduled instant, so the delay is in its latency.

In-flight requests are bounded by --max-in-flight (the connector's connection limit too): a request due while the
cap is reached waits for a slot; such waits are counted in ``cap_waits`` (0 means the schedule was never held back).

Scenarios:

    status      GET /api/v1/flows/{id}/status of a random seeded flow (bench/seed.py); expects 200.
    transition  POST .../pause or .../resume, whichever applies, on one of --max-in-flight discovery flows created
                and started before the schedule begins (untimed); a request takes a flow no other request holds, so
                two transitions never race on one flow. Expects 200; after any other answer the flow is re-read
                (untimed) before it is used again.

The first --warmup seconds of the schedule are sent but not recorded; the --requests requests scheduled after them
are. Prints one JSON object on stdout:

    scenario, arrivals, rate_rps (the schedule's mean rate), requests (recorded, errors included), errors,
    status_codes {code: n} (a request without an answer counts under "exception:<ClassName>"), duration_s (from the
    first recorded instant to the last), throughput_rps (successful recorded requests / duration_s),
    p50_ms, p99_ms, p99_9_ms, max_ms (latency from the scheduled instant, nearest rank, successful requests),
    service_p50_ms, service_p99_ms, service_p99_9_ms (the same requests timed from their actual send),
    send_lag_p99_ms, send_lag_max_ms (actual send - scheduled instant), max_in_flight, peak_in_flight, cap_waits.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.loadgen import (
    API,
    CREATE_BODY,
    JSON_HEADERS,
    Reply,
    credential_headers,
    md5_uuid,
    nearest_rank,
    positive,
    run_and_print,
)

SCENARIOS = ("status", "transition")
ARRIVALS = ("poisson", "uniform")
SETUP_CONCURRENCY = 16


@dataclass
class Outcome:
    """One scheduled request: when it was due, when it was actually sent, when its answer was read, and the answer."""

    scheduled: float
    sent: float
    finished: float
    code: str
    ok: bool


@dataclass
class OwnFlow:
    """A discovery flow the transition scenario created: whose it is and its last known status."""

    headers: dict[str, str]
    flow_id: str
    status: str


def send_instants(rate: float, count: int, arrivals: str, start: float) -> list[float]:
    """``count`` send instants from ``start`` at a mean of ``rate`` per second: exponential gaps (a Poisson process)
    or equal ones."""
    if arrivals == "uniform":
        return [start + i / rate for i in range(count)]
    gaps = (random.expovariate(rate) for _ in range(count))
    return list(itertools.accumulate(gaps, initial=start))[1:]


class Requests:
    """The requests of one scenario against one server, over one shared aiohttp session."""

    def __init__(self, args: argparse.Namespace, session: aiohttp.ClientSession) -> None:
        self.base = args.url.rstrip("/")
        self.session = session
        self.seeded_flows: int = args.seeded_flows
        self.tenants: int = args.tenants
        tokens = json.loads(Path(args.tokens_file).read_text()) if args.tokens_file else None
        if tokens is not None and len(tokens) < self.tenants:
            raise SystemExit(f"{args.tokens_file}: {len(tokens)} tokens for {self.tenants} tenants")
        self.headers = [credential_headers(t, tokens) for t in range(self.tenants)]
        self.free_flows: asyncio.Queue[OwnFlow] = asyncio.Queue()

    async def send(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> Reply:
        try:
            async with self.session.request(method, url, headers=headers, **kwargs) as response:
                return Reply(response.status, await response.read())
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Reply(None, b"", f"exception:{type(exc).__name__}")

    async def status(self) -> Reply:
        g = random.randint(1, self.seeded_flows)
        return await self.send("GET", f"{self.base}{API}/{md5_uuid(f'f{g}')}/status", self.headers[g % self.tenants])

    async def transition(self) -> Reply:
        """Pause or resume a flow no other request holds, then give it back with its new status."""
        flow = self.free_flows.get_nowait()
        operation = "pause" if flow.status == "running" else "resume"
        url = f"{self.base}{API}/{flow.flow_id}"
        reply = await self.send("POST", f"{url}/{operation}", flow.headers)
        if reply.status == 200:
            flow.status = reply.json()["status"]
        else:
            current = await self.send("GET", url, flow.headers)
            if current.status == 200:
                flow.status = current.json()["status"]
        self.free_flows.put_nowait(flow)
        return reply

    async def create_started_flow(self, tenant: int) -> OwnFlow:
        """A new discovery flow of seeded tenant ``tenant``, started (untimed setup)."""
        headers = self.headers[tenant]
        created = await self.send("POST", self.base + API, {**headers, **JSON_HEADERS}, data=CREATE_BODY)
        if created.status != 201:
            raise SystemExit(f"setup: creating a flow answered {created.error or created.status}: {created.body!r}")
        flow_id = created.json()["flow_id"]
        started = await self.send("POST", f"{self.base}{API}/{flow_id}/start", headers)
        if started.status != 200:
            raise SystemExit(f"setup: starting flow {flow_id} answered {started.error or started.status}")
        return OwnFlow(headers, flow_id, started.json()["status"])

    async def prepare_flows(self, count: int) -> None:
        """``count`` started flows in the free pool, created ``SETUP_CONCURRENCY`` at a time."""
        tenants = [random.randrange(self.tenants) for _ in range(count)]
        for first in range(0, count, SETUP_CONCURRENCY):
            batch = tenants[first : first + SETUP_CONCURRENCY]
            for flow in await asyncio.gather(*(self.create_started_flow(t) for t in batch)):
                self.free_flows.put_nowait(flow)


class Scheduler:
    """Sends one request per instant, each as its own task, at most ``cap`` in flight at once."""

    def __init__(self, request: Callable[[], Awaitable[Reply]], expect: int, cap: int) -> None:
        self.request = request
        self.expect = expect
        self.cap = cap
        self.slots = asyncio.Semaphore(cap)
        self.in_flight = 0
        self.peak_in_flight = 0
        self.cap_waits = 0

    async def run(self, instants: list[float]) -> list[Outcome]:
        tasks = []
        for scheduled in instants:
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if self.slots.locked():
                self.cap_waits += 1
            await self.slots.acquire()
            tasks.append(asyncio.create_task(self.one(scheduled)))
        return list(await asyncio.gather(*tasks))

    async def one(self, scheduled: float) -> Outcome:
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        sent = time.perf_counter()
        try:
            reply = await self.request()
        finally:
            self.in_flight -= 1
            self.slots.release()
        code = reply.error or str(reply.status)
        return Outcome(scheduled, sent, time.perf_counter(), code, reply.status == self.expect)


def milliseconds(ordered: list[float], percent: float) -> float | None:
    value = nearest_rank(ordered, percent)
    return None if value is None else round(value * 1000, 3)


def report(args: argparse.Namespace, recorded: list[Outcome], scheduler: Scheduler) -> dict[str, Any]:
    """The figures of the recorded requests (see the module's docstring for each key)."""
    succeeded = [o for o in recorded if o.ok]
    latencies = sorted(o.finished - o.scheduled for o in succeeded)
    service = sorted(o.finished - o.sent for o in succeeded)
    lags = sorted(o.sent - o.scheduled for o in recorded)
    duration = recorded[-1].scheduled - recorded[0].scheduled if len(recorded) > 1 else 0.0
    return {
        "scenario": args.scenario,
        "arrivals": args.arrivals,
        "rate_rps": args.rate,
        "requests": len(recorded),
        "errors": len(recorded) - len(succeeded),
        "status_codes": dict(sorted(Counter(o.code for o in recorded).items())),
        "duration_s": round(duration, 2),
        "throughput_rps": round(len(succeeded) / duration, 1) if duration else None,
        "p50_ms": milliseconds(latencies, 50),
        "p99_ms": milliseconds(latencies, 99),
        "p99_9_ms": milliseconds(latencies, 99.9),
        "max_ms": milliseconds(latencies, 100),
        "service_p50_ms": milliseconds(service, 50),
        "service_p99_ms": milliseconds(service, 99),
        "service_p99_9_ms": milliseconds(service, 99.9),
        "send_lag_p99_ms": milliseconds(lags, 99),
        "send_lag_max_ms": milliseconds(lags, 100),
        "max_in_flight": scheduler.cap,
        "peak_in_flight": scheduler.peak_in_flight,
        "cap_waits": scheduler.cap_waits,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=args.max_in_flight, keepalive_timeout=60, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, raise_for_status=False) as session:
        requests = Requests(args, session)
        health = await requests.send("GET", requests.base + "/health", {})
        if health.status != 200:
            raise SystemExit(f"{args.url}/health answered {health.error or health.status}")
        if args.scenario == "transition":
            await requests.prepare_flows(args.max_in_flight)
        scheduler = Scheduler(getattr(requests, args.scenario), 200, args.max_in_flight)
        unrecorded = round(args.warmup * args.rate)
        instants = send_instants(args.rate, unrecorded + args.requests, args.arrivals, time.perf_counter() + 0.05)
        outcomes = await scheduler.run(instants)
        return report(args, outcomes[unrecorded:], scheduler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.openloop", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the server's base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--scenario", required=True, choices=SCENARIOS)
    parser.add_argument("--rate", required=True, type=positive(float), help="mean requests per second scheduled")
    parser.add_argument("--requests", type=positive(int), default=6000, help="recorded requests (default 6000)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unrecorded seconds of schedule first (default 2)")
    parser.add_argument("--arrivals", choices=ARRIVALS, default="poisson", help="gaps between sends (default poisson)")
    parser.add_argument("--max-in-flight", type=positive(int), default=64, help="cap on outstanding requests")
    parser.add_argument("--tenants", type=positive(int), default=100, help="seeded tenants (default 100)")
    parser.add_argument("--seeded-flows", type=positive(int), default=1_000_000, help="seeded flows (default 1e6)")
    parser.add_argument("--tokens-file", help="JSON list of bearer tokens, one per seeded tenant (production mode)")
    parser.add_argument("--timeout", type=positive(float), default=30.0, help="per-request timeout in seconds")
    args = parser.parse_args(argv)
    if args.warmup < 0:
        parser.error("--warmup must be >= 0")
    return run_and_print(run(args))


if __name__ == "__main__":
    sys.exit(main())
