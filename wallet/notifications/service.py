"""The notifier: outbox events and coming expiries become subscribe messages to holders.

Planning reads the outbox through the notifier's own cursor
(``notification_cursor``; the aggregation worker's ``sent_at`` is never
read or written here). Each event of interest (a status change; a new
version superseding the last) and each coming expiry (30 and 7 days before
the validity ends, once each) becomes one :class:`Notification` per
recipient account, unique by (source, account, kind), so planning the same
event again adds nothing. In the same unit of work one subscription credit
is spent per notification (:meth:`Subscriptions.take`); without one the
notification is ``skipped``.

Sending claims due notifications (``sending``, an attempt more), sends
them through the WeChat gateway outside any transaction, then records the
outcome: ``sent``; ``pending`` again with a back-off when WeChat was busy,
rate-limited or unreachable; ``failed`` once it refused for good or the
attempts ran out. A claim left behind by a stopped worker becomes
``failed`` (delivery unknown) rather than being sent a second time.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from wallet import metrics
from wallet.clock import Clock
from wallet.errors import WalletError
from wallet.licences.models import Licence, OutboxEvent
from wallet.notifications.messages import (
    CHINA,
    NoticeTemplates,
    expiry_values,
    keyword_data,
    status_values,
    version_values,
)
from wallet.notifications.models import Notification
from wallet.notifications.repository import NotificationRepository, OutboxReader
from wallet.notifications.schemas import FailedNotification, NotifierStatus
from wallet.notifications.subscriptions import Subscriptions
from wallet.uow import UnitOfWork

__all__ = ["REMINDER_DAYS", "Claimed", "Notifier", "RetryPolicy"]

log = logging.getLogger(__name__)

REMINDER_DAYS: Final = (30, 7)
"""Days before the validity ends when a reminder goes out, once each."""
OUTBOX_CURSOR: Final = "outbox"
EXPIRY_LOCK: Final = "expiry"
#: WeChat answers meaning "not now": the message may go through later.
_TRANSIENT: Final = frozenset(
    {"wechat_unavailable", "wechat_rate_limited", "wechat_misconfigured", "unavailable"}
)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts per notification and the back-off between them (``base * factor**n``)."""

    max_attempts: int = 6
    base: float = 60.0
    factor: float = 4.0
    cap: float = 6 * 3600.0
    #: how long a claim protects a notification being sent
    lease: float = 120.0

    def delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failed attempt."""
        return timedelta(seconds=min(self.base * self.factor ** max(attempts - 1, 0), self.cap))


@dataclass(frozen=True)
class Claimed:
    """A notification claimed for sending, with what the send needs."""

    id: int
    account_id: uuid.UUID
    kind: str
    licence_ref: str
    template_id: str
    data: dict[str, Any]
    attempts: int


class Notifier:
    """Plans holder notifications from the outbox and expiries, and sends them."""

    def __init__(
        self,
        *,
        repository: NotificationRepository,
        reader: OutboxReader,
        subscriptions: Subscriptions,
        templates: NoticeTemplates,
        clock: Clock,
        retry: RetryPolicy | None = None,
        batch: int = 500,
        gap_grace: float = 120.0,
        max_event_age: float = 3 * 86400.0,
    ) -> None:
        self.repository = repository
        self.reader = reader
        self.subscriptions = subscriptions
        self.templates = templates
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.batch = batch
        #: an id gap younger than this may be a transaction still under way: wait for it
        self.gap_grace = timedelta(seconds=gap_grace)
        #: events older than this when first read tell no one (a backlog on first start)
        self.max_event_age = timedelta(seconds=max_event_age)

    # -- planning -------------------------------------------------------------

    async def plan_events(self, uow: UnitOfWork) -> int:
        """Plan the next batch of outbox events; how many events the cursor moved past.

        Ids are taken in order. A missing id may belong to a transaction not
        yet committed: the cursor stops before it until the event after it is
        older than ``gap_grace`` (then the missing id was rolled back), so no
        event is ever passed over unseen. A new cursor starts at the oldest
        event there is.
        """
        now = self.clock.now()
        # Nothing new: no write, so an idle worker never takes the lock.
        seen = await self.repository.position(uow, OUTBOX_CURSOR)
        if seen and not await self.reader.events_after(uow, seen, 1):
            return 0
        cursor = await self.repository.cursor(uow, OUTBOX_CURSOR, now)
        events = await self.reader.events_after(uow, cursor.position, self.batch)
        position = cursor.position
        for event in events:
            gap = position > 0 and event.id != position + 1
            if gap and now - event.created_at < self.gap_grace:
                break
            await self._plan_event(uow, event, now)
            position = event.id
        moved = sum(1 for e in events if e.id <= position)
        if position != cursor.position:
            await self.repository.move_cursor(uow, cursor, position, now)
        return moved

    async def _plan_event(self, uow: UnitOfWork, event: OutboxEvent, now: datetime) -> None:
        if now - event.created_at > self.max_event_age:
            return
        if event.topic == "licence.status":
            kind, values = "status", status_values(event.payload, event.created_at)
        elif event.topic == "licence.version":
            kind, values = "version", version_values(event.payload, event.created_at)
        else:
            return
        if values is None or not self.templates.template(kind):
            return
        licence = await self.reader.licence(uow, event.licence_ref)
        if licence is not None:
            await self._notify_all(uow, f"outbox:{event.id}", kind, licence, values, now)

    async def plan_reminders(self, uow: UnitOfWork, limit: int = 500) -> int:
        """Plan the expiry reminders due today (China time); how many licences were reminded.

        A licence 30 to 8 days from its end gets the 30-day reminder, one 7
        to 0 days from it the 7-day one; each once per validity end (a
        renewal moves the end and starts over). A licence first seen inside
        the 7-day window gets only that one. At most ``limit`` licences a
        call: call again while it returns ``limit``.
        """
        if not self.templates.expiry:
            return 0
        now = self.clock.now()
        await self.repository.cursor(uow, EXPIRY_LOCK, now)
        today = now.astimezone(CHINA).date()
        candidates = await self.reader.expiring(uow, today, REMINDER_DAYS, limit)
        reminded = 0
        for licence in candidates:
            until = licence.valid_until
            if until is None:
                continue
            left = (until - today).days
            days = REMINDER_DAYS[1] if left <= REMINDER_DAYS[1] else REMINDER_DAYS[0]
            if not await self.repository.reminder_planned(uow, licence.ref, until, days, now):
                continue
            values = expiry_values(licence.kind, until, left, now)
            source = f"expiry:{licence.ref}:{until.isoformat()}"
            await self._notify_all(uow, source, f"expiry_{days}", licence, values, now)
            reminded += 1
        return reminded

    async def _notify_all(
        self,
        uow: UnitOfWork,
        source: str,
        kind: str,
        licence: Licence,
        values: dict[str, str],
        now: datetime,
    ) -> None:
        template = self.templates.template(kind)
        data = keyword_data(values, self.templates.fields)
        for account_id in await self.reader.recipients(uow, licence):
            if await self.repository.exists(uow, source, account_id, kind):
                continue
            notification = Notification(
                source=source,
                account_id=account_id,
                kind=kind,
                licence_ref=licence.ref,
                template_id=template,
                data=data,
                state="pending",
                attempts=0,
                last_error="",
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            if not await self.subscriptions.take(uow, account_id, template):
                notification.state = "skipped"
                notification.last_error = "no subscription for the template"
            await self.repository.add(uow, notification)

    # -- sending --------------------------------------------------------------

    async def claim(self, uow: UnitOfWork, limit: int = 100) -> list[Claimed]:
        """Claim due notifications for sending (and give up on interrupted sends)."""
        now = self.clock.now()
        interrupted = await self.repository.abandon_interrupted(uow, now)
        if interrupted:
            log.warning("%d notifications interrupted mid-send marked failed", interrupted)
        due = await self.repository.claim_due(uow, now, limit)
        until = now + timedelta(seconds=self.retry.lease)
        # Each row is claimed by a conditional update: whatever the database's locking,
        # only one worker moves it from pending to sending.
        return [
            Claimed(
                n.id, n.account_id, n.kind, n.licence_ref, n.template_id, n.data, n.attempts + 1
            )
            for n in due
            if await self.repository.mark_sending(uow, n.id, now, until)
        ]

    async def openids(self, uow: UnitOfWork, claimed: list[Claimed]) -> dict[uuid.UUID, str]:
        """The sealed openids of the claimed notifications' accounts."""
        return await self.reader.openids(uow, list({c.account_id for c in claimed}))

    async def record(self, uow: UnitOfWork, claimed: Claimed, error: BaseException | None) -> str:
        """Record a send's outcome; the notification's new state."""
        now = self.clock.now()
        counter = metrics.NOTIFICATIONS_SENT if error is None else metrics.NOTIFICATIONS_FAILED

        async def count() -> None:
            counter.labels(kind=claimed.kind).inc()

        uow.after_commit(count)
        if error is None:
            await self.repository.update(
                uow, claimed.id, state="sent", sent_at=now, last_error="", updated_at=now
            )
            return "sent"
        reason = describe(error)
        retry = is_transient(error) and claimed.attempts < self.retry.max_attempts
        state = "pending" if retry else "failed"
        await self.repository.update(
            uow,
            claimed.id,
            state=state,
            last_error=reason[:200],
            next_attempt_at=now + self.retry.delay(claimed.attempts) if retry else now,
            updated_at=now,
        )
        log.warning(
            "notification %d (%s) attempt %d failed: %s",
            claimed.id,
            claimed.licence_ref,
            claimed.attempts,
            reason,
        )
        return state

    # -- status ---------------------------------------------------------------

    async def status(self, uow: UnitOfWork, failures: int = 20) -> NotifierStatus:
        """Where the cursor is, what is left to plan and send, and the latest failures."""
        cursor = await self.repository.position(uow, OUTBOX_CURSOR)
        failed = await self.repository.failures(uow, failures)
        return NotifierStatus(
            cursor=cursor,
            outbox_head=await self.reader.head(uow),
            backlog=await self.reader.count_after(uow, cursor),
            states=await self.repository.counts(uow),
            oldest_due=await self.repository.oldest_due(uow),
            failures=[
                FailedNotification(
                    id=n.id,
                    kind=n.kind,
                    licence_ref=n.licence_ref,
                    attempts=n.attempts,
                    last_error=n.last_error,
                    updated_at=n.updated_at,
                )
                for n in failed
            ],
        )


def is_transient(error: BaseException) -> bool:
    """Whether a failed send may go through later (WeChat busy, limited, unreachable)."""
    if isinstance(error, WalletError):
        return error.type_code in _TRANSIENT or error.status == 503
    return True


def describe(error: BaseException) -> str:
    """A short reason for a failed send, free of personal data."""
    if isinstance(error, WalletError):
        code = error.extra.get("wechat_errcode")
        return f"{error.type_code}" + (f" (errcode {code})" if code is not None else "")
    return type(error).__name__
