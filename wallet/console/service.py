"""Authority users of the console: accounts, sign-in, sessions and CSRF tokens.

Passwords are Argon2id hashes (argon2-cffi defaults). A session is a 256-bit
random token sent only as an ``HttpOnly`` cookie and stored under its SM3
hash, never itself, in the database (``console_session``): the console is
used by few people, so every request reads its session there, and an ended
or disabled session is refused by the next request of any process. The CSRF
token of a session is derived from its token (SM3 over a fixed label and
the token), so the page can be given it again after a reload while a page
of another origin, which cannot read the cookie, cannot compute it. Sign-in
attempts are throttled by source and by username like officers' sign-ins.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.asyncio import Redis

from wallet import identifiers
from wallet.clock import Clock
from wallet.console.models import AuthorityUser, ConsoleSession
from wallet.console.repository import ConsoleRepository
from wallet.crypto import sm3
from wallet.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from wallet.officers.throttle import SignInThrottle
from wallet.uow import UnitOfWork
from wallet.vault import Vault

__all__ = [
    "SESSION_TTL",
    "BadConsoleCredentials",
    "ConsoleRole",
    "ConsoleUser",
    "ConsoleUsers",
    "CsrfRefused",
]

SESSION_TTL: Final = 8 * 3600
"""Seconds a console session lasts (a working day), whatever it does."""
USERNAME_PATTERN: Final = r"^[a-z][a-z0-9_.-]{2,31}$"
_HASHER: Final = PasswordHasher()
_DUMMY_HASH: Final = _HASHER.hash("not-a-password")


class ConsoleRole(StrEnum):
    """What a console user may do.

    Reviewers decide claims and read licences with personal data masked;
    supervisors also see faces unmasked and change licence statuses.
    """

    REVIEWER = "reviewer"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """A signed-in console user as each request sees it."""

    user_id: int
    username: str
    name: str
    division: str
    role: str

    @property
    def actor(self) -> str:
        """How the audit log names this user."""
        return f"console:{self.username}"

    @property
    def unmasked(self) -> bool:
        return self.role == ConsoleRole.SUPERVISOR


class BadConsoleCredentials(Unauthorized):
    """Sign-in refused: the username or the password is not accepted."""

    type_code = "bad_credentials"
    title = "Username or password not accepted"


class CsrfRefused(Forbidden):
    """A state-changing request without this session's CSRF token."""

    type_code = "csrf_refused"
    title = "The request does not carry this session's CSRF token"


def _token_hash(token: str) -> str:
    return sm3(token.encode()).hex()


def csrf_token(token: str) -> str:
    """The CSRF token of the session whose cookie token is ``token``."""
    return sm3(b"rtel-console-csrf\n" + token.encode()).hex()


