"""Officer accounts, sign-in and device-bound sessions.

Passwords are Argon2id hashes (argon2-cffi defaults: memory-hard). A session
token (256 random bits) is stored under its SM3 hash, never itself: durably
in the database (``officer_session``) and, for the hot path, in the cache
with the officer's id, badge, division, role and the enforcement device it
was issued to; every request must come from that device. Sign-in attempts
are throttled by source and by badge (:mod:`wallet.officers.throttle`).

Every request reads its session from the cache (one round trip; there is no
per-process copy, so an ended session is refused by the next request in any
process). A cache entry lives at most :data:`SESSION_RECHECK` seconds and is
refilled from the database, which is the record: signing out and disabling
delete the rows first, then the cache entries. With the cache down, sessions
are read from the database (and sign-in writes only there); a cache entry
that could not be deleted during an outage lapses at most
:data:`SESSION_RECHECK` seconds after the cache is back, since the row it
would be refilled from is gone.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.asyncio import Redis

from wallet import identifiers
from wallet.cache import get_many
from wallet.clock import Clock
from wallet.coalesce import Coalescer
from wallet.crypto import sm3
from wallet.db import map_storage_errors
from wallet.errors import Conflict, NotFound, Unauthorized, Unavailable, ValidationFailed
from wallet.officers.models import Officer, OfficerSessionRecord
from wallet.officers.repository import OfficerRepository
from wallet.officers.throttle import SignInThrottle
from wallet.uow import UnitOfWork
from wallet.vault import Vault

__all__ = ["SESSION_RECHECK", "BadCredentials", "OfficerRole", "OfficerSession", "Officers"]

log = logging.getLogger(__name__)

SESSION_RECHECK: Final = 60
"""Seconds a cache entry may answer for a session before it is read again from the database."""
_HASHER: Final = PasswordHasher()
# A real hash to check against when the badge is unknown, so timing does not
# reveal which badges exist.
_DUMMY_HASH: Final = _HASHER.hash("not-a-password")


class OfficerRole(StrEnum):
    """What an officer may see: inspectors a minimal face, supervisors the whole one."""

    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class OfficerSession:
    """A signed-in officer as each request sees it: who, where, which role, which device."""

    officer_id: int
    badge: str
    division: str
    role: str
    device_id: str


class BadCredentials(Unauthorized):
    """Sign-in refused: the badge, the password or the device is not the officer's."""

    type_code = "bad_credentials"
    title = "Badge, password or device not accepted"


def _token_hash(token: str) -> str:
    return sm3(token.encode()).hex()


def _cache_key(token_hash: str) -> str:
    return "rtel:officer-session:" + token_hash


