"""``mfo serve``'s uvicorn server, which lets a load balancer notice that it is going away before it stops accepting.

On SIGTERM (what Kubernetes, systemd and Docker send) readiness turns false at once: ``GET /readyz`` answers 503 while
the server goes on serving every request for ``MFO_SHUTDOWN_GRACE_SECONDS``. Only then does uvicorn's own shutdown
begin: it stops accepting connections, waits for the requests in flight to finish (drains), and runs the app's
shutdown hooks (the phase runner and the pools). SIGINT (Ctrl+C), a second SIGTERM or a grace of 0 skip the wait.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

import uvicorn

from entrypoints.http.health import Readiness

logger = logging.getLogger("mfo.http")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, readiness: Readiness, grace_seconds: float) -> None:
        super().__init__(config)
        self._readiness = readiness
        self._grace_seconds = grace_seconds
        self._exit_at: float | None = None
        self._announced = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self._exit_at is None and self._grace_seconds > 0 and not self.should_exit:
            self._readiness.drain()
            self._exit_at = time.monotonic() + self._grace_seconds
            return
        self._readiness.drain()
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._exit_at is not None and not self.should_exit:
            if not self._announced:  # logged here, not in the signal handler
                self._announced = True
                logger.info("SIGTERM: /readyz answers 503; serving on for %g s before draining", self._grace_seconds)
            if time.monotonic() >= self._exit_at:
                super().handle_exit(signal.SIGTERM, None)
        return await super().on_tick(counter)


def serve(config: uvicorn.Config, readiness: Readiness, grace_seconds: float) -> None:
    """Run the server until it is stopped; exit 3 (as ``uvicorn.run``) when it could not start."""
    server = DrainingServer(config, readiness, grace_seconds)
    server.run()
    if not server.started:
        raise SystemExit(3)
