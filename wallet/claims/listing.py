"""The holder's listing: every licence the caller holds or acts for, with its wallet state.

Claimable licences are found through the registry's holder links (persons
by the blind index of their ID number, at binding): the bound person's
licences and those of every enterprise the caller represents, its fleet
included. Keyset pagination by ``ref`` serves fleets of thousands; each
page costs four queries whatever its size.
"""

from __future__ import annotations

import uuid
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from wallet.accounts.sessions import HolderSession
from wallet.activation.models import Activation
from wallet.activation.service import claim_holds
from wallet.claims.faces import current_faces, mask_face, needs_photo
from wallet.claims.models import Claim
from wallet.claims.schemas import (
    ActivationState,
    ClaimState,
    HolderLicenceOut,
    HolderLicencePage,
    ListingQuery,
    WalletState,
)
from wallet.clock import Clock
from wallet.enterprises.access import Principal, holder_of, principal_of, require_person
from wallet.errors import NotFound
from wallet.holders.models import Enterprise
from wallet.licences.catalogue import get_kind
from wallet.licences.models import Licence
from wallet.licences.status import effective_status
from wallet.vault import Vault, mask_name

__all__ = ["Listing"]


class Listing:
    """The holder's licences over one runtime's vault and clock."""

    def __init__(self, vault: Vault, clock: Clock) -> None:
        self.vault = vault
        self.clock = clock

    async def licences(self, session: HolderSession, query: ListingQuery) -> HolderLicencePage:
        """One page of the caller's licences, masked, with claim and activation state."""
        require_person(session)
        principal = await principal_of(session)
        rows_q = await self._scope(principal, query)
        if query.kind:
            rows_q = rows_q.filter(kind=query.kind)
        if query.state:
            rows_q = _by_state(rows_q, query.state)
        if query.cursor:
            rows_q = rows_q.filter(ref__gt=query.cursor)
        rows = await rows_q.order_by("ref").limit(query.limit + 1)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        items = await self._items(rows)
        return HolderLicencePage(items=items, next_cursor=rows[-1].ref if more and rows else None)

    async def _scope(self, principal: Principal, query: ListingQuery) -> QuerySet[Licence]:
        enterprises = principal.enterprise_ids
        if query.uscc:
            wanted = await Enterprise.get_or_none(uscc=query.uscc.upper())
            if wanted is None or wanted.id not in principal.roles:
                raise NotFound("you do not act for an enterprise with that USCC")
            enterprises = [wanted.id]
        mine = Q(holder_person_id=principal.person_id)
        theirs = Q(holder_enterprise_id__in=enterprises)
        if query.uscc or query.holder == "enterprise":
            return Licence.filter(theirs) if enterprises else Licence.filter(id=uuid.UUID(int=0))
        if query.holder == "person" or not enterprises:
            return Licence.filter(mine)
        return Licence.filter(mine | theirs)

    async def _items(self, rows: list[Licence]) -> list[HolderLicenceOut]:
        ids = [row.id for row in rows]
        faces = await current_faces(self.vault, rows)
        claims = {c.licence_id: c for c in await Claim.filter(licence_id__in=ids)}
        active = {
            a.licence_id: a for a in await Activation.filter(licence_id__in=ids, status="active")
        }
        owners = {holder_of(r)[1] for r in rows} - {None}
        uscc: dict[uuid.UUID, str] = {
            uuid.UUID(str(key)): str(value)
            for key, value in await Enterprise.filter(id__in=owners).values_list("id", "uscc")
        }
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


def _by_state(rows: QuerySet[Licence], state: WalletState) -> QuerySet[Licence]:
    active = Subquery(Activation.filter(status="active").values("licence_id"))
    if state == "active":
        return rows.filter(id__in=active)
    if state == "claimable":
        return rows.exclude(id__in=Subquery(Claim.all().values("licence_id")))
    claimed = rows.filter(id__in=Subquery(Claim.filter(status=state).values("licence_id")))
    return claimed.exclude(id__in=active) if state in ("claimed", "approved") else claimed
