"""How the unit of work names a database failure: a busy flow (409), a concurrent change (409), a value the
database cannot hold (422), an outage (503); anything else is left alone (a bug: 500)."""

from __future__ import annotations

import asyncpg
import pytest

from adapters.persistence.database import PoolOptions, PoolTimeout
from adapters.persistence.storage_errors import storage_error
from adapters.persistence.unit_of_work import AsyncpgUnitOfWork
from domain.errors import ConcurrentModification, FlowBusy, InvalidFlowInput, StorageUnavailable


def server_error(sqlstate: str | None) -> asyncpg.PostgresError:
    """A PostgreSQL error as asyncpg raises it, with ``sqlstate``."""
    error = asyncpg.PostgresError(f"SQLSTATE {sqlstate}")
    error.sqlstate = sqlstate  # type: ignore[attr-defined]
    return error


def test_a_lock_timeout_is_a_busy_flow() -> None:
    error = storage_error(server_error("55P03"))
    assert isinstance(error, FlowBusy)
    assert isinstance(error, ConcurrentModification)
    assert "lock timeout" in str(error) and "nothing was changed" in str(error)


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])  # serialization failure, deadlock
def test_a_lost_race_between_transactions_is_a_busy_flow(sqlstate: str) -> None:
    assert isinstance(storage_error(server_error(sqlstate)), FlowBusy)


def test_a_statement_timeout_is_an_outage() -> None:
    error = storage_error(server_error("57014"))
    assert isinstance(error, StorageUnavailable) and not isinstance(error, FlowBusy)
    assert "statement timeout" in str(error)


@pytest.mark.parametrize("sqlstate", ["57P01", "08006", "53300", None])  # shutdown, connection, too many, no code
def test_a_lost_connection_is_an_outage(sqlstate: str | None) -> None:
    assert isinstance(storage_error(server_error(sqlstate)), StorageUnavailable)


@pytest.mark.parametrize("error", [ConnectionRefusedError(), OSError("unreachable"), TimeoutError()])
def test_a_failed_connect_is_an_outage(error: Exception) -> None:
    assert isinstance(storage_error(error), StorageUnavailable)


def test_an_exhausted_pool_is_an_outage() -> None:
    assert isinstance(storage_error(PoolTimeout("no database connection could be had in time")), StorageUnavailable)


def test_a_unique_violation_is_a_concurrent_modification() -> None:
    error = storage_error(asyncpg.exceptions.UniqueViolationError("duplicate key"))
    assert isinstance(error, ConcurrentModification) and not isinstance(error, FlowBusy)


def test_a_value_out_of_its_columns_range_is_the_clients() -> None:
    error = storage_error(asyncpg.exceptions.DatetimeFieldOverflowError("date/time field value out of range"))
    assert isinstance(error, InvalidFlowInput) and "out of range" in str(error)


def test_other_errors_are_left_alone() -> None:
    assert storage_error(RuntimeError("a bug")) is None
    assert storage_error(asyncpg.exceptions.UndefinedTableError("relation does not exist")) is None
    assert storage_error(None) is None


@pytest.mark.parametrize(
    ("raised", "named"),
    [
        (asyncpg.exceptions.LockNotAvailableError("lock timeout"), FlowBusy),
        (asyncpg.exceptions.QueryCanceledError("statement timeout"), StorageUnavailable),
        (asyncpg.exceptions.UniqueViolationError("duplicate key"), ConcurrentModification),
        (asyncpg.exceptions.AdminShutdownError("terminating connection"), StorageUnavailable),
        (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"), StorageUnavailable),
    ],
)
def test_the_drivers_own_errors_are_named_by_their_sqlstate(raised: Exception, named: type[Exception]) -> None:
    assert type(storage_error(raised)) is named


class FakeConnection:
    """Stands for a pooled asyncpg connection that dies at ``fail_at`` (a statement, or the ``COMMIT``)."""

    def __init__(self, fail_at: str) -> None:
        self.fail_at = fail_at
        self.sent: list[str] = []
        self.terminated = False

    async def execute(self, query: str, *_: object) -> str:
        self.sent.append(query.split()[0])
        if (self.fail_at == "statement" and query.startswith("UPDATE")) or (
            self.fail_at == "commit" and query == "COMMIT"
        ):
            raise ConnectionResetError("connection reset by peer")
        return "UPDATE 1"

    def terminate(self) -> None:
        self.terminated = True

    def is_closed(self) -> bool:
        return self.terminated


class FakeDatabase:
    def __init__(self, connection: FakeConnection) -> None:
        self.connection = connection
        self.released = 0
        self.commits = 0
        self.options = PoolOptions()

    async def acquire(self) -> FakeConnection:
        return self.connection

    async def release(self, connection: FakeConnection) -> None:
        self.released += 1


async def test_a_connection_lost_before_the_commit_changed_nothing() -> None:
    database = FakeDatabase(FakeConnection("statement"))
    with pytest.raises(StorageUnavailable) as raised:
        async with AsyncpgUnitOfWork(database) as uow:  # type: ignore[arg-type]
            await (await uow.connection()).execute("UPDATE flows …")
            await uow.commit()
    assert raised.value.outcome_unknown is False and "nothing was changed" in str(raised.value)
    # no ROLLBACK sent on a lost connection: it is terminated (the server rolls back) and never pooled again
    assert database.connection.sent == ["BEGIN", "UPDATE"] and database.connection.terminated
    assert database.released == 1


async def test_a_connection_lost_during_the_commit_leaves_the_outcome_unknown() -> None:
    database = FakeDatabase(FakeConnection("commit"))
    with pytest.raises(StorageUnavailable) as raised:
        async with AsyncpgUnitOfWork(database) as uow:  # type: ignore[arg-type]
            await (await uow.connection()).execute("UPDATE flows …")
            await uow.commit()
    assert raised.value.outcome_unknown is True
    assert "may or may not have been applied" in str(raised.value)
    assert database.connection.terminated and database.released == 1 and database.commits == 0


def test_a_node_that_became_read_only_is_an_outage() -> None:
    """After a switchover a pooled connection may still point at the old primary, now a standby (25006)."""
    error = storage_error(asyncpg.exceptions.ReadOnlySQLTransactionError("cannot execute UPDATE in a read-only"))
    assert isinstance(error, StorageUnavailable) and "read-only" in str(error)


def test_no_host_of_a_multi_host_url_accepting_writes_is_an_outage() -> None:
    error = storage_error(asyncpg.exceptions.TargetServerAttributeNotMatched("None of the hosts match"))
    assert isinstance(error, StorageUnavailable)
