"""The embedded default's SQLite engine: Tortoise's, with write transactions that take
the write lock when they begin.

SQLite (in WAL mode) lets a deferred transaction read, then fails it at once
with "database is locked" when it tries to write after another process
wrote: waiting cannot help it, its snapshot is stale. The embedded server
and a command such as ``wallet demo`` or ``wallet import`` writing to the
same file meet exactly that. ``BEGIN IMMEDIATE`` takes the write lock first
and waits for it (the connection's busy timeout), so two processes take
turns instead of failing. A lock still held after the wait is an outage
(503 naming the database), not a bug.
"""

from __future__ import annotations

import sqlite3

from tortoise.backends.base.client import TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.exceptions import DBConnectionError

__all__ = ["ImmediateSqliteClient", "client_class"]


class _ImmediateTransaction(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise DBConnectionError(f"sqlite: {exc}") from exc


class ImmediateSqliteClient(SqliteClient):
    """Tortoise's SQLite client whose transactions begin with ``BEGIN IMMEDIATE``."""

    def _in_transaction(self) -> TransactionContext:
        return SqliteTransactionContext(_ImmediateTransaction(self), self._lock)


client_class = ImmediateSqliteClient
