"""Grants, share codes and redemptions: who may read which fields of which licence.

A holder (a driver, or an operator through its legal representative or an
agent) grants a relying party named face fields of claimed licences, for a
purpose the party may ask for, until a time at most 90 days ahead, for one
or many reads; the authority grants the same for inter-department use. A
redemption takes one use atomically and answers the annotated copy; without
a live grant every caller gets the same :class:`NoLiveGrant`. A share code
becomes a one-use grant to the party that redeems it.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from redis.asyncio import Redis

from wallet import identifiers
from wallet.accounts.ratelimit import FailureLimit, TooManyAttempts
from wallet.audit.service import append as audit
from wallet.claims.errors import LicenceNotFound
from wallet.claims.faces import LicenceFaces
from wallet.claims.holding import claim_holds, holder_of
from wallet.claims.repository import ClaimRepository
from wallet.clock import Clock
from wallet.crypto import SM2Backend
from wallet.documents import Document
from wallet.enterprises.service import EnterpriseService
from wallet.errors import ValidationFailed
from wallet.holders.principal import HolderIds, HolderSession, Principal
from wallet.keys.service import KeyStore
from wallet.licences.catalogue import LicenceKind, get_kind
from wallet.licences.models import Licence
from wallet.licences.repository import LicenceRepository
from wallet.licences.search import in_scope
from wallet.licences.status import effective_status
from wallet.sharing.codes import (
    LOCATOR_LENGTH,
    code_hash,
    display_short,
    new_qr_code,
    new_short_code,
    parse_code,
)
from wallet.sharing.copies import copy_document, field_text, mint_copy, new_copy_id
from wallet.sharing.errors import GrantNotFound, GrantNotRevocable, NoLiveGrant, PartyNotFound
from wallet.sharing.models import Access, Grant, GrantLicence, RelyingParty, ShareCode
from wallet.sharing.notify import AccessNotifier
from wallet.sharing.purposes import purpose_label
from wallet.sharing.repository import SharingRepository
from wallet.sharing.schemas import (
    MAX_GRANT_DAYS,
    AccessOut,
    AccessPage,
    CopyOut,
    GrantIn,
    GrantOut,
    GrantPage,
    GrantStatus,
    PartyRef,
    ShareCodeIn,
    ShareCodeOut,
)
from wallet.uow import UnitOfWork

__all__ = ["IssuedCopy", "Sharing", "SharingLimits"]

_SETTLED: Final = frozenset({"claimed", "approved"})
_BASE32: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
STATUS_LABELS: Final = {
    "valid": "有效",
    "expired": "已过有效期",
    "suspended": "暂停使用",
    "revoked": "已吊销",
    "cancelled": "已注销",
}


@dataclass(frozen=True)
class SharingLimits:
    """Attempt limits on share codes.

    ``party_failures`` wrong codes a party may send per ``window`` seconds;
    ``code_party_failures`` wrong tries one party may make at one live short
    code; ``code_failures`` wrong tries from all parties together after which
    the code burns. A party that was shown a code keeps its own tries however
    often others guess: burning a code takes ``code_failures`` wrong tries,
    which at ``code_party_failures`` each needs several registered parties.
    """

    party_failures: int = 10
    window: int = 900
    code_party_failures: int = 3
    code_failures: int = 20
    short_code_attempts: int = 8


@dataclass(frozen=True)
class IssuedCopy:
    """A redeemed copy: what JSON answers and what the PDF prints."""

    out: CopyOut
    document: Document


def _new_grant_id() -> str:
    raw = secrets.token_bytes(10)
    return "G" + base64.b32encode(raw).decode().rstrip("=")[:16]


def _grant_status(grant: Grant, now: datetime) -> GrantStatus:
    if grant.revoked_at is not None:
        return "revoked"
    if grant.max_uses is not None and grant.uses >= grant.max_uses:
        return "used_up"
    if grant.expires_at <= now:
        return "expired"
    return "live"


def _granted_holder(row: GrantLicence) -> HolderIds:
    """The holder a grant's licence had when it was granted."""
    return row.holder_person_id, row.holder_enterprise_id


