"""``make bench``: MFO's throughput, latency and connections per request against raw PostgreSQL, in one run.

First times ``make test`` (unless --skip-make-test). Then starts a local PostgreSQL cluster (or uses
MFO_BENCH_DATABASE_URL) and the real server (``mfo serve --workers N``: uvicorn, production settings, every request
authenticated by a bearer token the bench mints per tenant), seeds flows across 100 tenants, and drives the server
with ``bench/loadgen.py`` in a separate process at several concurrency levels. Every
measured point is run ``--repeat`` times (separate processes, in rounds over all points) and the median of the runs
is quoted. The baselines run on the same cluster: pgbench with the SQL one transition commits
(bench/transition.pgbench) and the SQL one status read sends (bench/status.pgbench), a plain scan of the tables the
audit reads, and a variant of the server whose adapters each write in a session of their own. Then open-loop points
(bench/openloop.py): transitions and status reads (with the largest table size) at a fixed rate, half and a quarter
of the 32-client throughput this run measured, each latency counted from its scheduled send, beside pgbench --rate
on the same SQL. Then the durable-execution part (bench/durable.py): MFO's auto-run discovery flows, CrewAI bridge on
and off, against DBOS Transact running the same phases as a workflow, at 8 and 32 concurrent flows. Prints a table,
writes bench/results/latest.json and the plot, and rewrites the results part of docs/performance.md. ``--only
open-loop`` runs the open-loop points and what they need, nothing else; ``--only durable-execution`` the
durable-execution part alone. Last, transitions at 32 clients through PgBouncer against direct connections
(bench/pgbouncer.py, ``--only pgbouncer`` alone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.auth import JwtCodec
from adapters.persistence.audit import SqlConsistencyAuditor
from adapters.persistence.database import Database
from adapters.persistence.migrate import upgrade
from adapters.persistence.schema import built_in_child_table_names
from bench.loadgen import credential_headers, md5_uuid, nearest_rank, seeded_tenant
from bench.report import STATUS_LEVELS, write_durable_report, write_open_loop_report, write_report
from bench.seed import TENANTS, seed_flows
from domain.auth import Role
from domain.events import Tenant
from entrypoints.local_postgres import LocalPostgres, find_server_binaries, free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
SCENARIOS = ("create", "transition", "execute", "status", "list")
BASELINES = ("transition", "status")
"""The scenarios with a pgbench script of the same SQL (bench/<scenario>.pgbench)."""
OPEN_LOOP_FRACTIONS = (0.5, 0.25)
"""The open-loop rates, as fractions of the same run's saturated (closed-loop) throughput of the scenario."""
PY = sys.executable
# PostgreSQL 15+ backends flush their statistics at most once a second, or after 10 s idle: wait that out.
STATS_FLUSH_SECONDS = 11
# A plain read of every table the audit reads: the audit's baseline.
SCAN = """SELECT (SELECT count(*) FROM flows) + (SELECT count(*) FROM discovery_flows)
                   + (SELECT count(*) FROM crewai_flow_states) + (SELECT count(*) FROM flow_events)"""
SUMMARY = ("throughput_rps", "p50_ms", "p95_ms", "p99_ms")
COUNTERS = """SELECT xact_commit, xact_rollback, sessions FROM pg_stat_database
WHERE datname = current_database()"""


class Credentials:
    """A JWT secret for this run and a bearer token per seeded tenant (an operator's), also in a file for loadgen."""

    def __init__(self, tenants: int = TENANTS, ttl_seconds: int = 4 * 3600) -> None:
        self.secret = secrets.token_hex(32)
        codec = JwtCodec(secret=self.secret)
        self.tokens = [
            codec.mint(Tenant(*map(UUID, seeded_tenant(t))), Role.OPERATOR, "bench", ttl_seconds)
            for t in range(tenants)
        ]
        RESULTS.mkdir(exist_ok=True)
        self.file = RESULTS / "tokens.json"
        self.file.write_text(json.dumps(self.tokens))

    def headers(self, tenant: int) -> dict[str, str]:
        return credential_headers(tenant % TENANTS, self.tokens)


