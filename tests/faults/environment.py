"""A real MFO server process over a PostgreSQL cluster of the test's own, and the checks made after a fault."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.persistence.database import Database
from domain.flow_types import FlowTypeDefinition
from entrypoints.settings import Settings
from tests.faults.load import Ledger, Unchanged
from tests.support import TEST_JWT_SECRET, Hopeless, eventually


class MfoProcess:
    """``python -m entrypoints.cli <command>`` in a child process over the test's cluster, its output in a log file
    (a file, not a pipe: a full pipe would stall it)."""

    def __init__(self, command: list[str], database_url: str, log_file: Path, **env: str) -> None:
        self._command = command
        self._log_file = log_file
        self._env = {
            **os.environ,
            "MFO_DATABASE_URL": database_url,
            "MFO_AUTH_MODE": "production",
            "MFO_JWT_SECRET": TEST_JWT_SECRET,
            "MFO_SHUTDOWN_GRACE_SECONDS": "0",  # stop at once on SIGTERM
            **env,
        }
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    async def start(self, within_seconds: float = 180) -> None:  # importing crewai is slow on a busy machine
        with self._log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "entrypoints.cli", *self._command], env=self._env, stdout=log, stderr=log
            )
        process = self._process

        async def ready() -> bool:
            if process.poll() is not None:
                raise Hopeless(f"{' '.join(self._command)} exited with {process.returncode}")
            return await self._ready()

        try:
            await eventually(ready, within=within_seconds, what=self._readiness, every=0.2, detail=self.log_tail)
        except AssertionError:
            self.stop()
            raise

    _readiness = "the process ready"

    async def _ready(self) -> bool:
        raise NotImplementedError

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, in-flight requests and transactions are cut off."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=10)

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def log(self) -> str:
        return self._log_file.read_text(errors="replace")


class MfoServer(MfoProcess):
    """``mfo serve`` on a fixed port, so a restart keeps its address."""

    _readiness = "the server answering /health"

    def __init__(self, database_url: str, log_file: Path, port: int, **env: str) -> None:
        super().__init__(["serve"], database_url, log_file, MFO_PORT=str(port), **env)
        self.base_url = f"http://127.0.0.1:{port}"

    async def _ready(self) -> bool:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as http:
            return (await http.get("/health")).status_code == 200  # a TransportError: not up yet


class MfoWorker(MfoProcess):
    """``mfo worker``: a runner claiming due work, and nothing else."""

    _readiness = "the worker running due phase work"
    _READY = re.compile(r"mfo worker: running due phase work as (\S+)")

    def __init__(self, database_url: str, log_file: Path, **env: str) -> None:
        super().__init__(["worker"], database_url, log_file, **env)
        self.owner = ""
        """Its runner's owner id (the owner of its leases and attempts), once it started."""

    async def _ready(self) -> bool:
        found = self._READY.search(self.log())
        if found:
            self.owner = found.group(1)
        return found is not None


REPOSITORY = Path(__file__).resolve().parents[2]


async def install_sleeper(database_url: str, workdir: Path) -> dict[str, str]:
    """The sleeper flow type (tests/plugin_example/sleeper.py) for the test's processes: its child table created in
    the database, as its own migration would, and the environment that registers it (a distribution's metadata with
    its entry point, on the processes' ``PYTHONPATH``)."""
    import asyncpg

    from adapters.persistence.child_tables import child_table_ddl
    from adapters.persistence.database import postgres_dsn
    from tests.plugin_example.sleeper import SLEEPER_FLOWS

    connection = await asyncpg.connect(postgres_dsn(database_url))
    try:
        for statement in child_table_ddl(SLEEPER_FLOWS):
            await connection.execute(statement)
    finally:
        await connection.close()
    plugin = workdir / "plugin"
    dist = plugin / "mfo_sleeper_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mfo-sleeper-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[mfo.flow_types]\nsleeper = tests.plugin_example.sleeper:register\n")
    python_path = [str(plugin), str(REPOSITORY), os.environ.get("PYTHONPATH", "")]
    return {"PYTHONPATH": os.pathsep.join(filter(None, python_path))}


