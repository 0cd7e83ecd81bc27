"""crewai's events, captured per kickoff through its event bus.

One handler per event type is registered once. It appends to the list held in a
ContextVar that the bridge sets around each kickoff; crewai runs handlers under a copy of
the emitting context, so each kickoff sees only its own events, even when many run at once.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_sink: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("mfo_crewai_events", default=None)
_lock = threading.Lock()
_installed = False


def _capture(source: object, event: Any) -> None:
    sink = _sink.get()
    if sink is not None:
        with _lock:
            sink.append(event)


def install_event_capture() -> None:
    global _installed
    if _installed:
        return
    from crewai.events import (
        FlowFailedEvent,
        FlowFinishedEvent,
        FlowStartedEvent,
        MethodExecutionFailedEvent,
        MethodExecutionFinishedEvent,
        MethodExecutionStartedEvent,
        crewai_event_bus,
    )

    for event_type in (
        FlowStartedEvent,
        FlowFinishedEvent,
        FlowFailedEvent,
        MethodExecutionStartedEvent,
        MethodExecutionFinishedEvent,
        MethodExecutionFailedEvent,
    ):
        crewai_event_bus.on(event_type)(_capture)
    _installed = True


@contextmanager
def captured_events() -> Iterator[list[dict[str, Any]]]:
    """Collect the events of the kickoff run inside the block, as plain dicts in emission order."""
    raw: list[Any] = []
    summary: list[dict[str, Any]] = []
    token = _sink.set(raw)
    try:
        yield summary
    finally:
        _sink.reset(token)
        for event in sorted(raw, key=lambda e: e.emission_sequence or 0):
            entry = {"type": event.type, "sequence": event.emission_sequence, "at": event.timestamp.isoformat()}
            method = getattr(event, "method_name", None)
            if method:
                entry["method"] = method
            error = getattr(event, "error", None)
            if error:
                entry["error"] = str(error)[:500]
            summary.append(entry)
