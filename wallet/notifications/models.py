"""Notification tables: subscription credits, notifications, the outbox cursor, reminders."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.models import Model

from wallet.accounts.models import Account

__all__ = ["ExpiryReminder", "Notification", "NotificationCursor", "Subscription"]


class Subscription(Model):
    """Credits of one account for one subscribe-message template (订阅消息, subscribe message).

    Each acceptance in the mini-program (``wx.requestSubscribeMessage``)
    allows WeChat to deliver one message: ``credits`` counts those not yet
    spent and never goes below zero.
    """

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "wallet.Account", related_name="subscriptions", on_delete=fields.CASCADE
    )
    account_id: uuid.UUID
    template_id = fields.CharField(max_length=64)
    credits = fields.IntField(default=0)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "subscription"
        unique_together = (("account_id", "template_id"),)


class Notification(Model):
    """One message to one account about one event, at most once per (source, account, kind).

    ``source`` names what caused it (``outbox:<event id>``, or
    ``expiry:<ref>:<valid until>`` for a reminder). ``state``: pending (to
    send at ``next_attempt_at``), sending (claimed by a worker), sent,
    failed (given up, or interrupted mid-send: never sent twice) or skipped
    (the account had no subscription credit for the template). ``data``
    holds the template keywords, free of personal data.
    """

    id = fields.BigIntField(primary_key=True)
    source = fields.CharField(max_length=64)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "wallet.Account", related_name="notifications", on_delete=fields.CASCADE
    )
    account_id: uuid.UUID
    kind = fields.CharField(max_length=16)
    licence_ref = fields.CharField(max_length=24, db_index=True)
    template_id = fields.CharField(max_length=64)
    data: dict[str, Any] = fields.JSONField()
    state = fields.CharField(max_length=8)
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=200, default="")
    next_attempt_at = fields.DatetimeField()
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notification"
        unique_together = (("source", "account_id", "kind"),)
        indexes = (("state", "next_attempt_at"),)


class NotificationCursor(Model):
    """How far the notifier has read the outbox: every event up to ``position`` is planned."""

    name = fields.CharField(max_length=32, primary_key=True)
    position = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "notification_cursor"


class ExpiryReminder(Model):
    """A reminder planned for a licence's validity end (``days`` before it), once each."""

    id = fields.BigIntField(primary_key=True)
    licence_ref = fields.CharField(max_length=24)
    valid_until = fields.DateField()
    days = fields.SmallIntField()
    planned_at = fields.DatetimeField()

    class Meta:
        table = "expiry_reminder"
        unique_together = (("licence_ref", "valid_until", "days"),)
