"""A closed-loop HTTP load generator for a running MFO server: one scenario, one concurrency, a fixed duration.

    .venv/bin/python -m bench.loadgen --url http://127.0.0.1:8000 --scenario status --concurrency 8 --duration 10
        [--warmup 1] [--tenants 100] [--seeded-flows 1000000] [--flows-file PATH] [--tokens-file PATH]

Run it as its own process, next to (not inside) the server. N asyncio workers share one aiohttp session (keep-alive,
connector limit N) and each sends requests back to back. The first ``--warmup`` seconds are not recorded; then for
``--duration`` seconds every timed request that starts and finishes inside the window is counted. A request that
fails or answers an unexpected status is an error: it is counted in ``errors`` and ``status_codes`` but its latency
is not kept. Prints one JSON object on stdout:

    scenario, concurrency, duration_s, requests (timed requests, errors included), errors,
    status_codes {code: n} (a request without an answer counts under "exception:<ClassName>"),
    throughput_rps (successful timed requests / duration_s), p50_ms, p95_ms, p99_ms, max_ms
    (nearest-rank percentiles over the full list of successful latencies),
    plus setup_requests / setup_errors and a note for the scenarios with untimed setup requests.

Credentials: with ``--tokens-file`` (a JSON list of bearer tokens, the one at index t for seeded tenant t, as
``make bench`` writes for its production-mode server) every request carries ``Authorization: Bearer`` with its
tenant's token; without it, the tenant's X-Client-Account-ID and X-Engagement-ID (a development-mode server).

Scenarios:

    create      POST /api/v1/flows (a small discovery flow) in a random seeded tenant; expects 201.
    transition  each worker creates and starts its own discovery flow (untimed), then alternates POST .../pause and
                POST .../resume on it; expects 200 (on a 409 it re-reads the flow, untimed, and goes on from there).
    execute     each worker loops: create and start a discovery flow (untimed), then one timed POST .../execute
                with Prefer: wait=30 (claims data_import, which the server's runner runs and completes, and answers
                with its outcome); expects 200.
    status      GET /api/v1/flows/{id}/status of a random seeded flow; expects 200. With --flows-file, picks random
                lines "client_account_id,engagement_id,flow_id" from that CSV instead.
    list        GET /api/v1/flows?limit=50 in a random seeded tenant, then two more pages through next_cursor; each
                page is one timed request; expects 200.

Seeded data (bench/audit.py's SEED, written with SQL): flow g in 1..N lives in tenant g % 100, with
client_account_id = md5('c' || g % 100)::uuid, engagement_id = md5('e' || g % 100)::uuid, flow_id = md5('f' || g)::uuid.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import json
import math
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

API = "/api/v1/flows"
SCENARIOS = ("create", "transition", "execute", "status", "list")
JSON_HEADERS = {"Content-Type": "application/json"}
CREATE_BODY = json.dumps(
    {"flow_type": "discovery", "name": "bench", "configuration": {"data": "hostname,type\nweb1,server\n"}}
).encode()
EXECUTE_CREATE_BODY = json.dumps(
    {
        "flow_type": "discovery",
        "name": "bench",
        "configuration": {"data": "hostname,type,os\nweb1,server,Ubuntu\nweb2,server,RHEL\n"},
    }
).encode()
LIST_PAGES = 3


WAIT = {"Prefer": "wait=30"}


def md5_uuid(text: str) -> str:
    """PostgreSQL's ``md5(text)::uuid``."""
    return str(uuid.UUID(hashlib.md5(text.encode()).hexdigest()))


def seeded_tenant(tenant: int) -> tuple[str, str]:
    """(client_account_id, engagement_id) of seeded tenant ``tenant``, as bench/seed.py writes them."""
    return md5_uuid(f"c{tenant}"), md5_uuid(f"e{tenant}")


def tenant_headers(tenant: int) -> dict[str, str]:
    client_account_id, engagement_id = seeded_tenant(tenant)
    return {"X-Client-Account-ID": client_account_id, "X-Engagement-ID": engagement_id}


