"""Claims of licences by their holders, and the photos sent for review."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from wallet.accounts.models import Account
from wallet.holders.models import Enterprise, Person
from wallet.licences.models import Licence

__all__ = ["Claim", "ClaimPhoto"]


class Claim(Model):
    """A holder's claim of a licence, one row per licence.

    ``status`` is claimed, pending_review (a photo waits for the authority),
    approved or rejected (``reason`` says why). ``person`` or ``enterprise``
    records the holder it was claimed for, ``account`` who claimed it (the
    holder, a legal representative or an agent).
    """

    id = fields.UUIDField(primary_key=True)
    licence: fields.OneToOneRelation[Licence] = fields.OneToOneField(
        "wallet.Licence", related_name="claim", on_delete=fields.RESTRICT
    )
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "wallet.Account", related_name="claims", on_delete=fields.RESTRICT
    )
    person: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "wallet.Person", related_name="claims", null=True, on_delete=fields.RESTRICT
    )
    enterprise: fields.ForeignKeyNullableRelation[Enterprise] = fields.ForeignKeyField(
        "wallet.Enterprise", related_name="claims", null=True, on_delete=fields.RESTRICT
    )
    licence_id: uuid.UUID
    account_id: uuid.UUID
    person_id: uuid.UUID | None
    enterprise_id: uuid.UUID | None
    photo: fields.BackwardOneToOneRelation[ClaimPhoto]
    status = fields.CharField(max_length=16)
    reason = fields.CharField(max_length=256, default="")
    reviewed_by = fields.CharField(max_length=128, default="")
    reviewed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "claim"
        indexes = (("status", "created_at"),)


class ClaimPhoto(Model):
    """The photo sent with a claim: re-encoded JPEG, metadata stripped, sealed by the vault.

    Kept once approved (it becomes the licence photo), deleted on rejection.
    """

    id = fields.UUIDField(primary_key=True)
    claim: fields.OneToOneRelation[Claim] = fields.OneToOneField(
        "wallet.Claim", related_name="photo", on_delete=fields.CASCADE
    )
    claim_id: uuid.UUID
    image_sealed = fields.TextField()
    media_type = fields.CharField(max_length=32)
    width = fields.IntField()
    height = fields.IntField()
    size = fields.IntField()
    digest = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()

    class Meta:
        table = "claim_photo"
