"""The verification log: who verified which licence, when, with what verdict."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["VerificationRecord"]


class VerificationRecord(Model):
    """One scan or lookup by an officer. The holder sees these, officer masked to badge."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(db_index=True)
    officer_id = fields.IntField()
    officer_badge = fields.CharField(max_length=32)
    officer_division = fields.CharField(max_length=6)
    device_id = fields.CharField(max_length=64)
    mode = fields.CharField(max_length=16)
    verdict = fields.CharField(max_length=24)
    licence_ref = fields.CharField(max_length=24, null=True, db_index=True)
    token_id = fields.CharField(max_length=64, null=True, db_index=True)
    # Written with the row, so that a row spooled during a database outage
    # (wallet.verification.spool) is stored once however often it is drained.
    # On PostgreSQL the log is partitioned by month of ``at`` (migration 0013):
    # the unique pair there is (record_id, at) and the primary key (id, at).
    record_id = fields.UUIDField(unique=True, null=True)

    class Meta:
        table = "verification_record"
