"""Officer accounts, bound to an enforcement device."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["Officer"]


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
