"""Relying parties: registration by the authority, their credentials, signed requests.

A party signs its requests exactly as an authority client does
(:mod:`wallet.authority.signing`): ``X-Client-Id`` is its ``party_id``, the
HMAC-SM3 secret is shown once and stored sealed, an SM2 key is optional.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Final

from wallet import identifiers
from wallet.audit.service import append as audit
from wallet.authority.signing import verify_signed
from wallet.clock import Clock
from wallet.crypto import SM2Backend
from wallet.sharing.errors import PartyExists, PartyNotFound
from wallet.sharing.models import RelyingParty
from wallet.sharing.repository import SharingRepository
from wallet.sharing.schemas import PartyCreated, PartyIn, PartyOut, PartyPage
from wallet.uow import UnitOfWork
from wallet.vault import Vault

__all__ = ["PARTY_SECRET_CONTEXT", "Parties", "party_out"]

PARTY_SECRET_CONTEXT: Final = "relying_party.secret"  # noqa: S105 - a vault column name


def party_out(party: RelyingParty) -> PartyOut:
    """The public view of a party (never its secret)."""
    return PartyOut(
        party_id=party.party_id,
        name=party.name,
        uscc=party.uscc,
        purposes=list(party.purposes),
        status="active" if party.enabled else "disabled",
        sm2=party.sm2_public_key is not None,
        created_at=party.created_at,
        disabled_at=party.disabled_at,
    )


class Parties:
    """Registers, lists, disables and authenticates relying parties."""

    def __init__(
        self, repository: SharingRepository, vault: Vault, sm2: SM2Backend, clock: Clock
    ) -> None:
        self.repository, self.vault, self.sm2, self.clock = repository, vault, sm2, clock

    async def add(self, uow: UnitOfWork, data: PartyIn, *, actor: str) -> PartyCreated:
        """Register a party; its secret is in the answer and nowhere else in clear."""
        uscc = identifiers.uscc(data.uscc)
        if await self.repository.party_by_uscc(uow, uscc) is not None:
            raise PartyExists()
        secret = secrets.token_urlsafe(32)
        now = self.clock.now()
        party = RelyingParty(
            party_id="rp_" + secrets.token_hex(8),
            name=data.name.strip(),
            uscc=uscc,
            purposes=list(data.purposes),
            secret_sealed=self.vault.seal(secret, PARTY_SECRET_CONTEXT),
            sm2_public_key=data.sm2_public_key.lower() if data.sm2_public_key else None,
            status="active",
            created_by=actor,
            created_at=now,
        )
        if not await self.repository.add_party(uow, party):
            raise PartyExists()
        await audit(
            uow,
            at=now,
            actor=actor,
            action="party.add",
            subject=uscc,
            detail={"party_id": party.party_id, "purposes": list(data.purposes)},
        )
        return PartyCreated(**party_out(party).model_dump(), secret=secret)

    async def page(
        self, uow: UnitOfWork, cursor: int | None, limit: int, status: str | None = None
    ) -> PartyPage:
        """Parties in registration order; ``next_cursor`` when more follow."""
        rows = await self.repository.parties(uow, cursor, limit + 1, status)
        more = len(rows) > limit
        rows = rows[:limit]
        return PartyPage(
            items=[party_out(r) for r in rows], next_cursor=rows[-1].id if more else None
        )

    async def disable(self, uow: UnitOfWork, party_id: str, *, actor: str) -> PartyOut:
        """Refuse the party's requests from now on (idempotent)."""
        party = await self.repository.party_by_client_id(uow, party_id)
        if party is None:
            raise PartyNotFound()
        if party.enabled:
            party.status, party.disabled_at = "disabled", self.clock.now()
            await self.repository.save_party(uow, party, "status", "disabled_at")
            await audit(
                uow,
                at=party.disabled_at,
                actor=actor,
                action="party.disable",
                subject=party.uscc,
                detail={"party_id": party.party_id},
            )
        return party_out(party)

    async def authenticate(
        self,
        uow: UnitOfWork,
        headers: Mapping[str, str],
        method: str,
        path: str,
        body: bytes,
        *,
        skew: int,
    ) -> RelyingParty:
        """The active party that signed this request; an Unauthorized subclass otherwise."""
        return await verify_signed(
            uow,
            headers,
            method,
            path,
            body,
            lookup=self.repository.party_by_client_id,
            secret_context=PARTY_SECRET_CONTEXT,
            vault=self.vault,
            sm2=self.sm2,
            now=self.clock.timestamp(),
            skew=skew,
        )