def server_env(url: str, credentials: Credentials, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the bench's MFO processes (``mfo serve``, ``mfo worker``): production settings on
    ``url``, tokens signed with ``credentials.secret``, then ``extra``."""
    env = {
        **os.environ,
        "MFO_DATABASE_URL": url,
        "MFO_DB_POOL_SIZE": "20",
        "MFO_DB_MAX_OVERFLOW": "20",
        "MFO_AUTH_MODE": "production",
        "MFO_JWT_SECRET": credentials.secret,
    }
    # no periodic audit of 1,000,000 flows in the middle of a measurement: the bench times the audit on its own
    env.setdefault("MFO_AUDIT_INTERVAL_SECONDS", "0")
    # the API server alone (background phases run in `mfo worker` processes): the queue worker's own polling
    # would otherwise add commits of its own to the commits counted per request
    env.setdefault("MFO_WORKER_IN_SERVE", "false")
    # no load balancer to tell between runs: stop at once on SIGTERM rather than after the readiness grace
    env.setdefault("MFO_SHUTDOWN_GRACE_SECONDS", "0")
    return {**env, **(extra or {})}


class Server:
    """``mfo serve --workers N`` (or, for the deliberately wired variant, uvicorn serving ``app``) in production
    mode: requests are authenticated by bearer tokens signed with ``credentials.secret``. ``env`` adds to (or
    overrides) :func:`server_env`; the log is ``results/server-<name>.log`` (by default named after ``app``)."""

    def __init__(
        self,
        url: str,
        workers: int,
        credentials: Credentials,
        app: str | None = None,
        env: dict[str, str] | None = None,
        name: str | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = server_env(url, credentials, env)
        # the server logs as in production (a JSON line per request), to a file rather than the bench's console
        RESULTS.mkdir(exist_ok=True)
        self.log = RESULTS / f"server-{name or (app or 'mfo').split('.')[0]}.log"
        log = self.log.open("w")
        program = [str(Path(PY).parent / "mfo"), "serve"] if app is None else [PY, "-m", "uvicorn", app]
        command = [*program, "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        if app is not None:
            command += ["--no-access-log", "--log-level", "warning"]
        self.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.5)
        raise RuntimeError(f"the server did not start; its log: {self.log}")

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


def median_of(runs: list[dict[str, Any]], keys: tuple[str, ...] = SUMMARY) -> dict[str, Any]:
    """The median of each figure over several runs, the errors summed, and the runs themselves."""
    summary: dict[str, Any] = {}
    for key in keys:
        values = [r[key] for r in runs if r.get(key) is not None]
        summary[key] = round(statistics.median(values), 3) if values else None
    summary["errors"] = sum(r.get("errors", 0) for r in runs)
    summary["runs"] = [{k: r.get(k) for k in (*keys, "errors") if k in r} for r in runs]
    return summary


def loadgen(
    base: str, scenario: str, concurrency: int, duration: float, seeded: int, warmup: float, tokens: Path
) -> dict[str, Any]:
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
            "--warmup",
            str(warmup),
            "--tokens-file",
            str(tokens),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(out.stdout)


def pgbench_log(url: str, script: str, flows: int, options: list[str]) -> tuple[str, list[list[int]]]:
    """Run pgbench on ``script`` with ``options`` and its per-transaction log (``-l``): its output, and each log
    line's numbers (client, transaction, latency in microseconds, script, epoch seconds, microseconds, and with
    --rate the schedule lag in microseconds)."""
    host, port, db = re.search(r"@([^:/]+):(\d+)/(\w+)", url).groups()  # type: ignore[union-attr]
    binary = shutil.which("pgbench") or str(find_server_binaries() / "pgbench")
    with tempfile.TemporaryDirectory(prefix="mfo-pgbench-") as logs:
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
                *options,
                "-D",
                f"nflows={flows}",
                "-f",
                str(HERE / script),
                "-l",
                db,
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=logs,
        )
        lines = [[int(n) for n in line.split()] for f in Path(logs).iterdir() for line in f.open()]
    return out.stdout, lines


def rounded_rank(ordered: list[float], percent: float) -> float | None:
    """The nearest-rank percentile of a sorted list of milliseconds, to the microsecond."""
    value = nearest_rank(ordered, percent)
    return None if value is None else round(value, 3)


def pgbench(url: str, script: str, clients: int, duration: float, flows: int) -> dict[str, Any]:
    """One pgbench run of ``script`` at ``clients``: transactions per second and latency percentiles (per-transaction
    log)."""
    options = ["-c", str(clients), "-j", str(min(clients, 2)), "-T", str(max(1, round(duration)))]
    stdout, lines = pgbench_log(url, script, flows, options)
    latencies = sorted(line[2] / 1000 for line in lines)
    tps = float(re.search(r"tps = ([\d.]+)", stdout).group(1))  # type: ignore[union-attr]
    return {
        "clients": clients,
        "throughput_rps": round(tps, 1),
        "p50_ms": rounded_rank(latencies, 50),
        "p95_ms": rounded_rank(latencies, 95),
        "p99_ms": rounded_rank(latencies, 99),
    }


def pgbench_at_rate(url: str, script: str, rate: float, requests: int, flows: int, clients: int) -> dict[str, Any]:
    """pgbench running ``script`` at a fixed ``rate`` (``--rate``: Poisson arrivals, each latency counted from its
    transaction's scheduled start) for about ``requests`` transactions, over ``clients`` connections: the
    percentiles from its per-transaction log."""
    seconds = max(1, round(requests / rate))
    options = ["-c", str(clients), "-j", str(min(clients, 2)), "-R", f"{rate:g}", "-T", str(seconds)]
    _, lines = pgbench_log(url, script, flows, options)
    latencies = sorted(line[2] / 1000 for line in lines)
    lags = sorted(line[6] / 1000 for line in lines)
    return {
        "rate_rps": rate,
        "clients": clients,
        "requests": len(lines),
        "duration_s": seconds,
        "throughput_rps": round(len(lines) / seconds, 1),
        "p50_ms": rounded_rank(latencies, 50),
        "p99_ms": rounded_rank(latencies, 99),
        "p99_9_ms": rounded_rank(latencies, 99.9),
        "max_ms": rounded_rank(latencies, 100),
        "send_lag_p99_ms": rounded_rank(lags, 99),
        "send_lag_max_ms": rounded_rank(lags, 100),
    }


def openloop(
    base: str, scenario: str, rate: float, requests: int, seeded: int, args: argparse.Namespace, tokens: Path
) -> dict[str, Any]:
    """One open-loop point (``bench/openloop.py`` in a process of its own): ``requests`` recorded at ``rate`` per
    second."""
    command = [PY, "-m", "bench.openloop", "--url", base, "--scenario", scenario, "--rate", f"{rate:g}"]
    command += ["--requests", str(requests), "--warmup", str(args.open_loop_warmup)]
    command += ["--max-in-flight", str(args.max_in_flight), "--seeded-flows", str(seeded), "--tokens-file", str(tokens)]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout)


def open_loop_requests(rate: float, args: argparse.Namespace) -> int:
    """The requests an open-loop point records: --open-loop-requests, or fewer when they would take longer than
    --open-loop-max-seconds at ``rate`` (a slow machine must not stretch the whole bench past its budget)."""
    return max(1, min(args.open_loop_requests, round(rate * args.open_loop_max_seconds)))


def saturated_level(levels: list[int]) -> int:
    """The closed-loop concurrency whose throughput counts as saturated: 32 clients, or the most measured."""
    return 32 if 32 in levels else max(levels)


def open_loop_points(
    url: str, base: str, saturated: dict[str, float], seeded: int, args: argparse.Namespace, tokens: Path
) -> dict[str, Any]:
    """Each scenario with a pgbench baseline at each of OPEN_LOOP_FRACTIONS of its saturated throughput: MFO's
    open-loop figures, then pgbench running the same SQL at the same rate (right after, so both meet the cluster in
    the same state)."""
    clients = saturated_level(args.levels)
    points = []
    for scenario in BASELINES:
        for fraction in OPEN_LOOP_FRACTIONS:
            rate = round(saturated[scenario] * fraction, 1)
            requests = open_loop_requests(rate, args)
            mfo = openloop(base, scenario, rate, requests, seeded, args, tokens)
            raw = pgbench_at_rate(url, f"{scenario}.pgbench", rate, requests, seeded, clients)
            print(
                f"open loop {scenario} at {rate:g}/s ({fraction:g} of {saturated[scenario]:g}): MFO p50 "
                f"{mfo['p50_ms']} p99 {mfo['p99_ms']} p99.9 {mfo['p99_9_ms']} ms (cap waits {mfo['cap_waits']}); "
                f"pgbench p50 {raw['p50_ms']} p99 {raw['p99_ms']} p99.9 {raw['p99_9_ms']} ms",
                flush=True,
            )
            points.append({"scenario": scenario, "fraction": fraction, "rate_rps": rate, "mfo": mfo, "pgbench": raw})
    return {
        "saturated_clients": clients,
        "saturated_rps": saturated,
        "flows": seeded,
        "requests_per_point": args.open_loop_requests,
        "max_seconds_per_point": args.open_loop_max_seconds,
        "warmup_s": args.open_loop_warmup,
        "max_in_flight": args.max_in_flight,
        "pgbench_clients": clients,
        "points": points,
    }


async def database_counters(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        row = (await connection.execute(text(COUNTERS))).one()
    await engine.dispose()
    return {"commits": row[0], "rollbacks": row[1], "sessions": row[2]}


Batch = list[tuple[str, str, dict | None, dict]]


async def set_autovacuum(url: str, on: bool) -> bool:
    """Switch autovacuum on or off for the whole cluster (its workers' commits would count in pg_stat_database);
    False when the bench's role may not (a server the bench did not start), so the figure may include a few."""
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f"ALTER SYSTEM SET autovacuum = {'on' if on else 'off'}"))
            await connection.execute(text("SELECT pg_reload_conf()"))
        return True
    except Exception:
        return False
    finally:
        await engine.dispose()


