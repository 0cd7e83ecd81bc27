"""create_app: builds the Litestar app around a container. No module-level state."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable

from litestar import Litestar
from litestar.datastructures import State
from litestar.exceptions import MethodNotAllowedException
from litestar.logging.config import LoggingConfig

from application.phase_runner import PhaseRunner
from entrypoints.container import Container, build_container, close_databases, runner_options
from entrypoints.http.admin import audit_consistency, latest_consistency_audit, migrate_flows
from entrypoints.http.auth import AUTH_EXCEPTION_HANDLERS, authorize
from entrypoints.http.dashboard import dashboard_router
from entrypoints.http.edge import EdgeCheckedLitestar
from entrypoints.http.flow_types import list_flow_types
from entrypoints.http.flows import FlowController
from entrypoints.http.header_limits import HeaderLimits
from entrypoints.http.health import HEALTH_ROUTES, Readiness
from entrypoints.http.idempotency import IdempotentReplay, replay
from entrypoints.http.legacy import LEGACY_CONTROLLERS, LegacyUsage, legacy_routes, legacy_usage
from entrypoints.http.legacy.deprecation import method_not_allowed
from entrypoints.http.limits import MfoRequest
from entrypoints.http.metrics import prometheus_metrics
from entrypoints.http.monitoring import Monitoring
from entrypoints.http.openapi import openapi_config
from entrypoints.http.problems import EXCEPTION_HANDLERS
from entrypoints.http.query_parameters import SingleValuedQueryMiddleware
from entrypoints.http.queue import get_queue
from entrypoints.http.request_context import RequestContextMiddleware
from entrypoints.http.request_telemetry import RequestTelemetry
from entrypoints.idempotency_purge import idempotency_key_purger
from entrypoints.settings import Settings
from entrypoints.version_check import refuse_unregistered_versions

VERSION = "0.1.0"

logger = logging.getLogger("mfo.auth")


def freeze_startup_objects() -> None:
    """Put everything the process built to start (its modules, crewai's and pydantic's classes, the app) beyond the
    garbage collector's full collections, which otherwise walk all of them again and again, pausing every request
    in flight: the tail of the p99s under load (docs/performance.md)."""
    gc.collect()
    gc.freeze()


class ProcessRunner:
    """The process's phase runner, built at its first use (the first request, or start-up: building it needs the
    database's settings, which an app built only for its OpenAPI schema does not have)."""

    def __init__(self, build: Callable[[], PhaseRunner]) -> None:
        self._build = build
        self._runner: PhaseRunner | None = None

    def __call__(self) -> PhaseRunner:
        if self._runner is None:
            self._runner = self._build()
        return self._runner

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.stop()

    @property
    def is_running(self) -> bool:
        """Started and its loops alive (for readiness)."""
        return self._runner is not None and self._runner.is_running


def create_app(settings: Settings, container: Container | None = None, *, background_worker: bool = False) -> Litestar:
    """The app and its phase runner, which runs the phases the API claims; with ``background_worker`` it also
    claims due work (auto-run flows, retries, expired leases) as ``mfo worker`` does (``mfo serve`` passes
    ``MFO_WORKER_IN_SERVE``)."""
    container = container or build_container(settings)
    runner = ProcessRunner(lambda: container.phase_runner(options=runner_options(settings, polls=background_worker)))

    async def start_runner() -> None:
        runner().start()

    async def stop_runner() -> None:
        await runner.stop()  # its units of work give their connections back before the pools close

    async def close_pools() -> None:
        await close_databases(container)

    readiness = Readiness()

    async def check_versions() -> None:
        await refuse_unregistered_versions(container.maintenance_orchestrator)

    purger = idempotency_key_purger(container.maintenance_orchestrator, settings.idempotency.purge_interval_seconds)
    usage = LegacyUsage(legacy_routes(*LEGACY_CONTROLLERS), on_record=container.metrics().legacy_hits_recorder)
    if settings.auth.dev:
        logger.warning(
            "MFO_AUTH_MODE=dev: requests without credentials are trusted as admins of the tenant their "
            "X-Client-Account-ID/X-Engagement-ID headers name; never run this mode in production"
        )
    monitoring = Monitoring(
        settings.observability,
        container.consistency_monitor,
        container.install_json_logs(),
        lambda: container.tracing().shutdown(),
    )

    return EdgeCheckedLitestar(
        route_handlers=[
            FlowController,
            list_flow_types,
            get_queue,
            *HEALTH_ROUTES,
            audit_consistency,
            migrate_flows,
            *LEGACY_CONTROLLERS,
            legacy_usage,
            dashboard_router(),
            latest_consistency_audit,
            prometheus_metrics,
        ],
        middleware=[RequestContextMiddleware(), SingleValuedQueryMiddleware()],
        exception_handlers={  # type: ignore[dict-item]
            **EXCEPTION_HANDLERS,
            **AUTH_EXCEPTION_HANDLERS,
            MethodNotAllowedException: method_not_allowed,
            IdempotentReplay: replay,
        },
        guards=[authorize],
        state=State(
            {
                "container": container,
                "settings": settings,
                "legacy_usage": usage,
                "monitoring": monitoring,
                "phase_runner": runner,
                "readiness": readiness,
            }
        ),
        on_startup=[check_versions, monitoring.start, start_runner, purger.start, freeze_startup_objects],
        on_shutdown=[readiness.stop, purger.stop, stop_runner, monitoring.stop, close_pools],
        request_max_body_size=settings.api.max_body_bytes,
        header_limits=HeaderLimits(settings.api.max_header_count, settings.api.max_header_bytes),
        request_telemetry=RequestTelemetry(container.metrics(), lambda: container.tracing().tracer),
        request_class=MfoRequest,
        openapi_config=openapi_config(VERSION),
        debug=settings.api.debug,
        # Litestar's own logger only: MFO's records go to MFO's handler (one JSON line each), not through a second,
        # queued handler on the root logger as well.
        logging_config=LoggingConfig(configure_root_logger=False),
    )
