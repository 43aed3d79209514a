"""Every query of sharing: parties, grants and their licences, share codes, accesses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q, Subquery

from wallet.licences.models import Licence
from wallet.sharing.models import Access, Grant, GrantLicence, RelyingParty, ShareCode
from wallet.uow import UnitOfWork

__all__ = ["SharingRepository"]


class SharingRepository:
    """Queries of the sharing tables; no per-request state."""

    # --- parties -------------------------------------------------------------

    async def party_by_client_id(self, uow: UnitOfWork, party_id: str) -> RelyingParty | None:
        """The party whose ``X-Client-Id`` is ``party_id`` (active or not)."""
        return await RelyingParty.get_or_none(party_id=party_id, using_db=uow.conn)

    async def party_by_uscc(self, uow: UnitOfWork, uscc: str) -> RelyingParty | None:
        return await RelyingParty.get_or_none(uscc=uscc, using_db=uow.conn)

    async def add_party(self, uow: UnitOfWork, party: RelyingParty) -> bool:
        """Insert a party; False when its USCC is already registered."""
        try:
            await party.save(using_db=uow.conn)
        except IntegrityError:
            return False
        return True

    async def save_party(self, uow: UnitOfWork, party: RelyingParty, *fields: str) -> None:
        await party.save(using_db=uow.conn, update_fields=list(fields))

    async def parties(
        self, uow: UnitOfWork, after: int | None, limit: int, status: str | None
    ) -> list[RelyingParty]:
        """Parties in registration order, after the id ``after``."""
        query = RelyingParty.all().using_db(uow.conn)
        if after is not None:
            query = query.filter(id__gt=after)
        if status is not None:
            query = query.filter(status=status)
        return list(await query.order_by("id").limit(limit))

    async def parties_by_ids(self, uow: UnitOfWork, ids: Sequence[int]) -> dict[int, RelyingParty]:
        rows = await RelyingParty.filter(id__in=list(ids)).using_db(uow.conn)
        return {row.id: row for row in rows}

    # --- grants --------------------------------------------------------------

    async def add_grant(self, uow: UnitOfWork, grant: Grant, licences: Sequence[Licence]) -> None:
        """Insert a grant and its licences, each with its holder of now."""
        await grant.save(using_db=uow.conn)
        await GrantLicence.bulk_create(
            [
                GrantLicence(
                    grant_id=grant.id,
                    licence_id=lic.id,
                    holder_person_id=lic.holder_person_id,  # type: ignore[attr-defined]
                    holder_enterprise_id=lic.holder_enterprise_id,  # type: ignore[attr-defined]
                )
                for lic in licences
            ],
            using_db=uow.conn,
        )

    async def grant_by_public_id(self, uow: UnitOfWork, public_id: str) -> Grant | None:
        return await Grant.get_or_none(public_id=public_id, using_db=uow.conn)

    async def grant_licences(
        self, uow: UnitOfWork, grant_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, list[GrantLicence]]:
        """The licences of each grant (``licence`` fetched), in the order they were granted."""
        rows = (
            await GrantLicence.filter(grant_id__in=list(grant_ids))
            .using_db(uow.conn)
            .order_by("id")
            .select_related("licence")
        )
        out: dict[uuid.UUID, list[GrantLicence]] = {gid: [] for gid in grant_ids}
        for row in rows:
            out[row.grant_id].append(row)
        return out

    async def granted_licence(
        self, uow: UnitOfWork, grant_id: uuid.UUID, ref: str
    ) -> GrantLicence | None:
        """The grant's row for licence ``ref`` (``licence`` fetched), if it covers it."""
        return (
            await GrantLicence.filter(grant_id=grant_id, licence__ref=ref)
            .using_db(uow.conn)
            .select_related("licence")
            .first()
        )

    async def grant_covers(self, uow: UnitOfWork, grant_id: uuid.UUID, ref: str) -> Licence | None:
        """The licence ``ref`` if the grant covers it."""
        return await Licence.filter(ref=ref, grants__grant_id=grant_id).using_db(uow.conn).first()

    async def grants_of_holder(
        self,
        uow: UnitOfWork,
        person_id: uuid.UUID | None,
        enterprise_ids: Sequence[uuid.UUID],
        after: Grant | None,
        limit: int,
    ) -> list[Grant]:
        """Grants over licences the person or the enterprises held when granted, newest first."""
        holder = Q(holder_enterprise_id__in=list(enterprise_ids))
        if person_id is not None:
            holder |= Q(holder_person_id=person_id)
        ids = Subquery(GrantLicence.filter(holder).using_db(uow.conn).values("grant_id"))
        query = Grant.filter(id__in=ids).using_db(uow.conn)
        if after is not None:
            query = query.filter(
                Q(created_at__lt=after.created_at)
                | Q(created_at=after.created_at, public_id__lt=after.public_id)
            )
        return list(await query.order_by("-created_at", "-public_id").limit(limit))

    async def take_use(self, uow: UnitOfWork, grant_id: uuid.UUID, now: datetime) -> bool:
        """Count one redemption if the grant is live at ``now``; False when it is not.

        One conditional UPDATE: of two concurrent redemptions of the last use,
        exactly one changes a row.
        """
        updated = (
            await Grant.filter(
                Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")),
                id=grant_id,
                revoked_at__isnull=True,
                expires_at__gt=now,
            )
            .using_db(uow.conn)
            .update(uses=F("uses") + 1)
        )
        return updated == 1

    async def revoke(self, uow: UnitOfWork, grant: Grant, now: datetime, by: str) -> None:
        await (
            Grant.filter(id=grant.id, revoked_at__isnull=True)
            .using_db(uow.conn)
            .update(revoked_at=now, revoked_by=by)
        )

    # --- share codes ---------------------------------------------------------

    async def add_code(self, uow: UnitOfWork, code: ShareCode) -> bool:
        """Insert a code; False when its hash or locator was taken meanwhile."""
        try:
            await code.save(using_db=uow.conn)
        except IntegrityError:
            return False
        return True

    async def free_locators(self, uow: UnitOfWork, now: datetime) -> None:
        """Release the locators of short codes that expired, burned or were used."""
        await (
            ShareCode.filter(
                Q(expires_at__lte=now) | Q(burned_at__isnull=False) | Q(grant_id__isnull=False),
                locator__isnull=False,
            )
            .using_db(uow.conn)
            .update(locator=None)
        )

    async def licence(self, uow: UnitOfWork, licence_id: uuid.UUID) -> Licence:
        """The licence of a share code (it exists: the code holds a foreign key to it)."""
        return await Licence.get(id=licence_id, using_db=uow.conn)

    async def code_by_hash(self, uow: UnitOfWork, code_hash: str) -> ShareCode | None:
        return await ShareCode.get_or_none(code_hash=code_hash, using_db=uow.conn)

    async def code_by_locator(self, uow: UnitOfWork, locator: str) -> ShareCode | None:
        return await ShareCode.get_or_none(locator=locator, using_db=uow.conn)

    async def count_code_failure(
        self, uow: UnitOfWork, code_id: uuid.UUID, now: datetime, burn_at: int
    ) -> None:
        """One more wrong guess at a code; it burns at ``burn_at`` failures."""
        await ShareCode.filter(id=code_id).using_db(uow.conn).update(failures=F("failures") + 1)
        await (
            ShareCode.filter(id=code_id, failures__gte=burn_at, burned_at__isnull=True)
            .using_db(uow.conn)
            .update(burned_at=now, locator=None)
        )

    async def spend_code(
        self, uow: UnitOfWork, code_id: uuid.UUID, grant_id: uuid.UUID, now: datetime
    ) -> bool:
        """Mark a live code redeemed by ``grant_id``; False when it is no longer live."""
        updated = (
            await ShareCode.filter(
                id=code_id, grant_id__isnull=True, burned_at__isnull=True, expires_at__gt=now
            )
            .using_db(uow.conn)
            .update(grant_id=grant_id, locator=None)
        )
        return updated == 1

    # --- accesses ------------------------------------------------------------

    async def add_access(self, uow: UnitOfWork, access: Access) -> None:
        await access.save(using_db=uow.conn)

    async def accesses(
        self, uow: UnitOfWork, grant_id: uuid.UUID, before: int | None, limit: int
    ) -> list[Access]:
        """Accesses of a grant, newest first, with their party and licence."""
        query = Access.filter(grant_id=grant_id).using_db(uow.conn)
        if before is not None:
            query = query.filter(id__lt=before)
        return list(await query.order_by("-id").limit(limit).prefetch_related("party", "licence"))
