"""Transitions per second at 32 clients through PgBouncer (transaction pooling) against direct connections, in one run.

    .venv/bin/python -m bench.pgbouncer [--clients 32] [--duration 3] [--warmup 0.5] [--repeat 3] [--json PATH]

Starts a throwaway PostgreSQL cluster (or uses MFO_BENCH_DATABASE_URL) and migrates it, then PgBouncer 1.18
(Debian's, ``pool_mode = transaction``, at most ``--server-connections`` connections to PostgreSQL, tests/pgbouncer.py)
in front of it, and three ``mfo serve --workers 2`` (production settings, the bench's pools: bench/run.py's
``server_env``), each on a database of its own on that cluster:

- ``direct``: connected to PostgreSQL itself, as every other part of ``make bench`` is;
- ``direct_uncached``: connected to PostgreSQL itself with ``MFO_DB_PGBOUNCER=true`` (no statement cache, the timeouts
  set in each transaction), so the cost of those two is told apart from PgBouncer's own;
- ``pgbouncer``: through PgBouncer with ``MFO_DB_PGBOUNCER=true``.

Each run of a point is bench/loadgen.py's ``transition`` scenario (pause and resume, one commit each) at ``--clients``;
the points run in rounds (each variant once per round), the median of ``--repeat`` runs is quoted, with each one's
ratio to ``direct``. Also reported: the most connections to the PgBouncer variant's database PostgreSQL had while it
ran (pg_stat_activity, sampled every 50 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from adapters.persistence.database import postgres_dsn
from adapters.persistence.migrate import upgrade
from bench.run import Credentials, Server, loadgen, median_of
from entrypoints.local_postgres import LocalPostgres
from tests.pgbouncer import PgBouncer

VARIANTS = ("direct", "direct_uncached", "pgbouncer")
SAMPLER = "bench-sampler"


class ConnectionPeak:
    """The most client connections to ``url``'s database PostgreSQL had at once (other than this one), sampled in a
    thread of its own every 50 ms while it runs."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._sample()), daemon=True)

    def __enter__(self) -> ConnectionPeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    async def _sample(self) -> None:
        connection = await asyncpg.connect(postgres_dsn(self._url), server_settings={"application_name": SAMPLER})
        try:
            while not self._stop.is_set():
                count = await connection.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    " AND datname = current_database() AND application_name <> $1",
                    SAMPLER,
                )
                self.peak = max(self.peak, int(count))
                await asyncio.sleep(0.05)  # the sampling interval
        finally:
            await connection.close()


async def migrated_databases(url: str) -> dict[str, str]:
    """A migrated database of its own for each variant, on the cluster of ``url``: their URLs."""
    urls = {variant: make_url(url).set(database=f"mfo_bench_{variant}").render_as_string(False) for variant in VARIANTS}
    connection = await asyncpg.connect(postgres_dsn(url))
    try:
        for each in urls.values():
            name = make_url(each).database
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    for each in urls.values():
        await asyncio.to_thread(upgrade, each)
    return urls


def measure(args: argparse.Namespace, url: str) -> dict[str, Any]:
    credentials = Credentials()
    databases = asyncio.run(migrated_databases(url))
    parsed = make_url(databases["pgbouncer"])
    assert parsed.port is not None
    folder = Path(tempfile.mkdtemp(prefix="mfo-bench-pgbouncer-"))
    folder.chmod(0o755)
    password = parsed.password or ""
    bouncer = PgBouncer(
        folder,
        parsed.port,
        users={parsed.username or "postgres": password, "mfo_app": password},
        max_db_connections=args.server_connections,
        pool_size=args.server_connections,
    )
    bouncer.start()
    through = parsed.set(host="127.0.0.1", port=bouncer.port).render_as_string(hide_password=False)
    servers: dict[str, Server] = {}
    try:
        servers["direct"] = Server(databases["direct"], args.workers, credentials, name="pgbouncer-direct")
        servers["direct_uncached"] = Server(
            databases["direct_uncached"],
            args.workers,
            credentials,
            env={"MFO_DB_PGBOUNCER": "true"},
            name="pgbouncer-direct-uncached",
        )
        servers["pgbouncer"] = Server(
            through, args.workers, credentials, env={"MFO_DB_PGBOUNCER": "true"}, name="pgbouncer-through"
        )
        runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
        peak = 0
        for round_ in range(args.repeat):
            for variant in VARIANTS:
                with ConnectionPeak(databases[variant]) as sampled:
                    run = loadgen(
                        servers[variant].base,
                        "transition",
                        args.clients,
                        args.duration,
                        1,
                        args.warmup,
                        credentials.file,
                    )
                if variant == "pgbouncer":
                    peak = max(peak, sampled.peak)
                runs[variant].append(run)
                print(
                    f"round {round_ + 1}/{args.repeat} {variant}: {run['throughput_rps']} transitions/s, "
                    f"p99 {run['p99_ms']} ms, {run['errors']} errors",
                    flush=True,
                )
    finally:
        for server in servers.values():
            server.stop()
        bouncer.destroy()
    figures = {variant: median_of(runs[variant]) for variant in VARIANTS}
    direct = figures["direct"]["throughput_rps"] or 0
    for variant in VARIANTS:
        rps = figures[variant]["throughput_rps"] or 0
        figures[variant]["vs_direct"] = round(rps / direct, 3) if direct else None
    return {
        "clients": args.clients,
        "workers": args.workers,
        "duration_s": args.duration,
        "repeat": args.repeat,
        "server_connections": args.server_connections,
        "peak_connections_through_pgbouncer": peak,
        "pgbouncer_version": "1.18 (Debian bookworm)",
        **figures,
    }


def print_table(result: dict[str, Any]) -> None:
    print(
        f"\nTransitions at {result['clients']} clients, mfo serve --workers {result['workers']}, median of "
        f"{result['repeat']} runs of {result['duration_s']} s; PgBouncer at most {result['server_connections']} "
        f"server connections (PostgreSQL saw at most {result['peak_connections_through_pgbouncer']})"
    )
    print(f"{'connection':<18} {'transitions/s':>14} {'p50 ms':>8} {'p99 ms':>8} {'vs direct':>10} {'errors':>7}")
    for variant in VARIANTS:
        row = result[variant]
        print(
            f"{variant:<18} {row['throughput_rps']:>14} {row['p50_ms']:>8} {row['p99_ms']:>8} "
            f"{row['vs_direct']:>10} {row['errors']:>7}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of each mfo serve (default 2)")
    parser.add_argument("--duration", type=float, default=3.0, help="recorded seconds per run (default 3)")
    parser.add_argument("--warmup", type=float, default=0.5, help="unrecorded seconds before each run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per variant; the median is quoted (default 3)")
    parser.add_argument(
        "--server-connections", type=int, default=20, help="PgBouncer's connections to PostgreSQL (default 20)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    args.repeat = max(1, args.repeat)
    started = time.perf_counter()
    url = os.environ.get("MFO_BENCH_DATABASE_URL")
    cluster = None
    if not url:
        parent = Path(tempfile.mkdtemp(prefix="mfo-bench-"))
        parent.chmod(0o755)
        cluster = LocalPostgres(parent / "data", database="mfo_bench")
        url = cluster.ensure_running()
    try:
        result = measure(args, url)
    finally:
        if cluster is not None:
            cluster.destroy()
    result["seconds"] = round(time.perf_counter() - started, 1)
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
