"""Every query of claims and claim photos.

Each method runs on the caller's unit of work (a transaction, or
:func:`wallet.uow.read_only` for reads). The verifier reads the approved
photo of a licence through :meth:`ClaimRepository.approved_photo`, the
presenter whether an account claimed a licence through
:meth:`ClaimRepository.claimed_by`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from tortoise.expressions import Q

from wallet.claims.models import Claim, ClaimPhoto
from wallet.uow import UnitOfWork

__all__ = ["ClaimRepository"]


class ClaimRepository:
    """Queries of :class:`Claim` and :class:`ClaimPhoto`."""

    async def of_licence(self, uow: UnitOfWork, licence_id: uuid.UUID) -> Claim | None:
        """The claim of a licence (one row per licence), if any."""
        return await Claim.filter(licence_id=licence_id).using_db(uow.conn).first()

    async def of_licences(self, uow: UnitOfWork, licence_ids: Sequence[uuid.UUID]) -> list[Claim]:
        """The claims of these licences."""
        return list(await Claim.filter(licence_id__in=list(licence_ids)).using_db(uow.conn))

    async def claimed_by(self, uow: UnitOfWork, ref: str, account_id: uuid.UUID) -> bool:
        """Whether ``account_id`` claimed the licence ``ref`` (whatever the claim's status)."""
        return (
            await Claim.filter(licence__ref=ref, account_id=account_id).using_db(uow.conn).exists()
        )

    async def with_licence(
        self, uow: UnitOfWork, claim_id: uuid.UUID, *, lock: bool = False
    ) -> Claim | None:
        """The claim with its licence fetched; locked for the transaction when ``lock``."""
        query = Claim.filter(id=claim_id).using_db(uow.conn)
        if lock and uow.is_postgres:
            query = query.select_for_update()
        claim = await query.first()
        if claim is not None:
            await claim.fetch_related("licence", using_db=uow.conn)
        return claim

    async def pending(
        self,
        uow: UnitOfWork,
        scope: str | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Claim]:
        """Claims waiting for review inside ``scope`` (a division prefix), oldest first,
        after the keyset ``after``; licence, person and photo fetched."""
        rows = Claim.filter(status="pending_review").using_db(uow.conn)
        if scope:
            rows = rows.filter(licence__issuer_division__startswith=scope)
        if after is not None:
            at, claim_id = after
            rows = rows.filter(Q(created_at__gt=at) | Q(created_at=at, id__gt=claim_id))
        return list(
            await rows.order_by("created_at", "id")
            .limit(limit)
            .prefetch_related("licence", "person", "photo")
        )

    async def save(self, uow: UnitOfWork, claim: Claim, *fields: str) -> None:
        """Insert a new claim, or write ``fields`` (every column when none) of a stored one."""
        await claim.save(using_db=uow.conn, update_fields=list(fields) or None)

    async def add_many(self, uow: UnitOfWork, claims: Sequence[Claim]) -> None:
        """Insert new claims; one a concurrent request inserted first is skipped quietly."""
        await Claim.bulk_create(claims, ignore_conflicts=True, using_db=uow.conn)

    async def photo(self, uow: UnitOfWork, claim_id: uuid.UUID) -> ClaimPhoto | None:
        """The photo sent with a claim, if any."""
        return await ClaimPhoto.filter(claim_id=claim_id).using_db(uow.conn).first()

    async def approved_photo(self, uow: UnitOfWork, licence_id: uuid.UUID) -> ClaimPhoto | None:
        """The photo of the licence's approved claim (sealed), if any: the licence photo."""
        return (
            await ClaimPhoto.filter(claim__licence_id=licence_id, claim__status="approved")
            .using_db(uow.conn)
            .first()
        )

    async def add_photo(self, uow: UnitOfWork, photo: ClaimPhoto) -> None:
        """Insert a claim photo."""
        await photo.save(using_db=uow.conn, force_create=True)

    async def delete_photo(self, uow: UnitOfWork, claim_id: uuid.UUID) -> None:
        """Delete the photo of a claim (none is fine)."""
        await ClaimPhoto.filter(claim_id=claim_id).using_db(uow.conn).delete()
