"""Drive auto-run discovery flows through a running MFO server, closed loop, and time them.

    .venv/bin/python -m bench.autorun --url http://127.0.0.1:8000 --concurrency 8 --flows 32
        [--warmup-flows 4] [--tenant 0] [--poll-ms 20] [--tokens-file PATH] [--timeout 60]

Only the HTTP API is used, so the driver does not depend on how the server runs phases. ``--concurrency`` slots
each loop: ``POST /api/v1/flows`` (discovery, its example configuration from ``GET /api/v1/flow-types``), then
``POST .../start`` with ``{"auto_run": true}``; the phases run in the background, on a worker. One watcher lists
the tenant's unfinished flows every ``--poll-ms`` (``GET /api/v1/flows?status=initialized&status=running&
status=waiting_for_input``: one request per tick, whatever the concurrency); a flow it finds waiting for input is
sent discovery's example input (``POST .../input``: ``{"approved": true, "mappings": {}}``) at once, and a flow
that has left those statuses is finished, and its slot creates the next.

The window (bench/closed_loop.py) opens when ``--warmup-flows`` flows have finished and closes when ``--flows``
more have: flows per second is ``--flows`` over its length, with every slot busy all through it. The flows still
in flight then finish, untimed. Afterwards the tenant's completed flows are counted (untimed): every flow started
must have completed.

Run each measurement in a tenant with no unfinished flows of its own (``--tenant``: a seeded tenant, its token at
that index of ``--tokens-file``; without the file, development-mode tenant headers). Prints one JSON object:

    flows (timed), warmup_flows, concurrency, elapsed_s (the window), flows_per_s, phases (every completed flow's
    phases, warm-up and tail included: what the server and its worker executed), created, completed, errors,
    status_codes of the failed requests, polls (watcher ticks), inputs (input requests sent), p50_ms and p99_ms of
    the window's flows, from create to the tick that saw them finished.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.closed_loop import Window
from bench.loadgen import API, JSON_HEADERS, credential_headers, run_and_print

UNFINISHED = ("initialized", "running", "waiting_for_input")
FLOW_TYPE = "discovery"


@dataclass
class Tracked:
    registered: float
    done: asyncio.Future[str]
    input_sent: bool = False


@dataclass
class Run:
    window: Window
    inflight: dict[str, Tracked] = field(default_factory=dict)
    errors: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    polls: int = 0
    inputs: int = 0
    stop: bool = False


class Driver:
    def __init__(self, args: argparse.Namespace, session: aiohttp.ClientSession) -> None:
        self.base = args.url.rstrip("/")
        self.session = session
        tokens = json.loads(Path(args.tokens_file).read_text()) if args.tokens_file else None
        self.headers = credential_headers(args.tenant, tokens)
        self.post_headers = {**self.headers, **JSON_HEADERS}
        self.poll = args.poll_ms / 1000
        self.run = Run(Window(args.flows, args.warmup_flows))
        self.body = b""
        self.input: dict[str, Any] = {}
        self.phases: list[str] = []
        self.tasks: set[asyncio.Task[None]] = set()

    async def request(self, method: str, path: str, expect: int, **kwargs: Any) -> Any | None:
        """One request; its JSON answer, or None (counted as an error) when it did not answer ``expect``."""
        try:
            async with self.session.request(method, self.base + path, **kwargs) as response:
                body = await response.read()
                if response.status == expect:
                    return json.loads(body) if body else {}
                self.run.codes[str(response.status)] += 1
                print(f"{method} {path}: {response.status} {body[:200]!r}", file=sys.stderr)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            self.run.codes[f"exception:{type(exc).__name__}"] += 1
        self.run.errors += 1
        return None

    async def describe(self) -> None:
        """Discovery's phases, example configuration and example input, as the server publishes them."""
        listing = await self.request("GET", "/api/v1/flow-types", 200, headers=self.headers)
        if listing is None:
            raise SystemExit("GET /api/v1/flow-types failed")
        discovery = next(t for t in listing["items"] if t["name"] == FLOW_TYPE)
        self.phases = discovery["phases"]
        self.input = discovery["example_inputs"]
        configuration = discovery["example_configuration"]
        self.body = json.dumps({"flow_type": FLOW_TYPE, "name": "autorun", "configuration": configuration}).encode()

    async def slot(self) -> None:
        run = self.run
        while run.window.next_flow():
            created_at = time.perf_counter()
            created = await self.request("POST", API, 201, headers=self.post_headers, data=self.body)
            if created is None:
                run.window.failed()
                continue
            flow_id = created["flow_id"]
            started = await self.request(
                "POST", f"{API}/{flow_id}/start", 200, headers=self.post_headers, data=b'{"auto_run": true}'
            )
            if started is None:
                run.window.failed()
                continue
            tracked = Tracked(time.perf_counter(), asyncio.get_running_loop().create_future())
            run.inflight[flow_id] = tracked
            await tracked.done
            del run.inflight[flow_id]
            run.window.finished(created_at)

    async def submit_input(self, flow_id: str, phase: str) -> None:
        self.run.inputs += 1
        payload = json.dumps(self.input.get(phase, {})).encode()
        answer = await self.request("POST", f"{API}/{flow_id}/input", 200, headers=self.post_headers, data=payload)
        if answer is None and flow_id in self.run.inflight:
            self.run.inflight[flow_id].input_sent = False  # the next tick tries again

    async def watch(self) -> None:
        """Every tick, one list of the tenant's unfinished flows: inputs for the waiting ones, and the flows no
        longer listed (registered before the list was asked for) are finished."""
        run = self.run
        params = [("status", s) for s in UNFINISHED] + [("flow_type", FLOW_TYPE), ("limit", "200")]
        while not run.stop:
            asked = time.perf_counter()
            page = await self.request("GET", API, 200, headers=self.headers, params=params)
            run.polls += 1
            if page is not None:
                listed = {item["flow_id"]: item for item in page["items"]}
                if page.get("next_cursor"):
                    raise SystemExit("more than 200 unfinished flows in the tenant: use a tenant of its own")
                for flow_id, tracked in list(run.inflight.items()):
                    item = listed.get(flow_id)
                    if item is None:
                        if tracked.registered < asked and not tracked.done.done():
                            tracked.done.set_result("finished")
                    elif item["status"] == "waiting_for_input" and not tracked.input_sent:
                        tracked.input_sent = True
                        task = asyncio.create_task(self.submit_input(flow_id, item["current_phase"]))
                        self.tasks.add(task)
                        task.add_done_callback(self.tasks.discard)
            await asyncio.sleep(max(0.0, self.poll - (time.perf_counter() - asked)))

    async def count(self, statuses: tuple[str, ...]) -> int:
        """The tenant's discovery flows in ``statuses`` (untimed, page by page)."""
        params = [("status", s) for s in statuses] + [("flow_type", FLOW_TYPE), ("limit", "200")]
        total, cursor = 0, None
        while True:
            page = await self.request(
                "GET", API, 200, headers=self.headers, params=params + ([("cursor", cursor)] if cursor else [])
            )
            if page is None:
                return total
            total += len(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return total


async def drive(args: argparse.Namespace) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2 + 4, keepalive_timeout=60)
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        driver = Driver(args, session)
        await driver.describe()
        already = await driver.count(("completed",))
        watcher = asyncio.create_task(driver.watch())
        await asyncio.gather(*(driver.slot() for _ in range(args.concurrency)))
        driver.run.stop = True
        await watcher
        run = driver.run
        completed = await driver.count(("completed",)) - already
    window = run.window.summary()
    return {
        "flows": window["flows"],
        "warmup_flows": args.warmup_flows,
        "concurrency": args.concurrency,
        "elapsed_s": window["elapsed_s"],
        "flows_per_s": window["per_s"],
        "phases": completed * len(driver.phases),
        "phases_per_flow": len(driver.phases),
        "created": window["started"],
        "completed": completed,
        # failed requests, and the flows started that did not complete (their create or start is one of those)
        "errors": run.errors + max(0, window["started"] - window["failures"] - completed),
        "status_codes": dict(run.codes),
        "polls": run.polls,
        "inputs": run.inputs,
        "p50_ms": window["p50_ms"],
        "p99_ms": window["p99_ms"],
        "poll_ms": args.poll_ms,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.autorun", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the server's base URL")
    parser.add_argument("--concurrency", type=int, required=True, help="flows in flight at once")
    parser.add_argument("--flows", type=int, required=True, help="timed flows")
    parser.add_argument("--warmup-flows", type=int, default=0, help="flows run first, untimed (default 0)")
    parser.add_argument("--tenant", type=int, default=0, help="the seeded tenant the flows belong to (default 0)")
    parser.add_argument("--poll-ms", type=float, default=20.0, help="the watcher's tick, milliseconds (default 20)")
    parser.add_argument("--tokens-file", help="JSON list of bearer tokens, one per seeded tenant (production mode)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request timeout in seconds")
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.flows < 1 or args.warmup_flows < 0:
        parser.error("--concurrency and --flows must be at least 1, --warmup-flows at least 0")
    return run_and_print(drive(args))


if __name__ == "__main__":
    sys.exit(main())
