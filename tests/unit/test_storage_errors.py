"""How the unit of work names a database failure: which ones are a busy flow (409) and which an outage (503)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork, storage_error
from domain.errors import ConcurrentModification, FlowBusy, StorageUnavailable


class PostgresError(Exception):
    """Stands for the driver's error: what SQLAlchemy wraps as ``.orig``, with PostgreSQL's SQLSTATE."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def wrapped(sqlstate: str | None, kind: type[DBAPIError] = OperationalError) -> DBAPIError:
    return kind("UPDATE flows SET …", {}, PostgresError(sqlstate))


def test_a_lock_timeout_is_a_busy_flow() -> None:
    error = storage_error(wrapped("55P03"))
    assert isinstance(error, FlowBusy)
    assert isinstance(error, ConcurrentModification)
    assert "lock timeout" in str(error) and "nothing was changed" in str(error)


def test_a_statement_timeout_is_an_outage() -> None:
    error = storage_error(wrapped("57014"))
    assert isinstance(error, StorageUnavailable) and not isinstance(error, FlowBusy)
    assert "statement timeout" in str(error)


@pytest.mark.parametrize("sqlstate", ["57P01", "08006", None])  # admin shutdown, connection failure, no SQLSTATE
def test_a_lost_connection_is_an_outage(sqlstate: str | None) -> None:
    assert isinstance(storage_error(wrapped(sqlstate)), StorageUnavailable)


@pytest.mark.parametrize("error", [ConnectionRefusedError(), OSError("unreachable"), TimeoutError()])
def test_a_failed_connect_is_an_outage(error: Exception) -> None:
    assert isinstance(storage_error(error), StorageUnavailable)


def test_an_exhausted_pool_is_an_outage() -> None:
    assert isinstance(storage_error(PoolTimeout()), StorageUnavailable)


def test_a_unique_violation_is_a_concurrent_modification() -> None:
    error = storage_error(wrapped("23505", IntegrityError))
    assert isinstance(error, ConcurrentModification) and not isinstance(error, FlowBusy)


def test_other_errors_are_left_alone() -> None:
    assert storage_error(RuntimeError("a bug")) is None
    assert storage_error(None) is None


class FakeSession:
    """Stands for an ``AsyncSession`` whose connection dies at ``fail_at`` ("execute" or "commit")."""

    def __init__(self, fail_at: str) -> None:
        self.fail_at = fail_at
        self.rolled_back = False

    async def execute(self, *_: object) -> None:
        if self.fail_at == "execute":
            raise ConnectionResetError("connection reset by peer")

    async def commit(self) -> None:
        if self.fail_at == "commit":
            raise ConnectionResetError("connection reset by peer")

    async def rollback(self) -> None:
        self.rolled_back = True

    async def close(self) -> None:
        pass


async def test_a_connection_lost_before_the_commit_changed_nothing() -> None:
    session = FakeSession("execute")
    with pytest.raises(StorageUnavailable) as raised:
        async with SqlAlchemyUnitOfWork(lambda: session) as uow:  # type: ignore[arg-type]
            await uow.session.execute("UPDATE flows …")
            await uow.commit()
    assert raised.value.outcome_unknown is False and "nothing was changed" in str(raised.value)
    assert session.rolled_back


async def test_a_connection_lost_during_the_commit_leaves_the_outcome_unknown() -> None:
    session = FakeSession("commit")
    with pytest.raises(StorageUnavailable) as raised:
        async with SqlAlchemyUnitOfWork(lambda: session) as uow:  # type: ignore[arg-type]
            await uow.session.execute("UPDATE flows …")
            await uow.commit()
    assert raised.value.outcome_unknown is True
    assert "may or may not have been applied" in str(raised.value)


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
def test_the_drivers_own_errors_are_named_as_the_wrapped_ones(raised: Exception, named: type[Exception]) -> None:
    """The hot statements run on asyncpg directly (ADR 0011): its errors mean what SQLAlchemy's wrapped ones do."""
    assert type(storage_error(raised)) is named
