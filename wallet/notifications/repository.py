"""Every query of the notification tables: credits, notifications, the cursor, reminders.

Each method runs on the caller's unit of work. Upserts and conditional
updates are single statements, so concurrent callers never lose a credit
or spend one twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final, cast

from tortoise.expressions import F
from tortoise.functions import Count

from wallet.accounts.models import Account
from wallet.enterprises.models import EnterpriseAgent
from wallet.holders.models import Enterprise, Vehicle
from wallet.licences.models import Licence, OutboxEvent
from wallet.notifications.models import (
    ExpiryReminder,
    Notification,
    NotificationCursor,
    Subscription,
)
from wallet.uow import UnitOfWork

__all__ = ["NotificationRepository", "OutboxReader", "SubscriptionRepository"]

_ADD_CREDIT: Final = {
    "postgres": (
        'INSERT INTO "subscription" ("account_id", "template_id", "credits", "updated_at") '
        'VALUES ($1, $2, 1, $3) ON CONFLICT ("account_id", "template_id") DO UPDATE SET '
        '"credits" = LEAST("subscription"."credits" + 1, $4), "updated_at" = EXCLUDED."updated_at"'
    ),
    "sqlite": (
        'INSERT INTO "subscription" ("account_id", "template_id", "credits", "updated_at") '
        'VALUES (?, ?, 1, ?) ON CONFLICT ("account_id", "template_id") DO UPDATE SET '
        '"credits" = MIN("subscription"."credits" + 1, ?), "updated_at" = excluded."updated_at"'
    ),
}


class SubscriptionRepository:
    """Queries of :class:`Subscription`."""

    async def add_credit(
        self, uow: UnitOfWork, account_id: uuid.UUID, template_id: str, now: datetime, cap: int
    ) -> None:
        """One more credit for (account, template), at most ``cap`` (one upsert statement)."""
        dialect = "postgres" if uow.is_postgres else "sqlite"
        account = account_id if uow.is_postgres else str(account_id)
        await uow.conn.execute_query(_ADD_CREDIT[dialect], [account, template_id, now, cap])

    async def spend_credit(
        self, uow: UnitOfWork, account_id: uuid.UUID, template_id: str, now: datetime
    ) -> bool:
        """Spend one credit if there is one (a conditional update); whether one was spent."""
        changed = (
            await Subscription.filter(account_id=account_id, template_id=template_id, credits__gt=0)
            .using_db(uow.conn)
            .update(credits=F("credits") - 1, updated_at=now)
        )
        return bool(changed)

    async def credits(self, uow: UnitOfWork, account_id: uuid.UUID, template_id: str) -> int:
        """The credits left for (account, template); 0 when none were ever given."""
        row = (
            await Subscription.filter(account_id=account_id, template_id=template_id)
            .using_db(uow.conn)
            .first()
        )
        return row.credits if row is not None else 0


class NotificationRepository:
    """Queries of :class:`Notification`, :class:`NotificationCursor` and :class:`ExpiryReminder`."""

    async def cursor(self, uow: UnitOfWork, name: str, now: datetime) -> NotificationCursor:
        """The cursor ``name`` (created at 0), locked until the transaction ends.

        It is written first thing: the write takes PostgreSQL's row lock and
        SQLite's write lock, so planners run one at a time and what they read
        next (which notifications exist) cannot change under them.
        """
        touched = (
            await NotificationCursor.filter(name=name).using_db(uow.conn).update(updated_at=now)
        )
        if not touched:
            await NotificationCursor.bulk_create(
                [NotificationCursor(name=name, position=0, updated_at=now)],
                ignore_conflicts=True,
                using_db=uow.conn,
            )
            await NotificationCursor.filter(name=name).using_db(uow.conn).update(updated_at=now)
        return await NotificationCursor.filter(name=name).using_db(uow.conn).get()

    async def move_cursor(
        self, uow: UnitOfWork, cursor: NotificationCursor, position: int, now: datetime
    ) -> None:
        """Store the cursor's new position."""
        cursor.position, cursor.updated_at = position, now
        await cursor.save(using_db=uow.conn, update_fields=["position", "updated_at"])

    async def position(self, uow: UnitOfWork, name: str) -> int:
        """The position of cursor ``name`` without locking it (0 before the first pass)."""
        row = await NotificationCursor.filter(name=name).using_db(uow.conn).first()
        return int(row.position) if row is not None else 0

    async def exists(self, uow: UnitOfWork, source: str, account_id: uuid.UUID, kind: str) -> bool:
        """Whether (source, account, kind) was planned already."""
        return await (
            Notification.filter(source=source, account_id=account_id, kind=kind)
            .using_db(uow.conn)
            .exists()
        )

    async def add(self, uow: UnitOfWork, notification: Notification) -> None:
        """Insert ``notification``; run under the cursor's lock (:meth:`cursor`), after
        :meth:`exists`, so no other planner inserts the same key meanwhile."""
        await notification.save(using_db=uow.conn)

    async def reminder_planned(
        self, uow: UnitOfWork, ref: str, valid_until: date, days: int, now: datetime
    ) -> bool:
        """Record the reminder (ref, validity end, days); False when it was already recorded."""
        exists = (
            await ExpiryReminder.filter(licence_ref=ref, valid_until=valid_until, days=days)
            .using_db(uow.conn)
            .exists()
        )
        if exists:
            return False
        await ExpiryReminder.create(
            licence_ref=ref, valid_until=valid_until, days=days, planned_at=now, using_db=uow.conn
        )
        return True

    async def claim_due(self, uow: UnitOfWork, now: datetime, limit: int) -> list[Notification]:
        """Pending notifications due by ``now``, oldest first, locked (others skip them)."""
        query = (
            Notification.filter(state="pending", next_attempt_at__lte=now)
            .using_db(uow.conn)
            .order_by("next_attempt_at", "id")
            .limit(limit)
        )
        if uow.is_postgres:
            query = query.select_for_update(skip_locked=True)
        return list(await query)

    async def update(self, uow: UnitOfWork, notification_id: int, **values: Any) -> int:
        """Write ``values`` on one notification; rows changed."""
        return await Notification.filter(id=notification_id).using_db(uow.conn).update(**values)

    async def mark_sending(
        self, uow: UnitOfWork, notification_id: int, now: datetime, until: datetime
    ) -> bool:
        """Claim one pending notification for sending until ``until`` (one attempt more);
        False when another worker claimed it first."""
        changed = await (
            Notification.filter(id=notification_id, state="pending")
            .using_db(uow.conn)
            .update(
                state="sending",
                attempts=F("attempts") + 1,
                next_attempt_at=until,
                updated_at=now,
            )
        )
        return bool(changed)

    async def abandon_interrupted(self, uow: UnitOfWork, now: datetime) -> int:
        """Sends whose worker stopped mid-send (claim expired): failed, never sent twice."""
        return await (
            Notification.filter(state="sending", next_attempt_at__lt=now)
            .using_db(uow.conn)
            .update(
                state="failed",
                last_error="interrupted while sending; delivery unknown",
                updated_at=now,
            )
        )

    async def counts(self, uow: UnitOfWork) -> dict[str, int]:
        """Notifications per state."""
        rows = await (
            Notification.all()
            .using_db(uow.conn)
            .group_by("state")
            .annotate(n=Count("id"))
            .values_list("state", "n")
        )
        return {str(state): int(n) for state, n in rows}

    async def oldest_due(self, uow: UnitOfWork) -> datetime | None:
        """When the oldest pending notification became due."""
        row = (
            await Notification.filter(state="pending")
            .using_db(uow.conn)
            .order_by("next_attempt_at")
            .first()
            .values_list("next_attempt_at", flat=True)
        )
        return row if isinstance(row, datetime) else None

    async def failures(self, uow: UnitOfWork, limit: int) -> list[Notification]:
        """The most recent failed notifications."""
        return list(
            await Notification.filter(state="failed")
            .using_db(uow.conn)
            .order_by("-updated_at", "-id")
            .limit(limit)
        )

    async def by_source(self, uow: UnitOfWork, source: str) -> list[Notification]:
        """The notifications of one source."""
        return list(await Notification.filter(source=source).using_db(uow.conn).order_by("id"))


