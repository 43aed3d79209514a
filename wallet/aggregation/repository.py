"""Every query of the aggregation worker: unsent outbox events and their batches.

Each method runs on the caller's unit of work. On PostgreSQL the scans that
pick work take row locks with ``FOR UPDATE SKIP LOCKED`` (raw SQL on
``uow.conn``), so several workers never pick the same events or batch; on
SQLite, a single writer, every claim is a conditional update that a second
writer cannot repeat.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from tortoise.expressions import F, Q
from tortoise.functions import Count

from wallet.aggregation.models import AggregationBatch
from wallet.licences.models import OutboxEvent
from wallet.uow import UnitOfWork

__all__ = ["AggregationRepository", "EventRow"]


class EventRow(NamedTuple):
    """An event as a batch carries it."""

    id: int
    topic: str
    licence_ref: str
    created_at: datetime
    payload: dict[str, Any]


# An event may go out only when no older event of its licence is unsent.
_FRESH = """
SELECT e.id, {division} AS division FROM outbox_event e
WHERE e.sent_at IS NULL AND e.batch_id IS NULL
  AND NOT EXISTS (
    SELECT 1 FROM outbox_event o
    WHERE o.licence_ref = e.licence_ref AND o.sent_at IS NULL AND o.id < e.id
  )
ORDER BY e.id
"""

# The CTE runs once: a subquery in the WHERE clause may run again for each row
# (a nested loop), and with SKIP LOCKED and ties in the order pick other rows each
# time, leasing several batches to one worker (seen with stale statistics).
_CLAIM_PG = """
WITH picked AS (
  SELECT id FROM aggregation_batch
  WHERE sent_at IS NULL AND next_attempt_at <= $3
    AND (claimed_until IS NULL OR claimed_until <= $3)
  ORDER BY next_attempt_at, created_at, id
  LIMIT $4
  FOR UPDATE SKIP LOCKED
)
UPDATE aggregation_batch AS b
SET claimed_until = $1, claim_token = $2, attempts = b.attempts + 1
FROM picked
WHERE b.id = picked.id
  -- Checked again on the row as it is now, whatever the scan saw.
  AND b.sent_at IS NULL AND (b.claimed_until IS NULL OR b.claimed_until <= $3)
