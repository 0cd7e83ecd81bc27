"""Long phases: 1,000 concurrently running 30-second phases on one ``mfo serve`` (its default pool) plus one
``mfo worker``, with status reads while they run.

    .venv/bin/python -m bench.long_phases [--flows 1000] [--seconds 30] [--readers 8] [--json PATH]

Starts a throwaway PostgreSQL cluster (or uses MFO_BENCH_DATABASE_URL), migrates it, creates the bench type's child
table, and starts ``mfo serve`` (production auth, default pool, ``MFO_WORKER_IN_SERVE=false``) and one ``mfo worker``
(``MFO_WORKER_CONCURRENCY`` = the number of flows), both with the bench's long-phase type (bench/long_phase_type.py)
registered through an entry point. Creates the flows over HTTP across 100 tenants and starts each with auto-run; once
every phase holds a lease, ``--readers`` clients read ``GET …/status`` of random running flows back to back until the
phases end. Reports: every answer's status (a 5xx is a failure of the target), status-read latency (p50/p95/p99 from
the reads made while all phases ran), the worker's memory (RSS before the phases and with all of them running: per
running phase), the server's pool (its connections in pg_stat_activity), how many flows completed, and commits per
phase from pg_stat_database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from adapters.persistence.child_tables import child_table_ddl
from adapters.persistence.database import postgres_dsn
from adapters.persistence.migrate import upgrade
from bench.loadgen import nearest_rank
from bench.long_phase_type import LONG_FLOWS
from bench.run import STATS_FLUSH_SECONDS, Credentials
from entrypoints.local_postgres import LocalPostgres, free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
API = "/api/v1/flows"


def plugin_folder() -> Path:
    """A distribution's metadata registering the bench type, as ``pip install`` would write it."""
    folder = Path(tempfile.mkdtemp(prefix="mfo-bench-plugin-"))
    dist = folder / "mfo_bench_long-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mfo-bench-long\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[mfo.flow_types]\nbench_long = bench.long_phase_type:register\n")
    return folder


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]