class OutboxReader:
    """What the notifier reads of other domains: outbox events, licences, their recipients."""

    async def events_after(self, uow: UnitOfWork, position: int, limit: int) -> list[OutboxEvent]:
        """Outbox events with an id above ``position``, in id order."""
        return list(
            await OutboxEvent.filter(id__gt=position).using_db(uow.conn).order_by("id").limit(limit)
        )

    async def head(self, uow: UnitOfWork) -> int:
        """The highest outbox event id (0 when empty)."""
        row = await OutboxEvent.all().using_db(uow.conn).order_by("-id").first()
        return int(row.id) if row is not None else 0

    async def count_after(self, uow: UnitOfWork, position: int) -> int:
        """Outbox events not yet planned."""
        return await OutboxEvent.filter(id__gt=position).using_db(uow.conn).count()

    async def licence(self, uow: UnitOfWork, ref: str) -> Licence | None:
        """The licence ``ref`` as it stands."""
        return await Licence.filter(ref=ref).using_db(uow.conn).first()

    async def expiring(
        self, uow: UnitOfWork, today: date, windows: tuple[int, int], limit: int
    ) -> list[Licence]:
        """Valid licences ending within ``windows[0]`` days whose reminder for the window
        they are in (``windows[1]`` days or fewer: the short one) is not yet planned."""
        wide, short = windows
        pg = uow.is_postgres

        def day(n: int) -> Any:
            value = today + timedelta(days=n)
            return value if pg else value.isoformat()

        marks = ["$1", "$2", "$3", "$4"] if pg else ["?"] * 4
        # Our text with our integers; the dates and the limit are bound parameters.
        sql = (
            "SELECT l.ref FROM licence l "  # noqa: S608
            "WHERE l.status = 'valid' "
            f"AND l.valid_until >= {marks[0]} AND l.valid_until <= {marks[1]} "
            "AND NOT EXISTS (SELECT 1 FROM expiry_reminder r WHERE r.licence_ref = l.ref "
            "AND r.valid_until = l.valid_until AND r.days = "
            f"CASE WHEN l.valid_until <= {marks[2]} THEN {int(short)} ELSE {int(wide)} END) "
            f"ORDER BY l.valid_until, l.ref LIMIT {marks[3]}"
        )
        rows = await uow.conn.execute_query_dict(sql, [day(0), day(wide), day(short), limit])
        refs = [str(r["ref"]) for r in rows]
        if not refs:
            return []
        found = await Licence.filter(ref__in=refs).using_db(uow.conn)
        by_ref = {licence.ref: licence for licence in found}
        return [by_ref[ref] for ref in refs if ref in by_ref]

    async def recipients(self, uow: UnitOfWork, licence: Licence) -> list[uuid.UUID]:
        """The accounts to tell about ``licence``.

        A person's licence: the account bound to the person. An operator's
        licence, or a vehicle's: the accounts of the operator's legal
        representative and of its active agents.
        """
        person_id = cast(uuid.UUID | None, getattr(licence, "holder_person_id", None))
        if person_id is not None:
            persons = [person_id]
        else:
            enterprise_id = cast(uuid.UUID | None, getattr(licence, "holder_enterprise_id", None))
            vehicle_id = cast(uuid.UUID | None, getattr(licence, "vehicle_id", None))
            if enterprise_id is None and vehicle_id is not None:
                enterprise_id = cast(
                    uuid.UUID | None,
                    await Vehicle.filter(id=vehicle_id)
                    .using_db(uow.conn)
                    .first()
                    .values_list("enterprise_id", flat=True),
                )
            if enterprise_id is None:
                return []
            persons = await self._operator_people(uow, enterprise_id)
        if not persons:
            return []
        accounts = (
            await Account.filter(person_id__in=persons)
            .using_db(uow.conn)
            .order_by("id")
            .values_list("id", flat=True)
        )
        return [cast(uuid.UUID, a) for a in accounts]

    async def _operator_people(self, uow: UnitOfWork, enterprise_id: uuid.UUID) -> list[uuid.UUID]:
        legal = (
            await Enterprise.filter(id=enterprise_id)
            .using_db(uow.conn)
            .first()
            .values_list("legal_rep_id", flat=True)
        )
        agents = (
            await EnterpriseAgent.filter(enterprise_id=enterprise_id, status="active")
            .using_db(uow.conn)
            .values_list("person_id", flat=True)
        )
        people = [cast(uuid.UUID, p) for p in [legal, *agents] if p is not None]
        return list(dict.fromkeys(people))

    async def openids(
        self, uow: UnitOfWork, account_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, str]:
        """Sealed openids of ``account_ids``."""
        rows = (
            await Account.filter(id__in=list(account_ids))
            .using_db(uow.conn)
            .values_list("id", "openid_sealed")
        )
        return {cast(uuid.UUID, a): str(sealed) for a, sealed in rows}