def per_request(url: str, batches: dict[str, tuple[str, Batch]]) -> dict[str, dict[str, float]]:
    """Commits and sessions per request of each batch (server base URL, requests), from PostgreSQL's own statistics.

    Batches run one after the other; each reading of the counters (after the statistics were flushed) closes one
    batch and opens the next. Between two readings exactly one reading query ran: it is excluded. The caller pauses
    autovacuum meanwhile (:func:`set_autovacuum`), so that no other backend commits in the database.
    """
    time.sleep(STATS_FLUSH_SECONDS)
    before = asyncio.run(database_counters(url))
    out = {}
    for name, (base, requests) in batches.items():
        with httpx.Client(base_url=base, timeout=30) as client:
            for method, path, body, headers in requests:
                response = client.request(method, path, json=body, headers=headers)
                assert response.status_code < 300, response.text
        time.sleep(STATS_FLUSH_SECONDS)
        after = asyncio.run(database_counters(url))
        n = len(requests)
        out[name] = {
            "commits_per_request": round((after["commits"] - before["commits"] - 1) / n, 2),
            "sessions_per_request": round((after["sessions"] - before["sessions"] - 1) / n, 3),
        }
        before = after
    return out


def transition_requests(base: str, n: int, credentials: Credentials) -> list[tuple[str, str, dict | None, dict]]:
    headers = credentials.headers(7)
    with httpx.Client(base_url=base, timeout=30) as client:
        flow = client.post("/api/v1/flows", json={"flow_type": "discovery", "name": "b"}, headers=headers).json()
        client.post(f"/api/v1/flows/{flow['flow_id']}/start", headers=headers)
    path = f"/api/v1/flows/{flow['flow_id']}"
    return [("POST", f"{path}/{'pause' if i % 2 == 0 else 'resume'}", None, headers) for i in range(n)]


