"""How often each legacy route is still called, so the families can be retired on evidence.

One :class:`LegacyUsage` is created by ``create_app`` and kept on ``app.state.legacy_usage``; the legacy
middleware counts into it and ``GET /api/v1/legacy/usage`` reads it (counts of the process, not per tenant: the
platform operator's route; a tenant admin gets 403); each call also increments the Prometheus
counter ``mfo_legacy_route_hits_total``, which, unlike these counts, adds up across workers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from litestar import get
from litestar.datastructures import State

from domain.auth import Role
from entrypoints.http.auth import ROLE
from entrypoints.http.legacy.schemas import LegacyUsageItemOut, LegacyUsageOut
from entrypoints.http.openapi import PLATFORM_SECURITY, protected_responses


@dataclass(frozen=True, order=True)
class LegacyRoute:
    """One legacy route: its family, method and path template, and the unified URL template replacing it."""

    family: str
    route: str
    method: str
    successor: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.family, self.route, self.method)


class LegacyUsage:
    """Thread-safe call counts per (family, route template, method)."""

    def __init__(
        self, routes: Iterable[LegacyRoute] = (), on_record: Callable[[str, str, str], None] | None = None
    ) -> None:
        self.routes = tuple(routes)
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, str], int] = {route.key: 0 for route in self.routes}
        self._on_record = on_record

    def record(self, route: LegacyRoute) -> None:
        with self._lock:
            self._counts[route.key] = self._counts.get(route.key, 0) + 1
        if self._on_record is not None:  # the Prometheus counter mfo_legacy_route_hits_total
            self._on_record(*route.key)

    def count(self, family: str, route: str, method: str) -> int:
        with self._lock:
            return self._counts.get((family, route, method), 0)

    def snapshot(self) -> dict[tuple[str, str, str], int]:
        """(family, route, method) -> count, for every known or called route."""
        with self._lock:
            return dict(self._counts)


@get(
    "/api/v1/legacy/usage",
    operation_id="legacyUsage",
    summary="How often each legacy route has been called since the process started (every tenant's calls)",
    tags=["legacy"],
    opt={ROLE: Role.PLATFORM},
    security=PLATFORM_SECURITY,
    responses=protected_responses(),
)
async def legacy_usage(state: State) -> LegacyUsageOut:
    counts = state.legacy_usage.snapshot()
    items = [LegacyUsageItemOut(family, method, route, n) for (family, route, method), n in sorted(counts.items())]
    return LegacyUsageOut(items=items, total=sum(counts.values()))
