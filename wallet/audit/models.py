"""Audit tables: the entries and the chain head."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

__all__ = ["AuditEntry", "AuditHead"]


class AuditEntry(Model):
    """One audited action. ``hash`` = SM3(prev_hash ‖ canonical entry), never updated."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=128)
    action = fields.CharField(max_length=64)
    subject = fields.CharField(max_length=256, default="")
    detail: dict[str, Any] = fields.JSONField(default=dict)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64, unique=True)

    class Meta:
        table = "audit_entry"


class AuditHead(Model):
    """The last entry's id and hash, so a deleted tail is detected too."""

    id = fields.IntField(primary_key=True)
    last_id = fields.BigIntField()
    last_hash = fields.CharField(max_length=64)

    class Meta:
        table = "audit_head"
