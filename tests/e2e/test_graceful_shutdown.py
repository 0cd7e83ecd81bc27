"""A real ``mfo serve`` given SIGTERM while a slow request is in flight: ``/readyz`` answers 503 (and everything else is
still served) before the server stops accepting, the request in flight is finished, then the process exits."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import httpx

from entrypoints.local_postgres import free_port
from tests.support import Hopeless, eventually_sync

GRACE_SECONDS = 3


def test_sigterm_turns_readiness_false_before_the_server_drains(migrated_url: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkstemp(prefix="mfo-shutdown-", suffix=".log")[1])
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "MFO_DATABASE_URL": migrated_url,
        "MFO_PORT": str(port),
        "MFO_AUTH_MODE": "dev",
        "MFO_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve"], env=env, stdout=output, stderr=output
        )
    try:

        def ready() -> bool:
            if process.poll() is not None:
                raise Hopeless(f"the server exited with {process.returncode}")
            try:
                return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        eventually_sync(ready, within=180, what="/readyz answering 200", every=0.2, detail=log.read_text)

        body = json.dumps({"flow_type": "discovery", "name": "in flight", "configuration": {}}).encode()
        slow = socket.create_connection(("127.0.0.1", port), timeout=30)
        slow.sendall(
            b"POST /api/v1/flows HTTP/1.1\r\nHost: mfo\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n".encode()
            + f"X-Client-Account-ID: {uuid4()}\r\nX-Engagement-ID: {uuid4()}\r\n".encode()
            + b"Connection: close\r\n\r\n"
            + body[:10]  # the rest comes after SIGTERM: the request is in flight meanwhile
        )
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()

        def not_ready() -> bool:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 503

        eventually_sync(not_ready, within=GRACE_SECONDS, what="/readyz answering 503 after SIGTERM", every=0.1)
        readiness = httpx.get(f"{base}/readyz", timeout=2)
        assert readiness.json()["checks"]["shutdown"] == "shutting down"
        assert httpx.get(f"{base}/livez", timeout=2).status_code == 200  # still serving during the grace
        assert process.poll() is None

        slow.sendall(body[10:])
        answer = _read_all(slow)
        assert answer.startswith(b"HTTP/1.1 201"), answer[:300]  # the request in flight was finished

        process.wait(timeout=60)
        assert time.monotonic() - signalled >= GRACE_SECONDS - 0.5  # it served on for the grace first
        try:
            httpx.get(f"{base}/livez", timeout=1)
            raise AssertionError("the server still answers after it exited")
        except httpx.TransportError:
            pass
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        log.unlink(missing_ok=True)


def _read_all(connection: socket.socket) -> bytes:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    connection.close()
    return b"".join(chunks)
