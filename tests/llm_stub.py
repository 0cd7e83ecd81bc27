"""An OpenAI-compatible LLM endpoint for tests, on 127.0.0.1 (standard library only).

``POST /v1/chat/completions`` answers with the next scripted :class:`Behaviour` (the last one repeats): a chat
completion with given content, possibly after a delay; an HTTP error, with ``Retry-After`` if asked; or no answer
at all until the client goes away. Any other path answers 404. Every request is recorded (:class:`Received`) with
whether it was answered and whether the client disconnected before that. Each request is served in a thread of
its own, so a hanging request blocks nothing else.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Behaviour:
    status: int = 200
    content: str = ""
    """The assistant message's content, for status 200."""
    delay_seconds: float = 0.0
    """How long to wait before answering (a client leaving meanwhile is noticed and recorded)."""
    hang: bool = False
    """Never answer: wait until the client goes away (or the stub closes)."""
    headers: tuple[tuple[str, str], ...] = ()


def answer(content: str, *, delay_seconds: float = 0.0) -> Behaviour:
    return Behaviour(content=content, delay_seconds=delay_seconds)


def status(code: int, *, retry_after: float | None = None) -> Behaviour:
    headers = (("Retry-After", f"{retry_after:g}"),) if retry_after is not None else ()
    return Behaviour(status=code, headers=headers)


def hang() -> Behaviour:
    return Behaviour(hang=True)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    answered: bool = False
    disconnected: bool = False
    """The client closed the connection before it had an answer."""
    at: float = field(default_factory=time.monotonic)
    disconnected_at: float | None = None


class LLMStub:
    """The endpoint; :attr:`base_url` is what an OpenAI client takes (``http://127.0.0.1:<port>/v1``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: list[Behaviour] = [answer("{}")]
        self._received: list[Received] = []
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stub = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="llm-stub", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *behaviours: Behaviour) -> None:
        """The behaviours of the next requests, in order; the last one repeats."""
        if not behaviours:
            raise ValueError("script at least one behaviour")
        with self._lock:
            self._script = list(behaviours)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def start(self) -> LLMStub:
        self._thread.start()
        return self

    def close(self) -> None:
        self.stopping.set()  # hanging requests end
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def record(self, request: Received, *, scripted: bool) -> Behaviour | None:
        """Keeps ``request``; the behaviour it gets when ``scripted``."""
        with self._lock:
            self._received.append(request)
            if not scripted:
                return None
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    stub: LLMStub


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        request = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        behaviour = self.server.stub.record(request, scripted=self.path.rstrip("/") == "/v1/chat/completions")
        if behaviour is None or self.command != "POST":
            self._send(request, 404, _error("no such route on the stub", "not_found"))
            return
        if not self._client_stays(request, None if behaviour.hang else behaviour.delay_seconds):
            return
        if behaviour.status != 200:
            self._send(request, behaviour.status, _error(f"stub error {behaviour.status}", "stub"), behaviour.headers)
            return
        model = body.get("model", "stub") if isinstance(body, dict) else "stub"
        self._send(request, 200, _completion(model, behaviour.content), behaviour.headers)

    def _client_stays(self, request: Received, seconds: float | None) -> bool:
        """Waits ``seconds`` (None: until the stub closes); False as soon as the client goes away."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while not self.server.stub.stopping.is_set():
            remaining = 0.02 if deadline is None else min(0.02, deadline - time.monotonic())
            if remaining <= 0:
                return True
            readable, _, _ = select.select([self.connection], [], [], remaining)
            if not readable:
                continue
            try:
                gone = self.connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                gone = True
            if gone:
                request.disconnected, request.disconnected_at = True, time.monotonic()
                self.close_connection = True
                return False
            time.sleep(0.02)  # the client sent more while waiting: not a disconnect
        self.close_connection = True
        return False

    def _send(
        self, request: Received, code: int, payload: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            request.answered = True
        except OSError:
            request.disconnected, request.disconnected_at = True, time.monotonic()
            self.close_connection = True


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


_connections: list[list[Any]] = []
_hooked = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and _connections:
        for log in _connections:
            log.append(args[1])


@contextmanager
def outbound_connections() -> Iterator[list[Any]]:
    """The addresses any thread of this process connects a socket to inside the block (an audit hook)."""
    global _hooked
    import sys

    if not _hooked:
        sys.addaudithook(_audit)
        _hooked = True
    seen: list[Any] = []
    _connections.append(seen)
    try:
        yield seen
    finally:
        _connections.remove(seen)