def connections(url: str, base: str, variant_base: str, credentials: Credentials) -> dict[str, Any]:
    create = [
        ("POST", "/api/v1/flows", {"flow_type": "discovery", "name": "c"}, credentials.headers(i)) for i in range(50)
    ]
    status = [("GET", f"/api/v1/flows/{md5_uuid(f'f{i}')}/status", None, credentials.headers(i)) for i in range(1, 51)]
    # the transitions' flows are created and started first, outside every batch
    transitions = transition_requests(base, 50, credentials)
    variant = transition_requests(variant_base, 50, credentials)
    return per_request(
        url,
        {
            "create": (base, create),
            "transition": (base, transitions),
            "status": (base, status),
            "transition, own-session variant": (variant_base, variant),
        },
    )


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


async def audit_seconds(url: str, repeat: int) -> dict[str, Any]:
    """The audit's median time over ``repeat`` runs, and a plain scan of the same tables as its baseline."""
    engine = create_async_engine(url)
    database = Database(url)
    auditor = SqlConsistencyAuditor(database, built_in_child_table_names())
    audits, scans = [], []
    for _ in range(repeat):
        audits.append((await auditor.audit(limit=10)).seconds)
        async with engine.connect() as connection:
            started = time.perf_counter()
            await connection.execute(text(SCAN))
            scans.append(round(time.perf_counter() - started, 3))
    await engine.dispose()
    await database.close()
    return {"audit_s": statistics.median(audits), "scan_s": statistics.median(scans), "runs": audits}


