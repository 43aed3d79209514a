"""Holder notifications: subscription credits, notifications, the outbox cursor, reminders.

``subscription`` counts, per account and template, the subscribe messages
the user accepted and WeChat will still deliver. ``notification`` holds one
row per (source, account, kind), so a message is planned at most once;
``notification_cursor`` is the notifier's own position in the outbox
(independent of the aggregation worker's ``sent_at``); ``expiry_reminder``
records the reminders planned for each validity end.
"""

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("wallet", "0010_aggregation")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Subscription",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "account",
                    fields.ForeignKeyField(
                        "wallet.Account",
                        source_field="account_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="subscriptions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("template_id", fields.CharField(max_length=64)),
                ("credits", fields.IntField(default=0)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "subscription",
                "app": "wallet",
                "unique_together": (("account_id", "template_id"),),
                "pk_attr": "id",
                "table_description": "Credits of one account for one subscribe-message template.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Notification",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("source", fields.CharField(max_length=64)),
                (
                    "account",
                    fields.ForeignKeyField(
                        "wallet.Account",
                        source_field="account_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="notifications",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("kind", fields.CharField(max_length=16)),
                ("licence_ref", fields.CharField(max_length=24, db_index=True)),
                ("template_id", fields.CharField(max_length=64)),
                ("data", fields.JSONField()),
                ("state", fields.CharField(max_length=8)),
                ("attempts", fields.IntField(default=0)),
                ("last_error", fields.CharField(default="", max_length=200)),
                ("next_attempt_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "notification",
                "app": "wallet",
                "unique_together": (("source", "account_id", "kind"),),
                "indexes": [Index(fields=["state", "next_attempt_at"])],
                "pk_attr": "id",
                "table_description": "One message to one account about one event, at most once.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="NotificationCursor",
            fields=[
                (
                    "name",
                    fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32),
                ),
                ("position", fields.BigIntField(default=0)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "notification_cursor",
                "app": "wallet",
                "pk_attr": "name",
                "table_description": "How far the notifier has read the outbox.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ExpiryReminder",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("licence_ref", fields.CharField(max_length=24)),
                ("valid_until", fields.DateField()),
                ("days", fields.SmallIntField()),
                ("planned_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "expiry_reminder",
                "app": "wallet",
                "unique_together": (("licence_ref", "valid_until", "days"),),
                "pk_attr": "id",
                "table_description": "A reminder planned for a licence's validity end, once each.",
            },
            bases=["Model"],
        ),
    ]
