"""What the synchronous standby costs: transition throughput with and without it, on one pg_auto_failover cluster.

    .venv/bin/python -m bench.synchronous_standby [--levels 8,32] [--duration 8] [--repeat 3] [--json PATH]

Starts a pg_auto_failover monitor, a primary and its standby on 127.0.0.1 (tests/faults/auto_failover.py, fsync on),
migrates through the multi-host URL, and serves it with ``mfo serve --workers 2`` (production auth, as the rest of
the bench). Then, in ``--repeat`` rounds, runs the closed-loop ``transition`` scenario (bench/loadgen.py: pause and
resume, one commit each) at each of ``--levels`` clients twice: with the standby in the write quorum
(``synchronous_standby_names`` set by the monitor: every commit waits for the standby to have flushed it, the
deployment of docs/operations.md) and out of it (``pg_autoctl set node replication-quorum false``: the standby still
streams, asynchronously, so a crash of the primary may lose the last commits). The medians are printed as a table
and written as JSON; ``make bench BENCH_ARGS="--only synchronous-standby"`` runs this alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine

from adapters.persistence.database_url import sqlalchemy_url
from adapters.persistence.migrate import upgrade
from bench.run import RESULTS, Credentials, Server, loadgen, median_of
from bench.seed import seed_flows
from tests.faults.auto_failover import AutoFailoverCluster

MODES = {"synchronous": True, "asynchronous": False}
SEEDED = 1_000


def measure(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="mfo-bench-ha-"))
    folder.chmod(0o755)
    cluster = AutoFailoverCluster(folder / "ha", database="mfo_bench")
    server: Server | None = None
    started = time.perf_counter()
    try:
        cluster.start()
        url = cluster.url()
        upgrade(url)
        asyncio.run(_seed(url))
        credentials = Credentials()
        server = Server(url, args.workers, credentials, name="synchronous-standby")
        runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
        names: dict[str, str] = {}
        for round_ in range(args.repeat):
            print(f"synchronous standby: round {round_ + 1} of {args.repeat}", flush=True)
            for mode, on in MODES.items():
                cluster.set_synchronous(on)
                names[mode] = cluster.synchronous_standby_names()
                for clients in args.levels:
                    point = loadgen(
                        server.base, "transition", clients, args.duration, SEEDED, args.warmup, credentials.file
                    )
                    runs.setdefault((mode, clients), []).append(point)
        cluster.set_synchronous(True)
        by_mode = {mode: {c: median_of(runs[(mode, c)]) for c in args.levels} for mode in MODES}
        return {
            "scenario": "transition",
            "workers": args.workers,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "repeat": args.repeat,
            "levels": args.levels,
            "synchronous_standby_names": names,
            "http": by_mode,
            "cost": {
                c: _ratio(by_mode["synchronous"][c]["throughput_rps"], by_mode["asynchronous"][c]["throughput_rps"])
                for c in args.levels
            },
            "seconds": round(time.perf_counter() - started, 1),
        }
    finally:
        if server is not None:
            server.stop()
        cluster.destroy()
        shutil.rmtree(folder, ignore_errors=True)


def _ratio(synchronous: float | None, asynchronous: float | None) -> float | None:
    """Synchronous throughput as a share of asynchronous (1.0: no cost)."""
    if not synchronous or not asynchronous:
        return None
    return round(synchronous / asynchronous, 3)


async def _seed(url: str) -> None:
    engine = create_async_engine(sqlalchemy_url(url))
    try:
        await seed_flows(engine, 1, SEEDED)
    finally:
        await engine.dispose()


def print_table(result: dict[str, Any]) -> None:
    print("\nTransitions per second with and without the synchronous standby (pg_auto_failover, fsync on)")
    print(
        f"  {'clients':>7}  {'synchronous':>12}  {'p99 ms':>7}  {'asynchronous':>12}  {'p99 ms':>7}  {'sync/async':>10}"
    )
    for clients in result["levels"]:
        sync = result["http"]["synchronous"][clients]
        other = result["http"]["asynchronous"][clients]
        print(
            f"  {clients:>7}  {sync['throughput_rps']:>12}  {sync['p99_ms']:>7}  {other['throughput_rps']:>12}  "
            f"{other['p99_ms']:>7}  {result['cost'][clients]!s:>10}"
        )
    print(f"  errors: {sum(m[c]['errors'] for m in result['http'].values() for c in result['levels'])}")


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="8,32", help="client counts (default 8,32)")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per point (default 8)")
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed seconds before each point (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds over every point, medians quoted (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="mfo serve --workers (default 2)")
    parser.add_argument("--json", type=Path, default=RESULTS / "synchronous-standby.json", help="where to write")
    args = parser.parse_args(argv)
    args.levels = [int(n) for n in args.levels.split(",")]
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    result = measure(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
