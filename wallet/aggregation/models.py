"""The aggregation batch: outbox events pushed to the ministry as one signed request."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["AggregationBatch"]


class AggregationBatch(Model):
    """A batch of outbox events of one province (归集, aggregation to the ministry).

    ``id`` is the idempotency key sent with every attempt: once formed, a
    batch always carries the same events (``outbox_event.batch_id``), so a
    retry is the same request. ``claimed_until`` is the lease of the worker
    sending it; a worker that dies leaves the lease to expire and the next
    one sends the batch again. ``sent_at`` is the ministry's acknowledgement.
    """

    id = fields.UUIDField(primary_key=True)
    division = fields.CharField(max_length=6)
    size = fields.IntField()
    created_at = fields.DatetimeField()
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    claim_token = fields.CharField(max_length=32, default="")
    sent_at = fields.DatetimeField(null=True)
    failure_reason = fields.CharField(max_length=32, default="")
    last_error = fields.CharField(max_length=512, default="")

    class Meta:
        table = "aggregation_batch"
