"""The notifier's loop: plan, claim, send through WeChat, record; once or until stopped.

Each step has its own unit of work, and WeChat is called between them,
outside any transaction. ``wallet notify run`` runs the loop in its own
process; ``wallet serve`` runs it inside the serving process
(:meth:`NotifyWorker.in_background`). Several workers may run at once:
planners take turns on the cursor's lock, and a claimed notification is
skipped by the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Final

from wallet.accounts.identity import OPENID_CONTEXT
from wallet.errors import Unavailable
from wallet.notifications.service import Claimed, Notifier
from wallet.uow import read_only, unit_of_work
from wallet.vault import Vault
from wallet.wechat import WeChatGateway

__all__ = ["NotifyWorker", "PassReport"]

log = logging.getLogger(__name__)

_CONCURRENCY: Final = 8
_REMINDER_BATCH: Final = 500


@dataclass
class PassReport:
    """What one pass did."""

    events: int = 0
    reminders: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def busy(self) -> bool:
        """Whether the pass found work (another pass may find more at once)."""
        return bool(self.events or self.reminders or self.outcomes)


class NotifyWorker:
    """Runs the :class:`Notifier` against the database and the WeChat gateway."""

    def __init__(
        self,
        notifier: Notifier,
        gateway: WeChatGateway,
        vault: Vault,
        *,
        reminder_every: float = 3600.0,
    ) -> None:
        self.notifier = notifier
        self.gateway = gateway
        self.vault = vault
        self.reminder_every = reminder_every
        self._reminded_at: float | None = None

    async def run_once(self, *, reminders: bool | None = None) -> PassReport:
        """One pass: plan every outbox event there is, reminders when due, send what is due.

        ``reminders`` forces (True) or skips (False) the expiry scan; by
        default it runs at most every ``reminder_every`` seconds.
        """
        report = PassReport()
        while True:
            async with unit_of_work() as uow:
                moved = await self.notifier.plan_events(uow)
            report.events += moved
            if moved < self.notifier.batch:
                break
        due = time.monotonic()
        if reminders or (
            reminders is None
            and (self._reminded_at is None or due - self._reminded_at >= self.reminder_every)
        ):
            while True:
                async with unit_of_work() as uow:
                    reminded = await self.notifier.plan_reminders(uow, _REMINDER_BATCH)
                report.reminders += reminded
                if reminded < _REMINDER_BATCH:
                    break
            self._reminded_at = due
        while True:
            async with unit_of_work() as uow:
                claimed = await self.notifier.claim(uow)
            if not claimed:
                break
            for state in await self._send_all(claimed):
                report.outcomes[state] = report.outcomes.get(state, 0) + 1
        return report

    async def _send_all(self, claimed: list[Claimed]) -> list[str]:
        async with read_only() as uow:
            openids = await self.notifier.openids(uow, claimed)
        limit = asyncio.Semaphore(_CONCURRENCY)

        async def one(item: Claimed) -> str:
            async with limit:
                error = await self._send(item, openids.get(item.account_id))
            async with unit_of_work() as uow:
                return await self.notifier.record(uow, item, error)

        return list(await asyncio.gather(*(one(item) for item in claimed)))

    async def _send(self, item: Claimed, sealed: str | None) -> BaseException | None:
        try:
            if sealed is None:
                raise LookupError("the account no longer exists")
            openid = self.vault.open(sealed, OPENID_CONTEXT)
            await self.gateway.send_subscribe_message(
                openid,
                item.template_id,
                item.data,
                page=f"pages/licence/detail?ref={item.licence_ref}",
            )
        except Exception as exc:  # every failure is recorded on the notification
            return exc
        return None

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop`` is set; a busy pass is followed at once by another."""
        while not stop.is_set():
            busy = False
            try:
                busy = (await self.run_once()).busy
            except Unavailable as exc:
                log.warning("notifier pass stopped: %s", exc.detail)
            except Exception:
                log.exception("notifier pass failed")
            if busy:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)

    @contextlib.asynccontextmanager
    async def in_background(self, interval: float, enabled: bool = True) -> AsyncIterator[None]:
        """Run :meth:`run` as a task for the duration of the block (when ``enabled``);
        on exit let the current pass finish (up to 10 s), then stop."""
        if not enabled:
            yield
            return
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(interval, stop), name="notifier")
        try:
            yield
        finally:
            stop.set()
            try:
                await asyncio.wait_for(task, 10)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
