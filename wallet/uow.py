"""The unit of work: one database transaction plus what must follow its commit.

The edge (an HTTP handler, a command) opens it; services receive it, run
their queries on ``uow.conn`` and register ``after_commit`` actions (cache
write-through). Services never commit. :func:`unit_of_work` opens a
transaction; :func:`read_only` gives read paths the same interface without
one. Both translate storage outages into
:class:`~wallet.errors.Unavailable` (:func:`wallet.db.map_storage_errors`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar, Protocol

from tortoise import Model, connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from wallet.db import map_storage_errors

__all__ = ["NewRow", "UnitOfWork", "read_only", "unit_of_work"]

log = logging.getLogger(__name__)


class NewRow(Protocol):
    """A new record as plain values: its columns, the values in their order (as COPY
    takes them), and the same as model keyword arguments."""

    COLUMNS: ClassVar[tuple[str, ...]]

    def copy_values(self) -> tuple[Any, ...]: ...

    def fields(self) -> dict[str, Any]: ...


class UnitOfWork:
    """The connection a request's queries run on, and what to do once it has committed."""

    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self.conn = conn
        self._after: list[Callable[[], Awaitable[None]]] = []

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` once the transaction has committed (never on rollback)."""
        self._after.append(action)

    @property
    def is_postgres(self) -> bool:
        """Whether the connection speaks PostgreSQL (row locks, ``SKIP LOCKED``)."""
        return self.conn.capabilities.dialect == "postgres"

    async def fetch_rows(self, sql: str, *args: Any) -> list[Any]:
        """Run one parameterised query (``$1``…) on this transaction's connection.

        PostgreSQL only: for the bulk importer's ``= ANY($1)`` lookups, whose
        thousand keys the query builder would render one by one, and reads of
        a million rows (the status lists), which it would turn into dicts.
        """
        if not self.is_postgres:
            raise RuntimeError("fetch_rows needs PostgreSQL")
        async with self.conn.acquire_connection() as connection:
            return list(await connection.fetch(sql, *args))

    async def add_rows(self, model: type[Model], rows: Sequence[NewRow]) -> None:
        """Insert new records of ``model`` given as plain rows, in bulk: COPY on
        PostgreSQL (on this transaction's connection), the ORM's bulk insert on SQLite."""
        if not rows:
            return
        if self.is_postgres:
            columns = rows[0].COLUMNS
            await self.copy_records(model._meta.db_table, columns, [r.copy_values() for r in rows])
        else:
            await model.bulk_create([model(**r.fields()) for r in rows], using_db=self.conn)

    async def copy_records(
        self, table: str, columns: Sequence[str], records: Iterable[Sequence[Any]]
    ) -> None:
        """Write ``records`` (tuples in ``columns`` order) into ``table`` with COPY.

        PostgreSQL only; on this transaction's own connection, so the rows
        commit or roll back with everything else of the unit of work.
        """
        if not self.is_postgres:
            raise RuntimeError("COPY needs PostgreSQL")
        async with self.conn.acquire_connection() as connection:
            await connection.copy_records_to_table(table, records=records, columns=list(columns))


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[UnitOfWork]:
    """Open a transaction; commit on success, roll back on error, then run after-commit actions.

    After-commit actions are best effort: a failure is logged, not raised,
    because the change itself has committed. Status writers put a pending
    marker in the cache *before* commit (:func:`wallet.licences.status.mark_pending`)
    so that a failed refresh leaves no stale entry, only a miss that falls
    through to the database.
    """
    with map_storage_errors():
        async with in_transaction("default") as conn:
            uow = UnitOfWork(conn)
            yield uow
    await _run_after(uow)


@asynccontextmanager
async def read_only() -> AsyncIterator[UnitOfWork]:
    """A unit of work over the default connection without a transaction, for read paths.

    Each query runs on its own (autocommit); nothing is rolled back. The
    after-commit actions (e.g. a cache refill) run when the block exits
    without an error. Storage outages become :class:`~wallet.errors.Unavailable`
    as in :func:`unit_of_work`.
    """
    with map_storage_errors():
        uow = UnitOfWork(connections.get("default"))
        yield uow
    await _run_after(uow)


async def _run_after(uow: UnitOfWork) -> None:
    for action in uow._after:
        try:
            await action()
        except Exception:
            # The commit stands. A status write that fails here leaves the pending
            # marker put before the commit, so readers go to the database (never to
            # an older entry) until the marker expires and a refill replaces it.
            log.exception("after-commit action failed")
