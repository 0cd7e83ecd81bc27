"""A real server process (``mfo serve``) on a free port, for tests that need a socket."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from entrypoints.local_postgres import free_port
from tests.support import Hopeless, eventually_sync


@dataclass(frozen=True)
class Server:
    base_url: str
    log: Path

    def log_tail(self, characters: int = 20_000) -> str:
        return self.log.read_text(errors="replace")[-characters:]


@contextmanager
def real_server(
    database_url: str, *args: str, unset: tuple[str, ...] = (), keep_log: bool = False, **env: str
) -> Iterator[Server]:
    """``mfo serve *args`` on ``database_url`` with extra ``MFO_...`` settings, without the variables in ``unset``;
    its output goes to a file (a pipe nobody reads would stall a busy server), removed at the end unless
    ``keep_log`` (then read it after the server has stopped, when every line is written)."""
    port = free_port()
    environment = {
        **{name: value for name, value in os.environ.items() if name not in unset},
        "PYTHONUNBUFFERED": "1",
        "MFO_DATABASE_URL": database_url,
        "MFO_PORT": str(port),
        "MFO_SHUTDOWN_GRACE_SECONDS": "0",  # stop at once (tests/e2e/test_graceful_shutdown.py tests the grace)
        **env,
    }
    log = Path(tempfile.mkstemp(prefix="mfo-server-", suffix=".log")[1])
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "serve", *args], env=environment, stdout=output, stderr=output
        )
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if process.poll() is not None:
            raise Hopeless(f"the server exited with {process.returncode}")
        return httpx.get(f"{base}/health", timeout=1).status_code == 200  # a TransportError: not up yet

    try:
        eventually_sync(
            healthy,
            within=180,
            what="the server answering /health",
            every=0.2,
            detail=lambda: log.read_text(errors="replace"),
        )
    except AssertionError as failed:
        process.kill()
        pytest.fail(f"the server did not start: {failed}")
    try:
        yield Server(base, log)
    finally:
        process.terminate()
        process.wait(timeout=30)
        if not keep_log:
            log.unlink(missing_ok=True)
