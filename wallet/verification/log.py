"""The verification log, written by group commit, with the spool behind it.

Every verification waits until its row is durable, but the verifications
waiting together share one bulk insert (:class:`~wallet.coalesce.Coalescer`).
Nothing is answered before it is logged, so a crash loses no row of an
answered verification. A batch the database refuses goes to the local spool
(:mod:`wallet.verification.spool`), drained back in the background; when
neither takes it, the verification answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Final

from tortoise.exceptions import OperationalError

from wallet.clock import Clock
from wallet.coalesce import Coalescer
from wallet.db import map_storage_errors
from wallet.errors import Unavailable
from wallet.metrics import VERDICTS
from wallet.officers.service import OfficerSession
from wallet.uow import read_only
from wallet.verification.repository import VerificationRepository
from wallet.verification.spool import SpoolRow, VerificationSpool
from wallet.verification.trust import DB_TIMEOUT
from wallet.verification.verdict import Verdict

__all__ = ["SPOOL_RETRY", "VerificationLog"]

log = logging.getLogger(__name__)

SPOOL_RETRY: Final = 1.0
"""Seconds after a failed log insert during which new rows go straight to the spool."""


class VerificationLog:
    """Durable records of verifications: the database, else the spool."""

    def __init__(
        self,
        records: VerificationRepository,
        clock: Clock,
        spool: VerificationSpool | None = None,
    ) -> None:
        self.records, self.clock, self.spool = records, clock, spool
        self._spool_only_until = 0.0  # monotonic: the database refused the last insert
        self._rows = Coalescer(self._store)
        # One drain at a time in this process: a drain asked for while another
        # runs waits for it (the spool's file lock would make it skip the file).
        self._drain_lock = asyncio.Lock()

    async def record(
        self,
        officer: OfficerSession,
        mode: str,
        verdict: Verdict,
        licence_ref: str | None,
        token_id: str | None,
    ) -> None:
        """Record a verification durably (database or spool) or raise :class:`Unavailable`.

        The caller answers only after this returns: a verdict nobody can
        account for is never given. A recorded verdict is counted
        (:data:`wallet.metrics.VERDICTS`).
        """
        row = (
            uuid.uuid4(),
            self.clock.now(),
            officer.officer_id,
            officer.badge,
            officer.division,
            officer.device_id,
            mode,
            verdict.value,
            licence_ref,
            token_id,
        )
        if not await self._rows.submit(row):
            raise Unavailable(
                "database: the verification cannot be recorded (the local spool failed too)",
                dependency="database",
            )
        VERDICTS.labels(mode=mode, verdict=verdict.value).inc()

    async def _store(self, batch: list[SpoolRow]) -> list[bool]:
        """Store the rows of ``batch``: one insert, else the spool; whether they are durable."""
        if time.monotonic() >= self._spool_only_until:
            try:
                await self._insert(batch)
            except (Unavailable, OperationalError):
                # Down, or up and refusing the statement (a table away, a full disk):
                # either way the rows go to the spool.
                log.warning("verification log insert failed; spooling %d rows", len(batch))
                self._spool_only_until = time.monotonic() + SPOOL_RETRY
            else:
                return [True] * len(batch)
        if self.spool is None:
            return [False] * len(batch)
        try:
            await asyncio.to_thread(self.spool.append, batch)
        except OSError:
            log.exception("verification spool write failed: %d verdicts refused", len(batch))
            return [False] * len(batch)
        return [True] * len(batch)

    async def _insert(self, rows: list[SpoolRow]) -> None:
        """Insert ``rows`` in one statement; :class:`Unavailable` when the database does not."""
        with map_storage_errors():
            async with asyncio.timeout(DB_TIMEOUT), read_only() as uow:
                await self.records.insert_rows(uow, rows)

    async def drain_spool(self) -> int:
        """Move every spooled row into the database; how many were moved.

        Waits for a drain already running in this process. Raises
        :class:`Unavailable` when the database does not take them (the rows
        stay spooled).
        """
        if self.spool is None:
            return 0
        async with self._drain_lock:
            drained = await self.spool.drain(self._insert)
        self._spool_only_until = 0.0
        return drained

    async def settle(self) -> None:
        """Wait until every row submitted so far is stored and the spool is drained."""
        await self._rows.idle()
        await self.drain_spool()

    @contextlib.asynccontextmanager
    async def draining(self, interval: float = SPOOL_RETRY) -> AsyncIterator[None]:
        """Drain the spool now and then every ``interval`` seconds while the body runs."""

        async def drain_forever() -> None:
            while True:
                if self.spool is not None and self.spool.pending():
                    try:
                        await self.drain_spool()
                    except (Unavailable, OperationalError):  # the rows wait for the next round
                        log.warning("verification spool not drained: database unavailable")
                    except Exception:  # a bug must not end the drain for the process's life
                        log.exception("verification spool drain failed")
                await asyncio.sleep(interval)

        task = asyncio.create_task(drain_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
