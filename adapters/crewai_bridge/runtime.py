"""crewai, made safe to import: offline, quiet, and with its files out of the way.

Import crewai only through this module (``load_crewai()``): it sets the environment crewai
reads at import time, then silences its console and installs MFO's event capture once.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

OFFLINE_ENVIRONMENT = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_DISABLE_VERSION_CHECK": "true",
    "CREWAI_TRACING_ENABLED": "false",
    "OTEL_SDK_DISABLED": "true",
}

_lock = threading.Lock()
_loaded: ModuleType | None = None
_before: dict[str, str | None] = {}
"""The operator's values of the variables above, as they were before :func:`load_crewai` set them."""


def environment_before_crewai(name: str) -> str | None:
    """The value the operator gave ``name`` (``OTEL_SDK_DISABLED``: MFO's own tracing honours it), even after
    :func:`load_crewai` set it for crewai."""
    return _before[name] if name in _before else os.environ.get(name)


def load_crewai(storage_dir: Path | None = None) -> ModuleType:
    """``crewai.flow.flow``, imported once with telemetry, tracing and version checks off."""
    global _loaded
    with _lock:
        if _loaded is not None:
            return _loaded
        for name, value in OFFLINE_ENVIRONMENT.items():
            _before.setdefault(name, os.environ.get(name))
            os.environ[name] = value
        if storage_dir is not None:
            os.environ.setdefault("CREWAI_STORAGE_DIR", str(storage_dir))
        module = importlib.import_module("crewai.flow.flow")
        _silence_console()
        from adapters.crewai_bridge.event_listener import install_event_capture

        install_event_capture()
        _loaded = module
        return module


def _silence_console() -> None:
    """crewai's panels go through its event listener's formatter; quiet every console it owns."""
    from crewai.events.event_bus import crewai_event_bus
    from crewai.events.event_listener import event_listener

    event_listener.formatter.console.quiet = True
    event_listener.formatter.verbose = False
    crewai_event_bus._console.console.quiet = True
    crewai_logger = logging.getLogger("crewai")
    if not crewai_logger.handlers:
        crewai_logger.addHandler(logging.NullHandler())


@contextmanager
def console_suppressed() -> Iterator[None]:
    """crewai's console output off inside the block, and in the event handlers it runs meanwhile (crewai runs them
    in a copy of the emitting context): its formatter then skips rendering the panels the quiet console would only
    throw away, a large part of an executed phase's time (docs/performance.md)."""
    from crewai.events.utils.console_formatter import set_suppress_console_output

    token = set_suppress_console_output(True)
    try:
        yield
    finally:
        token.var.reset(token)  # type: ignore[attr-defined]
