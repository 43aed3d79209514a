"""Authority API clients (registry systems, issuing departments)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["AuthorityClient", "AuthorityNonce"]


class AuthorityClient(Model):
    """A registry or department system. The HMAC secret is stored sealed by the vault."""

    id = fields.IntField(primary_key=True)
    client_id = fields.CharField(max_length=40, unique=True)
    name = fields.CharField(max_length=128)
    division = fields.CharField(max_length=6)
    secret_sealed = fields.TextField()
    sm2_public_key = fields.CharField(max_length=130, null=True)
    enabled = fields.BooleanField(default=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "authority_client"


class AuthorityNonce(Model):
    """A nonce a client used in a signed request, kept until its timestamp can no longer pass.

    ``key`` is ``client_id:nonce``; the primary key makes a second use fail.
    """

    key = fields.CharField(max_length=112, primary_key=True)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "authority_nonce"
