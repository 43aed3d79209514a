"""The unit of work: one database transaction plus what must follow its commit.

The edge (an HTTP handler, a command) opens it; services receive it, run
their queries on ``uow.conn`` and register ``after_commit`` actions (cache
write-through). Services never commit.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

__all__ = ["UnitOfWork", "unit_of_work"]

log = logging.getLogger(__name__)


class UnitOfWork:
    def __init__(self, conn: BaseDBAsyncClient) -> None:
        self.conn = conn
        self._after: list[Callable[[], Awaitable[None]]] = []

    def after_commit(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run ``action`` once the transaction has committed (never on rollback)."""
        self._after.append(action)

    @property
    def is_postgres(self) -> bool:
        return self.conn.capabilities.dialect == "postgres"


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[UnitOfWork]:
    """Open a transaction; commit on success, roll back on error, then run after-commit actions.

    After-commit actions are best effort: a failure is logged, not raised,
    because the change itself has committed. Write-through callers delete the
    cached value *before* commit so that a failed refresh leaves no stale
    entry, only a miss that falls through to the database.
    """
    async with in_transaction("default") as conn:
        uow = UnitOfWork(conn)
        yield uow
    for action in uow._after:
        try:
            await action()
        except Exception:  # the commit stands; the cache entry is already gone
            log.exception("after-commit action failed")
