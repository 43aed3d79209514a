"""Group commit for the scan path: one flush for every item that arrived while the last one ran.

The officer's session read (:mod:`wallet.officers.service`), the Redis probe
(:mod:`wallet.verification.probe`) and the verification log
(:mod:`wallet.verification.log`) share their fixed cost (a round trip, a
statement, the Redis client's own per-command work) between the scans
waiting together through a :class:`Coalescer`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["Coalescer"]

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    """Runs ``flush`` once for all the items submitted while the previous flush ran.

    Each :meth:`submit` waits for its own item's result. With one caller at a
    time a flush holds one item; under load it holds what arrived during the
    previous flush, so its fixed cost (a round trip, a statement) is shared.
    ``flush`` answers one result per item, in order, and must not raise.
    """

    def __init__(self, flush: Callable[[list[T]], Awaitable[list[R]]]) -> None:
        self._flush = flush
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Queue ``item`` for the next flush and wait for its result."""
        result: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, result))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        # A cancelled caller cancels only its own future: the flush goes on.
        return await result

    async def idle(self) -> None:
        """Wait until no flush is running or queued (items of cancelled callers included)."""
        while self._runner is not None and not self._runner.done():
            await asyncio.wait({self._runner})

    async def _run(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                results = await self._flush([item for item, _ in batch])
            except asyncio.CancelledError:  # the loop is closing: nobody will be answered
                for _, result in [*batch, *self._waiting]:
                    result.cancel()
                self._waiting = []
                raise
            except Exception as exc:  # a bug in flush: every caller of the batch sees it
                for _, result in batch:
                    if not result.done():
                        result.set_exception(exc)
                continue
            for (_, result), value in zip(batch, results, strict=True):
                if not result.done():
                    result.set_result(value)