def make_test() -> dict[str, Any]:
    """Run ``make test`` in this checkout and time it (before the bench starts, on an otherwise idle machine)."""
    print("running make test (timed) ...", flush=True)
    started = time.perf_counter()
    done = subprocess.run(["make", "test"], cwd=ROOT, capture_output=True, text=True)
    seconds = round(time.perf_counter() - started, 1)
    tail = (done.stdout + done.stderr).strip().splitlines()[-1:] or [""]
    print(f"make test: {seconds} s, exit status {done.returncode} ({tail[0][:120]})", flush=True)
    return {"seconds": seconds, "exit_status": done.returncode, "source": "timed by this run", "last_line": tail[0]}


def recorded_make_test() -> dict[str, Any] | None:
    """The time the last ``make test`` in this checkout wrote down, and when, for a run with --skip-make-test."""
    recorded = ROOT / "test-artifacts" / "make-test-seconds"
    if not recorded.exists():
        return None
    written = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(recorded.stat().st_mtime))
    return {
        "seconds": float(recorded.read_text()),
        "exit_status": None,
        "source": f"not run by this bench: read from test-artifacts/make-test-seconds, written {written}",
    }


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=1.5, help="recorded seconds per run of a point")
    parser.add_argument("--warmup", type=float, default=0.3, help="unrecorded seconds before each run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per point; the median is quoted")
    parser.add_argument("--levels", default="1,8,32,128")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="table sizes for the status curve")
    parser.add_argument("--skip-make-test", action="store_true", help="do not time make test (quote the last one)")
    parser.add_argument(
        "--only",
        choices=("open-loop", "durable-execution", "long-phases", "pgbouncer", "synchronous-standby"),
        help="open-loop: only the open-loop points and what they need (the largest of --sizes seeded at once, the "
        "closed-loop saturated throughput of transition and status, --repeat runs each); no make test; prints "
        "the open-loop table and writes bench/results/open-loop.json, leaving latest.json and docs untouched. "
        "durable-execution: only MFO's auto-run flows against DBOS Transact (bench/durable.py), --repeat rounds; "
        "prints its table and writes bench/results/durable-execution.json, leaving latest.json and docs untouched. "
        "long-phases: only the long-phase part (bench/long_phases.py, a cluster of its own); prints its table and "
        "writes bench/results/long-phases.json. "
        "pgbouncer: only transitions at 32 clients through PgBouncer against direct connections (bench/pgbouncer.py, "
        "a cluster of its own); prints its table and writes bench/results/pgbouncer.json. "
        "synchronous-standby: only transition throughput with and without the synchronous standby "
        "(bench/synchronous_standby.py, a pg_auto_failover cluster of its own); writes "
        "bench/results/synchronous-standby.json",
    )
    parser.add_argument("--long-flows", type=int, default=1000, help="long phases running at once (default 1000)")
    parser.add_argument("--long-seconds", type=float, default=30.0, help="each long phase's length (default 30)")
    parser.add_argument(
        "--durable-levels", default="8,32", help="concurrent flows of the durable-execution points (default 8,32)"
    )
    parser.add_argument(
        "--durable-flows",
        type=int,
        default=32,
        help="flows in the window of a durable-execution run, which opens once half as many flows as clients have "
        "finished (default 32)",
    )
    parser.add_argument(
        "--durable-poll-ms",
        type=float,
        default=20.0,
        help="how often the MFO driver lists its unfinished flows, milliseconds (default 20)",
    )
    parser.add_argument(
        "--open-loop-requests", type=int, default=6000, help="recorded requests per open-loop point (default 6000)"
    )
    parser.add_argument(
        "--open-loop-max-seconds",
        type=float,
        default=40.0,
        help="longest schedule an open-loop point records; fewer requests when the rate is low (default 40)",
    )
    parser.add_argument(
        "--open-loop-warmup", type=float, default=2.0, help="unrecorded seconds before each open-loop point"
    )
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=64,
        help="cap on an open-loop point's outstanding requests (default 64: past the server's connection pools, "
        "20 per worker, a request waits for a connection, or opens and closes one, anyway)",
    )
    args = parser.parse_args()
    args.levels = [int(n) for n in args.levels.split(",")]
    args.sizes = [int(n) for n in args.sizes.split(",")]
    args.durable_levels = [int(n) for n in args.durable_levels.split(",")]
    args.repeat = max(1, args.repeat)
    return args


