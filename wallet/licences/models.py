"""Licence tables: the licence, its versions (each sealed), status changes and the outbox."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from wallet.holders.models import Enterprise, Person, Vehicle

__all__ = [
    "Licence",
    "LicenceVersion",
    "OutboxEvent",
    "StatusChange",
    "StatusListCounter",
]


class Licence(Model):
    """One licence across its versions. ``ref`` is the opaque public reference.

    ``number_index`` is the blind index of the licence number (a resident ID
    for the qualification family), ``number_display`` its masked form.
    ``status`` is the registry status, ``expired`` is derived from
    ``valid_until`` and never stored.
    """

    id = fields.UUIDField(primary_key=True)
    ref = fields.CharField(max_length=24, unique=True)
    kind = fields.CharField(max_length=32)
    number_index = fields.CharField(max_length=64)
    number_display = fields.CharField(max_length=64)
    serial = fields.CharField(max_length=64)
    holder_person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "wallet.Person", related_name="licences", null=True, on_delete=fields.RESTRICT
    )
    holder_enterprise: fields.ForeignKeyNullableRelation[Enterprise] = fields.ForeignKeyField(
        "wallet.Enterprise", related_name="licences", null=True, on_delete=fields.RESTRICT
    )
    vehicle: fields.ForeignKeyNullableRelation[Vehicle] = fields.ForeignKeyField(
        "wallet.Vehicle", related_name="licences", null=True, on_delete=fields.RESTRICT
    )
    issuer_uscc = fields.CharField(max_length=18)
    issuer_division = fields.CharField(max_length=6, db_index=True)
    issuer_name = fields.CharField(max_length=128)
    status = fields.CharField(max_length=16, db_index=True)
    version = fields.IntField()
    identifier = fields.CharField(max_length=160)
    status_idx = fields.IntField(null=True)
    # Incremented with every change of status or current version, in the
    # same transaction: the live-status cache never replaces a newer entry.
    status_seq = fields.BigIntField(default=0, db_default=0)
    valid_from = fields.DateField(null=True)
    valid_until = fields.DateField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "licence"
        unique_together = (("kind", "number_index"),)
        indexes = (
            ("issuer_division", "kind", "status"),
            # The listings page by ref within one holder (migration 0014).
            ("holder_enterprise_id", "ref"),
            ("holder_person_id", "ref"),
        )


class LicenceVersion(Model):
    """One version: its canonical document (face and metadata, vault-sealed) and its SM2 seal."""

    id = fields.UUIDField(primary_key=True)
    licence: fields.ForeignKeyRelation[Licence] = fields.ForeignKeyField(
        "wallet.Licence", related_name="versions", on_delete=fields.RESTRICT
    )
    version = fields.IntField()
    identifier = fields.CharField(max_length=160, unique=True)
    change_type = fields.CharField(max_length=16)
    reason = fields.CharField(max_length=256, default="")
    authority = fields.CharField(max_length=128)
    document_sealed = fields.TextField()
    content_digest = fields.CharField(max_length=64)
    issued_at = fields.DatetimeField()
    valid_from = fields.DateField(null=True)
    valid_until = fields.DateField(null=True)
    seal = fields.CharField(max_length=128)
    seal_kid = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()

    class Meta:
        table = "licence_version"
        unique_together = (("licence", "version"),)


class StatusChange(Model):
    """A registry status change with its reason and acting authority."""

    id = fields.BigIntField(primary_key=True)
    licence: fields.ForeignKeyRelation[Licence] = fields.ForeignKeyField(
        "wallet.Licence", related_name="status_changes", on_delete=fields.RESTRICT
    )
    action = fields.CharField(max_length=16)
    from_status = fields.CharField(max_length=16)
    to_status = fields.CharField(max_length=16)
    reason = fields.CharField(max_length=256)
    authority = fields.CharField(max_length=128)
    at = fields.DatetimeField()

    class Meta:
        table = "licence_status_change"


class StatusListCounter(Model):
    """The next free index of a province's status list (assigned on first presentation)."""

    division = fields.CharField(max_length=6, primary_key=True)
    next_idx = fields.IntField(default=0)

    class Meta:
        table = "status_list_counter"


class OutboxEvent(Model):
    """An event written in the same transaction as the change it reports.

    The aggregation worker (:mod:`wallet.aggregation`) puts pending events
    into batches (``batch_id``), pushes them to the ministry and stamps
    ``sent_at`` when the ministry acknowledges; failures keep their
    ``failure_reason`` (a short code), ``last_error`` and a later
    ``next_attempt_at``.
    """

    id = fields.BigIntField(primary_key=True)
    topic = fields.CharField(max_length=64)
    licence_ref = fields.CharField(max_length=24, db_index=True)
    payload: dict[str, Any] = fields.JSONField()
    created_at = fields.DatetimeField()
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True, db_index=True)
    last_error = fields.CharField(max_length=512, default="")
    batch_id = fields.UUIDField(null=True, db_index=True)
    failure_reason = fields.CharField(max_length=32, default="")

    class Meta:
        table = "outbox_event"