RETURNING b.id
"""


def _claimable(now: datetime) -> Q:
    return Q(sent_at=None, next_attempt_at__lte=now) & (
        Q(claimed_until=None) | Q(claimed_until__lte=now)
    )


class AggregationRepository:
    """Queries of :class:`OutboxEvent` and :class:`AggregationBatch` for the worker."""

    async def fresh_events(self, uow: UnitOfWork, limit: int) -> list[tuple[int, str]]:
        """Up to ``limit`` unsent events in no batch yet, oldest first, none behind an
        older unsent event of its licence (locked on PostgreSQL, skipping locked rows):
        each event's id and the division in its payload."""
        if uow.is_postgres:
            sql = _FRESH.format(division="e.payload->>'division'")
            sql += "LIMIT $1 FOR UPDATE OF e SKIP LOCKED"
        else:
            sql = _FRESH.format(division="json_extract(e.payload, '$.division')") + "LIMIT ?"
        rows = await uow.conn.execute_query_dict(sql, [limit])
        return [(int(row["id"]), str(row["division"] or "")) for row in rows]

    async def add_batch(
        self, uow: UnitOfWork, batch: AggregationBatch, event_ids: Sequence[int]
    ) -> bool:
        """Insert ``batch`` and put the events in it; False if one was taken meanwhile."""
        await batch.save(using_db=uow.conn, force_create=True)
        moved = (
            await OutboxEvent.filter(id__in=list(event_ids), batch_id=None, sent_at=None)
            .using_db(uow.conn)
            .update(batch_id=batch.id)
        )
        return moved == len(event_ids)

    async def claim_due(
        self, uow: UnitOfWork, now: datetime, lease_until: datetime, token: str, limit: int = 1
    ) -> list[AggregationBatch]:
        """Lease up to ``limit`` batches due at ``now`` and not leased by a live worker.

        Each claimed batch counts one more attempt and carries ``token``.
        """
        if uow.is_postgres:
            rows = await uow.conn.execute_query_dict(_CLAIM_PG, [lease_until, token, now, limit])
            ids = [row["id"] for row in rows]
        else:
            candidates = (
                await AggregationBatch.filter(_claimable(now))
                .order_by("next_attempt_at", "created_at", "id")
                .limit(limit)
                .using_db(uow.conn)
                .values_list("id", flat=True)
            )
            if not candidates:
                return []
            # Repeats the conditions: a batch another writer claimed in between stays its.
            await (
                AggregationBatch.filter(_claimable(now), id__in=list(candidates))
                .using_db(uow.conn)
                .update(claimed_until=lease_until, claim_token=token, attempts=F("attempts") + 1)
            )
            ids = list(candidates)
        if not ids:
            return []
        return await (
            AggregationBatch.filter(id__in=ids, claim_token=token)
            .order_by("next_attempt_at", "created_at")
            .using_db(uow.conn)
        )

    async def batch_events(self, uow: UnitOfWork, batch_id: uuid.UUID) -> list[EventRow]:
        """The events of a batch in id order: id, topic, licence ref, written at, payload."""
        rows = (
            await OutboxEvent.filter(batch_id=batch_id)
            .order_by("id")
            .using_db(uow.conn)
            .values_list("id", "topic", "licence_ref", "created_at", "payload")
        )
        return [EventRow(*row) for row in rows]

    async def acknowledge(self, uow: UnitOfWork, batch: AggregationBatch, now: datetime) -> int:
        """Stamp the batch and its events acknowledged at ``now``; the events stamped.

        A batch already acknowledged (by a worker whose lease had run out)
        stamps nothing again.
        """
        done = (
            await AggregationBatch.filter(id=batch.id, sent_at=None)
            .using_db(uow.conn)
            .update(
                sent_at=now, claimed_until=None, claim_token="", failure_reason="", last_error=""
            )
        )
        if not done:
            return 0
        return int(
            await OutboxEvent.filter(batch_id=batch.id, sent_at=None)
            .using_db(uow.conn)
            .update(sent_at=now, attempts=batch.attempts, failure_reason="", last_error="")
        )

    async def record_failure(
        self,
        uow: UnitOfWork,
        batch: AggregationBatch,
        token: str,
        reason: str,
        detail: str,
        next_attempt_at: datetime,
    ) -> bool:
        """Release the lease with the failure and the next attempt's time (on the batch
        and its events); False if the lease was lost or the batch acknowledged meanwhile."""
        released = (
            await AggregationBatch.filter(id=batch.id, sent_at=None, claim_token=token)
            .using_db(uow.conn)
            .update(
                claimed_until=None,
                claim_token="",
                next_attempt_at=next_attempt_at,
                failure_reason=reason,
                last_error=detail,
            )
        )
        if not released:
            return False
        await (
            OutboxEvent.filter(batch_id=batch.id, sent_at=None)
            .using_db(uow.conn)
            .update(
                next_attempt_at=next_attempt_at,
                failure_reason=reason,
                last_error=detail,
                attempts=batch.attempts,
            )
        )
        return True

    async def pending_count(self, uow: UnitOfWork) -> int:
        """Events not acknowledged yet."""
        return await OutboxEvent.filter(sent_at=None).using_db(uow.conn).count()

    async def oldest_pending(self, uow: UnitOfWork) -> datetime | None:
        """When the oldest unacknowledged event was written."""
        first = (
            await OutboxEvent.filter(sent_at=None)
            .order_by("id")
            .using_db(uow.conn)
            .first()
            .values_list("created_at", flat=True)
        )
        return first if isinstance(first, datetime) else None

    async def failures_by_reason(self, uow: UnitOfWork) -> dict[str, int]:
        """Unacknowledged events whose last attempt failed, counted by reason."""
        rows = (
            await OutboxEvent.filter(sent_at=None)
            .exclude(failure_reason="")
            .annotate(n=Count("id"))
            .group_by("failure_reason")
            .using_db(uow.conn)
            .values_list("failure_reason", "n")
        )
        return {str(reason): int(n) for reason, n in rows}

    async def make_due(self, uow: UnitOfWork, now: datetime, reason: str | None) -> int:
        """Make failed batches (of ``reason``, or all) due at ``now``; the events concerned."""
        query = AggregationBatch.filter(sent_at=None).exclude(failure_reason="")
        if reason is not None:
            query = query.filter(failure_reason=reason)
        ids = list(await query.using_db(uow.conn).values_list("id", flat=True))
        if not ids:
            return 0
        await AggregationBatch.filter(id__in=ids).using_db(uow.conn).update(next_attempt_at=now)
        return int(
            await OutboxEvent.filter(batch_id__in=ids, sent_at=None)
            .using_db(uow.conn)
            .update(next_attempt_at=now)
        )
