"""Gauges read from PostgreSQL when ``/metrics`` is scraped: the phase queue and the latest consistency audit.

Read at scrape time (through :class:`adapters.observability.gauge_cache.CachedGauges`, at most once per
``MFO_METRICS_CACHE_SECONDS``), they are the same whichever worker or replica answers. The queue is the flows
table itself: a flow whose ``run_due_at`` has passed has work waiting for a runner; a lease in ``phase_leases`` is
an attempt running (ADR 0015). Both are also counted per tenant (labels ``client_account_id``, ``engagement_id``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from adapters.persistence.database import Database

logger = logging.getLogger("mfo.metrics")

QUEUE_SQL = """
SELECT client_account_id, engagement_id, count(*) AS depth, extract(epoch FROM now() - min(run_due_at)) AS lag
FROM flows WHERE run_due_at <= now() GROUP BY 1, 2
"""
RUNNING_SQL = """
SELECT client_account_id, engagement_id, count(*) AS running, count(*) FILTER (WHERE expires_at < now()) AS expired
FROM phase_leases GROUP BY 1, 2
"""
TENANT_LABELS = ("client_account_id", "engagement_id")

LATEST_AUDIT_SQL = """
SELECT inconsistent, flows_checked, extract(epoch FROM finished_at) AS finished
FROM consistency_audit_runs ORDER BY run_id DESC LIMIT 1
"""


PerTenant = list[tuple[tuple[str, str], float]]
GaugeValues = dict[str, tuple[str, float | PerTenant]]
"""Gauge name -> (documentation, value, or a value per tenant)."""


class Snapshot(Collector):
    def __init__(self, values: GaugeValues) -> None:
        self._values = values

    def collect(self) -> Iterator[Metric]:
        for name, (documentation, value) in self._values.items():
            if isinstance(value, list):
                family = GaugeMetricFamily(name, documentation, labels=TENANT_LABELS)
                for labels, number in value:
                    family.add_metric(list(labels), number)
                yield family
            else:
                yield GaugeMetricFamily(name, documentation, value=value)


class DatabaseGauges:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def read(self) -> GaugeValues:
        values: GaugeValues = {}
        depth = lag = inconsistent = checked = finished = running = expired = 0.0
        due_by_tenant: PerTenant = []
        running_by_tenant: PerTenant = []
        up = 1.0
        try:
            async with self._database.connection() as connection:
                for row in await connection.fetch(QUEUE_SQL):
                    tenant = (str(row["client_account_id"]), str(row["engagement_id"]))
                    due_by_tenant.append((tenant, float(row["depth"])))
                    depth += float(row["depth"])
                    lag = max(lag, float(row["lag"]))
                for row in await connection.fetch(RUNNING_SQL):
                    tenant = (str(row["client_account_id"]), str(row["engagement_id"]))
                    running_by_tenant.append((tenant, float(row["running"])))
                    running += float(row["running"])
                    expired += float(row["expired"])
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
        values["mfo_queue_depth"] = ("Flows whose phase work is due and waits for a runner.", depth)
        values["mfo_queue_lag_seconds"] = ("How long the longest-waiting due work has waited, in seconds.", lag)
        values["mfo_phases_running"] = ("Attempts of phases holding a lease (running).", running)
        values["mfo_phase_leases_expired"] = ("Attempts whose lease expired and that no runner took over yet.", expired)
        values["mfo_tenant_queue_depth"] = ("Flows whose phase work is due, per tenant.", due_by_tenant)
        values["mfo_tenant_phases_running"] = ("Attempts of phases holding a lease, per tenant.", running_by_tenant)
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
