"""Aggregation to the ministry: batches, their leases, and the pending-scan indexes.

Each outbox event joins one batch (``batch_id``, the batch's idempotency
key) and keeps the short reason of its last failure. The partial indexes
serve the worker's scans of unsent events (oldest first, those in no batch
yet, and per licence, so that no event goes out while an older one of its
licence is unsent) and of batches due for an attempt; both dialects support
them.
"""

from uuid import uuid4

from tortoise import fields, migrations
from tortoise.migrations import operations as ops

_INDEXES = [
    "CREATE INDEX outbox_event_unsent ON outbox_event (id) WHERE sent_at IS NULL",
    "CREATE INDEX outbox_event_unbatched ON outbox_event (id) "
    "WHERE sent_at IS NULL AND batch_id IS NULL",
    "CREATE INDEX outbox_event_unsent_licence ON outbox_event (licence_ref, id) "
    "WHERE sent_at IS NULL",
    "CREATE INDEX aggregation_batch_due ON aggregation_batch (next_attempt_at) "
    "WHERE sent_at IS NULL",
]

_DROP_INDEXES = [
    "DROP INDEX IF EXISTS aggregation_batch_due",
    "DROP INDEX IF EXISTS outbox_event_unsent_licence",
    "DROP INDEX IF EXISTS outbox_event_unbatched",
    "DROP INDEX IF EXISTS outbox_event_unsent",
]


class Migration(migrations.Migration):
    dependencies = [("wallet", "0009_sharing")]

    initial = False

    operations = [
        ops.CreateModel(
            name="AggregationBatch",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ("division", fields.CharField(max_length=6)),
                ("size", fields.IntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("attempts", fields.IntField(default=0)),
                ("next_attempt_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("claimed_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("claim_token", fields.CharField(default="", max_length=32)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("failure_reason", fields.CharField(default="", max_length=32)),
                ("last_error", fields.CharField(default="", max_length=512)),
            ],
            options={"table": "aggregation_batch", "app": "wallet", "pk_attr": "id", "table_description": "A batch of outbox events of one province (归集, aggregation to the ministry)."},
            bases=["Model"],
        ),
        ops.AddField(
            model_name="OutboxEvent",
            name="batch_id",
            field=fields.UUIDField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name="OutboxEvent",
            name="failure_reason",
            field=fields.CharField(default="", max_length=32),
        ),
        ops.RunSQL(_INDEXES, _DROP_INDEXES),
    ]
