"""Activations of licences on holders' devices."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from wallet.accounts.models import Account
from wallet.licences.models import Licence

__all__ = ["Activation"]


class Activation(Model):
    """A licence bound to one device of one account.

    ``status`` is active, superseded (a newer activation replaced it),
    deactivated (the holder ended it, e.g. a lost phone, or the identity
    moved to another account), revoked (an agent's authority ended) or
    authority_reset (the authority forced re-activation). At most
    one activation per licence is active. The offline TOTP seed is sealed by
    the vault under the context activation.totp_seed.
    """

    id = fields.UUIDField(primary_key=True)
    licence: fields.ForeignKeyRelation[Licence] = fields.ForeignKeyField(
        "wallet.Licence", related_name="activations", on_delete=fields.RESTRICT
    )
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "wallet.Account", related_name="activations", on_delete=fields.RESTRICT
    )
    licence_id: uuid.UUID
    account_id: uuid.UUID
    device_id = fields.CharField(max_length=64)
    device_public_key = fields.CharField(max_length=130, null=True)
    totp_seed_sealed = fields.TextField()
    status = fields.CharField(max_length=16)
    created_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)

    class Meta:
        table = "activation"
        indexes = (("licence_id", "status"), ("account_id", "status"))
