"""The legacy discovery routes old clients still call, deprecated, counted, and switchable off (410 Gone)."""

from __future__ import annotations

from entrypoints.http.legacy.routes import LEGACY_CONTROLLERS, legacy_controller, legacy_routes
from entrypoints.http.legacy.usage import LegacyRoute, LegacyUsage, legacy_usage

__all__ = ["LEGACY_CONTROLLERS", "LegacyRoute", "LegacyUsage", "legacy_controller", "legacy_routes", "legacy_usage"]