def credential_headers(tenant: int, tokens: list[str] | None = None) -> dict[str, str]:
    """Seeded tenant ``tenant``'s headers: its bearer token (a production server), else its ids (development mode)."""
    if tokens is not None:
        return {"Authorization": f"Bearer {tokens[tenant]}"}
    return tenant_headers(tenant)


def nearest_rank(ordered: list[float], percent: float) -> float | None:
    """The nearest-rank percentile of an already sorted list: the value at rank ceil(p/100 * n)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


class Clock:
    """The recording window: [start + warmup, start + warmup + duration]."""

    def __init__(self, warmup: float, duration: float) -> None:
        self.warmup = warmup
        self.duration = duration
        self.start()

    def start(self) -> None:
        now = time.perf_counter()
        self.record_from = now + self.warmup
        self.end = self.record_from + self.duration

    def running(self) -> bool:
        return time.perf_counter() < self.end


@dataclass
class Stats:
    """One worker's figures; merged at the end, so no locking."""

    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    errors: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    setup_requests: int = 0
    setup_errors: int = 0


@dataclass
class Reply:
    status: int | None
    body: bytes
    error: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)


class Load:
    def __init__(self, args: argparse.Namespace, session: aiohttp.ClientSession, clock: Clock) -> None:
        self.base = args.url.rstrip("/")
        self.session = session
        self.clock = clock
        self.seeded_flows: int = args.seeded_flows
        self.tenants: int = args.tenants
        tokens = json.loads(Path(args.tokens_file).read_text()) if args.tokens_file else None
        if tokens is not None and len(tokens) < self.tenants:
            raise SystemExit(f"{args.tokens_file}: {len(tokens)} tokens for {self.tenants} tenants")
        self.headers = [credential_headers(t, tokens) for t in range(self.tenants)]
        self.post_headers = [{**h, **JSON_HEADERS} for h in self.headers]
        self.flows_file: list[tuple[dict[str, str], str]] | None = None
        if args.flows_file:
            self.flows_file = read_flows_file(Path(args.flows_file))

    # -- one request -------------------------------------------------------------------------------------------

    async def send(self, method: str, url: str, headers: dict[str, str], **kwargs: Any) -> tuple[Reply, float, float]:
        started = time.perf_counter()
        try:
            async with self.session.request(method, url, headers=headers, **kwargs) as response:
                body = await response.read()
                reply = Reply(response.status, body)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            reply = Reply(None, b"", f"exception:{type(exc).__name__}")
        return reply, started, time.perf_counter()

    async def timed(
        self, stats: Stats, expect: int, method: str, url: str, headers: dict[str, str], **kwargs: Any
    ) -> Reply:
        """A recorded request: counted only when it starts and finishes inside the window."""
        reply, started, finished = await self.send(method, url, headers, **kwargs)
        if started >= self.clock.record_from and finished <= self.clock.end:
            stats.requests += 1
            stats.codes[reply.error or str(reply.status)] += 1
            if reply.status == expect:
                stats.latencies.append(finished - started)
            else:
                stats.errors += 1
        return reply

    async def untimed(
        self, stats: Stats, expect: int, method: str, url: str, headers: dict[str, str], **kwargs: Any
    ) -> Reply | None:
        """A setup request: never in the latencies; None when it did not answer ``expect``."""
        reply, _, _ = await self.send(method, url, headers, **kwargs)
        stats.setup_requests += 1
        if reply.status != expect:
            stats.setup_errors += 1
            print(f"setup {method} {url}: {reply.error or reply.status} {reply.body[:200]!r}", file=sys.stderr)
            await asyncio.sleep(0.05)
            return None
        return reply

    def random_tenant(self) -> int:
        return random.randrange(self.tenants)

    async def create_started(self, stats: Stats, headers: dict[str, str], body: bytes) -> str | None:
        """Create and start a discovery flow (untimed); its id, or None."""
        created = await self.untimed(stats, 201, "POST", self.base + API, {**headers, **JSON_HEADERS}, data=body)
        if created is None:
            return None
        flow_id = created.json()["flow_id"]
        started = await self.untimed(stats, 200, "POST", f"{self.base}{API}/{flow_id}/start", headers)
        return flow_id if started is not None else None

    # -- scenarios: one worker each ----------------------------------------------------------------------------

    async def scenario_create(self, stats: Stats) -> None:
        url = self.base + API
        while self.clock.running():
            await self.timed(stats, 201, "POST", url, self.post_headers[self.random_tenant()], data=CREATE_BODY)

    async def transition_setup(self, stats: Stats) -> tuple[dict[str, str], str] | None:
        headers = self.headers[self.random_tenant()]
        for _ in range(20):
            flow_id = await self.create_started(stats, headers, CREATE_BODY)
            if flow_id is not None:
                return headers, flow_id
        return None

    async def scenario_transition(self, stats: Stats, prepared: tuple[dict[str, str], str] | None) -> None:
        if prepared is None:
            return
        headers, flow_id = prepared
        url = f"{self.base}{API}/{flow_id}"
        status = "running"
        while self.clock.running():
            operation = "pause" if status == "running" else "resume"
            reply = await self.timed(stats, 200, "POST", f"{url}/{operation}", headers)
            if reply.status == 200:
                status = reply.json()["status"]
                continue
            current = await self.untimed(stats, 200, "GET", url, headers)
            if current is not None:
                status = current.json()["status"]
            if status not in ("running", "paused"):
                print(f"transition: flow {flow_id} is {status}; this worker stops", file=sys.stderr)
                return

    async def scenario_execute(self, stats: Stats) -> None:
        while self.clock.running():
            headers = self.headers[self.random_tenant()]
            flow_id = await self.create_started(stats, headers, EXECUTE_CREATE_BODY)
            if flow_id is None or not self.clock.running():
                continue
            # the claim, the phase run by the server's runner, and its completion: the answer waits for the outcome
            await self.timed(stats, 200, "POST", f"{self.base}{API}/{flow_id}/execute", {**headers, **WAIT})

    def pick_flow(self) -> tuple[dict[str, str], str]:
        if self.flows_file is not None:
            return random.choice(self.flows_file)
        g = random.randint(1, self.seeded_flows)
        return self.headers[g % self.tenants], md5_uuid(f"f{g}")

    async def scenario_status(self, stats: Stats) -> None:
        while self.clock.running():
            headers, flow_id = self.pick_flow()
            await self.timed(stats, 200, "GET", f"{self.base}{API}/{flow_id}/status", headers)

    async def scenario_list(self, stats: Stats) -> None:
        url = self.base + API
        while self.clock.running():
            headers = self.headers[self.random_tenant()]
            params = {"limit": "50"}
            for _ in range(LIST_PAGES):
                reply = await self.timed(stats, 200, "GET", url, headers, params=params)
                if reply.status != 200 or not self.clock.running():
                    break
                cursor = reply.json().get("next_cursor")
                if not cursor:
                    break
                params = {"limit": "50", "cursor": cursor}