class Processes:
    def __init__(self, url: str, credentials: Credentials, flows: int, logs: Path) -> None:
        plugin = plugin_folder()
        env = {
            **os.environ,
            "MFO_DATABASE_URL": url,
            "MFO_AUTH_MODE": "production",
            "MFO_JWT_SECRET": credentials.secret,
            "MFO_AUDIT_INTERVAL_SECONDS": "0",
            "MFO_WORKER_IN_SERVE": "false",
            "MFO_CREWAI_FLOW_TYPES": "",
            "PYTHONPATH": os.pathsep.join([str(plugin), str(ROOT)]),
        }
        for key in ("MFO_DB_POOL_SIZE", "MFO_DB_MAX_OVERFLOW"):  # the server's default pool
            env.pop(key, None)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        logs.mkdir(parents=True, exist_ok=True)
        self.server = subprocess.Popen(
            [str(Path(PY).parent / "mfo"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=(logs / "long-server.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        worker_env = {
            **env,
            "MFO_WORKER_CONCURRENCY": str(flows),
            "MFO_WORKER_TENANT_LIMIT": str(flows),
        }
        self.worker = subprocess.Popen(
            [str(Path(PY).parent / "mfo"), "worker"],
            env=worker_env,
            cwd=ROOT,
            stdout=(logs / "long-worker.log").open("w"),
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        for process in (self.server, self.worker):
            process.terminate()
        for process in (self.server, self.worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


async def wait_healthy(base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(f"{base}/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise RuntimeError("the server did not start")


async def scalar(url: str, sql: str) -> Any:
    connection = await asyncpg.connect(postgres_dsn(url))
    try:
        return await connection.fetchval(sql)
    finally:
        await connection.close()


async def drive(url: str, processes: Processes, credentials: Credentials, args: argparse.Namespace) -> dict[str, Any]:
    statuses: dict[str, int] = {}

    def count(status: int) -> None:
        statuses[str(status)] = statuses.get(str(status), 0) + 1

    worker_idle_kb = rss_kb(processes.worker.pid)
    commits_before = await scalar(url, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    flows: list[tuple[int, str]] = []
    connector = aiohttp.TCPConnector(limit=32)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        semaphore = asyncio.Semaphore(16)

        async def create_and_start(i: int) -> None:
            tenant = i % 100
            headers = credentials.headers(tenant)
            body = {"flow_type": "bench_long", "name": f"long-{i}", "configuration": {"seconds": args.seconds}}
            async with semaphore:
                async with session.post(f"{processes.base}{API}", json=body, headers=headers) as response:
                    count(response.status)
                    flow_id = (await response.json())["flow_id"]
                async with session.post(
                    f"{processes.base}{API}/{flow_id}/start", json={"auto_run": True}, headers=headers
                ) as response:
                    count(response.status)
            flows.append((tenant, flow_id))

        started = time.perf_counter()
        await asyncio.gather(*(create_and_start(i) for i in range(args.flows)))
        created_s = time.perf_counter() - started
        # every phase holding a lease: all of them running at once
        deadline = time.monotonic() + max(60.0, args.seconds)
        running = 0
        while time.monotonic() < deadline:
            running = await scalar(url, "SELECT count(*) FROM phase_leases")
            if running >= args.flows:
                break
            await asyncio.sleep(0.2)
        all_running_s = time.perf_counter() - started
        worker_running_kb = rss_kb(processes.worker.pid)
        server_connections = await scalar(
            url,
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name LIKE 'mfo%' AND backend_type = 'client backend'",
        )
        latencies: list[float] = []
        stop_at = time.monotonic() + max(1.0, args.seconds - all_running_s - 2)

        async def reader() -> None:
            while time.monotonic() < stop_at:
                tenant, flow_id = random.choice(flows)
                sent = time.perf_counter()
                async with session.get(
                    f"{processes.base}{API}/{flow_id}/status", headers=credentials.headers(tenant)
                ) as response:
                    await response.read()
                    count(response.status)
                    if response.status == 200:
                        latencies.append((time.perf_counter() - sent) * 1000)

        await asyncio.gather(*(reader() for _ in range(args.readers)))
        # then every flow completes
        deadline = time.monotonic() + args.seconds + 120
        completed = 0
        while time.monotonic() < deadline:
            completed = await scalar(url, "SELECT count(*) FROM flows WHERE status = 'completed'")
            if completed >= args.flows:
                break
            await asyncio.sleep(0.5)
    await asyncio.sleep(STATS_FLUSH_SECONDS)
    commits_after = await scalar(url, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    ordered = sorted(latencies)
    five_xx = sum(n for code, n in statuses.items() if code.startswith("5"))
    return {
        "flows": args.flows,
        "phase_seconds": args.seconds,
        "created_and_started_s": round(created_s, 1),
        "all_running_after_s": round(all_running_s, 1),
        "running_at_once": running,
        "completed": completed,
        "status_codes": statuses,
        "five_xx": five_xx,
        "status_reads": len(ordered),
        "status_p50_ms": _ms(nearest_rank(ordered, 50)),
        "status_p95_ms": _ms(nearest_rank(ordered, 95)),
        "status_p99_ms": _ms(nearest_rank(ordered, 99)),
        "worker_rss_idle_mb": round(worker_idle_kb / 1024, 1),
        "worker_rss_running_mb": round(worker_running_kb / 1024, 1),
        "worker_kb_per_running_phase": round((worker_running_kb - worker_idle_kb) / max(1, running), 1),
        "database_connections_while_running": server_connections,
        "commits_per_flow": round((commits_after - commits_before) / args.flows, 2),
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def run(args: argparse.Namespace) -> dict[str, Any]:
    url = os.environ.get("MFO_BENCH_DATABASE_URL")
    cluster = None
    if not url:
        parent = Path(tempfile.mkdtemp(prefix="mfo-bench-long-"))
        parent.chmod(0o755)
        cluster = LocalPostgres(parent / "data", database="mfo_bench_long")
        url = cluster.ensure_running()
    processes = None
    try:
        upgrade(url)
        asyncio.run(_child_table(url))
        credentials = Credentials()
        processes = Processes(url, credentials, args.flows, HERE / "results")
        asyncio.run(wait_healthy(processes.base))
        time.sleep(2)  # the worker's start-up (it imports the same modules as the server)
        return asyncio.run(drive(url, processes, credentials, args))
    finally:
        if processes is not None:
            processes.stop()
        if cluster is not None:
            cluster.destroy()


async def _child_table(url: str) -> None:
    connection = await asyncpg.connect(postgres_dsn(url))
    try:
        await connection.execute("DROP TABLE IF EXISTS bench_long_flows")
        await connection.execute("DELETE FROM phase_attempts; DELETE FROM phase_leases")
        for statement in child_table_ddl(LONG_FLOWS):
            await connection.execute(statement)
    finally:
        await connection.close()


def print_table(result: dict[str, Any]) -> None:
    rows = [
        (
            "phases running at once",
            f"{result['running_at_once']} of {result['flows']} ({result['phase_seconds']} s each)",
        ),
        ("completed", str(result["completed"])),
        ("5xx answers", str(result["five_xx"])),
        (
            "status p50 / p95 / p99 ms",
            f"{result['status_p50_ms']} / {result['status_p95_ms']} / {result['status_p99_ms']}",
        ),
        ("status reads while running", str(result["status_reads"])),
        ("worker RSS idle / running MB", f"{result['worker_rss_idle_mb']} / {result['worker_rss_running_mb']}"),
        ("worker memory per running phase", f"{result['worker_kb_per_running_phase']} KB"),
        ("MFO connections while running", str(result["database_connections_while_running"])),
        ("commits per flow (create, start, claim, complete)", str(result["commits_per_flow"])),
    ]
    width = max(len(name) for name, _ in rows)
    print("\nLong phases: one mfo serve (default pool) + one mfo worker")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.long_phases", description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = run(args)
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if result["five_xx"] == 0 and result["completed"] == args.flows else 1


if __name__ == "__main__":
    raise SystemExit(main())
