"""The module-level app an ASGI server imports: ``uvicorn entrypoints.http.asgi:app``.

It reads its settings from the environment; ``MFO_DATABASE_URL`` must be set (``mfo serve``
sets it to the embedded database when none is given).
"""

from __future__ import annotations

from entrypoints.http.app import create_app
from entrypoints.settings import Settings

_settings = Settings.from_env()
app = create_app(_settings, background_worker=_settings.worker.in_serve)