def _check_fields(kinds: Sequence[LicenceKind], names: Sequence[str]) -> None:
    """Every field must be a shareable face field of every kind granted (422 otherwise)."""
    problems = []
    for name in names:
        for kind in kinds:
            if name not in kind.field_names or kind.field(name).type == "photo_ref":
                problems.append(
                    {
                        "field": "fields",
                        "rule": "face_field",
                        "message": f"{name} is not a shareable field of {kind.code}",
                    }
                )
                break
    if problems:
        raise ValidationFailed("fields outside the licence kind", errors=problems)


class Sharing:
    """Grants, share codes, redemptions and the access log over one runtime's stores."""

    def __init__(
        self,
        *,
        repository: SharingRepository,
        licences: LicenceRepository,
        claims: ClaimRepository,
        faces: LicenceFaces,
        enterprises: EnterpriseService,
        keys: KeyStore,
        sm2: SM2Backend,
        clock: Clock,
        cache: Redis,
        code_key: bytes,
        notifier: AccessNotifier | None = None,
        limits: SharingLimits | None = None,
    ) -> None:
        self.repository, self.licences, self.claims = repository, licences, claims
        self.faces, self.enterprises, self.keys = faces, enterprises, keys
        self.sm2, self.clock, self.code_key = sm2, clock, code_key
        self.limits = limits or SharingLimits()
        self.notifier = notifier
        self.party_failures = FailureLimit(
            cache, "rtel:v1:share-party", self.limits.party_failures, self.limits.window
        )
        self.code_party_failures = FailureLimit(
            cache, "rtel:v1:share-code-party", self.limits.code_party_failures, self.limits.window
        )

    # --- granting ------------------------------------------------------------

    async def _party_for(self, uow: UnitOfWork, uscc_text: str, purpose: str) -> RelyingParty:
        party = await self.repository.party_by_uscc(uow, identifiers.uscc(uscc_text))
        if party is None or not party.enabled:
            raise PartyNotFound()
        if purpose not in party.purposes:
            raise ValidationFailed(
                "the party may not ask for this purpose",
                errors=[{"field": "purpose", "rule": "party_purpose", "message": purpose}],
            )
        return party

    def _until(self, until: datetime, now: datetime) -> datetime:
        if until.tzinfo is None or not now < until <= now + timedelta(days=MAX_GRANT_DAYS):
            raise ValidationFailed(
                f"until must be a time with offset, after now and at most {MAX_GRANT_DAYS} days "
                "ahead",
                errors=[{"field": "until", "rule": "grant_window", "message": "out of range"}],
            )
        return until

    async def _held_licence(self, uow: UnitOfWork, principal: Principal, ref: str) -> Licence:
        """A licence the caller holds or acts for, with a standing claim; 404 otherwise."""
        licence = await self.licences.by_ref(uow, ref)
        if licence is None or not principal.may_act_on(holder_of(licence)):
            raise LicenceNotFound()
        claim = await self.claims.of_licence(uow, licence.id)
        if claim is None or claim.status not in _SETTLED or not claim_holds(claim, licence):
            raise LicenceNotFound()
        return licence

    async def grant(self, uow: UnitOfWork, session: HolderSession, data: GrantIn) -> GrantOut:
        """A holder's grant of fields of their claimed licences to a party."""
        principal = await self.enterprises.principal_of(uow, session)
        licences = [await self._held_licence(uow, principal, ref) for ref in data.licences]
        return await self._create(
            uow, data, licences, source="holder", actor=f"account:{session.account_id}"
        )

    async def authority_grant(
        self, uow: UnitOfWork, data: GrantIn, *, actor: str, scope: str | None
    ) -> GrantOut:
        """An inter-department grant by an authority client over licences in its scope."""
        licences = []
        for ref in data.licences:
            licence = await self.licences.by_ref(uow, ref)
            if licence is None or not in_scope(scope, licence.issuer_division):
                raise LicenceNotFound("no licence with that reference")
            licences.append(licence)
        return await self._create(uow, data, licences, source="authority", actor=actor)

    async def _create(
        self, uow: UnitOfWork, data: GrantIn, licences: list[Licence], *, source: str, actor: str
    ) -> GrantOut:
        now = self.clock.now()
        _check_fields([get_kind(lic.kind) for lic in licences], data.fields)
        until = self._until(data.until, now)
        party = await self._party_for(uow, data.party, data.purpose)
        grant = Grant(
            public_id=_new_grant_id(),
            party_id=party.id,
            source=source,
            granted_by=actor,
            purpose=data.purpose,
            fields_granted=list(data.fields),
            expires_at=until,
            max_uses=data.max_uses,
            uses=0,
            created_at=now,
        )
        await self.repository.add_grant(uow, grant, licences)
        await audit(
            uow,
            at=now,
            actor=actor,
            action=f"grant.{source}",
            subject=grant.public_id,
            detail={
                "party": party.uscc,
                "licences": [lic.ref for lic in licences],
                "fields": list(data.fields),
                "purpose": data.purpose,
            },
        )
        return self._grant_out(grant, party, [lic.ref for lic in licences], now)

    def _grant_out(
        self, grant: Grant, party: RelyingParty, refs: list[str], now: datetime
    ) -> GrantOut:
        return GrantOut(
            id=grant.public_id,
            source=grant.source,  # type: ignore[arg-type]
            party=PartyRef(name=party.name, uscc=party.uscc),
            licences=refs,
            fields=list(grant.fields_granted),
            purpose=grant.purpose,
            purpose_label=purpose_label(grant.purpose),
            expires_at=grant.expires_at,
            max_uses=grant.max_uses,
            uses=grant.uses,
            status=_grant_status(grant, now),
            created_at=grant.created_at,
            revoked_at=grant.revoked_at,
        )

    # --- the holder's view ---------------------------------------------------

    async def _visible(
        self, uow: UnitOfWork, session: HolderSession, public_id: str
    ) -> tuple[Grant, list[GrantLicence], Principal]:
        principal = await self.enterprises.principal_of(uow, session)
        grant = await self.repository.grant_by_public_id(uow, public_id)
        if grant is None:
            raise GrantNotFound()
        rows = (await self.repository.grant_licences(uow, [grant.id]))[grant.id]
        if not any(principal.may_act_on(_granted_holder(row)) for row in rows):
            raise GrantNotFound()
        return grant, rows, principal

    async def grants(
        self, uow: UnitOfWork, session: HolderSession, cursor: str | None, limit: int
    ) -> GrantPage:
        """Grants over the caller's licences (their own, their enterprises', the authority's)."""
        principal = await self.enterprises.principal_of(uow, session)
        after = None
        if cursor is not None:
            after = await self.repository.grant_by_public_id(uow, cursor)
            if after is None:  # a cursor this list never handed out: nothing follows it
                return GrantPage(items=[], next_cursor=None)
        rows = await self.repository.grants_of_holder(
            uow, principal.person_id, principal.enterprise_ids, after, limit + 1
        )
        more = len(rows) > limit
        rows = rows[:limit]
        licences = await self.repository.grant_licences(uow, [g.id for g in rows])
        parties = await self.repository.parties_by_ids(uow, list({g.party_id for g in rows}))
        now = self.clock.now()
        items = [
            self._grant_out(g, parties[g.party_id], [r.licence.ref for r in licences[g.id]], now)
            for g in rows
        ]
        return GrantPage(items=items, next_cursor=rows[-1].public_id if more else None)

    async def inspect(self, uow: UnitOfWork, session: HolderSession, public_id: str) -> GrantOut:
        """One grant over the caller's licences."""
        grant, rows, _ = await self._visible(uow, session, public_id)
        party = (await self.repository.parties_by_ids(uow, [grant.party_id]))[grant.party_id]
        return self._grant_out(grant, party, [r.licence.ref for r in rows], self.clock.now())

    async def revoke(self, uow: UnitOfWork, session: HolderSession, public_id: str) -> GrantOut:
        """End a grant now: the next redemption is refused. Idempotent."""
        grant, rows, principal = await self._visible(uow, session, public_id)
        if grant.source == "authority":
            raise GrantNotRevocable("an authority grant is ended by the authority")
        if not all(principal.may_act_on(_granted_holder(row)) for row in rows):
            raise GrantNotRevocable("the grant covers licences you do not act for")
        now = self.clock.now()
        if grant.revoked_at is None:
            actor = f"account:{session.account_id}"
            await self.repository.revoke(uow, grant, now, actor)
            grant.revoked_at, grant.revoked_by = now, actor
            await audit(uow, at=now, actor=actor, action="grant.revoke", subject=grant.public_id)
        party = (await self.repository.parties_by_ids(uow, [grant.party_id]))[grant.party_id]
        return self._grant_out(grant, party, [r.licence.ref for r in rows], now)

    async def accesses(
        self,
        uow: UnitOfWork,
        session: HolderSession,
        public_id: str,
        cursor: int | None,
        limit: int,
    ) -> AccessPage:
        """Who read what under a grant, when, for which purpose; newest first."""
        grant, _, _ = await self._visible(uow, session, public_id)
        rows = await self.repository.accesses(uow, grant.id, cursor, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        items = [
            AccessOut(
                at=row.at,
                party=PartyRef(name=row.party.name, uscc=row.party.uscc),
                licence=row.licence.ref,
                fields=list(row.fields_read),
                purpose=row.purpose,
                purpose_label=purpose_label(row.purpose),
                form=row.form,  # type: ignore[arg-type]
            )
            for row in rows
        ]
        return AccessPage(items=items, next_cursor=rows[-1].id if more else None)

    # --- redeeming -----------------------------------------------------------

    async def redeem(
        self, uow: UnitOfWork, party: RelyingParty, public_id: str, ref: str
    ) -> IssuedCopy:
        """The annotated copy of ``ref`` under the party's live grant; :class:`NoLiveGrant`
        (one body for every reason) otherwise."""
        grant = await self.repository.grant_by_public_id(uow, public_id)
        if grant is None or grant.party_id != party.id:
            raise NoLiveGrant()
        row = await self.repository.granted_licence(uow, grant.id, ref)
        # A licence that changed hands since the grant is no longer the grantor's to share.
        if row is None or _granted_holder(row) != holder_of(row.licence):
            raise NoLiveGrant()
        copy = await self._issue(uow, party, grant, row.licence, "grant")
        if copy is None:
            raise NoLiveGrant()
        return copy

    async def _issue(
        self, uow: UnitOfWork, party: RelyingParty, grant: Grant, licence: Licence, form: str
    ) -> IssuedCopy | None:
        now = self.clock.now()
        if not await self.repository.take_use(uow, grant.id, now):
            return None
        kind = get_kind(licence.kind)
        face = (await self.faces.current(uow, [licence])).get(licence.id, {})
        fields = {name: field_text(kind, name, face.get(name)) for name in grant.fields_granted}
        status = effective_status(licence.status, licence.valid_until, now.date())
        key = await self.keys.active_key(uow, "copy")
        cid = new_copy_id()
        iat, exp = int(now.timestamp()), int(grant.expires_at.timestamp())
        token = mint_copy(
            key.kid,
            key.private_key,
            self.sm2,
            cid=cid,
            gid=grant.public_id,
            lic=licence.ref,
            knd=kind.type_code[-4:],
            iss=licence.issuer_division,
            ver=licence.version,
            aud=party.uscc,
            pur=grant.purpose,
            sta=status,
            fld=fields,
            iat=iat,
            exp=exp,
        )
        await self.repository.add_access(
            uow,
            Access(
                grant_id=grant.id,
                party_id=party.id,
                licence_id=licence.id,
                fields_read=list(grant.fields_granted),
                purpose=grant.purpose,
                copy_id=cid,
                form=form,
                at=now,
            ),
        )
        if self.notifier is not None and self.notifier.enabled:
            claim = await self.claims.of_licence(uow, licence.id)
            if claim is not None:
                await self.notifier.accessed(
                    uow,
                    claim.account_id,
                    ref=licence.ref,
                    kind_name=kind.name,
                    party_name=party.name,
                    purpose_label=purpose_label(grant.purpose),
                    at=now,
                )
        out = CopyOut(
            copy=token,
            copy_id=cid,
            grant=grant.public_id,
            licence=licence.ref,
            kind=licence.kind,
            version=licence.version,
            party=PartyRef(name=party.name, uscc=party.uscc),
            purpose=grant.purpose,
            purpose_label=purpose_label(grant.purpose),
            status=status,
            fields=fields,
            issued_at=now,
            expires_at=grant.expires_at,
        )
        document = copy_document(
            kind=kind,
            fields=fields,
            token=token,
            party_name=party.name,
            purpose_label=purpose_label(grant.purpose),
            status_label=STATUS_LABELS.get(status, status),
            grant_id=grant.public_id,
            copy_id=cid,
            issued_at=now,
            expires_at=grant.expires_at,
            notes=(f"发证机关 {licence.issuer_name}",),
        )
        return IssuedCopy(out, document)

    # --- share codes ---------------------------------------------------------

    async def make_code(
        self, uow: UnitOfWork, session: HolderSession, data: ShareCodeIn
    ) -> ShareCodeOut:
        """A one-time code for ``data.licence``; only its keyed hash is kept."""
        principal = await self.enterprises.principal_of(uow, session)
        licence = await self._held_licence(uow, principal, data.licence)
        _check_fields([get_kind(licence.kind)], data.fields)
        now = self.clock.now()
        expires_at = now + timedelta(seconds=data.lifetime)
        row = ShareCode(
            licence_id=licence.id,
            account_id=session.account_id,
            granted_by=f"account:{session.account_id}",
            purpose=data.purpose,
            fields_granted=list(data.fields),
            grant_days=data.grant_days,
            expires_at=expires_at,
            failures=0,
            created_at=now,
            form=data.form,
        )
        if data.form == "qr":
            code = new_qr_code()
            row.code_hash = code_hash(self.code_key, "qr", code)
            if not await self.repository.add_code(uow, row):
                raise RuntimeError("a 128-bit share code collided")
            return ShareCodeOut(code=code, form="qr", expires_at=expires_at)
        await self.repository.free_locators(uow, now)
        for _ in range(self.limits.short_code_attempts):
            code = new_short_code()
            if await self.repository.code_by_locator(uow, code[:LOCATOR_LENGTH]) is None:
                break
        else:
            raise TooManyAttempts("too many live short codes: use a QR code", retry_after=60)
        row.code_hash = code_hash(self.code_key, "short", code)
        row.locator = code[:LOCATOR_LENGTH]
        if not await self.repository.add_code(uow, row):
            raise TooManyAttempts("that code was just taken: ask for another", retry_after=1)
        return ShareCodeOut(code=display_short(code), form="short", expires_at=expires_at)

    async def redeem_code(
        self, uow: UnitOfWork, party: RelyingParty, text: str
    ) -> IssuedCopy | None:
        """Redeem a share code for ``party``: a one-use grant and its copy.

        None when the code is wrong, spent, burned or expired; the wrong tries
        it counted are written in ``uow``, so the caller commits before it
        answers :class:`NoLiveGrant`. :class:`TooManyAttempts` when the party
        has used up its tries.
        """
        await self.party_failures.check(party.party_id)
        parsed = parse_code(text)
        if parsed is None:
            raise ValidationFailed(
                errors=[{"field": "code", "rule": "share_code", "message": "not a share code"}]
            )
        form, code = parsed
        now = self.clock.now()
        hashed = code_hash(self.code_key, form, code)
        if form == "qr":
            row = await self.repository.code_by_hash(uow, hashed)
        else:
            row = await self.repository.code_by_locator(uow, code[:LOCATOR_LENGTH])
            if row is not None:
                per_code = f"{row.id}:{party.party_id}"
                await self.code_party_failures.check(per_code)
                if row.code_hash != hashed:
                    await self.code_party_failures.fail(per_code)
                    await self.repository.count_code_failure(
                        uow, row.id, now, self.limits.code_failures
                    )
                    row = None
        live = (
            row is not None
            and row.grant_id is None
            and row.burned_at is None
            and row.expires_at > now
            and row.purpose in party.purposes
        )
        if row is None or not live:
            await self.party_failures.fail(party.party_id)
            return None
        grant = Grant(
            public_id=_new_grant_id(),
            party_id=party.id,
            source="share_code",
            granted_by=row.granted_by,
            purpose=row.purpose,
            fields_granted=list(row.fields_granted),
            expires_at=now + timedelta(days=row.grant_days),
            max_uses=1,
            uses=0,
            created_at=now,
        )
        licence = await self.repository.licence(uow, row.licence_id)
        await self.repository.add_grant(uow, grant, [licence])
        if not await self.repository.spend_code(uow, row.id, grant.id, now):
            raise NoLiveGrant()  # another redemption won the race: nothing to keep
        return await self._issue(uow, party, grant, licence, form)
