"""Start-up: what the process built to start is put beyond the garbage collector's full collections."""

from __future__ import annotations

import gc
from typing import Any

from entrypoints.http.app import freeze_startup_objects


def test_the_app_freezes_the_objects_it_built_when_it_starts(app: Any) -> None:
    assert freeze_startup_objects in app.on_startup
    before = gc.get_freeze_count()
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() > before
        assert gc.get_freeze_count() > 100_000  # the modules, crewai's classes, the app: not a handful
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
