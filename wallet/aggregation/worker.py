"""The aggregation worker's loop: claim, push, acknowledge, one unit of work per step.

:class:`Worker` runs the steps of :class:`~wallet.aggregation.service.Aggregator`;
:func:`run_workers` runs several at once (PostgreSQL: each step's row locks keep
them apart); :func:`in_process_worker` runs one beside ``wallet serve`` and stops
it cleanly with the server. A worker cancelled between a push and its
acknowledgement leaves the batch leased; once the lease runs out the next
worker sends it again with the same idempotency key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Final

from wallet.aggregation.schemas import RunStats
from wallet.aggregation.service import Aggregator, BatchRace, Claimed
from wallet.errors import Unavailable
from wallet.metrics import (
    AGGREGATION_BATCH_FAILURES,
    AGGREGATION_BATCHES_PUSHED,
    AGGREGATION_EVENTS_PUSHED,
)
from wallet.uow import unit_of_work

__all__ = ["Worker", "in_process_worker", "run_workers"]

log = logging.getLogger(__name__)

IDLE_WAIT: Final = 1.0
"""Seconds an idle worker waits before looking at the outbox again."""
OUTAGE_WAIT: Final = 5.0
"""Seconds a worker waits after the database did not answer."""
STOP_GRACE: Final = 10.0
"""Seconds ``wallet serve`` gives its worker to finish a push when it shuts down."""


class Worker:
    """One worker: takes one batch at a time until told to stop."""

    def __init__(self, aggregator: Aggregator, name: str = "aggregate") -> None:
        self.aggregator = aggregator
        self.name = name

    async def _claim(self) -> Claimed | None:
        async with unit_of_work() as uow:
            return await self.aggregator.claim(uow)

    async def _form(self) -> int:
        try:
            async with unit_of_work() as uow:
                return await self.aggregator.form_batches(uow)
        except BatchRace:
            return 0  # rolled back; the other worker's batches are due now

    async def step(self) -> RunStats:
        """Push the next due batch, forming batches first when none is due."""
        stats = RunStats()
        claimed = await self._claim()
        if claimed is None:
            stats.batches_formed = await self._form()
            if stats.batches_formed:
                claimed = await self._claim()
        if claimed is None:
            return stats
        failure = await self.aggregator.push(claimed)
        async with unit_of_work() as uow:
            if failure is None:
                stats.events_acknowledged = await self.aggregator.acknowledge(uow, claimed)
                stats.batches_sent = 1
            else:
                await self.aggregator.record_failure(uow, claimed, failure)
        if failure is None:  # counted once committed
            AGGREGATION_EVENTS_PUSHED.inc(stats.events_acknowledged)
            AGGREGATION_BATCHES_PUSHED.inc()
            return stats
        AGGREGATION_BATCH_FAILURES.labels(reason=failure.reason).inc()
        stats.batches_failed = 1
        log.warning(
            "aggregation batch %s (%s, %d events) failed: %s (%s)",
            claimed.batch.id,
            claimed.batch.division,
            claimed.batch.size,
            failure.reason,
            failure.detail,
        )
        return stats

    async def drain(self) -> RunStats:
        """Steps until nothing is due now (failed batches waiting for a retry stay)."""
        total = RunStats()
        while True:
            stats = await self.step()
            total.add(stats)
            if not (stats.batches_formed or stats.batches_sent or stats.batches_failed):
                return total

    async def run(self, stop: asyncio.Event) -> RunStats:
        """Steps until ``stop`` is set, waiting when idle or while the database is down."""
        total = RunStats()
        while not stop.is_set():
            try:
                stats = await self.step()
            except Unavailable as exc:
                log.warning("aggregation worker %s: %s", self.name, exc.detail)
                await _wait(stop, OUTAGE_WAIT)
                continue
            except Exception:
                # A bug must not end the loop for good: the batch stays leased and
                # comes back once the lease runs out.
                log.exception("aggregation worker %s: step failed", self.name)
                await _wait(stop, OUTAGE_WAIT)
                continue
            total.add(stats)
            if not (stats.batches_formed or stats.batches_sent):
                await _wait(stop, IDLE_WAIT)
        return total


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_workers(
    aggregator: Aggregator, workers: int, stop: asyncio.Event | None = None
) -> RunStats:
    """Run ``workers`` workers at once, until ``stop`` is set or, without it, until
    nothing is due; their stats added up."""
    crew = [Worker(aggregator, f"aggregate-{n}") for n in range(workers)]
    if stop is None:
        results = await asyncio.gather(*(worker.drain() for worker in crew))
    else:
        results = await asyncio.gather(*(worker.run(stop) for worker in crew))
    total = RunStats()
    for stats in results:
        total.add(stats)
    return total


@contextlib.asynccontextmanager
async def in_process_worker(aggregator: Aggregator, enabled: bool = True) -> AsyncIterator[None]:
    """Run one worker in the background while the block runs (``wallet serve``).

    On exit the worker finishes its current push (up to :data:`STOP_GRACE`
    seconds), then is cancelled; a batch it leaves leased is sent again by
    the next worker once the lease runs out.
    """
    if not enabled:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(Worker(aggregator, "aggregate-serve").run(stop))
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, STOP_GRACE)
        except TimeoutError:
            pass  # wait_for cancelled it
        except Exception:
            log.exception("the in-process aggregation worker failed")
