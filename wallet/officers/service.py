"""Officer accounts, sign-in and device-bound sessions.

Passwords are Argon2id hashes (argon2-cffi defaults: memory-hard). A session
token (256 random bits) is kept in the cache under its SM3 hash with the
officer's id, badge, division, role and the enforcement device it was issued
to; every request must come from that device. Failed sign-ins are counted per
badge and locked out for a while after five.

Each process remembers the sessions it has read for :data:`SESSION_MEMO`
seconds, so a scan does not cost a cache round trip for the token. The price
is a revocation delay: a sign-out through another process (or the cache
entry expiring or being deleted) takes effect here up to that many seconds
later; a sign-out through this process takes effect at once.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.asyncio import Redis

from wallet import identifiers
from wallet.crypto import sm3
from wallet.errors import Conflict, NotFound, RateLimited, Unauthorized, ValidationFailed
from wallet.officers.models import Officer
from wallet.vault import Vault

__all__ = ["OfficerRole", "OfficerSession", "Officers"]

SESSION_MEMO: Final = 5.0
"""Seconds a process may reuse a session it read from the cache (the revocation delay)."""
_MEMO_SIZE: Final = 4096
_FAILED_LIMIT: Final = 5
_LOCKOUT: Final = 900
_HASHER: Final = PasswordHasher()
# A real hash to check against when the badge is unknown, so timing does not
# reveal which badges exist.
_DUMMY_HASH: Final = _HASHER.hash("not-a-password")


class OfficerRole(StrEnum):
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class OfficerSession:
    officer_id: int
    badge: str
    division: str
    role: str
    device_id: str


class BadCredentials(Unauthorized):
    type_code = "bad_credentials"
    title = "Badge, password or device not accepted"


def _session_key(token: str) -> str:
    return "rtel:officer-session:" + sm3(token.encode()).hex()


class Officers:
    def __init__(
        self, vault: Vault, cache: Redis, session_ttl: int, session_memo: float = SESSION_MEMO
    ) -> None:
        self.vault = vault
        self.cache = cache
        self.session_ttl = session_ttl
        self.session_memo = session_memo
        # SM3 of the token -> (monotonic deadline, session): never the token itself.
        self._memo: dict[str, tuple[float, OfficerSession]] = {}

    async def add(
        self,
        *,
        badge: str,
        name: str,
        division: str,
        role: str,
        password: str,
        device_id: str,
        now: datetime,
    ) -> Officer:
        """Create an officer; the password is hashed, the name sealed."""
        identifiers.division_code(division)
        if role not in OfficerRole.__members__.values():
            raise ValidationFailed(
                errors=[{"field": "role", "rule": "enum", "message": "inspector or supervisor"}]
            )
        if len(password) < 12:
            raise ValidationFailed(
                errors=[
                    {"field": "password", "rule": "min_length", "message": "at least 12 characters"}
                ]
            )
        if await Officer.exists(badge=badge):
            raise Conflict("an officer with that badge exists")
        password_hash = await asyncio.to_thread(_HASHER.hash, password)
        return await Officer.create(
            badge=badge,
            name_sealed=self.vault.seal(name, "officer.name"),
            division=division,
            role=role,
            password_hash=password_hash,
            device_id=device_id,
            created_at=now,
        )

    async def set_enabled(self, badge: str, enabled: bool) -> Officer:
        officer = await Officer.get_or_none(badge=badge)
        if officer is None:
            raise NotFound("no officer with that badge")
        officer.enabled = enabled
        await officer.save(update_fields=["enabled"])
        return officer

    async def sign_in(
        self, badge: str, password: str, device_id: str
    ) -> tuple[str, OfficerSession]:
        """A new session token for the officer on ``device_id``."""
        failures_key = f"rtel:officer-failures:{badge}"
        failures = await self.cache.get(failures_key)
        if failures is not None and int(failures) >= _FAILED_LIMIT:
            raise RateLimited("too many failed sign-ins; try again later", retry_after=_LOCKOUT)
        officer = await Officer.get_or_none(badge=badge)
        ok = await asyncio.to_thread(
            _check, officer.password_hash if officer else _DUMMY_HASH, password
        )
        if officer is None or not ok or not officer.enabled or officer.device_id != device_id:
            async with self.cache.pipeline(transaction=True) as pipe:
                pipe.incr(failures_key)
                pipe.expire(failures_key, _LOCKOUT)
                await pipe.execute()
            raise BadCredentials()
        await self.cache.delete(failures_key)
        session = OfficerSession(
            officer.id, officer.badge, officer.division, officer.role, officer.device_id
        )
        token = secrets.token_urlsafe(32)
        await self.cache.set(
            _session_key(token), orjson.dumps(asdict(session)), ex=self.session_ttl
        )
        return token, session

    async def session(self, token: str, device_id: str | None) -> OfficerSession:
        """The session of ``token``; 401 if unknown, expired or used from another device.

        Read from the cache, or from this process's memory if it was read less
        than :attr:`session_memo` seconds ago (see the module docstring).
        """
        key = _session_key(token)
        now = time.monotonic()
        memo = self._memo.get(key)
        if memo is not None and memo[0] > now:
            session = memo[1]
        else:
            raw = await self.cache.get(key)
            if raw is None:
                self._memo.pop(key, None)
                raise Unauthorized("sign in again")
            session = OfficerSession(**orjson.loads(raw))
            if len(self._memo) >= _MEMO_SIZE:
                self._memo = {k: v for k, v in self._memo.items() if v[0] > now}
                if len(self._memo) >= _MEMO_SIZE:
                    self._memo.clear()
            self._memo[key] = (now + self.session_memo, session)
        if device_id != session.device_id:
            raise Unauthorized("this token belongs to another device")
        return session

    async def sign_out(self, token: str) -> None:
        key = _session_key(token)
        self._memo.pop(key, None)
        await self.cache.delete(key)


def _check(password_hash: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False
