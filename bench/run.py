"""``make bench``: MFO's throughput, latency and connections per request against raw PostgreSQL, in one run.

Starts a local PostgreSQL cluster (or uses MFO_BENCH_DATABASE_URL) and the real server (uvicorn, production
settings, ``--workers``), seeds flows across 100 tenants, and drives the server with ``bench/loadgen.py`` in a
separate process at several concurrency levels. The baseline is pgbench running the SQL one transition commits, at
the same concurrency on the same cluster. Prints a table, writes bench/results/latest.json and the plot, and
rewrites the results part of docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.flow_types.child_table import CHILD_TABLES
from adapters.persistence.audit import SqlConsistencyAuditor
from adapters.persistence.migrate import upgrade
from bench.loadgen import md5_uuid, tenant_headers
from bench.seed import TENANTS, seed_flows
from entrypoints.local_postgres import LocalPostgres, find_server_binaries, free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
SCENARIOS = ("create", "transition", "execute", "status", "list")
PY = sys.executable
# PostgreSQL 15+ backends flush their statistics at most once a second, or after 10 s idle: wait that out.
STATS_FLUSH_SECONDS = 11
COUNTERS = """SELECT xact_commit, xact_rollback, sessions FROM pg_stat_database
WHERE datname = current_database()"""


class Server:
    def __init__(self, url: str, workers: int, app: str = "entrypoints.http.asgi:app") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "MFO_DATABASE_URL": url, "MFO_DB_POOL_SIZE": "20", "MFO_DB_MAX_OVERFLOW": "20"}
        env.setdefault("MFO_AUTH_MODE", "dev")  # the load generator names its tenants in headers
        self.process = subprocess.Popen(
            [
                PY,
                "-m",
                "uvicorn",
                app,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.5)
        raise RuntimeError("the server did not start")

    def worker_peak_rss_mb(self) -> float:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        peaks = []
        for pid in children or [str(self.process.pid)]:
            status = Path(f"/proc/{pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024)  # type: ignore[union-attr]
        return round(max(peaks), 1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def loadgen(base: str, scenario: str, concurrency: int, duration: float, seeded: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            PY,
            "-m",
            "bench.loadgen",
            "--url",
            base,
            "--scenario",
            scenario,
            "--concurrency",
            str(concurrency),
            "--duration",
            str(duration),
            "--seeded-flows",
            str(seeded),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(out.stdout)


def pgbench(url: str, clients: int, duration: float, flows: int) -> dict[str, Any]:
    host, port, db = re.search(r"@([^:/]+):(\d+)/(\w+)", url).groups()  # type: ignore[union-attr]
    binary = shutil.which("pgbench") or str(find_server_binaries() / "pgbench")
    out = subprocess.run(
        [
            binary,
            "-h",
            host,
            "-p",
            port,
            "-U",
            "postgres",
            "-n",
            "-c",
            str(clients),
            "-j",
            str(min(clients, 2)),
            "-T",
            str(int(duration)),
            "-D",
            f"nflows={flows}",
            "-f",
            str(HERE / "transition.pgbench"),
            "-r",
            db,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    tps = float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))  # type: ignore[union-attr]
    latency = float(re.search(r"latency average = ([\d.]+) ms", out.stdout).group(1))  # type: ignore[union-attr]
    return {"clients": clients, "tps": round(tps, 1), "latency_avg_ms": latency}


async def database_counters(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        row = (await connection.execute(text(COUNTERS))).one()
    await engine.dispose()
    return {"commits": row[0], "rollbacks": row[1], "sessions": row[2]}


def per_request(url: str, base: str, requests: list[tuple[str, str, dict | None, dict]]) -> dict[str, float]:
    """Commits and sessions per request, from PostgreSQL's own statistics (one reading query excluded)."""
    time.sleep(STATS_FLUSH_SECONDS)
    before = asyncio.run(database_counters(url))
    with httpx.Client(base_url=base, timeout=30) as client:
        for method, path, body, headers in requests:
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code < 300, response.text
    time.sleep(STATS_FLUSH_SECONDS)
    after = asyncio.run(database_counters(url))
    n = len(requests)
    return {
        "commits_per_request": round((after["commits"] - before["commits"] - 1) / n, 2),
        "sessions_per_request": round((after["sessions"] - before["sessions"] - 1) / n, 3),
    }


