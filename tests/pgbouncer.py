"""Debian's PgBouncer in transaction pooling mode on 127.0.0.1, in front of a test's PostgreSQL (ADR 0017).

``make test`` installs the ``pgbouncer`` package when ``/usr/sbin/pgbouncer`` is missing (``make pgbouncer``). As root
PgBouncer switches to the ``postgres`` user (it refuses to run as root), so its folder belongs to that user. Every
database name is forwarded to the cluster (``* = ...``) and each login is passed through: PgBouncer authenticates
nobody itself (``auth_type = trust``, the users named in its auth file), and logs in to PostgreSQL with the password
its auth file gives each user (none for the tests' own clusters, which trust 127.0.0.1).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from entrypoints.local_postgres import SERVER_USER, free_port


def pgbouncer_binary() -> Path:
    """``MFO_PGBOUNCER``, else ``pgbouncer`` on the PATH, else Debian's; a test fails (never skips) without it."""
    found = os.environ.get("MFO_PGBOUNCER") or shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(found).exists():
        raise RuntimeError(f"{found} not found: `make pgbouncer` installs Debian's pgbouncer package")
    return Path(found)


@dataclass
class PgBouncer:
    """One PgBouncer process, its configuration in ``folder``; ``url(user, database)`` leads through it."""

    folder: Path
    upstream_port: int
    upstream_host: str = "127.0.0.1"
    users: dict[str, str] = field(default_factory=lambda: {SERVER_USER: "", "mfo_app": ""})
    """Each login PgBouncer lets through, with the password it logs in to PostgreSQL with (empty: none)."""
    max_db_connections: int = 20
    """The most server connections to one database, over every user's pool together."""
    pool_size: int = 20
    """The most server connections of one user's pool (``default_pool_size``)."""
    port: int = 0

    def __post_init__(self) -> None:
        self.folder = self.folder.resolve()
        self.port = self.port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def log_file(self) -> Path:
        return self.folder / "pgbouncer.log"

    def url(self, user: str, database: str) -> str:
        return f"postgresql+asyncpg://{user}@127.0.0.1:{self.port}/{database}"

    def config(self) -> str:
        as_root = os.geteuid() == 0
        lines = [
            "[databases]",
            f"* = host={self.upstream_host} port={self.upstream_port}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "pool_mode = transaction",
            "auth_type = trust",
            f"auth_file = {self.folder / 'users.txt'}",
            f"admin_users = {SERVER_USER}",
            "max_client_conn = 2000",
            f"default_pool_size = {self.pool_size}",
            f"max_db_connections = {self.max_db_connections}",
            "reserve_pool_size = 0",
            "server_reset_query =",
            "query_wait_timeout = 60",
            f"logfile = {self.log_file}",
            f"pidfile = {self.folder / 'pgbouncer.pid'}",
            "log_connections = 0",
            "log_disconnections = 0",
        ]
        if as_root:
            lines.append(f"user = {SERVER_USER}")
        return "\n".join(lines) + "\n"

    def start(self, within_seconds: float = 20) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "users.txt").write_text(
            "".join(f'"{user}" "{password}"\n' for user, password in self.users.items())
        )
        (self.folder / "pgbouncer.ini").write_text(self.config())
        self.log_file.touch()
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SERVER_USER)
            for path in (self.folder, *self.folder.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        with (self.folder / "stdout.log").open("ab") as out:
            self._process = subprocess.Popen(
                [str(pgbouncer_binary()), str(self.folder / "pgbouncer.ini")], stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + within_seconds
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"PgBouncer did not start:\n{self.log_tail()}")
            time.sleep(0.1)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)  # PgBouncer's immediate shutdown
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        texts = [p.read_text(errors="replace") for p in (self.log_file, self.folder / "stdout.log") if p.exists()]
        return "\n".join("\n".join(texts).splitlines()[-lines:])

    def _answers(self) -> bool:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            return probe.connect_ex(("127.0.0.1", self.port)) == 0
