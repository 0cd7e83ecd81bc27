"""How long the consistency audit takes on 1,000,000 flows, against a plain scan of the same tables.

    .venv/bin/python -m bench.audit [--flows 1000000]

Uses MFO_BENCH_DATABASE_URL when set, otherwise a throwaway local cluster. Seeds consistent flows across 100 tenants
with set-based SQL, corrupts a few, then times (median of several runs) the audit and, as the baseline, a query that
only reads the same four tables in full (``count(*)`` of each). Prints a table and writes bench/results/audit.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.persistence.audit import SqlConsistencyAuditor
from adapters.persistence.database import Database
from adapters.persistence.migrate import upgrade
from adapters.persistence.schema import built_in_child_table_names
from bench.seed import seed_flows

CORRUPT = "UPDATE discovery_flows SET status = 'paused' WHERE flow_id IN (SELECT flow_id FROM flows LIMIT :k)"
BASELINE = """SELECT (SELECT count(*) FROM flows) + (SELECT count(*) FROM discovery_flows)
                   + (SELECT count(*) FROM crewai_flow_states) + (SELECT count(*) FROM flow_events)"""


async def timed(run, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def main(url: str, flows: int, repeat: int) -> dict:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("TRUNCATE flows CASCADE"))
    started = time.perf_counter()
    await seed_flows(engine, 1, flows)
    seeded = time.perf_counter() - started
    async with engine.begin() as connection:
        await connection.execute(text(CORRUPT), {"k": 10})
    database = Database(url)
    auditor = SqlConsistencyAuditor(database, built_in_child_table_names())
    report = await auditor.audit(limit=100)
    assert report.flows_checked == flows and report.inconsistent == 10, report

    async def baseline() -> None:
        async with engine.connect() as connection:
            await connection.execute(text(BASELINE))

    async def audit() -> None:
        await auditor.audit(limit=100)

    base = await timed(baseline, repeat)
    audited = await timed(audit, repeat)
    await engine.dispose()
    await database.close()
    return {
        "flows": flows,
        "seed_seconds": round(seeded, 1),
        "baseline_scan_seconds": round(base, 3),
        "audit_seconds": round(audited, 3),
        "audit_over_scan": round(audited / base, 2),
        "inconsistent_found": report.inconsistent,
        "runs": repeat,
    }


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = os.environ.get("MFO_BENCH_DATABASE_URL")
    cluster = None
    if not url:
        from entrypoints.local_postgres import LocalPostgres

        parent = Path(tempfile.mkdtemp(prefix="mfo-bench-"))
        parent.chmod(0o755)
        cluster = LocalPostgres(parent / "data", database="mfo_bench", durable=False)
        url = cluster.ensure_running()
    try:
        upgrade(url)
        result = asyncio.run(main(url, args.flows, args.repeat))
    finally:
        if cluster is not None:
            cluster.destroy()
    print(f"{'flows':>10} {'seed s':>8} {'scan s':>8} {'audit s':>8} {'audit/scan':>10} {'found':>6}")
    print(
        f"{result['flows']:>10,} {result['seed_seconds']:>8} {result['baseline_scan_seconds']:>8} "
        f"{result['audit_seconds']:>8} {result['audit_over_scan']:>10} {result['inconsistent_found']:>6}"
    )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "audit.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    run()
