"""Sharing tables: relying parties, grants and their licences, share codes, the access log."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from wallet.licences.models import Licence

__all__ = ["Access", "Grant", "GrantLicence", "RelyingParty", "ShareCode"]


class RelyingParty(Model):
    """An organisation that redeems grants (a transport company, a shipper, an insurer).

    ``party_id`` is its ``X-Client-Id`` for signed requests; the secret is
    sealed by the vault. ``purposes`` lists the purpose codes it may ask for.
    """

    id = fields.IntField(primary_key=True)
    party_id = fields.CharField(max_length=40, unique=True)
    name = fields.CharField(max_length=128)
    uscc = fields.CharField(max_length=18, unique=True)
    purposes: list[str] = fields.JSONField()
    secret_sealed = fields.TextField()
    sm2_public_key = fields.CharField(max_length=130, null=True)
    status = fields.CharField(max_length=16)
    created_by = fields.CharField(max_length=128)
    created_at = fields.DatetimeField()
    disabled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "relying_party"

    @property
    def client_id(self) -> str:
        """Its ``X-Client-Id`` (the signed-request check reads this name)."""
        return self.party_id

    @property
    def enabled(self) -> bool:
        """Whether its signed requests are accepted."""
        return self.status == "active"


class Grant(Model):
    """Access for one party to named fields of licences, for a purpose, until a time.

    ``source`` is ``holder`` (made by a holder's session), ``authority``
    (inter-department use) or ``share_code`` (made by redeeming a share code).
    ``uses`` counts redemptions; ``max_uses`` None means any number until
    ``expires_at``.
    """

    id = fields.UUIDField(primary_key=True)
    public_id = fields.CharField(max_length=17, unique=True)
    party: fields.ForeignKeyRelation[RelyingParty] = fields.ForeignKeyField(
        "wallet.RelyingParty", related_name="grants", on_delete=fields.RESTRICT
    )
    party_id: int
    source = fields.CharField(max_length=16)
    granted_by = fields.CharField(max_length=128)
    purpose = fields.CharField(max_length=32)
    fields_granted: list[str] = fields.JSONField()
    expires_at = fields.DatetimeField()
    max_uses = fields.IntField(null=True)
    uses = fields.IntField(default=0)
    revoked_at = fields.DatetimeField(null=True)
    revoked_by = fields.CharField(max_length=128, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "share_grant"
        indexes = (("party_id", "created_at"),)


class GrantLicence(Model):
    """One licence of a grant, with the holder it had when granted.

    A licence that changes hands (a vehicle sold) leaves the grant behind:
    redemptions and the holder's lists compare these columns, not the
    licence's current holder.
    """

    id = fields.BigIntField(primary_key=True)
    grant: fields.ForeignKeyRelation[Grant] = fields.ForeignKeyField(
        "wallet.Grant", related_name="licences", on_delete=fields.CASCADE
    )
    licence: fields.ForeignKeyRelation[Licence] = fields.ForeignKeyField(
        "wallet.Licence", related_name="grants", on_delete=fields.RESTRICT
    )
    grant_id: uuid.UUID
    licence_id: uuid.UUID
    holder_person_id = fields.UUIDField(null=True, db_index=True)
    holder_enterprise_id = fields.UUIDField(null=True, db_index=True)

    class Meta:
        table = "share_grant_licence"
        unique_together = (("grant", "licence"),)


class ShareCode(Model):
    """A one-time code a holder shows face to face; only its keyed hash is stored.

    ``form`` is ``qr`` (high entropy) or ``short`` (read aloud): a short code's
    first characters are its ``locator``, so wrong guesses at a live code count
    against it (``failures``). ``grant`` is set when it is redeemed.
    """

    id = fields.UUIDField(primary_key=True)
    code_hash = fields.CharField(max_length=64, unique=True)
    form = fields.CharField(max_length=8)
    locator = fields.CharField(max_length=8, unique=True, null=True)
    licence: fields.ForeignKeyRelation[Licence] = fields.ForeignKeyField(
        "wallet.Licence", related_name="share_codes", on_delete=fields.RESTRICT
    )
    licence_id: uuid.UUID
    account_id = fields.UUIDField()
    granted_by = fields.CharField(max_length=128)
    purpose = fields.CharField(max_length=32)
    fields_granted: list[str] = fields.JSONField()
    grant_days = fields.IntField()
    expires_at = fields.DatetimeField()
    failures = fields.IntField(default=0)
    burned_at = fields.DatetimeField(null=True)
    grant: fields.ForeignKeyNullableRelation[Grant] = fields.ForeignKeyField(
        "wallet.Grant", related_name="share_codes", null=True, on_delete=fields.RESTRICT
    )
    grant_id: uuid.UUID | None
    created_at = fields.DatetimeField()

    class Meta:
        table = "share_code"


class Access(Model):
    """One redemption: which party read which fields of which licence, for what, when."""

    id = fields.BigIntField(primary_key=True)
    grant: fields.ForeignKeyRelation[Grant] = fields.ForeignKeyField(
        "wallet.Grant", related_name="accesses", on_delete=fields.RESTRICT
    )
    grant_id: uuid.UUID
    party: fields.ForeignKeyRelation[RelyingParty] = fields.ForeignKeyField(
        "wallet.RelyingParty", related_name="accesses", on_delete=fields.RESTRICT
    )
    party_id: int
    licence: fields.ForeignKeyRelation[Licence] = fields.ForeignKeyField(
        "wallet.Licence", related_name="accesses", on_delete=fields.RESTRICT
    )
    licence_id: uuid.UUID
    fields_read: list[str] = fields.JSONField()
    purpose = fields.CharField(max_length=32)
    copy_id = fields.CharField(max_length=24, unique=True)
    form = fields.CharField(max_length=8)
    at = fields.DatetimeField()

    class Meta:
        table = "share_access"
        indexes = (("grant_id", "id"),)
