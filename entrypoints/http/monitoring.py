"""What the server runs beside the API: JSON logs, the periodic consistency audit, the tracer's shutdown."""

from __future__ import annotations

from typing import Any

from application.consistency import periodic_audit
from entrypoints.settings import Settings


class Monitoring:
    def __init__(self, settings: Settings, container: Any) -> None:
        self._settings = settings.observability
        self._container = container
        # A test's own minimal container may have no monitoring providers: then there is nothing to run.
        self._enabled = hasattr(container, "consistency_monitor")
        interval = self._settings.audit_interval_seconds if self._enabled else 0
        self.periodic_audit = periodic_audit(lambda: container.consistency_monitor(), interval)

    async def start(self) -> None:
        if self._enabled and self._settings.log_format == "json":
            self._container.install_json_logs()(self._settings.log_level)
        self.periodic_audit.start()

    async def stop(self) -> None:
        await self.periodic_audit.stop()
        if self._enabled:
            self._container.tracing().shutdown()
