"""A real server process (``mfo serve``) on a free port, for tests that need a socket."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from entrypoints.local_postgres import free_port


@dataclass(frozen=True)
class Server:
    base_url: str
    log: Path

    def log_tail(self, characters: int = 20_000) -> str:
        return self.log.read_text(errors="replace")[-characters:]


@contextmanager
def real_server(database_url: str, **env: str) -> Iterator[Server]:
    """Serve the API on ``database_url`` with extra ``MFO_...`` settings; its output goes to a file (a pipe
    nobody reads would stall a busy server)."""
    port = free_port()
    environment = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "MFO_DATABASE_URL": database_url,
        "MFO_PORT": str(port),
        **env,
    }
    log = Path(tempfile.mkstemp(prefix="mfo-server-", suffix=".log")[1])
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve"], env=environment, stdout=output, stderr=output
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the server did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
    try:
        yield Server(base, log)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.unlink(missing_ok=True)