def main() -> None:
    args = arguments()
    started = time.perf_counter()
    tests = None
    if args.only is None:
        tests = recorded_make_test() if args.skip_make_test else make_test()
    if args.only == "long-phases":
        print_long_phases(long_phase_part(args))
        return
    if args.only == "pgbouncer":
        if "error" in (figures := pgbouncer_part(args)):
            raise SystemExit(f"pgbouncer: {figures['error']}")
        return
    if args.only == "synchronous-standby":
        print_synchronous_standby(synchronous_standby_part(args))
        return
    url = os.environ.get("MFO_BENCH_DATABASE_URL")
    cluster = None
    if not url:
        parent = Path(tempfile.mkdtemp(prefix="mfo-bench-"))
        parent.chmod(0o755)
        cluster = LocalPostgres(parent / "data", database="mfo_bench")
        url = cluster.ensure_running()
    servers: list[Server] = []
    credentials = Credentials()
    try:
        if args.only == "durable-execution":  # databases of its own, which it migrates itself
            result = {"durable_execution": durable_part(args, url, credentials, only=True)}
        else:
            upgrade(url)  # inside the try: a failed migration still stops the cluster
            asyncio.run(_truncate(url))
            server = Server(url, args.workers, credentials)
            servers.append(server)
            if args.only == "open-loop":
                result = open_loop_part(args, url, server, credentials)
            else:
                result = whole_bench(args, url, server, servers, credentials)
    finally:
        for running in servers:
            running.stop()
        if cluster is not None:
            cluster.destroy()
    result["bench_s"] = round(time.perf_counter() - started, 1)
    if args.only == "open-loop":
        write_open_loop_report(result)
        return
    if args.only == "durable-execution":
        write_durable_report(result)
        return
    result["make_test"] = tests
    result["make_test_s"] = tests["seconds"] if tests else None
    write_report(result)


