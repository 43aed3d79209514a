"""Authority users of the web console and their sessions."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["AuthorityUser", "ConsoleSession"]


class AuthorityUser(Model):
    """A reviewer or supervisor of the transport authority, scoped to a division.

    The password is an Argon2id hash; the name is sealed (personal data).
    """

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=32, unique=True)
    name_sealed = fields.TextField()
    division = fields.CharField(max_length=6, db_index=True)
    role = fields.CharField(max_length=16)
    password_hash = fields.CharField(max_length=256)
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "authority_user"


class ConsoleSession(Model):
    """A signed-in console session, kept under the SM3 hash of its cookie token."""

    token_hash = fields.CharField(max_length=64, primary_key=True)
    user: fields.ForeignKeyRelation[AuthorityUser] = fields.ForeignKeyField(
        "wallet.AuthorityUser", related_name="sessions", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "console_session"
