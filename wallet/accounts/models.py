"""Holder accounts: one per WeChat user of the mini-program."""

from __future__ import annotations

import uuid

from tortoise import fields
from tortoise.models import Model

from wallet.holders.models import Person

__all__ = ["Account"]


class Account(Model):
    """A WeChat user, known by the blind index of its openid (the openid itself is sealed).

    ``person`` is the real-name identity bound to the account: one person is
    bound to at most one account at a time (the column is unique). The phone
    number, when given, is sealed.
    """

    id = fields.UUIDField(primary_key=True)
    openid_index = fields.CharField(max_length=64, unique=True)
    openid_sealed = fields.TextField()
    person: fields.OneToOneNullableRelation[Person] = fields.OneToOneField(
        "wallet.Person", related_name="account", null=True, on_delete=fields.SET_NULL
    )
    person_id: uuid.UUID | None
    phone_sealed = fields.TextField(null=True)
    bound_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    last_sign_in_at = fields.DatetimeField()

    class Meta:
        table = "account"