class ConsoleUsers:
    """Console accounts and their sessions, over the database and the clock."""

    def __init__(
        self,
        repository: ConsoleRepository,
        vault: Vault,
        cache: Redis,
        clock: Clock,
        session_ttl: int = SESSION_TTL,
    ) -> None:
        self.repository = repository
        self.vault = vault
        self.clock = clock
        self.session_ttl = session_ttl
        self.throttle = SignInThrottle(cache, clock)

    async def add(
        self,
        uow: UnitOfWork,
        *,
        username: str,
        name: str,
        division: str,
        role: str,
        password: str,
    ) -> AuthorityUser:
        """Create a user; the password is hashed, the name sealed."""
        problems = []
        if not re.fullmatch(USERNAME_PATTERN.strip("^$"), username, re.ASCII):
            problems.append(
                {"field": "username", "rule": "pattern", "message": "3-32 of a-z 0-9 _ . -"}
            )
        if role not in ConsoleRole.__members__.values():
            problems.append({"field": "role", "rule": "enum", "message": "reviewer or supervisor"})
        if len(password) < 12:
            problems.append(
                {"field": "password", "rule": "min_length", "message": "at least 12 characters"}
            )
        if not 1 <= len(name) <= 64:
            problems.append({"field": "name", "rule": "length", "message": "1 to 64 characters"})
        if problems:
            raise ValidationFailed(errors=problems)
        if division != "000000":
            identifiers.division_code(division)
        # Hashed before the first query: the transaction stays short (SQLite has one writer).
        password_hash = await asyncio.to_thread(_HASHER.hash, password)
        if await self.repository.exists(uow, username):
            raise Conflict("a console user with that name exists")
        return await self.repository.add(
            uow,
            AuthorityUser(
                username=username,
                name_sealed=self.vault.seal(name, "console.name"),
                division=division,
                role=role,
                password_hash=password_hash,
                created_at=self.clock.now(),
            ),
        )

    async def set_enabled(self, uow: UnitOfWork, username: str, enabled: bool) -> AuthorityUser:
        """Enable or disable a user; disabling ends every session of the user at once."""
        user = await self.repository.by_username(uow, username, lock=True)
        if user is None:
            raise NotFound("no console user with that name")
        user.enabled = enabled
        await self.repository.save(uow, user, "enabled")
        if not enabled:
            await self.repository.end_sessions(uow, user.id)
        return user

    async def reset_password(self, uow: UnitOfWork, username: str, password: str) -> AuthorityUser:
        """Give the user a new password, end its sessions and enable the account."""
        if len(password) < 12:
            raise ValidationFailed(
                errors=[
                    {"field": "password", "rule": "min_length", "message": "at least 12 characters"}
                ]
            )
        password_hash = await asyncio.to_thread(_HASHER.hash, password)
        user = await self.repository.by_username(uow, username, lock=True)
        if user is None:
            raise NotFound("no console user with that name")
        user.password_hash = password_hash
        user.enabled = True
        await self.repository.save(uow, user, "password_hash", "enabled")
        await self.repository.end_sessions(uow, user.id)
        return user

    async def all(self, uow: UnitOfWork) -> list[AuthorityUser]:
        """Every user, by division and username."""
        return await self.repository.all(uow)

    async def sign_in(
        self, uow: UnitOfWork, username: str, password: str, source: str
    ) -> tuple[str, ConsoleUser]:
        """A new session token for ``username``, signing in from ``source``.

        Raises :class:`~wallet.officers.throttle.TooManySignIns` (429) when the
        source or the username must wait, :class:`BadConsoleCredentials` otherwise.
        """
        subject = "console:" + username
        await self.throttle.attempt(subject, source)
        user = await self.repository.by_username(uow, username)
        ok = await asyncio.to_thread(_check, user.password_hash if user else _DUMMY_HASH, password)
        if user is None or not ok or not user.enabled:
            raise BadConsoleCredentials()
        await self.throttle.succeeded(subject, source)
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        await self.repository.purge_expired(uow, now)
        await self.repository.add_session(
            uow,
            ConsoleSession(
                token_hash=_token_hash(token),
                user_id=user.id,
                created_at=now,
                expires_at=now + timedelta(seconds=self.session_ttl),
            ),
        )
        return token, self._view(user)

    async def session(self, uow: UnitOfWork, token: str) -> ConsoleUser:
        """The user of session ``token``; 401 if unknown, ended, expired or disabled."""
        record = await self.repository.live_session(uow, _token_hash(token), self.clock.now())
        if record is None or not record.user.enabled:
            raise Unauthorized("sign in to the console")
        return self._view(record.user)

    async def sign_out(self, uow: UnitOfWork, token: str) -> None:
        """End the session of ``token``."""
        await self.repository.end_session(uow, _token_hash(token))

    @staticmethod
    def check_csrf(token: str, given: str | None) -> None:
        """Raise :class:`CsrfRefused` unless ``given`` is the CSRF token of session ``token``."""
        if not given or not hmac.compare_digest(csrf_token(token), given):
            raise CsrfRefused("send the X-CSRF-Token the console gave at sign-in")

    def _view(self, user: AuthorityUser) -> ConsoleUser:
        return ConsoleUser(
            user.id,
            user.username,
            self.vault.open(user.name_sealed, "console.name"),
            user.division,
            user.role,
        )


def _check(password_hash: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False
