"""Every query of activations, and the listing's page of a holder's licences.

Each method runs on the caller's unit of work (a transaction, or
:func:`wallet.uow.read_only` for reads). The verifier reads an active
licence's TOTP seed through :meth:`ActivationRepository.active_seed`, the
presenter what a QR needs (activation, licence and active kid, one
statement) through :meth:`ActivationRepository.showing`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from wallet.activation.models import Activation
from wallet.claims.models import Claim
from wallet.claims.schemas import WalletState
from wallet.licences.models import Licence
from wallet.uow import UnitOfWork

__all__ = ["ACTIVE", "ActivationRepository", "HolderScope", "ListingRepository", "Showing"]

ACTIVE: Final = "active"
HolderScope = Literal["person", "enterprise", "both"]
"""Whose licences a listing page shows: the person's, the enterprises', or both."""

# The presenter's one query per QR: the account's active activation of the
# licence, the licence's columns the QR names, and the kid of the signing
# slot's active key read in the same statement (so a rotation or revocation
# committed by any process is seen by the next QR, at no extra round trip).
_SHOWING: Final = (
    'SELECT a."device_id", l."ref", l."kind", l."issuer_division", l."version", l."status", '
    '(SELECT k."kid" FROM "signing_key" k WHERE k."active_slot" = {slot}) AS "kid" '
    'FROM "activation" a JOIN "licence" l ON l."id" = a."licence_id" '
    'WHERE l."ref" = {ref} AND a."account_id" = {account} AND a."status" = \'active\' LIMIT 1'
)
_SHOWING_SQL: Final = {
    "postgres": _SHOWING.format(slot="$1", ref="$2", account="$3"),
    "sqlite": _SHOWING.format(slot="?", ref="?", account="?"),
}


@dataclass(frozen=True, slots=True)
class Showing:
    """What a QR of an active licence needs: the activation's device, the licence's
    ref, kind, issuer division, current version and status, and the active kid of
    the signing slot asked for (None when the slot is empty)."""

    device_id: str
    ref: str
    kind: str
    issuer_division: str
    version: int
    status: str
    kid: str | None


class ActivationRepository:
    """Queries of :class:`Activation`."""

    async def active_of(self, uow: UnitOfWork, licence_id: uuid.UUID) -> Activation | None:
        """The licence's active activation, if any."""
        return (
            await Activation.filter(licence_id=licence_id, status=ACTIVE).using_db(uow.conn).first()
        )

    async def active_of_many(
        self, uow: UnitOfWork, licence_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, Activation]:
        """The active activation of each of these licences that has one."""
        rows = await Activation.filter(licence_id__in=list(licence_ids), status=ACTIVE).using_db(
            uow.conn
        )
        return {row.licence_id: row for row in rows}

    async def active_for(
        self, uow: UnitOfWork, ref: str, account_id: uuid.UUID
    ) -> Activation | None:
        """The active activation of licence ``ref`` by ``account_id``, with its licence."""
        return (
            await Activation.filter(licence__ref=ref, account_id=account_id, status=ACTIVE)
            .using_db(uow.conn)
            .select_related("licence")
            .first()
        )

    async def showing(
        self, uow: UnitOfWork, ref: str, account_id: uuid.UUID, key_slot: str
    ) -> Showing | None:
        """The active activation of licence ``ref`` by ``account_id`` as a :class:`Showing`
        with the active kid of ``key_slot``, in one statement; None without one.

        An activation's account cannot be deleted (the foreign key restricts it),
        so a row found also says that the account exists.
        """
        sql = _SHOWING_SQL["postgres" if uow.is_postgres else "sqlite"]
        rows = await uow.conn.execute_query_dict(sql, [key_slot, ref, str(account_id)])
        if not rows:
            return None
        row = rows[0]
        kid = row["kid"]
        return Showing(
            str(row["device_id"]),
            str(row["ref"]),
            str(row["kind"]),
            str(row["issuer_division"]),
            int(row["version"]),
            str(row["status"]),
            None if kid is None else str(kid),
        )

    async def active_with_accounts(
        self, uow: UnitOfWork, licence_id: uuid.UUID
    ) -> list[Activation]:
        """The licence's active activations (at most one), each with its account."""
        return list(
            await Activation.filter(licence_id=licence_id, status=ACTIVE)
            .using_db(uow.conn)
            .select_related("account")
        )

    async def active_seed(self, uow: UnitOfWork, ref: str) -> str | None:
        """The sealed TOTP seed (context ``activation.totp_seed``) of licence ``ref``'s
        active activation, or None when it has none."""
        activation = (
            await Activation.filter(licence__ref=ref, status=ACTIVE).using_db(uow.conn).first()
        )
        return activation.totp_seed_sealed if activation is not None else None

    async def activated_by(self, uow: UnitOfWork, ref: str, account_id: uuid.UUID) -> bool:
        """Whether ``account_id`` ever activated licence ``ref``."""
        return (
            await Activation.filter(licence__ref=ref, account_id=account_id)
            .using_db(uow.conn)
            .exists()
        )

    async def add(self, uow: UnitOfWork, activation: Activation) -> None:
        """Insert an activation."""
        await activation.save(using_db=uow.conn, force_create=True)

    async def supersede(self, uow: UnitOfWork, licence_id: uuid.UUID, now: datetime) -> int:
        """End the licence's active activation as superseded; how many ended (0 or 1)."""
        return (
            await Activation.filter(licence_id=licence_id, status=ACTIVE)
            .using_db(uow.conn)
            .update(status="superseded", ended_at=now)
        )

    async def end(
        self, uow: UnitOfWork, activation: Activation, status: str, now: datetime
    ) -> None:
        """End one activation with ``status`` at ``now``."""
        activation.status, activation.ended_at = status, now
        await activation.save(using_db=uow.conn, update_fields=["status", "ended_at"])

    async def end_for_account(
        self,
        uow: UnitOfWork,
        account_id: uuid.UUID,
        now: datetime,
        *,
        status: str = "deactivated",
        enterprise_id: uuid.UUID | None = None,
    ) -> int:
        """End the active activations of ``account_id`` (only those of one enterprise's
        licences when given); how many ended."""
        query = Activation.filter(account_id=account_id, status=ACTIVE)
        if enterprise_id is not None:
            query = query.filter(licence__holder_enterprise_id=enterprise_id)
        ids = await query.using_db(uow.conn).values_list("id", flat=True)
        if not ids:
            return 0
        return (
            await Activation.filter(id__in=list(ids))
            .using_db(uow.conn)
            .update(status=status, ended_at=now)
        )


