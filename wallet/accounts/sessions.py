"""Holder sessions: our own bearer tokens, kept in the cache with a TTL.

A token is 256 random bits (``secrets.token_urlsafe(32)``). The cache key is
the SM3 hash of the token, never the token itself, so a dump of the cache
holds no usable token. The entry names the account and keeps the WeChat
session key sealed by the vault (it never leaves the server). Renewal
rotates the token, revocation deletes it. Which account and person a token
stands for is :meth:`wallet.accounts.service.AccountService.session`.
"""

from __future__ import annotations

import re
import secrets
import uuid
from typing import Final

import orjson
from redis.asyncio import Redis

from wallet.crypto import sm3
from wallet.errors import Unauthorized, ValidationFailed
from wallet.vault import Vault

__all__ = [
    "SESSION_KEY_CONTEXT",
    "SessionRequired",
    "SessionStore",
    "check_device_id",
]

SESSION_KEY_CONTEXT: Final = "wechat.session_key"
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{43}")
_DEVICE_ID: Final = re.compile(r"[A-Za-z0-9_-]{16,64}")
_PREFIX: Final = "rtel:hs:"


class SessionRequired(Unauthorized):
    type_code = "session_required"
    title = "A valid holder session is required"


def check_device_id(value: str | None, field: str = "X-Device-Id") -> str | None:
    """``value`` when it is 16–64 of ``[A-Za-z0-9_-]`` (None passes), else 422."""
    if value is None:
        return None
    if not _DEVICE_ID.fullmatch(value):
        raise ValidationFailed(
            errors=[
                {
                    "field": field,
                    "rule": "pattern",
                    "message": "16-64 characters of A-Z a-z 0-9 _ -",
                }
            ]
        )
    return value


def _key(token: str) -> str:
    return _PREFIX + sm3(token.encode()).hex()


class SessionStore:
    """Creates, reads, rotates and deletes holder sessions in the cache."""

    def __init__(self, cache: Redis, vault: Vault, ttl: int) -> None:
        self.cache = cache
        self.vault = vault
        self.ttl = ttl

    async def create(self, account_id: uuid.UUID, session_key: str, now: int) -> str:
        """A new token for ``account_id``, valid for ``ttl`` seconds."""
        token = secrets.token_urlsafe(32)
        sealed = self.vault.seal(session_key, SESSION_KEY_CONTEXT) if session_key else ""
        entry = orjson.dumps({"a": str(account_id), "k": sealed, "iat": now})
        await self.cache.set(_key(token), entry, ex=self.ttl)
        return token

    async def account_id(self, token: str) -> uuid.UUID:
        """The account of a live token; :class:`SessionRequired` otherwise."""
        raw = await self.cache.get(_key(token)) if _TOKEN.fullmatch(token) else None
        if raw is None:
            raise SessionRequired("the session is unknown, expired or revoked: sign in again")
        return uuid.UUID(orjson.loads(raw)["a"])

    async def renew(self, token: str, now: int) -> str:
        """Rotate ``token``: a new one with a fresh TTL, the old one deleted."""
        raw = await self.cache.getdel(_key(token)) if _TOKEN.fullmatch(token) else None
        if raw is None:
            raise SessionRequired("the session is unknown, expired or revoked: sign in again")
        entry = orjson.loads(raw)
        entry["iat"] = now
        fresh = secrets.token_urlsafe(32)
        await self.cache.set(_key(fresh), orjson.dumps(entry), ex=self.ttl)
        return fresh

    async def revoke(self, token: str) -> None:
        """Delete ``token`` (no error when it is already gone)."""
        if _TOKEN.fullmatch(token):
            await self.cache.delete(_key(token))