class Officers:
    """Officer accounts and their sessions, over the database, the cache and the clock."""

    def __init__(
        self,
        repository: OfficerRepository,
        vault: Vault,
        cache: Redis,
        clock: Clock,
        session_ttl: int,
        session_recheck: int = SESSION_RECHECK,
    ) -> None:
        self.repository = repository
        self.vault = vault
        self.cache = cache
        self.clock = clock
        self.session_ttl = session_ttl
        self.session_recheck = session_recheck
        self.throttle = SignInThrottle(cache, clock)
        self._reads: Coalescer[str, Any] = Coalescer(self._read_batch)

    async def add(
        self,
        uow: UnitOfWork,
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
        if await self.repository.exists(uow, badge):
            raise Conflict("an officer with that badge exists")
        password_hash = await asyncio.to_thread(_HASHER.hash, password)
        return await self.repository.add(
            uow,
            Officer(
                badge=badge,
                name_sealed=self.vault.seal(name, "officer.name"),
                division=division,
                role=role,
                password_hash=password_hash,
                device_id=device_id,
                created_at=now,
            ),
        )

    async def set_enabled(self, uow: UnitOfWork, badge: str, enabled: bool) -> Officer:
        """Enable or disable an officer; disabling ends every session of the officer at once."""
        officer = await self.repository.by_badge(uow, badge, lock=True)
        if officer is None:
            raise NotFound("no officer with that badge")
        officer.enabled = enabled
        await self.repository.save(uow, officer, "enabled")
        ended = [] if enabled else await self.repository.end_sessions(uow, officer.id)
        # After the commit: a refill racing with this reads the rows again after
        # writing, so it either sees them gone or is deleted here.
        uow.after_commit(lambda: self._forget(ended))
        return officer

    async def reset_password(self, uow: UnitOfWork, badge: str, password: str) -> Officer:
        """Give the officer a new password and enable the account."""
        officer = await self.repository.by_badge(uow, badge, lock=True)
        if officer is None:
            raise NotFound("no officer with that badge")
        officer.password_hash = await asyncio.to_thread(_HASHER.hash, password)
        officer.enabled = True
        await self.repository.save(uow, officer, "password_hash", "enabled")
        return officer

    async def all(self, uow: UnitOfWork) -> list[Officer]:
        """Every officer, by division and badge."""
        return await self.repository.all(uow)

    async def sign_in(
        self, uow: UnitOfWork, badge: str, password: str, device_id: str, source: str
    ) -> tuple[str, OfficerSession]:
        """A new session token for the officer on ``device_id``, signing in from ``source``.

        Raises :class:`~wallet.officers.throttle.TooManySignIns` (429) when
        the source or the badge must wait, :class:`BadCredentials` otherwise.
        """
        await self.throttle.attempt(badge, source)
        officer = await self.repository.by_badge(uow, badge)
        ok = await asyncio.to_thread(
            _check, officer.password_hash if officer else _DUMMY_HASH, password
        )
        if officer is None or not ok or not officer.enabled or officer.device_id != device_id:
            raise BadCredentials()
        await self.throttle.succeeded(badge, source)
        session = OfficerSession(
            officer.id, officer.badge, officer.division, officer.role, officer.device_id
        )
        token = secrets.token_urlsafe(32)
        token_hash = _token_hash(token)
        now = self.clock.now()
        await self.repository.purge_expired(uow, now)
        await self.repository.add_session(
            uow,
            OfficerSessionRecord(
                token_hash=token_hash,
                officer_id=officer.id,
                device_id=device_id,
                created_at=now,
                expires_at=now + timedelta(seconds=self.session_ttl),
            ),
        )
        try:
            with map_storage_errors("cache"):
                await self.cache.set(
                    _cache_key(token_hash),
                    orjson.dumps(asdict(session)),
                    ex=min(self.session_recheck, self.session_ttl),
                )
        except Unavailable:
            log.warning("officer session stored in the database only: cache unavailable")
        return token, session

    async def session(self, uow: UnitOfWork, token: str, device_id: str | None) -> OfficerSession:
        """The session of ``token``; 401 if unknown, ended, expired or used from another device.

        Read from the cache, else from the database (refilling the cache when
        it is reachable); see the module docstring.
        """
        token_hash = _token_hash(token)
        key = _cache_key(token_hash)
        raw = await self._reads.submit(key)
        cache_up = not isinstance(raw, Unavailable)
        if cache_up and raw is not None:
            session = OfficerSession(**orjson.loads(raw))
        else:
            found = await self._from_database(uow, token_hash)
            if found is None:
                raise Unauthorized("sign in again")
            session, expires_at = found
            if cache_up:
                await self._refill(uow, token_hash, session, expires_at)
        if device_id != session.device_id:
            raise Unauthorized("this token belongs to another device")
        return session

    async def _read_batch(self, keys: list[str]) -> list[Any]:
        """The cached sessions of ``keys`` in one pipeline: the scans waiting together share
        its round trip and the client's per-command work. Each answer is the cached value,
        ``None`` on a miss, or the :class:`Unavailable` of a cache that did not answer."""
        try:
            with map_storage_errors("cache"):
                return await get_many(self.cache, keys)
        except Unavailable as exc:
            return [exc] * len(keys)

    async def sign_out(self, uow: UnitOfWork, token: str) -> None:
        """End the session of ``token`` (the database record first, then the cache entry)."""
        token_hash = _token_hash(token)
        try:
            await self.repository.end_session(uow, token_hash)
        finally:
            # Even with the database down the token stops working from the cache.
            await self._forget([token_hash])

    async def _from_database(
        self, uow: UnitOfWork, token_hash: str
    ) -> tuple[OfficerSession, datetime] | None:
        record = await self.repository.live_session(uow, token_hash, self.clock.now())
        if record is None:
            return None
        officer = record.officer
        session = OfficerSession(
            officer.id, officer.badge, officer.division, officer.role, record.device_id
        )
        return session, record.expires_at

    async def _refill(
        self, uow: UnitOfWork, token_hash: str, session: OfficerSession, expires_at: datetime
    ) -> None:
        remaining = int((expires_at - self.clock.now()).total_seconds())
        if remaining < 1:
            return
        key = _cache_key(token_hash)
        try:
            with map_storage_errors("cache"):
                await self.cache.set(
                    key, orjson.dumps(asdict(session)), ex=min(self.session_recheck, remaining)
                )
        except Unavailable:
            log.warning("officer session not cached: cache unavailable")
            return
        # Read the record again after writing: a session ended meanwhile (its
        # row deleted before the ender deletes the cache entry) is not brought
        # back by this refill.
        try:
            with map_storage_errors():
                still = await self.repository.session_stands(uow, token_hash)
        except Unavailable:  # not confirmed: withdraw the refill
            still = False
        if not still:
            await self._forget([token_hash])

    async def _forget(self, token_hashes: list[str]) -> None:
        if not token_hashes:
            return
        try:
            with map_storage_errors("cache"):
                await self.cache.delete(*map(_cache_key, token_hashes))
        except Unavailable:
            log.warning(
                "ended officer sessions remain in the cache for up to %d s after it is back",
                self.session_recheck,
            )


def _check(password_hash: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False
