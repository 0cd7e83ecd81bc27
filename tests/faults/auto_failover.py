"""A highly available PostgreSQL of the test's own: a pg_auto_failover monitor, a primary and a synchronous standby,
each a ``pg_autoctl`` keeper over its own data folder and free port on 127.0.0.1 (docs/operations.md, ADR 0016).

Every keeper runs as the ``postgres`` user when we are root (PostgreSQL refuses root), in a process group of its
own, with its configuration and state under the test's folder (``XDG_CONFIG_HOME``, ``XDG_DATA_HOME``), so nothing
outlives :meth:`AutoFailoverCluster.destroy`. fsync stays on: a crash of the primary must lose nothing acknowledged.

The monitor's health checks are tightened (a check a second, a node unhealthy after 3 s without a report) so a
crashed primary is failed over within seconds instead of pg_auto_failover's default of about half a minute.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from entrypoints.local_postgres import SERVER_USER, free_port

PG_AUTOCTL = "pg_autoctl"
DATABASE = "mfo_failover"
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": "1000",
    "pgautofailover.health_check_timeout": "1000",
    "pgautofailover.health_check_max_retries": "1",
    "pgautofailover.health_check_retry_delay": "500",
    "pgautofailover.node_considered_unhealthy_timeout": "3000",
    "pgautofailover.startup_grace_period": "3000",
    "pgautofailover.primary_demote_timeout": "5000",
}
"""The monitor's health checks, tightened. ``primary_demote_timeout`` (how long a primary that stopped answering is
given to demote itself before its standby is promoted) must stay above the keepers' network partition timeout
(:data:`NETWORK_PARTITION_SECONDS`): a primary cut off from the monitor and its standby stops accepting writes first."""
NETWORK_PARTITION_SECONDS = "3"


WRITABLE_STATES = {"single", "wait_primary", "primary"}


class AutoFailoverError(RuntimeError):
    pass


def auto_failover_binaries() -> Path | None:
    """The PostgreSQL server binaries pg_auto_failover's extension is installed for (Debian's
    ``postgresql-15-auto-failover``: ``/usr/lib/postgresql/15``), not just any server the machine has."""
    for lib in sorted(glob.glob("/usr/lib/postgresql/*/lib/pgautofailover.so"), reverse=True):
        folder = Path(lib).parents[1] / "bin"
        if all((folder / tool).exists() for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return folder
    return None


def pg_autoctl_available() -> bool:
    return shutil.which(PG_AUTOCTL) is not None and auto_failover_binaries() is not None


@dataclass
class Keeper:
    """One ``pg_autoctl`` service (the monitor's, or a data node's) over ``pgdata`` on ``port``."""

    name: str
    pgdata: Path
    port: int
    log_file: Path
    process: subprocess.Popen[bytes] | None = None

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class AutoFailoverCluster:
    """``start()`` brings up the monitor, then the primary, then its standby (a base backup of it) and waits until
    the standby is synchronous (``secondary``); ``destroy()`` kills every process and removes every file."""

    folder: Path
    database: str = DATABASE
    monitor: Keeper = field(init=False)
    nodes: list[Keeper] = field(init=False)
    _bin: Path = field(init=False)
    _as_root: bool = field(init=False)

    def __post_init__(self) -> None:
        binaries = auto_failover_binaries()
        if binaries is None:
            raise AutoFailoverError("pg_auto_failover is not installed: make auto-failover installs Debian's packages")
        self._bin = binaries
        self._as_root = os.geteuid() == 0
        self.folder.mkdir(parents=True, exist_ok=True)
        for sub in ("config", "share"):
            (self.folder / sub).mkdir(exist_ok=True)
        self._own(self.folder, self.folder / "config", self.folder / "share")
        self.monitor = Keeper("monitor", self.folder / "monitor", free_port(), self.folder / "monitor.log")
        self.nodes = [
            Keeper(f"node_{n}", self.folder / f"node_{n}", free_port(), self.folder / f"node_{n}.log") for n in (1, 2)
        ]

    # -- the URLs ------------------------------------------------------------------------

    @property
    def monitor_uri(self) -> str:
        return f"postgres://autoctl_node@127.0.0.1:{self.monitor.port}/pg_auto_failover?sslmode=disable"

    def url(self) -> str:
        """The multi-host URL MFO is given: both nodes, whichever accepts writes."""
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)
        return f"postgresql://{SERVER_USER}@{hosts}/{self.database}?target_session_attrs=read-write"

    def node_url(self, node: Keeper) -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{node.port}/{self.database}"

    # -- life cycle ------------------------------------------------------------------------

    def start(self, within_seconds: float = 120) -> None:
        deadline = time.monotonic() + within_seconds
        self._spawn(
            self.monitor,
            ["create", "monitor", "--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl", "--run"],
        )
        self._wait(lambda: self._psql(self.monitor.port, "pg_auto_failover", "SELECT 1") == "1", deadline, "monitor")
        for name, value in MONITOR_SETTINGS.items():
            self._psql(self.monitor.port, "pg_auto_failover", f"ALTER SYSTEM SET {name} = '{value}'")
        self._psql(self.monitor.port, "pg_auto_failover", "SELECT pg_reload_conf()")
        first, second = self.nodes
        self._spawn_node(first)
        self._wait(lambda: self.states().get(first.name) == "single/single", deadline, "the first node as single")
        self._spawn_node(second)

        def synchronous_standby() -> bool:
            # pg_basebackup waits for a spread checkpoint (minutes at the default settings): make it immediate
            self._psql(first.port, "postgres", "CHECKPOINT")
            return self.healthy()

        self._wait(synchronous_standby, deadline, "a primary and a synchronous secondary")
        for node in self.nodes:
            self._configure(node, "timeout.network_partition_timeout", NETWORK_PARTITION_SECONDS)

    def destroy(self) -> None:
        for keeper in [*self.nodes, self.monitor]:
            self._kill(keeper)
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- faults ------------------------------------------------------------------------------

    def switchover(self, wait_seconds: int = 60) -> None:
        """``pg_autoctl perform switchover``: the standby becomes primary, the primary its standby."""
        result = self._autoctl(
            ["perform", "switchover", "--monitor", self.monitor_uri, "--wait", str(wait_seconds)], timeout=wait_seconds
        )
        if result.returncode != 0:
            raise AutoFailoverError(f"switchover failed:\n{result.stdout}{result.stderr}")

    def crash(self, node: Keeper) -> None:
        """The node's machine dies: its keeper (which would otherwise restart PostgreSQL at once) and then its
        postmaster get SIGKILL; the monitor fails over to the standby."""
        self._kill(node)

    def set_synchronous(self, on: bool, within_seconds: float = 60) -> None:
        """The standby in the write quorum (commits wait for it: the default) or not (it still streams, but
        asynchronously): ``pg_autoctl set node replication-quorum``; returns once the primary's
        ``synchronous_standby_names`` says so."""
        standby = self.standby()
        primary = self.primary()
        assert primary is not None
        result = self._autoctl(
            ["set", "node", "replication-quorum", "true" if on else "false", "--pgdata", str(standby.pgdata)],
            timeout=30,
        )
        if result.returncode != 0:
            raise AutoFailoverError(f"replication-quorum on {standby.name}:\n{result.stdout}{result.stderr}")

        def applied() -> bool:
            names = self._psql(primary.port, "postgres", "SHOW synchronous_standby_names")
            return bool(names) == on and self.healthy()

        self._wait(applied, time.monotonic() + within_seconds, f"synchronous replication {'on' if on else 'off'}")

    def synchronous_standby_names(self) -> str:
        primary = self.primary()
        return "" if primary is None else self._psql(primary.port, "postgres", "SHOW synchronous_standby_names")

    # -- what the monitor says ----------------------------------------------------------------

    def states(self) -> dict[str, str]:
        """Each node's state as the monitor sees it: ``reported/goal`` (``primary/primary``, ...)."""
        rows = self._psql(
            self.monitor.port,
            "pg_auto_failover",
            "SELECT coalesce(json_object_agg(nodename, reportedstate || '/' || goalstate), '{}')"
            " FROM pgautofailover.node",
        )
        try:
            return json.loads(rows) if rows else {}
        except json.JSONDecodeError:
            return {}

    def primary(self) -> Keeper | None:
        """The node that accepts writes, reported and assigned so by the monitor (None during a switch)."""
        states = self.states()
        for node in self.nodes:
            reported, _, goal = states.get(node.name, "").partition("/")
            if reported == goal and reported in WRITABLE_STATES:
                return node
        return None

    def standby(self) -> Keeper:
        primary = self.primary()
        if primary is None:
            raise AutoFailoverError(f"no primary: {self.states()}")
        return next(node for node in self.nodes if node is not primary)

    def healthy(self) -> bool:
        """One primary and one secondary, as reported and as assigned (nothing in transition)."""
        rows = self._psql(
            self.monitor.port,
            "pg_auto_failover",
            "SELECT string_agg(reportedstate || '/' || goalstate, ' ' ORDER BY reportedstate) FROM pgautofailover.node",
        )
        return rows == "primary/primary secondary/secondary"

    def describe(self) -> str:
        return f"states {self.states()}\n" + "\n".join(
            f"--- {k.name}\n{k.log_tail()}" for k in [self.monitor, *self.nodes]
        )

    # -- internals ----------------------------------------------------------------------------

    def _spawn_node(self, node: Keeper) -> None:
        self._spawn(
            node,
            [
                "create",
                "postgres",
                "--name",
                node.name,
                "--hostname",
                "127.0.0.1",
                "--listen",
                "127.0.0.1",
                "--pghost",
                "127.0.0.1",
                "--username",
                SERVER_USER,
                "--dbname",
                self.database,
                "--monitor",
                self.monitor_uri,
                "--auth",
                "trust",
                "--no-ssl",
                "--run",
            ],
        )

    def _spawn(self, keeper: Keeper, arguments: list[str]) -> None:
        self._own(keeper.log_file, touch=True)
        command = [
            *self._as_server(),
            PG_AUTOCTL,
            *arguments,
            "--pgdata",
            str(keeper.pgdata),
            "--pgport",
            str(keeper.port),
            "--pgctl",
            str(self._bin / "pg_ctl"),
        ]
        with keeper.log_file.open("ab") as log:
            keeper.process = subprocess.Popen(
                command, env=self._env(), stdout=log, stderr=log, cwd="/", start_new_session=True
            )

    def _kill(self, keeper: Keeper) -> None:
        postmaster = keeper.postmaster_pid()
        if keeper.process is not None and keeper.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(keeper.process.pid, signal.SIGKILL)
            keeper.process.wait(timeout=10)
        if postmaster is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(postmaster, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while _alive(postmaster) and time.monotonic() < deadline:
                time.sleep(0.05)  # the kernel reaping it: bounded

    def _configure(self, node: Keeper, name: str, value: str) -> None:
        result = self._autoctl(["config", "set", "--pgdata", str(node.pgdata), name, value], timeout=10)
        if result.returncode != 0:
            raise AutoFailoverError(f"pg_autoctl config set {name} on {node.name}:\n{result.stdout}{result.stderr}")

    def _autoctl(self, arguments: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._as_server(), PG_AUTOCTL, *arguments],
            env=self._env(),
            capture_output=True,
            text=True,
            errors="replace",  # pg_autoctl's messages are not always whole UTF-8
            check=False,
            cwd="/",
            timeout=timeout + 10,
        )

    def _psql(self, port: int, database: str, sql: str) -> str:
        result = subprocess.run(
            [
                str(self._bin / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                SERVER_USER,
                "-d",
                database,
                "-tAc",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    def _wait(self, condition: Callable[[], bool], deadline: float, what: str) -> None:
        while not condition():
            if time.monotonic() > deadline:
                raise AutoFailoverError(f"pg_auto_failover: no {what} in time\n{self.describe()}")
            for keeper in [self.monitor, *self.nodes]:
                if keeper.process is not None and keeper.process.poll() is not None:
                    raise AutoFailoverError(f"{keeper.name}'s pg_autoctl exited\n{self.describe()}")
            time.sleep(0.2)  # polling the monitor: bounded by the deadline

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{self._bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "XDG_CONFIG_HOME": str(self.folder / "config"),
            "XDG_DATA_HOME": str(self.folder / "share"),
            "PGCONNECT_TIMEOUT": "2",
        }

    def _as_server(self) -> list[str]:
        return ["runuser", "-u", SERVER_USER, "--"] if self._as_root else []

    def _own(self, *paths: Path, touch: bool = False) -> None:
        for path in paths:
            if touch:
                path.touch()
            if self._as_root:
                entry = pwd.getpwnam(SERVER_USER)
                os.chown(path, entry.pw_uid, entry.pw_gid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