def read_flows_file(path: Path) -> list[tuple[dict[str, str], str]]:
    """Lines "client_account_id,engagement_id,flow_id"; a header line (or any line not made of UUIDs) is skipped."""
    flows = []
    with path.open(newline="") as handle:
        for row in csv.reader(handle):
            if len(row) < 3:
                continue
            try:
                client, engagement, flow_id = (str(uuid.UUID(value.strip())) for value in row[:3])
            except ValueError:
                continue
            flows.append(({"X-Client-Account-ID": client, "X-Engagement-ID": engagement}, flow_id))
    if not flows:
        raise SystemExit(f"{path}: no 'client_account_id,engagement_id,flow_id' lines")
    return flows


def report(args: argparse.Namespace, stats: list[Stats]) -> dict[str, Any]:
    latencies = sorted(lat for s in stats for lat in s.latencies)
    codes: Counter[str] = Counter()
    for s in stats:
        codes.update(s.codes)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 3)

    result: dict[str, Any] = {
        "scenario": args.scenario,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "requests": sum(s.requests for s in stats),
        "errors": sum(s.errors for s in stats),
        "status_codes": dict(sorted(codes.items())),
        "throughput_rps": round(len(latencies) / args.duration, 2),
        "p50_ms": ms(nearest_rank(latencies, 50)),
        "p95_ms": ms(nearest_rank(latencies, 95)),
        "p99_ms": ms(nearest_rank(latencies, 99)),
        "max_ms": ms(latencies[-1] if latencies else None),
    }
    if args.scenario in ("transition", "execute"):
        result["setup_requests"] = sum(s.setup_requests for s in stats)
        result["setup_errors"] = sum(s.setup_errors for s in stats)
    if args.scenario == "transition":
        result["note"] = (
            "each worker created and started its own flow before the clock started (untimed); only pause/resume "
            "are timed; a 409 is an error and is followed by an untimed GET of the flow"
        )
    elif args.scenario == "execute":
        result["note"] = (
            "only POST .../execute (data_import) is timed; each was preceded by an untimed create and start of its "
            "flow by the same worker, interleaved within the window, so throughput_rps counts timed execute "
            "requests per second of wall time, not all requests the server handled (setup_requests and "
            "setup_errors cover the whole run, warmup included)"
        )
    elif args.scenario == "list":
        result["note"] = f"each page is one timed request; up to {LIST_PAGES} pages per listing (limit=50)"
    return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=args.concurrency, keepalive_timeout=60, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, raise_for_status=False) as session:
        try:
            async with session.get(args.url.rstrip("/") + "/health") as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"{args.url}/health answered {response.status}")
        except aiohttp.ClientError as exc:
            raise SystemExit(f"cannot reach {args.url}: {exc}") from None

        clock = Clock(args.warmup, args.duration)
        load = Load(args, session, clock)
        stats = [Stats() for _ in range(args.concurrency)]
        workers: list[Awaitable[None]]
        if args.scenario == "transition":
            # every worker's flow is created and started first; the clock (warmup included) starts after
            prepared = await asyncio.gather(*(load.transition_setup(s) for s in stats))
            clock.start()
            workers = [load.scenario_transition(s, p) for s, p in zip(stats, prepared, strict=True)]
        else:
            scenario: Callable[[Stats], Awaitable[None]] = getattr(load, f"scenario_{args.scenario}")
            workers = [scenario(s) for s in stats]
        await asyncio.gather(*workers)
        return report(args, stats)


