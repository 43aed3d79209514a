"""Signing-key table: every SM2 key the platform signs with, past and present."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

__all__ = ["KeyStatus", "KeyUse", "SigningKey"]


class KeyUse(StrEnum):
    """What a key signs: a province's seal, the platform's QR tokens, annotated copies,
    the trust list."""

    SEAL = "seal"
    PRESENTATION = "presentation"
    COPY = "copy"
    ROOT = "root"


class KeyStatus(StrEnum):
    """``active`` signs, ``retired`` only verifies, ``revoked`` is never trusted again."""

    ACTIVE = "active"
    RETIRED = "retired"
    REVOKED = "revoked"


class SigningKey(Model):
    """An SM2 signing key: a province seal key, the presentation key or the trust-list root.

    The private scalar is stored only wrapped (SM4-GCM under a key derived from
    the master key, bound to the kid). ``active_slot`` is set while the key is
    active and is unique, so each slot (use and division) has at most one
    active key.
    """

    id = fields.IntField(primary_key=True)
    kid = fields.CharField(max_length=32, unique=True)
    use = fields.CharField(max_length=16)
    division = fields.CharField(max_length=6, null=True)
    public_key = fields.CharField(max_length=130)
    private_wrapped = fields.TextField()
    status = fields.CharField(max_length=8, default=KeyStatus.ACTIVE.value)
    active_slot = fields.CharField(max_length=24, null=True, unique=True)
    not_before = fields.DatetimeField()
    not_after = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    retired_at = fields.DatetimeField(null=True)
    signed_until = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    revocation_reason = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "signing_key"

    def __str__(self) -> str:
        return f"{self.kid} ({self.use}, {self.status})"
