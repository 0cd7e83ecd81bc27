"""Real ``mfo serve`` and ``mfo worker`` processes on a database of their own, for the background-execution tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from entrypoints.local_postgres import free_port
from tests.support import Hopeless, eventually_sync, migrated_database

REPOSITORY = Path(__file__).resolve().parents[2]


async def create_database(server_url: str) -> str:
    """A new, migrated database on the same server, with the sleepers' child tables; its URL."""
    from tests.plugin_example.sleeper import SLEEPER_FLOWS, SLEEPER_STRICT_FLOWS

    return await migrated_database(server_url, "mfo_bg", child_tables=(SLEEPER_FLOWS, SLEEPER_STRICT_FLOWS))


SLEEPER_ENTRY_POINTS = (
    "sleeper = tests.plugin_example.sleeper:register",
    "sleeper_strict = tests.plugin_example.sleeper:register_strict",
)


def install_sleeper_plugin(folder: Path) -> Path:
    """A distribution's metadata that registers the sleeper flow types, as ``pip install`` would write it."""
    dist = folder / "mfo_sleeper_plugin-1.0.dist-info"
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mfo-sleeper-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[mfo.flow_types]\n" + "".join(f"{e}\n" for e in SLEEPER_ENTRY_POINTS))
    return folder


class MfoProcess:
    """One ``python -m entrypoints.cli <command>`` process, its output in a log file."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", *command],
            env=env,
            cwd=REPOSITORY,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = 60) -> None:
        """:func:`eventually_sync` on ``ready``, failing at once if this process exits; its output's end if it fails."""

        def alive_and_ready() -> bool:
            if self.process.poll() is not None:
                raise Hopeless(f"the process exited with {self.process.returncode}")
            return ready()

        eventually_sync(alive_and_ready, within=timeout, what=what, every=0.1, detail=lambda: self.output()[-4000:])

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a machine dies."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._out.close() if not self._out.closed else None


def mfo_env(database_url: str, plugin_folder: Path, **settings: Any) -> dict[str, str]:
    python_path = os.pathsep.join(filter(None, [str(plugin_folder), str(REPOSITORY), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "MFO_DATABASE_URL": database_url, "PYTHONPATH": python_path, "MFO_AUTH_MODE": "dev"}
    env["MFO_SHUTDOWN_GRACE_SECONDS"] = "0"  # stop at once on SIGTERM
    env.update({f"MFO_{name.upper()}": str(value) for name, value in settings.items()})
    return env


STARTUP_SECONDS = 180  # importing crewai and litestar takes seconds, many more on a loaded machine


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


class Fleet:
    """Servers and workers launched together (their start-ups overlap), waited for, and stopped together."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: list[MfoProcess] = []
        self._pending: list[tuple[MfoProcess, Callable[[], bool], str]] = []

    def server(self, name: str) -> tuple[MfoProcess, str]:
        port = free_port()
        server = self._launch(["serve", "--port", str(port)], name)
        base = f"http://127.0.0.1:{port}"
        self._pending.append((server, lambda: _healthy(base), f"server {name} answering /health"))
        return server, base

    def worker(self, name: str) -> MfoProcess:
        worker = self._launch(["worker"], name)
        self._pending.append(
            (worker, lambda: "running due phase work as" in worker.output(), f"worker {name} starting")
        )
        return worker

    def wait(self) -> None:
        for process, ready, what in self._pending:
            process.wait_until(ready, what, timeout=STARTUP_SECONDS)
        self._pending.clear()

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def _launch(self, command: list[str], name: str) -> MfoProcess:
        process = MfoProcess(command, self.env, self.log_dir / f"{name}.log")
        self.processes.append(process)
        return process