class ListingRepository:
    """The listing's page query: licences of a person and enterprises, by wallet state.

    It reads the registry's licences with the claim and activation state
    beside them, so it lives at the top of the holder side.
    """

    async def page(
        self,
        uow: UnitOfWork,
        *,
        person_id: uuid.UUID | None,
        enterprise_ids: list[uuid.UUID],
        holder: HolderScope,
        kind: str | None,
        state: WalletState | None,
        after: str | None,
        limit: int,
    ) -> list[Licence]:
        """Up to ``limit`` licences by ref after ``after``, held by the person or the
        enterprises as ``holder`` says, narrowed by ``kind`` and wallet ``state``."""
        rows = _scope(person_id, enterprise_ids, holder).using_db(uow.conn)
        if kind:
            rows = rows.filter(kind=kind)
        if state:
            rows = _by_state(rows, state)
        if after:
            rows = rows.filter(ref__gt=after)
        return list(await rows.order_by("ref").limit(limit))


def _scope(
    person_id: uuid.UUID | None,
    enterprise_ids: list[uuid.UUID],
    holder: HolderScope,
) -> QuerySet[Licence]:
    mine = Q(holder_person_id=person_id)
    theirs = Q(holder_enterprise_id__in=enterprise_ids)
    if holder == "enterprise":
        return Licence.filter(theirs) if enterprise_ids else Licence.filter(id=uuid.UUID(int=0))
    if holder == "person" or not enterprise_ids:
        return Licence.filter(mine)
    return Licence.filter(mine | theirs)


def _by_state(rows: QuerySet[Licence], state: WalletState) -> QuerySet[Licence]:
    active = Subquery(Activation.filter(status=ACTIVE).values("licence_id"))
    if state == "active":
        return rows.filter(id__in=active)
    if state == "claimable":
        return rows.exclude(id__in=Subquery(Claim.all().values("licence_id")))
    claimed = rows.filter(id__in=Subquery(Claim.filter(status=state).values("licence_id")))
    return claimed.exclude(id__in=active) if state in ("claimed", "approved") else claimed