def transition_requests(base: str, n: int) -> list[tuple[str, str, dict | None, dict]]:
    headers = tenant_headers(7 % TENANTS)
    with httpx.Client(base_url=base, timeout=30) as client:
        flow = client.post("/api/v1/flows", json={"flow_type": "discovery", "name": "b"}, headers=headers).json()
        client.post(f"/api/v1/flows/{flow['flow_id']}/start", headers=headers)
    path = f"/api/v1/flows/{flow['flow_id']}"
    return [("POST", f"{path}/{'pause' if i % 2 == 0 else 'resume'}", None, headers) for i in range(n)]


def connections(url: str, base: str, variant_base: str) -> dict[str, Any]:
    create = [
        ("POST", "/api/v1/flows", {"flow_type": "discovery", "name": "c"}, tenant_headers(i % TENANTS))
        for i in range(50)
    ]
    status = [
        ("GET", f"/api/v1/flows/{md5_uuid(f'f{i}')}/status", None, tenant_headers(i % TENANTS)) for i in range(1, 51)
    ]
    return {
        "create": per_request(url, base, create),
        "transition": per_request(url, base, transition_requests(base, 50)),
        "status": per_request(url, base, status),
        "transition, own-session variant": per_request(url, variant_base, transition_requests(variant_base, 50)),
    }


def crewai_import_seconds() -> dict[str, float]:
    env = {
        **os.environ,
        "CREWAI_DISABLE_TELEMETRY": "true",
        "CREWAI_DISABLE_VERSION_CHECK": "true",
        "CREWAI_TRACING_ENABLED": "false",
        "OTEL_SDK_DISABLED": "true",
    }

    def timed(module: str) -> float:
        code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
        return float(subprocess.run([PY, "-c", code], env=env, capture_output=True, text=True).stdout)

    return {"crewai.flow.flow": round(timed("crewai.flow.flow"), 2), "litestar": round(timed("litestar"), 2)}


async def audit_seconds(url: str) -> float:
    engine = create_async_engine(url)
    report = await SqlConsistencyAuditor(engine, CHILD_TABLES, ["discovery"]).audit(limit=10)
    await engine.dispose()
    return report.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--levels", default="1,8,32,128")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="table sizes for the status curve")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    sizes = [int(n) for n in args.sizes.split(",")]
    started = time.perf_counter()
    url = os.environ.get("MFO_BENCH_DATABASE_URL")
    cluster = None
    if not url:
        parent = Path(tempfile.mkdtemp(prefix="mfo-bench-"))
        parent.chmod(0o755)
        cluster = LocalPostgres(parent / "data", database="mfo_bench")
        url = cluster.ensure_running()
    upgrade(url)
    servers: list[Server] = []
    result: dict[str, Any] = {"workers": args.workers, "duration_s": args.duration, "levels": levels}
    try:
        asyncio.run(_truncate(url))
        server = Server(url, args.workers)
        servers.append(server)
        seeded, by_size = 0, {}
        for size in sizes:
            asyncio.run(_seed(url, seeded + 1, size))
            seeded = size
            by_size[size] = loadgen(server.base, "status", 32, args.duration, seeded)
            print(f"status at {size:,} flows: p50 {by_size[size]['p50_ms']} ms, p99 {by_size[size]['p99_ms']} ms")
        result["status_by_table_size"] = by_size
        result["http"] = {
            scenario: {c: loadgen(server.base, scenario, c, args.duration, seeded) for c in levels}
            for scenario in SCENARIOS
        }
        result["pgbench_transition"] = {c: pgbench(url, c, args.duration, seeded) for c in levels}
        result["worker_peak_rss_mb"] = server.worker_peak_rss_mb()
        variant = Server(url, 1, "bench.variants:app")
        servers.append(variant)
        result["connections"] = connections(url, server.base, variant.base)
        result["crewai_import_s"] = crewai_import_seconds()
        result["audit_s"] = asyncio.run(audit_seconds(url))
        result["audited_flows"] = seeded
    finally:
        for running in servers:
            running.stop()
        if cluster is not None:
            cluster.destroy()
    make_test = ROOT / "test-artifacts" / "make-test-seconds"
    result["make_test_s"] = float(make_test.read_text()) if make_test.exists() else None
    result["bench_s"] = round(time.perf_counter() - started, 1)
    from bench.report import write_report

    write_report(result)


async def _truncate(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE flows CASCADE"))
    await engine.dispose()


async def _seed(url: str, first: int, last: int) -> None:
    engine = create_async_engine(url)
    await seed_flows(engine, first, last)
    await engine.dispose()


if __name__ == "__main__":
    main()
