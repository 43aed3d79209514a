"""Claiming licences and the authority's review of claim photos.

A holder claims a licence it holds (a person licence of the bound person,
or a licence of an enterprise it represents). When the registry has no
photo for a person licence the claim carries one and waits in the
authority's review queue (``pending_review``); approval or rejection (with
a reason) reaches the claimer by subscribe message after the commit, and
shows in the listing. Claims are idempotent: the same claim again changes
nothing. A bulk claim treats each reference on its own and reports each.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from wallet.accounts.repository import AccountRepository
from wallet.audit.service import append as audit
from wallet.claims.errors import (
    AlreadyClaimed,
    ClaimNotPending,
    LicenceEnded,
    LicenceNotFound,
    PhotoNotNeeded,
    PhotoRequired,
)
from wallet.claims.faces import LicenceFaces, needs_photo
from wallet.claims.holding import claim_holds, holder_of
from wallet.claims.models import Claim, ClaimPhoto
from wallet.claims.notify import ClaimNotifier
from wallet.claims.photos import Photo, decode_base64_photo, prepare_photo
from wallet.claims.repository import ClaimRepository
from wallet.claims.schemas import (
    BulkClaimIn,
    BulkClaimItem,
    BulkClaimOut,
    ClaimIn,
    ClaimOut,
    RejectIn,
    ReviewItem,
    ReviewOut,
    ReviewPage,
    ReviewQuery,
)
from wallet.clock import Clock
from wallet.enterprises.service import EnterpriseService
from wallet.errors import NotFound, ValidationFailed
from wallet.holders.models import Person
from wallet.holders.principal import HolderSession, Principal, require_person
from wallet.licences.catalogue import get_kind
from wallet.licences.models import Licence
from wallet.licences.repository import LicenceRepository
from wallet.licences.status import TERMINAL, RegistryStatus
from wallet.uow import UnitOfWork
from wallet.vault import Vault, mask_id_number, mask_name

__all__ = ["PHOTO_CONTEXT", "ClaimService", "photo_bytes"]

PHOTO_CONTEXT: Final = "claim_photo.image"
_SETTLED: Final = frozenset({"claimed", "approved"})


def photo_bytes(vault: Vault, photo: ClaimPhoto) -> bytes:
    """The JPEG of a stored claim photo, opened by the vault."""
    return base64.b64decode(vault.open(photo.image_sealed, PHOTO_CONTEXT))


@dataclass(frozen=True)
class _Decision:
    status: str
    reason: str


def _out(licence: Licence, claim: Claim, created: bool) -> ClaimOut:
    return ClaimOut(
        ref=licence.ref,
        claim_id=claim.id,
        status=claim.status,  # type: ignore[arg-type]
        reason=claim.reason or None,
        created=created,
    )


class ClaimService:
    """Claims and their review over one runtime's vault, clock and notifier."""

    def __init__(
        self,
        *,
        repository: ClaimRepository,
        licences: LicenceRepository,
        accounts: AccountRepository,
        faces: LicenceFaces,
        enterprises: EnterpriseService,
        vault: Vault,
        clock: Clock,
        notifier: ClaimNotifier,
    ) -> None:
        self.repository = repository
        self.licences = licences
        self.accounts = accounts
        self.faces = faces
        self.enterprises = enterprises
        self.vault = vault
        self.clock = clock
        self.notifier = notifier

    async def licence_photo(self, uow: UnitOfWork, licence_id: uuid.UUID) -> bytes | None:
        """The holder's approved photo of a licence (JPEG), or None.

        For licences whose registry face has no photo: what the verifier shows
        the inspector once the authority approved the claim.
        """
        photo = await self.repository.approved_photo(uow, licence_id)
        return photo_bytes(self.vault, photo) if photo is not None else None

    # -- the holder's side -------------------------------------------------------------

    async def claim(
        self, uow: UnitOfWork, session: HolderSession, ref: str, body: ClaimIn
    ) -> ClaimOut:
        """Claim one licence, with a photo when the registry has none."""
        require_person(session)
        photo = await prepare_photo(decode_base64_photo(body.photo)) if body.photo else None
        principal = await self.enterprises.principal_of(uow, session)
        now = self.clock.now()
        licence = await self._licence_for(uow, principal, ref)
        claim = await self.repository.of_licence(uow, licence.id)
        if claim is not None and claim_holds(claim, licence):
            if claim.status in _SETTLED:
                if photo is not None:
                    raise AlreadyClaimed(f"the claim is {claim.status}")
                return _out(licence, claim, created=False)
            if claim.status == "pending_review":
                if photo is None:
                    return _out(licence, claim, created=False)
                await self._store_photo(uow, claim, photo, now)
                await self._audit(uow, session, "claim.photo", licence, claim)
                return _out(licence, claim, created=True)
        faces = await self.faces.current(uow, [licence])
        wants_photo = needs_photo(get_kind(licence.kind), faces.get(licence.id, {}))
        if wants_photo and photo is None:
            raise PhotoRequired()
        if not wants_photo and photo is not None:
            raise PhotoNotNeeded()
        claim = await self._put(
            uow, session, licence, claim, "pending_review" if wants_photo else "claimed", now
        )
        if photo is not None:
            await self._store_photo(uow, claim, photo, now)
        await self._audit(uow, session, "claim.create", licence, claim)
        return _out(licence, claim, created=True)

    async def claim_many(
        self, uow: UnitOfWork, session: HolderSession, body: BulkClaimIn
    ) -> BulkClaimOut:
        """Claim many licences that need no photo; each reference succeeds or fails alone."""
        require_person(session)
        principal = await self.enterprises.principal_of(uow, session)
        now = self.clock.now()
        refs = list(dict.fromkeys(body.refs))
        rows = await self.licences.by_refs(uow, refs)
        licences = {lic.ref: lic for lic in rows if principal.may_act_on(holder_of(lic))}
        claims = {
            c.licence_id: c
            for c in await self.repository.of_licences(uow, [lic.id for lic in licences.values()])
        }
        person_licences = [lic for lic in licences.values() if holder_of(lic)[0] is not None]
        faces = await self.faces.current(uow, person_licences)
        results: list[BulkClaimItem] = []
        fresh: list[Claim] = []
        for ref in refs:
            licence = licences.get(ref)
            if licence is None:
                results.append(_failed(ref, LicenceNotFound()))
                continue
            claim = claims.get(licence.id)
            if claim is not None and claim_holds(claim, licence) and claim.status != "rejected":
                results.append(BulkClaimItem(ref=ref, outcome="unchanged", status=claim.status))
            elif RegistryStatus(licence.status) in TERMINAL:
                results.append(_failed(ref, LicenceEnded()))
            elif needs_photo(get_kind(licence.kind), faces.get(licence.id, {})):
                results.append(_failed(ref, PhotoRequired("claim it alone, with a photo")))
            elif claim is not None:
                await self._put(uow, session, licence, claim, "claimed", now)
                results.append(BulkClaimItem(ref=ref, outcome="claimed", status="claimed"))
            else:
                fresh.append(self._new_claim(session, licence, "claimed", now))
                results.append(BulkClaimItem(ref=ref, outcome="claimed", status="claimed"))
        # A concurrent claim of the same licence wins quietly: the outcome is the same.
        await self.repository.add_many(uow, fresh)
        claimed = [r.ref for r in results if r.outcome == "claimed"]
        if claimed:
            await audit(
                uow,
                at=now,
                actor=f"account:{session.account_id}",
                action="claim.bulk",
                subject=str(session.account_id),
                detail={"count": len(claimed), "refs": claimed},
            )
        return BulkClaimOut(
            results=results,
            claimed=len(claimed),
            unchanged=sum(r.outcome == "unchanged" for r in results),
            failed=sum(r.outcome == "failed" for r in results),
        )

    # -- the authority's side ---------------------------------------------------------

    async def pending(self, uow: UnitOfWork, scope: str | None, query: ReviewQuery) -> ReviewPage:
        """Claims waiting for review inside ``scope``, oldest first (keyset pagination)."""
        after = _parse_cursor(query.cursor) if query.cursor else None
        page = await self.repository.pending(uow, scope, after, query.limit + 1)
        more = len(page) > query.limit
        page = page[: query.limit]
        items = [self._review_item(claim) for claim in page]
        cursor = _cursor(page[-1]) if more and page else None
        return ReviewPage(items=items, next_cursor=cursor)

    async def photo(self, uow: UnitOfWork, scope: str | None, claim_id: str) -> bytes:
        """The JPEG sent with a claim (for the reviewer)."""
        claim = await self._claim_in_scope(uow, scope, claim_id)
        photo = await self.repository.photo(uow, claim.id)
        if photo is None:
            raise NotFound("this claim has no photo")
        return photo_bytes(self.vault, photo)

    async def approve(
        self, uow: UnitOfWork, actor: str, scope: str | None, claim_id: str
    ) -> ReviewOut:
        """Approve a pending claim; its photo becomes the licence photo."""
        return await self._review(uow, actor, scope, claim_id, _Decision("approved", ""))

    async def reject(
        self, uow: UnitOfWork, actor: str, scope: str | None, claim_id: str, body: RejectIn
    ) -> ReviewOut:
        """Reject a pending claim with a reason; the photo is deleted (minimal retention)."""
        return await self._review(uow, actor, scope, claim_id, _Decision("rejected", body.reason))

    # -- helpers ------------------------------------------------------------------

    async def _licence_for(self, uow: UnitOfWork, principal: Principal, ref: str) -> Licence:
        licence = await self.licences.by_ref(uow, ref, lock=True)
        if licence is None or not principal.may_act_on(holder_of(licence)):
            raise LicenceNotFound()
        if RegistryStatus(licence.status) in TERMINAL:
            raise LicenceEnded(f"the licence is {licence.status}")
        return licence

    def _new_claim(
        self, session: HolderSession, licence: Licence, status: str, now: datetime
    ) -> Claim:
        person_id, enterprise_id = holder_of(licence)
        return Claim(
            id=uuid.uuid4(),
            licence_id=licence.id,
            account_id=session.account_id,
            person_id=person_id,
            enterprise_id=enterprise_id,
            status=status,
            reason="",
            reviewed_by="",
            created_at=now,
            updated_at=now,
        )

    async def _put(
        self,
        uow: UnitOfWork,
        session: HolderSession,
        licence: Licence,
        claim: Claim | None,
        status: str,
        now: datetime,
    ) -> Claim:
        if claim is None:
            claim = self._new_claim(session, licence, status, now)
            await self.repository.save(uow, claim)
            return claim
        await self.repository.delete_photo(uow, claim.id)
        claim.account_id = session.account_id
        claim.person_id, claim.enterprise_id = holder_of(licence)
        claim.status, claim.reason, claim.reviewed_by, claim.reviewed_at = status, "", "", None
        claim.created_at = claim.updated_at = now
        await self.repository.save(uow, claim)
        return claim

    async def _store_photo(
        self, uow: UnitOfWork, claim: Claim, photo: Photo, now: datetime
    ) -> None:
        await self.repository.delete_photo(uow, claim.id)
        sealed = self.vault.seal(base64.b64encode(photo.data).decode(), PHOTO_CONTEXT)
        await self.repository.add_photo(
            uow,
            ClaimPhoto(
                id=uuid.uuid4(),
                claim_id=claim.id,
                image_sealed=sealed,
                media_type=photo.media_type,
                width=photo.width,
                height=photo.height,
                size=len(photo.data),
                digest=photo.digest,
                created_at=now,
            ),
        )
        claim.updated_at = now
        await self.repository.save(uow, claim, "updated_at")

    async def _audit(
        self, uow: UnitOfWork, session: HolderSession, action: str, licence: Licence, claim: Claim
    ) -> None:
        await audit(
            uow,
            at=self.clock.now(),
            actor=f"account:{session.account_id}",
            action=action,
            subject=licence.ref,
            detail={"claim": str(claim.id), "status": claim.status},
        )

    async def _claim_in_scope(
        self, uow: UnitOfWork, scope: str | None, claim_id: str, *, lock: bool = False
    ) -> Claim:
        try:
            key = uuid.UUID(claim_id)
        except ValueError:
            raise NotFound("no claim with that id") from None
        claim = await self.repository.with_licence(uow, key, lock=lock)
        if claim is None or (scope and not claim.licence.issuer_division.startswith(scope)):
            # Outside its division a claim does not exist for the client (no 403 oracle).
            raise NotFound("no claim with that id")
        return claim

    async def _review(
        self, uow: UnitOfWork, actor: str, scope: str | None, claim_id: str, decision: _Decision
    ) -> ReviewOut:
        claim = await self._claim_in_scope(uow, scope, claim_id, lock=True)
        if claim.status != "pending_review":
            raise ClaimNotPending(f"the claim is {claim.status}")
        now = self.clock.now()
        claim.status, claim.reason = decision.status, decision.reason
        claim.reviewed_by, claim.reviewed_at, claim.updated_at = actor, now, now
        await self.repository.save(uow, claim)
        if decision.status == "rejected":
            await self.repository.delete_photo(uow, claim.id)
        licence = claim.licence
        action = "claim.approve" if decision.status == "approved" else "claim.reject"
        await audit(
            uow,
            at=now,
            actor=actor,
            action=action,
            subject=licence.ref,
            detail={"claim": str(claim.id)},
        )
        account = await self.accounts.get(uow, claim.account_id)
        if account is None:  # accounts are never deleted while they have claims (RESTRICT)
            raise NotFound("the claim's account is gone")
        kind_name = get_kind(licence.kind).name
        openid_sealed, ref = account.openid_sealed, licence.ref
        if await self.notifier.reserve(uow, account.id):
            uow.after_commit(
                lambda: self.notifier.claim_reviewed(
                    openid_sealed=openid_sealed,
                    ref=ref,
                    kind_name=kind_name,
                    approved=decision.status == "approved",
                    reason=decision.reason,
                    at=now,
                )
            )
        return ReviewOut(
            id=claim.id,
            licence_ref=ref,
            status=decision.status,  # type: ignore[arg-type]
            reason=decision.reason or None,
            reviewed_at=now,
        )

    def _review_item(self, claim: Claim) -> ReviewItem:
        licence: Licence = claim.licence
        person: Person | None = claim.person
        photo: ClaimPhoto | None = claim.photo
        name = mask_name(self.vault.open(person.name_sealed, "person.name")) if person else ""
        number = (
            mask_id_number(self.vault.open(person.id_number_sealed, "person.id_number"))
            if person
            else ""
        )
        return ReviewItem(
            id=claim.id,
            licence_ref=licence.ref,
            kind=licence.kind,
            kind_name=get_kind(licence.kind).name,
            issuer_division=licence.issuer_division,
            holder_name=name,
            holder_id_number=number,
            submitted_at=claim.updated_at,
            photo_url=f"/authority/v1/claims/{claim.id}/photo",
            photo_width=photo.width if photo else 0,
            photo_height=photo.height if photo else 0,
            photo_size=photo.size if photo else 0,
        )


def _failed(ref: str, error: Exception) -> BulkClaimItem:
    code = getattr(error, "type_code", "bad_request")
    detail = getattr(error, "detail", None)
    return BulkClaimItem(ref=ref, outcome="failed", code=code, detail=detail)


def _cursor(claim: Claim) -> str:
    raw = f"{claim.created_at.isoformat()}|{claim.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, claim_id = raw.partition("|")
        return datetime.fromisoformat(at), uuid.UUID(claim_id)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            errors=[
                {
                    "field": "query.cursor",
                    "rule": "cursor",
                    "message": "not a cursor from this list",
                }
            ]
        ) from None
