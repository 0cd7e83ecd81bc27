"""Structured logs: one JSON object per line, carrying the request's id, tenant and flow id.

The fields come from a ContextVar: the HTTP middleware binds ``request_id`` and ``tenant``, the observer binds
``flow_id`` and ``flow_type`` once the orchestrator knows them. Every record logged in that context carries them.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import msgspec
from opentelemetry import trace

_FIELDS: ContextVar[dict[str, str]] = ContextVar("mfo_log_fields", default={})  # noqa: B039  (never mutated)

# Attributes every LogRecord has; anything else was passed in ``extra=`` and goes into the line.
# uvicorn's ``color_message`` repeats the message with terminal colours.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


_encode = msgspec.json.Encoder(enc_hook=str).encode
"""JSON with anything it cannot encode (an exception, a custom type) as its ``str``: several times faster than
``json.dumps`` on a log line, and a server writes at least one per request (docs/performance.md)."""


def log_fields() -> dict[str, str]:
    return dict(_FIELDS.get())


def set_log_fields(**fields: str) -> Any:
    """Add fields to this context until the returned token is passed to :func:`reset_log_fields`."""
    return _FIELDS.set({**_FIELDS.get(), **{k: v for k, v in fields.items() if v}})


def reset_log_fields(token: Any) -> None:
    _FIELDS.reset(token)


@contextmanager
def log_context(**fields: str) -> Iterator[None]:
    token = set_log_fields(**fields)
    try:
        yield
    finally:
        reset_log_fields(token)


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", "tenant", "flow_id", ..., "trace_id"}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(_FIELDS.get())
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            line.setdefault("trace_id", format(context.trace_id, "032x"))
            line.setdefault("span_id", format(context.span_id, "016x"))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return _encode(line).decode()


def log_config(level: str = "INFO", json_lines: bool = True) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for MFO's and uvicorn's loggers (uvicorn takes it as ``log_config``)."""
    formatter = {"()": f"{__name__}.JsonFormatter"} if json_lines else {"format": "%(levelname)s %(name)s %(message)s"}
    handler = {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
    logger = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": {name: logger for name in ("mfo", "uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def install_json_handler(level: str = "INFO") -> None:
    """Log MFO's records as JSON lines on standard error (once per process; tests still see them via caplog)."""
    logger = logging.getLogger("mfo")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level.upper())