def long_phase_part(args: argparse.Namespace) -> dict[str, Any]:
    """1,000 concurrently running 30-second phases on one mfo serve and one mfo worker (bench/long_phases.py), in a
    process and on a cluster of their own: its figures, or the error that stopped it."""
    figures = RESULTS / "long-phases.json"
    RESULTS.mkdir(exist_ok=True)
    command = [PY, "-m", "bench.long_phases", "--flows", str(args.long_flows), "--seconds", str(args.long_seconds)]
    env = {k: v for k, v in os.environ.items() if k != "MFO_BENCH_DATABASE_URL"}
    done = subprocess.run([*command, "--json", str(figures)], cwd=ROOT, env=env, capture_output=True, text=True)
    if not figures.exists() or done.returncode not in (0, 1):
        print(f"long phases not measured: {done.stderr[-2000:]}", flush=True)
        return {"error": done.stderr[-2000:]}
    return json.loads(figures.read_text())


def pgbouncer_part(args: argparse.Namespace) -> dict[str, Any]:
    """Transitions at 32 clients through PgBouncer against direct connections (bench/pgbouncer.py), in a process and
    on a cluster of their own, --repeat rounds; it prints its table as it goes. Its figures, or the error that
    stopped it."""
    figures = RESULTS / "pgbouncer.json"
    RESULTS.mkdir(exist_ok=True)
    figures.unlink(missing_ok=True)
    command = [PY, "-m", "bench.pgbouncer", "--repeat", str(args.repeat), "--json", str(figures)]
    env = {k: v for k, v in os.environ.items() if k != "MFO_BENCH_DATABASE_URL"}
    done = subprocess.run(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    if not figures.exists() or done.returncode != 0:
        print(f"pgbouncer not measured: {done.stderr[-2000:]}", flush=True)
        return {"error": done.stderr[-2000:]}
    return json.loads(figures.read_text())


def synchronous_standby_part(args: argparse.Namespace) -> dict[str, Any]:
    """Transition throughput with and without the synchronous standby (bench/synchronous_standby.py), on a
    pg_auto_failover cluster of its own, in a process of its own: its figures, or the error that stopped it."""
    figures = RESULTS / "synchronous-standby.json"
    RESULTS.mkdir(exist_ok=True)
    figures.unlink(missing_ok=True)
    command = [PY, "-m", "bench.synchronous_standby", "--repeat", str(args.repeat), "--json", str(figures)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if not figures.exists() or done.returncode != 0:
        print(f"synchronous standby not measured: {done.stderr[-2000:]}", flush=True)
        return {"error": done.stderr[-2000:]}
    return json.loads(figures.read_text())


def print_synchronous_standby(figures: dict[str, Any]) -> None:
    from bench.synchronous_standby import print_table

    if "error" in figures:
        raise SystemExit(f"synchronous standby: {figures['error']}")
    print_table({**figures, "levels": [str(c) for c in figures["levels"]]})


def print_long_phases(figures: dict[str, Any]) -> None:
    from bench.long_phases import print_table

    if "error" in figures:
        raise SystemExit(f"long phases: {figures['error']}")
    print_table(figures)


def durable_part(args: argparse.Namespace, url: str, credentials: Credentials, only: bool = False) -> dict[str, Any]:
    """MFO's auto-run flows against DBOS Transact (bench/durable.py). In a whole run a failure of this part (DBOS
    not installable, say) is recorded in its place and the rest goes on; with --only it stops the bench."""
    from bench.durable import DurableExecutionError, durable_execution

    try:
        return durable_execution(args, url, credentials)
    except DurableExecutionError as error:
        if only:
            raise SystemExit(f"durable execution: {error}") from None
        print(f"durable execution not measured: {error}", flush=True)
        return {"error": str(error)}


def closed_loop(server: Server, args: argparse.Namespace, credentials: Credentials) -> Any:
    """A function running one closed-loop point (scenario, clients, seeded flows) against ``server``."""

    def point(scenario: str, clients: int, seeded: int) -> dict[str, Any]:
        return loadgen(server.base, scenario, clients, args.duration, seeded, args.warmup, credentials.file)

    return point


def open_loop_part(args: argparse.Namespace, url: str, server: Server, credentials: Credentials) -> dict[str, Any]:
    """``--only open-loop``: the largest table size seeded at once, the saturated throughput of each scenario
    (closed loop, median of --repeat runs), then the open-loop points at fractions of it."""
    point = closed_loop(server, args, credentials)
    seeded = max(args.sizes)
    asyncio.run(_seed(url, 1, seeded))
    level = saturated_level(args.levels)
    saturated = {}
    for scenario in BASELINES:
        saturated[scenario] = median_of([point(scenario, level, seeded) for _ in range(args.repeat)])
        print(f"{scenario} at {level} clients (closed loop): {saturated[scenario]['throughput_rps']} req/s", flush=True)
    rates = {scenario: p["throughput_rps"] for scenario, p in saturated.items()}
    return {
        "workers": args.workers,
        "saturated": saturated,
        "open_loop": open_loop_points(url, server.base, rates, seeded, args, credentials.file),
    }


def whole_bench(
    args: argparse.Namespace, url: str, server: Server, servers: list[Server], credentials: Credentials
) -> dict[str, Any]:
    """Every part of ``make bench`` after ``make test``, on a migrated, empty database and a started server."""
    levels, repeat = args.levels, args.repeat
    point = closed_loop(server, args, credentials)
    result: dict[str, Any] = {
        "workers": args.workers,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "repeat": repeat,
        "levels": levels,
    }
    seeded, by_size = 0, {clients: {} for clients in STATUS_LEVELS}
    for size in args.sizes:
        asyncio.run(_seed(url, seeded + 1, size))
        seeded = size
        for clients in STATUS_LEVELS:
            at = by_size[clients][size] = median_of([point("status", clients, seeded) for _ in range(repeat)])
            print(f"status at {size:,} flows, {clients} clients: p50 {at['p50_ms']} ms, p99 {at['p99_ms']} ms")
    result["status_by_table_size"] = by_size
    # in rounds: each round runs every point once, so a slow moment of the machine touches one run of each
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    raw: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for round_ in range(repeat):
        print(f"round {round_ + 1} of {repeat}", flush=True)
        for scenario in SCENARIOS:
            for c in levels:
                runs.setdefault((scenario, c), []).append(point(scenario, c, seeded))
                if scenario in BASELINES:  # its baseline right after it, so both meet the same state of the
                    # cluster (what the points before left to flush and vacuum), not one state each
                    raw.setdefault((scenario, c), []).append(
                        pgbench(url, f"{scenario}.pgbench", c, args.duration, seeded)
                    )
    result["http"] = {s: {c: median_of(runs[(s, c)]) for c in levels} for s in SCENARIOS}
    for scenario in BASELINES:
        result[f"pgbench_{scenario}"] = {c: median_of(raw[(scenario, c)]) for c in levels}
    level = saturated_level(levels)
    saturated = {scenario: result["http"][scenario][level]["throughput_rps"] for scenario in BASELINES}
    result["worker_peak_rss_mb"] = server.worker_peak_rss_mb()  # the closed-loop points alone
    result["open_loop"] = open_loop_points(url, server.base, saturated, seeded, args, credentials.file)
    variant = Server(url, 1, credentials, "bench.variants:app")
    servers.append(variant)
    result["autovacuum_paused"] = asyncio.run(set_autovacuum(url, on=False))
    try:
        result["connections"] = connections(url, server.base, variant.base, credentials)
    finally:
        asyncio.run(set_autovacuum(url, on=True))
    result["durable_execution"] = durable_part(args, url, credentials)
    result["long_phases"] = long_phase_part(args)
    result["pgbouncer"] = pgbouncer_part(args)
    result["synchronous_standby"] = synchronous_standby_part(args)
    if "error" not in result["synchronous_standby"]:
        print_synchronous_standby(result["synchronous_standby"])
    result["crewai_import_s"] = crewai_import_seconds()
    result["audit"] = asyncio.run(audit_seconds(url, repeat))
    result["audit_s"] = result["audit"]["audit_s"]
    result["audited_flows"] = seeded
    return result


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
