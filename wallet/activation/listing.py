"""The holder's listing: every licence the caller holds or acts for, with its wallet state.

Claimable licences are found through the registry's holder links (persons
by the blind index of their ID number, at binding): the bound person's
licences and those of every enterprise the caller represents, its fleet
included. Keyset pagination by ``ref`` serves fleets of thousands; each
page costs four queries whatever its size. It shows claims and activations
side by side, so it sits at the top of the holder side, with activation.
"""

from __future__ import annotations

import uuid
from typing import Any

from wallet.activation.models import Activation
from wallet.activation.repository import ActivationRepository, HolderScope, ListingRepository
from wallet.claims.faces import LicenceFaces, mask_face, needs_photo
from wallet.claims.holding import claim_holds, holder_of
from wallet.claims.models import Claim
from wallet.claims.repository import ClaimRepository
from wallet.claims.schemas import (
    ActivationState,
    ClaimState,
    HolderLicenceOut,
    HolderLicencePage,
    ListingQuery,
    WalletState,
)
from wallet.clock import Clock
from wallet.enterprises.service import EnterpriseService
from wallet.errors import NotFound
from wallet.holders.principal import HolderSession, require_person
from wallet.holders.repository import HolderRepository
from wallet.licences.catalogue import get_kind
from wallet.licences.models import Licence
from wallet.licences.status import effective_status
from wallet.uow import UnitOfWork
from wallet.vault import mask_name

__all__ = ["Listing"]


class Listing:
    """The holder's licences over one runtime's repositories and clock."""

    def __init__(
        self,
        *,
        repository: ListingRepository,
        claims: ClaimRepository,
        activations: ActivationRepository,
        holders: HolderRepository,
        faces: LicenceFaces,
        enterprises: EnterpriseService,
        clock: Clock,
    ) -> None:
        self.repository = repository
        self.claims = claims
        self.activations = activations
        self.holders = holders
        self.faces = faces
        self.enterprises = enterprises
        self.clock = clock

    async def licences(
        self, uow: UnitOfWork, session: HolderSession, query: ListingQuery
    ) -> HolderLicencePage:
        """One page of the caller's licences, masked, with claim and activation state."""
        require_person(session)
        principal = await self.enterprises.principal_of(uow, session)
        enterprises = principal.enterprise_ids
        if query.uscc:
            wanted = await self.holders.enterprise_by_uscc(uow, query.uscc.upper())
            if wanted is None or wanted.id not in principal.roles:
                raise NotFound("you do not act for an enterprise with that USCC")
            enterprises = [wanted.id]
        holder: HolderScope = "enterprise" if query.uscc else (query.holder or "both")
        rows = await self.repository.page(
            uow,
            person_id=principal.person_id,
            enterprise_ids=enterprises,
            holder=holder,
            kind=query.kind,
            state=query.state,
            after=query.cursor,
            limit=query.limit + 1,
        )
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        items = await self._items(uow, rows)
        return HolderLicencePage(items=items, next_cursor=rows[-1].ref if more and rows else None)

    async def _items(self, uow: UnitOfWork, rows: list[Licence]) -> list[HolderLicenceOut]:
        ids = [row.id for row in rows]
        faces = await self.faces.current(uow, rows)
        claims = {c.licence_id: c for c in await self.claims.of_licences(uow, ids)}
        active = await self.activations.active_of_many(uow, ids)
        owners = {e for e in (holder_of(r)[1] for r in rows) if e is not None}
        uscc = await self.holders.usccs(uow, owners)
        today = self.clock.now().date()
        items = []
        for row in rows:
            kind = get_kind(row.kind)
            face = faces.get(row.id, {})
            claim = claims.get(row.id)
            if claim is not None and not claim_holds(claim, row):
                claim = None
            activation = active.get(row.id)
            items.append(
                HolderLicenceOut(
                    ref=row.ref,
                    kind=row.kind,
                    kind_name=kind.name,
                    holder_type=kind.holder_type,
                    holder_name=_holder_name(kind.holder_type, face),
                    holder_uscc=uscc.get(holder_of(row)[1] or uuid.UUID(int=0)),
                    number=row.number_display,
                    status=effective_status(row.status, row.valid_until, today),
                    state=_state(claim, activation),
                    version=row.version,
                    valid_from=row.valid_from,
                    valid_until=row.valid_until,
                    issuer_name=row.issuer_name,
                    needs_photo=needs_photo(kind, face),
                    face=mask_face(kind, face),
                    claim=ClaimState(
                        id=claim.id,
                        status=claim.status,  # type: ignore[arg-type]
                        reason=claim.reason or None,
                        updated_at=claim.updated_at,
                    )
                    if claim
                    else None,
                    activation=ActivationState(
                        id=activation.id,
                        device_id=activation.device_id,
                        activated_at=activation.created_at,
                    )
                    if activation
                    else None,
                )
            )
        return items


def _holder_name(holder_type: str, face: dict[str, Any]) -> str:
    if holder_type == "person":
        return mask_name(str(face.get("name", "")))
    return str(face.get("operator_name", ""))


def _state(claim: Claim | None, activation: Activation | None) -> WalletState:
    if activation is not None:
        return "active"
    if claim is None:
        return "claimable"
    return claim.status  # type: ignore[return-value]
