"""Aggregation to the ministry (归集): outbox events into signed, idempotent batches.

:class:`Aggregator` holds the rules; :mod:`wallet.aggregation.worker` runs
them in its loop, one unit of work per step:

1. *form*: unsent events in no batch, oldest first and none behind an older
   unsent event of its licence, are grouped by issuing province into
   batches of at most ``batch_size``; a batch keeps its events for good,
   so its id is a stable idempotency key;
2. *claim*: a due batch is leased to this worker for ``lease`` seconds (a
   worker that dies leaves the lease to run out) and signed with its
   province's seal key;
3. *push* the batch (outside any transaction);
4. *acknowledge* it (events get ``sent_at``), or record the failure and the
   next attempt after an exponential back-off with jitter. Failures are
   retried until they go through; ``resend`` makes them due at once.
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from wallet.aggregation.ministry import Failure, MinistryClient, SignedBatch
from wallet.aggregation.models import AggregationBatch
from wallet.aggregation.repository import AggregationRepository
from wallet.aggregation.schemas import Backlog
from wallet.aggregation.wire import batch_body, event_entry, signature_header
from wallet.clock import Clock, SystemClock
from wallet.errors import NotFound
from wallet.identifiers import province_division
from wallet.keys.models import KeyUse
from wallet.keys.service import KeyStore
from wallet.uow import UnitOfWork

__all__ = ["Aggregator", "Backoff", "BatchRace", "Claimed", "backlog"]

FORM_BATCHES: Final = 4
"""Batches one formation step fills at most (the rest wait for the next step)."""


class BatchRace(Exception):
    """Another worker batched one of the events this one picked (roll back and retry)."""


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before attempt ``n + 1`` after ``n`` failed ones: ``base · 2^(n-1)`` up to
    ``cap`` seconds, then drawn uniformly from its upper half (jitter, so that batches
    failing together do not come back together)."""

    base: float = 5.0
    cap: float = 1800.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed attempts."""
        full = min(self.cap, self.base * 2 ** max(0, min(attempts, 40) - 1))
        return float(full / 2 + full / 2 * secrets.randbelow(1001) / 1000)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A batch leased to this worker: the row, the lease token and the request to send
    (None when it cannot be signed, with ``failure`` saying why)."""

    batch: AggregationBatch
    token: str
    request: SignedBatch | None
    failure: Failure | None = None


async def backlog(uow: UnitOfWork, clock: Clock | None = None) -> Backlog:
    """Events the ministry has not acknowledged: how many, the oldest's age, failures by
    reason (for ``wallet aggregate status`` and the metrics gauges)."""
    repository = AggregationRepository()
    pending = await repository.pending_count(uow)
    oldest = await repository.oldest_pending(uow) if pending else None
    now = (clock or SystemClock()).now()
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    failed = await repository.failures_by_reason(uow) if pending else {}
    return Backlog(pending=pending, oldest_age_seconds=age, failed=failed)


class Aggregator:
    """The rules of pushing the outbox to the ministry (see the module docstring).

    ``keys`` signs with each province's seal key, ``ministry`` sends,
    ``clock`` stamps leases and acknowledgements, ``lease`` (seconds) must
    outlast one push including its timeout.
    """

    def __init__(
        self,
        repository: AggregationRepository,
        keys: KeyStore,
        ministry: MinistryClient,
        clock: Clock,
        *,
        batch_size: int,
        lease: float,
        backoff: Backoff | None = None,
    ) -> None:
        self.repository = repository
        self.keys = keys
        self.ministry = ministry
        self.clock = clock
        self.batch_size = batch_size
        self.lease = lease
        self.backoff = backoff or Backoff()

    async def form_batches(self, uow: UnitOfWork) -> int:
        """Put fresh events into new batches, one province per batch; the batches made.

        Raises :class:`BatchRace` if another worker took one of the events
        meanwhile (the caller's transaction must then roll back).
        """
        events = await self.repository.fresh_events(uow, self.batch_size * FORM_BATCHES)
        by_province: dict[str, list[int]] = defaultdict(list)
        for event_id, division in events:
            by_province[province_division(division)].append(event_id)
        now = self.clock.now()
        made = 0
        for province, group in sorted(by_province.items()):
            for start in range(0, len(group), self.batch_size):
                chunk = group[start : start + self.batch_size]
                batch = AggregationBatch(
                    id=uuid.uuid4(),
                    division=province,
                    size=len(chunk),
                    created_at=now,
                    next_attempt_at=now,
                )
                if not await self.repository.add_batch(uow, batch, chunk):
                    raise BatchRace("an event was put in another batch meanwhile")
                made += 1
        return made

    async def claim(self, uow: UnitOfWork) -> Claimed | None:
        """Lease the next due batch to this worker and build its signed request."""
        now = self.clock.now()
        token = secrets.token_hex(16)
        until = now + timedelta(seconds=self.lease)
        batches = await self.repository.claim_due(uow, now, until, token)
        if not batches:
            return None
        batch = batches[0]
        events = await self.repository.batch_events(uow, batch.id)
        try:
            key = await self.keys.active_key(uow, KeyUse.SEAL, batch.division)
        except NotFound as exc:
            return Claimed(batch, token, None, Failure("no_seal_key", exc.detail[:500]))
        body = batch_body(
            str(batch.id),
            batch.division,
            (event_entry(e.id, e.topic, e.licence_ref, e.created_at, e.payload) for e in events),
        )
        request = SignedBatch(
            batch_id=str(batch.id),
            body=body,
            kid=key.kid,
            signature=signature_header(key.private_key, body, self.keys.sm2),
            events=len(events),
        )
        return Claimed(batch, token, request)

    async def push(self, claimed: Claimed) -> Failure | None:
        """Send a claimed batch (no database work); None once the ministry recorded it."""
        if claimed.request is None:
            return claimed.failure or Failure("no_seal_key", "the batch could not be signed")
        return await self.ministry.push(claimed.request)

    async def acknowledge(self, uow: UnitOfWork, claimed: Claimed) -> int:
        """Record the ministry's acknowledgement of a batch; the events it stamped."""
        return await self.repository.acknowledge(uow, claimed.batch, self.clock.now())

    async def record_failure(self, uow: UnitOfWork, claimed: Claimed, failure: Failure) -> bool:
        """Release a failed batch until its next attempt (after the back-off)."""
        wait = self.backoff.delay(claimed.batch.attempts)
        due = self.clock.now() + timedelta(seconds=wait)
        return await self.repository.record_failure(
            uow, claimed.batch, claimed.token, failure.reason, failure.detail, due
        )

    async def backlog(self, uow: UnitOfWork) -> Backlog:
        """See :func:`backlog`."""
        return await backlog(uow, self.clock)

    async def resend(self, uow: UnitOfWork, reason: str | None = None) -> int:
        """Make failed batches (of ``reason``, or every one) due now; the events concerned."""
        return await self.repository.make_due(uow, self.clock.now(), reason)
