"""What the server runs beside the API: JSON logs, the periodic consistency audit, the tracer's shutdown."""

from __future__ import annotations

from collections.abc import Callable

from application.consistency import ConsistencyMonitor, periodic_audit
from entrypoints.settings import ObservabilitySettings


class Monitoring:
    def __init__(
        self,
        settings: ObservabilitySettings,
        monitor: Callable[[], ConsistencyMonitor],
        install_json_logs: Callable[[str], None],
        shutdown_tracing: Callable[[], None],
    ) -> None:
        self._settings = settings
        self._install_json_logs = install_json_logs
        self._shutdown_tracing = shutdown_tracing
        self.periodic_audit = periodic_audit(monitor, settings.audit_interval_seconds)

    async def start(self) -> None:
        if self._settings.log_format == "json":
            self._install_json_logs(self._settings.log_level)
        self.periodic_audit.start()

    async def stop(self) -> None:
        await self.periodic_audit.stop()
        self._shutdown_tracing()
