"""Activation: binding a claimed licence to one device, superseding the previous one.

An activation provisions the offline TOTP seed (20 random bytes, base32,
sealed by the vault) and asks the presentation module (the
``mint_credential`` callable it is given) for the offline credential. The
holder deactivates a lost device; a rebinding of the identity or the end of
an agent's authority ends activations too (the lower layers are given
:meth:`~wallet.activation.repository.ActivationRepository.end_for_account`
by the runtime).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Final

from wallet.activation.models import Activation
from wallet.activation.repository import ACTIVE, ActivationRepository
from wallet.activation.schemas import (
    ActivationIn,
    ActivationOut,
    DeactivationOut,
    ReactivationOut,
    TotpOut,
)
from wallet.audit.service import append as audit
from wallet.claims.errors import (
    LicenceNotFound,
)
from wallet.claims.holding import holder_of, require_in_use
from wallet.claims.notify import ClaimNotifier
from wallet.claims.repository import ClaimRepository
from wallet.clock import Clock
from wallet.crypto import parse_public_key_hex
from wallet.enterprises.service import EnterpriseService
from wallet.errors import CryptoError, NotFound, ValidationFailed
from wallet.holders.principal import HolderSession
from wallet.licences.catalogue import get_kind
from wallet.licences.models import Licence
from wallet.licences.repository import LicenceRepository
from wallet.licences.search import in_scope
from wallet.totp import new_seed
from wallet.uow import UnitOfWork
from wallet.vault import Vault

__all__ = ["RESET_BY_AUTHORITY", "SEED_CONTEXT", "ActivationService"]

SEED_CONTEXT: Final = "activation.totp_seed"
#: the end status of an activation the authority reset (DESIGN §4: forced re-activation);
#: it fits the 16 characters of ``Activation.status``
RESET_BY_AUTHORITY: Final = "authority_reset"


class ActivationService:
    """Activations over one runtime's vault and clock."""

    def __init__(
        self,
        *,
        repository: ActivationRepository,
        claims: ClaimRepository,
        licences: LicenceRepository,
        enterprises: EnterpriseService,
        vault: Vault,
        clock: Clock,
        mint_credential: Callable[[UnitOfWork, Licence], Awaitable[str]] | None = None,
        notifier: ClaimNotifier | None = None,
    ) -> None:
        self.repository = repository
        self.claims = claims
        self.licences = licences
        self.enterprises = enterprises
        self.vault = vault
        self.clock = clock
        self.mint_credential = mint_credential
        self.notifier = notifier

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
        now = self.clock.now()
        superseded = await self.repository.supersede(uow, licence.id, now)
        seed = new_seed()
        activation = Activation(
            id=uuid.uuid4(),
            licence_id=licence.id,
            account_id=session.account_id,
            device_id=body.device_id,
            device_public_key=body.device_public_key,
            totp_seed_sealed=self.vault.seal(seed, SEED_CONTEXT),
            status=ACTIVE,
            created_at=now,
        )
        await self.repository.add(uow, activation)
        await audit(
            uow,
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
            await self.mint_credential(uow, licence) if self.mint_credential is not None else None
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
        now = self.clock.now()
        active = await self.repository.active_of(uow, licence.id)
        if active is None:
            raise NotFound("the licence has no active activation")
        await self.repository.end(uow, active, "deactivated", now)
        await audit(
            uow,
            at=now,
            actor=f"account:{session.account_id}",
            action="activation.deactivate",
            subject=licence.ref,
            detail={"activation": str(active.id), "device_id": active.device_id},
        )
        return DeactivationOut(
            activation_id=active.id, device_id=active.device_id, status=active.status, ended_at=now
        )

    async def reset(
        self, uow: UnitOfWork, ref: str, reason: str, *, actor: str, scope: str | None = None
    ) -> ReactivationOut:
        """End the licence's active activation for the authority (the holder must activate
        again) and tell the holder after commit; with nothing active, ``ended`` is 0."""
        licence = await self.licences.by_ref(uow, ref, lock=True)
        if licence is None or not in_scope(scope, licence.issuer_division):
            # Outside its division a licence does not exist for the client: a 403
            # would tell it which references are real.
            raise NotFound("no licence with that reference")
        now = self.clock.now()
        active = await self.repository.active_with_accounts(uow, licence.id)
        for activation in active:
            await self.repository.end(uow, activation, RESET_BY_AUTHORITY, now)
        await audit(
            uow,
            at=now,
            actor=actor,
            action="activation.reset",
            subject=licence.ref,
            detail={
                "reason": reason,
                "activations": [str(a.id) for a in active],
            },
        )
        if self.notifier is not None and active:
            kind_name = get_kind(licence.kind).name
            accounts = {a.account.id: a.account.openid_sealed for a in active}
            for account_id, sealed in accounts.items():
                if await self.notifier.reserve(uow, account_id):
                    uow.after_commit(
                        _reset_message(self.notifier, sealed, licence.ref, kind_name, reason, now)
                    )
        return ReactivationOut(ref=licence.ref, ended=len(active))

    async def _licence(self, uow: UnitOfWork, session: HolderSession, ref: str) -> Licence:
        principal = await self.enterprises.principal_of(uow, session)
        # Locked: one activation at a time per licence.
        licence = await self.licences.by_ref(uow, ref, lock=True)
        if licence is None or not principal.may_act_on(holder_of(licence)):
            raise LicenceNotFound()
        return licence

    async def _usable_licence(self, uow: UnitOfWork, session: HolderSession, ref: str) -> Licence:
        licence = await self._licence(uow, session, ref)
        require_in_use(await self.claims.of_licence(uow, licence.id), licence)
        return licence


def _reset_message(
    notifier: ClaimNotifier, openid_sealed: str, ref: str, kind_name: str, reason: str, at: datetime
) -> Callable[[], Awaitable[None]]:
    # A factory, so each holder's message binds its own openid (not the loop's last).
    return lambda: notifier.reactivation_required(
        openid_sealed=openid_sealed, ref=ref, kind_name=kind_name, reason=reason, at=at
    )
