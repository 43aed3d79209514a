"""Accounts: WeChat sign-in, holder sessions and real-name binding.

Real-name binding is 实名认证 (real-name authentication).

Calls to WeChat (code2session, phone number, face verification) happen
before the unit of work opens: :meth:`AccountService.wechat_login` and
:meth:`AccountService.verify_identity` prepare, then
:meth:`AccountService.sign_in`, :meth:`AccountService.bind` and
:meth:`AccountService.rebind` write inside the caller's unit of work.

Binding attempts that fail are counted per account (refused once a window
is full) and, for the configured provider's name-and-number checks, per ID
number (blind index). A full ID-number window does not refuse the person:
it asks for WeChat face verification instead, and failed faces count
against the caller's account only, so strangers cannot lock a person out
of their own identity. One identity is bound to
one account at a time; moving it to another account is the explicit
rebind flow, which ends the old account's activations. Rebinding takes a
licence holder's identity away from an account, so it always needs the
strong provider (WeChat face verification), whatever provider binds.

Ending the old account's activations is the activation layer's business,
above this one: the service is given an :class:`ActivationEnder` (the
activation repository, composed in :mod:`wallet.runtime`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, Protocol

from tortoise.exceptions import IntegrityError

from wallet.accounts.errors import (
    AccountAlreadyBound,
    IdentityBoundElsewhere,
    IdentityMismatch,
    IdentityNotBoundElsewhere,
)
from wallet.accounts.identity import (
    OPENID_CONTEXT,
    IdentityClaim,
    IdentityProvider,
    parse_claim,
)
from wallet.accounts.models import Account
from wallet.accounts.ratelimit import FailureLimit
from wallet.accounts.repository import AccountRepository
from wallet.accounts.schemas import (
    FaceVerificationIn,
    FaceVerificationOut,
    IdentityIn,
    IdentityOut,
    SessionOut,
    TransportKeyOut,
)
from wallet.accounts.sessions import SessionRequired, SessionStore, check_device_id
from wallet.accounts.transport_key import TransportKey
from wallet.audit.service import append as audit
from wallet.clock import Clock
from wallet.errors import Conflict
from wallet.holders.models import Person
from wallet.holders.principal import HolderSession
from wallet.holders.repository import HolderRepository
from wallet.uow import UnitOfWork
from wallet.vault import Vault, mask_id_number, mask_name, mask_phone
from wallet.wechat import WeChatGateway, WeChatLogin

__all__ = ["AccountService", "ActivationEnder", "VerifiedIdentity", "actor_of"]

PHONE_CONTEXT: Final = "account.phone"


def actor_of(account_id: uuid.UUID) -> str:
    """The audit actor of a holder account."""
    return f"account:{account_id}"


class ActivationEnder(Protocol):
    """Ends an account's active activations (the activation repository does)."""

    async def end_for_account(
        self,
        uow: UnitOfWork,
        account_id: uuid.UUID,
        now: datetime,
        *,
        status: str = "deactivated",
        enterprise_id: uuid.UUID | None = None,
    ) -> int:
        """End them (only those of one enterprise's licences when given); how many ended."""
        ...


@dataclass(frozen=True)
class VerifiedIdentity:
    """An identity the provider confirmed for an account, ready to be bound."""

    claim: IdentityClaim
    provider: str
    phone: str | None = field(default=None, repr=False)