def positive(kind: type) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        value = kind(raw)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, not {raw}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the server's base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--scenario", required=True, choices=SCENARIOS)
    parser.add_argument("--concurrency", required=True, type=positive(int), help="workers (and connections)")
    parser.add_argument("--duration", required=True, type=positive(float), help="recorded seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="unrecorded seconds before (default 1)")
    parser.add_argument("--tenants", type=positive(int), default=100, help="seeded tenants (default 100)")
    parser.add_argument("--seeded-flows", type=positive(int), default=1_000_000, help="seeded flows (default 1e6)")
    parser.add_argument("--flows-file", help="status: CSV of client_account_id,engagement_id,flow_id to pick from")
    parser.add_argument("--tokens-file", help="JSON list of bearer tokens, one per seeded tenant (production mode)")
    parser.add_argument("--timeout", type=positive(float), default=60.0, help="per-request timeout in seconds")
    args = parser.parse_args(argv)
    if args.warmup < 0:
        parser.error("--warmup must be >= 0")
    return run_and_print(run(args))


def run_and_print(load: Coroutine[Any, Any, dict[str, Any]]) -> int:
    """Run ``load`` (on uvloop when it is installed) and print the figures it returns as one JSON object."""
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(load)
    else:
        result = uvloop.run(load)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
