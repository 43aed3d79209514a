"""Activation: binding a claimed licence to one device, superseding the previous one.

An activation provisions the offline TOTP seed (20 random bytes, base32,
sealed by the vault) and asks the presentation module (the
``mint_credential`` callable it is given) for the offline credential. The
holder deactivates a lost device; a rebinding of the identity or the end of
an agent's authority ends activations too.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Final

import pyotp
from tortoise.backends.base.client import BaseDBAsyncClient

from wallet.accounts.sessions import HolderSession
from wallet.activation.models import Activation
from wallet.activation.schemas import ActivationIn, ActivationOut, DeactivationOut, TotpOut
from wallet.audit.service import append as audit
from wallet.claims.errors import (
    ClaimPendingReview,
    ClaimRejected,
    LicenceEnded,
    LicenceNotFound,
    NotClaimed,
)
from wallet.claims.models import Claim
from wallet.clock import Clock
from wallet.crypto import parse_public_key_hex
from wallet.enterprises.access import holder_of, principal_of
from wallet.errors import CryptoError, NotFound, ValidationFailed
from wallet.licences.models import Licence
from wallet.licences.status import TERMINAL, RegistryStatus
from wallet.uow import UnitOfWork
from wallet.vault import Vault

__all__ = [
    "SEED_CONTEXT",
    "ActivationService",
    "claim_holds",
    "end_account_activations",
]

SEED_CONTEXT: Final = "activation.totp_seed"
ACTIVE: Final = "active"


def claim_holds(claim: Claim, licence: Licence) -> bool:
    """Whether ``claim`` was made for the licence's current holder (vehicles change hands)."""
    return (claim.person_id, claim.enterprise_id) == holder_of(licence)


async def end_account_activations(
    conn: BaseDBAsyncClient,
    account_id: uuid.UUID,
    now: datetime,
    *,
    status: str = "deactivated",
    enterprise_id: uuid.UUID | None = None,
) -> int:
    """End the active activations of ``account_id`` (only one enterprise's when given)."""
    query = Activation.filter(account_id=account_id, status=ACTIVE)
    if enterprise_id is not None:
        query = query.filter(licence__holder_enterprise_id=enterprise_id)
    ids = await query.using_db(conn).values_list("id", flat=True)
    if not ids:
        return 0
    return (
        await Activation.filter(id__in=list(ids)).using_db(conn).update(status=status, ended_at=now)
    )


class ActivationService:
    """Activations over one runtime's vault and clock."""

    def __init__(
        self,
        vault: Vault,
        clock: Clock,
        mint_credential: Callable[[Licence], Awaitable[str]] | None = None,
    ) -> None:
        self.vault = vault
        self.clock = clock
        self.mint_credential = mint_credential

    async def activate(
        self, uow: UnitOfWork, session: HolderSession, ref: str, body: ActivationIn
    ) -> ActivationOut:
        """Bind the licence to ``body.device_id``; an active activation is superseded."""
        if session.device_id is not None and session.device_id != body.device_id:
            raise ValidationFailed(
                errors=[
                    {
                        "field": "device_id",
                        "rule": "device_mismatch",
                        "message": "differs from X-Device-Id",
                    }
                ]
            )
        if body.device_public_key is not None:
            try:
                parse_public_key_hex(body.device_public_key)
            except CryptoError:
                raise ValidationFailed(
                    errors=[
                        {
                            "field": "device_public_key",
                            "rule": "sm2_public_key",
                            "message": "an uncompressed SM2 point 04‖x‖y in hex",
                        }
                    ]
                ) from None
        licence = await self._usable_licence(uow, session, ref)
        conn, now = uow.conn, self.clock.now()
        superseded = (
            await Activation.filter(licence_id=licence.id, status=ACTIVE)
            .using_db(conn)
            .update(status="superseded", ended_at=now)
        )
        seed = pyotp.random_base32(32)
        activation = await Activation.create(
            id=uuid.uuid4(),
            licence_id=licence.id,
            account_id=session.account_id,
            device_id=body.device_id,
            device_public_key=body.device_public_key,
            totp_seed_sealed=self.vault.seal(seed, SEED_CONTEXT),
            status=ACTIVE,
            created_at=now,
            using_db=conn,
        )
        await audit(
            conn,
            at=now,
            actor=f"account:{session.account_id}",
            action="activation.create",
            subject=licence.ref,
            detail={
                "activation": str(activation.id),
                "device_id": body.device_id,
                "superseded": superseded,
            },
        )
        offline_credential = (
            await self.mint_credential(licence) if self.mint_credential is not None else None
        )
        return ActivationOut(
            activation_id=activation.id,
            device_id=body.device_id,
            totp=TotpOut(seed=seed),
            offline_credential=offline_credential,
        )

    async def deactivate(
        self, uow: UnitOfWork, session: HolderSession, ref: str
    ) -> DeactivationOut:
        """End the licence's active activation, whichever device holds it (lost phone)."""
        licence = await self._licence(uow, session, ref)
        conn, now = uow.conn, self.clock.now()
        active = (
            await Activation.filter(licence_id=licence.id, status=ACTIVE).using_db(conn).first()
        )
        if active is None:
            raise NotFound("the licence has no active activation")
        active.status, active.ended_at = "deactivated", now
        await active.save(using_db=conn, update_fields=["status", "ended_at"])
        await audit(
            conn,
            at=now,
            actor=f"account:{session.account_id}",
            action="activation.deactivate",
            subject=licence.ref,
            detail={"activation": str(active.id), "device_id": active.device_id},
        )
        return DeactivationOut(
            activation_id=active.id, device_id=active.device_id, status=active.status, ended_at=now
        )

    async def _licence(self, uow: UnitOfWork, session: HolderSession, ref: str) -> Licence:
        principal = await principal_of(session)
        query = Licence.filter(ref=ref).using_db(uow.conn)
        if uow.is_postgres:
            query = query.select_for_update()  # one activation at a time per licence
        licence = await query.first()
        if licence is None or not principal.may_act_on(licence):
            raise LicenceNotFound()
        return licence

    async def _usable_licence(self, uow: UnitOfWork, session: HolderSession, ref: str) -> Licence:
        licence = await self._licence(uow, session, ref)
        claim = await Claim.filter(licence_id=licence.id).using_db(uow.conn).first()
        if claim is None or not claim_holds(claim, licence):
            raise NotClaimed()
        if claim.status == "pending_review":
            raise ClaimPendingReview()
        if claim.status == "rejected":
            raise ClaimRejected(claim.reason or None)
        if RegistryStatus(licence.status) in TERMINAL:
            raise LicenceEnded(f"the licence is {licence.status}")
        return licence