class AccountService:
    """Sign-in, sessions and binding over one runtime's vault, cache, clock and WeChat."""

    def __init__(
        self,
        *,
        accounts: AccountRepository,
        holders: HolderRepository,
        activations: ActivationEnder,
        vault: Vault,
        clock: Clock,
        sessions: SessionStore,
        gateway: WeChatGateway,
        identity: IdentityProvider,
        strong: IdentityProvider,
        transport: TransportKey,
        failures: FailureLimit,
        face_starts: FailureLimit,
    ) -> None:
        self.accounts = accounts
        self.holders = holders
        self.activations = activations
        self.vault = vault
        self.clock = clock
        self.face_starts = face_starts
        self.sessions = sessions
        self.gateway = gateway
        self.identity = identity
        self.strong = strong
        self.transport = transport
        self.failures = failures

    # -- sign-in and sessions -------------------------------------------------------

    async def wechat_login(self, code: str) -> WeChatLogin:
        """code2session (before the unit of work: it is a network call)."""
        return await self.gateway.code_to_session(code)

    async def sign_in(self, uow: UnitOfWork, login: WeChatLogin) -> SessionOut:
        """Find or create the account of ``login`` and open a session for it."""
        now = self.clock.now()
        index = self.vault.blind_index(login.openid, "wechat_openid")
        account = await self.accounts.by_openid(uow, index)
        created = account is None
        if account is None:
            account = Account(
                id=uuid.uuid4(),
                openid_index=index,
                openid_sealed=self.vault.seal(login.openid, OPENID_CONTEXT),
                created_at=now,
                last_sign_in_at=now,
            )
            try:
                await self.accounts.add(uow, account)
            except IntegrityError:
                raise Conflict("a concurrent sign-in created this account; retry") from None
        else:
            account.last_sign_in_at = now
            await self.accounts.save(uow, account, "last_sign_in_at")
        await audit(
            uow,
            at=now,
            actor=actor_of(account.id),
            action="account.create" if created else "account.sign_in",
            subject=str(account.id),
        )
        token = await self.sessions.create(account.id, login.session_key, self.clock.timestamp())
        return SessionOut(
            token=token, expires_in=self.sessions.ttl, bound=account.person_id is not None
        )

    async def session(self, uow: UnitOfWork, token: str, device_id: str | None) -> HolderSession:
        """The :class:`HolderSession` of a bearer token and an optional device id header."""
        device = check_device_id(device_id)
        account_id = await self.sessions.account_id(token)
        exists, person_id = await self.accounts.person_of(uow, account_id)
        if not exists:
            raise SessionRequired("the account no longer exists: sign in again")
        return HolderSession(account_id, person_id, device)

    async def session_account(self, token: str, device_id: str | None) -> uuid.UUID:
        """The account of a bearer token, from the cache alone (no query).

        For hot paths whose own query can only succeed for an existing account
        (a row that references it): they call :meth:`require_account` when
        that query finds nothing. Same checks and order as :meth:`session`
        otherwise (422 for a malformed device id, then 401).
        """
        check_device_id(device_id)
        return await self.sessions.account_id(token)

    async def require_account(self, uow: UnitOfWork, account_id: uuid.UUID) -> None:
        """:class:`SessionRequired` when the account no longer exists."""
        exists, _ = await self.accounts.person_of(uow, account_id)
        if not exists:
            raise SessionRequired("the account no longer exists: sign in again")

    async def renew(self, uow: UnitOfWork, token: str) -> SessionOut:
        """Rotate the session token; the old one stops working."""
        fresh = await self.sessions.renew(token, self.clock.timestamp())
        account = await self.accounts.get(uow, await self.sessions.account_id(fresh))
        if account is None:
            await self.sessions.revoke(fresh)
            raise SessionRequired("the account no longer exists: sign in again")
        return SessionOut(
            token=fresh, expires_in=self.sessions.ttl, bound=account.person_id is not None
        )

    async def revoke(self, token: str) -> None:
        """End the session (sign out)."""
        await self.sessions.revoke(token)

    # -- identity ---------------------------------------------------------------

    def transport_key(self) -> TransportKeyOut:
        """The binding transport key and the provider the mini-program must satisfy."""
        return TransportKeyOut(
            public_key=self.transport.public_key_hex, identity_provider=self.identity.name
        )

    async def identity_of(self, uow: UnitOfWork, session: HolderSession) -> IdentityOut:
        """The identity bound to the caller's account, masked."""
        return await self._view(uow, await self._account(uow, session.account_id))

    async def open_face_verification(
        self, uow: UnitOfWork, session: HolderSession, body: FaceVerificationIn
    ) -> FaceVerificationOut:
        """Start WeChat face verification for the claimed identity (getverifyid).

        Open with every provider: rebinding needs it even where binding does not.
        """
        claim = await self._claim(body.name, body.id_number, body.encrypted)
        # Each start is a paid call to WeChat: counted per account, never per ID
        # number (a stranger must not be able to use up the holder's starts, nor
        # bar them from the face check that lifts the ID number's limit).
        own = f"account:{session.account_id}"
        await self.failures.check(own)
        await self.face_starts.check(own)
        await self.face_starts.fail(own)
        account = await self._account(uow, session.account_id)
        face = await self.strong.open(account, claim)
        return FaceVerificationOut(verify_id=face.verify_id, expires_in=face.expires_in)

    async def verify_identity(
        self,
        uow: UnitOfWork,
        session: HolderSession,
        body: IdentityIn,
        mode: Literal["bind", "rebind"],
    ) -> VerifiedIdentity:
        """Decrypt, validate and confirm the identity (before the unit of work).

        Checks that can fail without asking the provider come first, so a
        refused request spends no face session and no attempt. A rebind is
        confirmed by the strong provider, never by the configured one alone.
        """
        claim = await self._claim(body.name, body.id_number, body.encrypted)
        account = await self._account(uow, session.account_id)
        if await self._precheck(uow, account, claim, mode):
            # Already bound to this very identity: nothing to prove again.
            phone = await self.gateway.phone_number(body.phone_code) if body.phone_code else None
            return VerifiedIdentity(claim, self.identity.name, phone)
        own, identity = f"account:{session.account_id}", f"id:{self._id_index(claim)}"
        await self.failures.check(own)
        provider = self.strong if mode == "rebind" else self.identity
        if provider is not self.strong and await self.failures.is_full(identity):
            # Strangers have failed too often with this ID number. Refusing
            # outright would lock the person out of their own identity; a face
            # check proves the person, so it is asked instead.
            provider = self.strong
        try:
            await provider.verify(uow, account, claim, body.verify_id)
        except IdentityMismatch:
            # A face mismatch counts against the caller alone: strangers'
            # failed faces must not use up the person's attempts.
            await self.failures.fail(own, *(() if provider is self.strong else (identity,)))
            raise
        phone = await self.gateway.phone_number(body.phone_code) if body.phone_code else None
        return VerifiedIdentity(claim, provider.name, phone)

    async def bind(
        self, uow: UnitOfWork, session: HolderSession, verified: VerifiedIdentity
    ) -> IdentityOut:
        """Bind the verified identity to the caller's account (idempotent for the same one)."""
        now = self.clock.now()
        account = await self._locked_account(uow, session.account_id)
        person = await self.holders.person_by_id_number(uow, self._id_index(verified.claim))
        if account.person_id is not None:
            if person is None or account.person_id != person.id:
                raise AccountAlreadyBound()
            return await self._set_phone(uow, account, verified)
        if person is not None:
            if await self.accounts.is_bound(uow, person.id):
                raise IdentityBoundElsewhere(
                    "to move it to this account, use POST /api/v1/identity/rebind"
                )
        else:
            person = await self._new_person(uow, verified.claim, now)
        await self._attach(uow, account, person, verified, now)
        await audit(
            uow,
            at=now,
            actor=actor_of(account.id),
            action="identity.bind",
            subject=str(account.id),
            detail={
                "id_number": mask_id_number(verified.claim.id_number),
                "provider": verified.provider,
            },
        )
        return await self._view(uow, account, person)

    async def rebind(
        self, uow: UnitOfWork, session: HolderSession, verified: VerifiedIdentity
    ) -> IdentityOut:
        """Move a verified identity from its old account to the caller's.

        The old account loses the identity and its activations end; its
        claims stay with the licences (they are the holder's, not the phone's).
        """
        now = self.clock.now()
        account = await self._locked_account(uow, session.account_id)
        if account.person_id is not None:
            raise AccountAlreadyBound()
        person = await self.holders.person_by_id_number(uow, self._id_index(verified.claim))
        old = None
        if person is not None:
            old = await self.accounts.bound_to(uow, person.id)
        if person is None or old is None:
            raise IdentityNotBoundElsewhere()
        old.person = None
        old.bound_at = None
        await self.accounts.save(uow, old, "person_id", "bound_at")
        ended = await self.activations.end_for_account(uow, old.id, now)
        await self._attach(uow, account, person, verified, now)
        await audit(
            uow,
            at=now,
            actor=actor_of(account.id),
            action="identity.rebind",
            subject=str(account.id),
            detail={
                "id_number": mask_id_number(verified.claim.id_number),
                "from_account": str(old.id),
                "activations_ended": ended,
                "provider": verified.provider,
            },
        )
        return await self._view(uow, account, person)

    # -- helpers ------------------------------------------------------------------

    def _id_index(self, claim: IdentityClaim) -> str:
        return self.vault.blind_index(claim.id_number, "resident_id")

    async def _claim(self, name: str, id_number: str, encrypted: bool) -> IdentityClaim:
        return await parse_claim(
            name,
            id_number,
            encrypted=encrypted,
            transport=self.transport,
            today=self.clock.now().date(),
        )

    async def _account(self, uow: UnitOfWork, account_id: uuid.UUID) -> Account:
        account = await self.accounts.get(uow, account_id)
        if account is None:
            raise SessionRequired("the account no longer exists: sign in again")
        return account

    async def _precheck(
        self,
        uow: UnitOfWork,
        account: Account,
        claim: IdentityClaim,
        mode: Literal["bind", "rebind"],
    ) -> bool:
        """Refuse what cannot succeed; True when the account already holds this identity."""
        person = await self.holders.person_by_id_number(uow, self._id_index(claim))
        bound_to = account.person_id
        if mode == "rebind":
            if bound_to is not None:
                raise AccountAlreadyBound()
            if person is None or not await self.accounts.is_bound(uow, person.id):
                raise IdentityNotBoundElsewhere()
            return False
        if bound_to is not None:
            if person is None or person.id != bound_to:
                raise AccountAlreadyBound()
            return True
        if person is not None and await self.accounts.is_bound(uow, person.id):
            raise IdentityBoundElsewhere(
                "to move it to this account, use POST /api/v1/identity/rebind"
            )
        return False

    async def _locked_account(self, uow: UnitOfWork, account_id: uuid.UUID) -> Account:
        account = await self.accounts.locked(uow, account_id)
        if account is None:
            raise SessionRequired("the account no longer exists: sign in again")
        return account

    async def _new_person(self, uow: UnitOfWork, claim: IdentityClaim, now: datetime) -> Person:
        try:
            person = Person(
                id=uuid.uuid4(),
                id_number_index=self._id_index(claim),
                id_number_sealed=self.vault.seal(claim.id_number, "person.id_number"),
                name_sealed=self.vault.seal(claim.name, "person.name"),
                name_index=self.vault.blind_index(claim.name, "name"),
                created_at=now,
                updated_at=now,
            )
            return await self.holders.add_person(uow, person)
        except IntegrityError:
            raise Conflict("a concurrent binding created this identity; retry") from None

    async def _attach(
        self,
        uow: UnitOfWork,
        account: Account,
        person: Person,
        verified: VerifiedIdentity,
        now: datetime,
    ) -> None:
        account.person = person
        account.bound_at = now
        if verified.phone:
            account.phone_sealed = self.vault.seal(verified.phone, PHONE_CONTEXT)
        try:
            await self.accounts.save(uow, account, "person_id", "bound_at", "phone_sealed")
        except IntegrityError:
            raise IdentityBoundElsewhere("another account bound this identity meanwhile") from None

    async def _set_phone(
        self, uow: UnitOfWork, account: Account, verified: VerifiedIdentity
    ) -> IdentityOut:
        if verified.phone:
            account.phone_sealed = self.vault.seal(verified.phone, PHONE_CONTEXT)
            await self.accounts.save(uow, account, "phone_sealed")
        return await self._view(uow, account)

    async def _view(
        self, uow: UnitOfWork, account: Account, person: Person | None = None
    ) -> IdentityOut:
        person_id = account.person_id
        if person_id is None:
            return IdentityOut(bound=False)
        if person is None:
            person = await self.holders.person(uow, person_id)
        phone = (
            mask_phone(self.vault.open(account.phone_sealed, PHONE_CONTEXT))
            if account.phone_sealed
            else None
        )
        return IdentityOut(
            bound=True,
            bound_at=account.bound_at,
            phone=phone,
            name=mask_name(self.vault.open(person.name_sealed, "person.name")),
            id_number=mask_id_number(self.vault.open(person.id_number_sealed, "person.id_number")),
        )