async def lost_writes(database_url: str, ledger: Ledger) -> list[str]:
    """Every acknowledged write must be stored: the flow at that version or later, with the acknowledged status
    recorded by the event of that version (events are never rewritten). Read straight from PostgreSQL."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            versions = dict((await connection.execute(text("SELECT flow_id::text, version FROM flows"))).all())
            events = (await connection.execute(text("SELECT flow_id::text, version, to_status FROM flow_events"))).all()
    finally:
        await engine.dispose()
    recorded = {(flow_id, version): status for flow_id, version, status in events}
    lost = []
    for flow_id, ack in ledger.acked.items():
        stored = versions.get(flow_id)
        if stored is None:
            lost.append(f"{flow_id}: acknowledged at v{ack.version} ({ack.status}) but not stored")
        elif stored < ack.version:
            lost.append(f"{flow_id}: acknowledged at v{ack.version}, stored at v{stored}")
        elif (event := recorded.get((flow_id, ack.version))) != ack.status:
            lost.append(f"{flow_id}: v{ack.version} acknowledged {ack.status}, its event says {event}")
    return lost


async def left_by_process(database_url: str, pid: int) -> list[str]:
    """The leases a process's runner still holds and its attempts with no end recorded (its owner id names its
    process id, entrypoints' ``runner_id``): none once another runner has taken over what a dead process ran."""
    owner = {"owner": f"%:{pid}:%"}
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            leases = (
                await connection.execute(text("SELECT flow_id::text FROM phase_leases WHERE owner LIKE :owner"), owner)
            ).all()
            attempts = (
                await connection.execute(
                    text("SELECT flow_id::text FROM phase_attempts WHERE owner LIKE :owner AND result IS NULL"), owner
                )
            ).all()
    finally:
        await engine.dispose()
    return [f"{flow_id}: leased" for (flow_id,) in leases] + [f"{flow_id}: attempt open" for (flow_id,) in attempts]


RUNNER_OPERATIONS = ("complete_phase", "reattempt_phase")
"""What a runner records of its own accord: an attempt's end, the next attempt (the end of an attempt a client
claimed is recorded in that client's name, but no client request writes one). Nothing else changes a flow that no
client is changing."""


async def changed_after_refusals(database_url: str, unchanged: list[Unchanged]) -> list[str]:
    """Each refusal that said nothing was changed must have changed nothing: every event recorded between the
    refused version and the version the client read next is a runner's (an attempt claimed earlier completing)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            events = (
                await connection.execute(text("SELECT flow_id::text, version, operation, actor FROM flow_events"))
            ).all()
    finally:
        await engine.dispose()
    by_flow: dict[str, list[tuple[int, str, str]]] = {}
    for flow_id, version, operation, actor in events:
        by_flow.setdefault(flow_id, []).append((version, operation, actor))
    changed = []
    for refusal in unchanged:
        for version, operation, actor in sorted(by_flow.get(refusal.flow_id, [])):
            if refusal.version < version <= refusal.read_version and operation not in RUNNER_OPERATIONS:
                changed.append(
                    f"{refusal.flow_id}: a refusal said nothing was changed at v{refusal.version}, "
                    f"but v{version} is {operation} by {actor}"
                )
    return changed


async def audit_findings(database_url: str, extra: tuple[FlowTypeDefinition, ...] = ()) -> list[str]:
    """What the consistency auditor (``mfo audit``) reports, one line per inconsistent flow. Built as the container
    builds it, from the same flow types and CrewAI settings as the server (and ``extra``: the types the server had
    from a plugin this process has not installed), without loading CrewAI itself."""
    from entrypoints.container import build_auditor
    from entrypoints.flow_type_plugins import load_flow_type_registry

    settings = Settings.from_env()
    database = Database(database_url)
    try:
        flow_types = load_flow_type_registry(settings.flow_type_group, extra)
        report = await build_auditor(database, settings, flow_types).audit()
    finally:
        await database.close()
    assert report.flows_checked > 0
    return [f"{f.flow_id} {f.status} v{f.version}: {'; '.join(f.problems)}" for f in report.findings]
