"""Gauges read from PostgreSQL when ``/metrics`` is scraped: the job queue and the latest consistency audit.

Read at scrape time (through :class:`adapters.observability.gauge_cache.CachedGauges`, at most once per
``MFO_METRICS_CACHE_SECONDS``), they are the same whichever worker or replica answers. The queue is pgqueuer's table
(``pgqueuer``; pgqueuer 1.6.0 columns ``status`` of type ``pgqueuer_status``, ``created``, ``execute_after``);
while that table does not exist both queue gauges are 0.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from adapters.persistence.database import Database

logger = logging.getLogger("mfo.metrics")

QUEUE_TABLE = "pgqueuer"

QUEUE_SQL = """
SELECT count(*) AS depth,
       coalesce(extract(epoch FROM now() - min(greatest(created, execute_after))
                FILTER (WHERE execute_after <= now())), 0) AS lag
FROM {table}
WHERE status = 'queued'
"""

LATEST_AUDIT_SQL = """
SELECT inconsistent, flows_checked, extract(epoch FROM finished_at) AS finished
FROM consistency_audit_runs ORDER BY run_id DESC LIMIT 1
"""


GaugeValues = dict[str, tuple[str, float]]
"""Gauge name -> (documentation, value)."""


class Snapshot(Collector):
    def __init__(self, values: GaugeValues) -> None:
        self._values = values

    def collect(self) -> Iterator[Metric]:
        for name, (documentation, value) in self._values.items():
            yield GaugeMetricFamily(name, documentation, value=value)


class DatabaseGauges:
    def __init__(self, database: Database, queue_table: str = QUEUE_TABLE) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", queue_table):
            raise ValueError(f"not a plain table name: {queue_table!r}")
        self._database = database
        self._queue_table = queue_table

    async def read(self) -> dict[str, tuple[str, float]]:
        values: dict[str, tuple[str, float]] = {}
        depth = lag = inconsistent = checked = finished = 0.0
        up = 1.0
        try:
            async with self._database.connection() as connection:
                if await connection.fetchval("SELECT to_regclass($1)", self._queue_table):
                    row = await connection.fetchrow(QUEUE_SQL.format(table=self._queue_table))
                    depth, lag = float(row["depth"]), float(row["lag"])
                audit = await connection.fetchrow(LATEST_AUDIT_SQL)
                if audit is not None:
                    inconsistent, checked, finished = (
                        float(audit["inconsistent"]),
                        float(audit["flows_checked"]),
                        float(audit["finished"]),
                    )
        except Exception:  # /metrics still answers with the process's own metrics
            logger.warning("could not read the database gauges", exc_info=True)
            up = 0.0
        values["mfo_queue_depth"] = ("Jobs waiting in the pgqueuer queue (status queued).", depth)
        values["mfo_queue_lag_seconds"] = ("Age of the oldest queued job that is due, in seconds.", lag)
        values["mfo_consistency_inconsistent_flows"] = (
            "Inconsistent flows the latest consistency audit found.",
            inconsistent,
        )
        values["mfo_consistency_flows_checked"] = ("Flows the latest consistency audit checked.", checked)
        values["mfo_consistency_last_audit_timestamp_seconds"] = (
            "When the latest consistency audit finished (Unix time; 0: none yet).",
            finished,
        )
        values["mfo_metrics_database_up"] = ("1 if the database gauges could be read at this scrape, else 0.", up)
        return values
