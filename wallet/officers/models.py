"""Officer accounts, bound to an enforcement device, and their sessions."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["Officer", "OfficerSessionRecord"]


class Officer(Model):
    """An inspector or supervisor of a division. The password is an Argon2id hash."""

    id = fields.IntField(primary_key=True)
    badge = fields.CharField(max_length=32, unique=True)
    name_sealed = fields.TextField()
    division = fields.CharField(max_length=6, db_index=True)
    role = fields.CharField(max_length=16)
    password_hash = fields.CharField(max_length=256)
    device_id = fields.CharField(max_length=64)
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "officer"


class OfficerSessionRecord(Model):
    """A signed-in session, kept under the SM3 hash of its token (never the token).

    The database is the durable record; the cache holds a copy for the hot
    path. Signing out, expiry and disabling the officer end it.
    """

    token_hash = fields.CharField(max_length=64, primary_key=True)
    officer: fields.ForeignKeyRelation[Officer] = fields.ForeignKeyField(
        "wallet.Officer", related_name="sessions", on_delete=fields.CASCADE
    )
    device_id = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "officer_session"
