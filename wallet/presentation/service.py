"""Minting presentations for a holder's active licence, and the offline credential.

A QR is minted only for a licence that is active on the calling device and
whose registry status is ``valid``; it names the licence's current version.
The offline credential carries the licence's place in its province's status
list, assigned on first need. The presentation domain has no tables of its
own: it reads activations, claims and licences through their repositories,
on the unit of work its caller opened.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from wallet.activation.repository import ActivationRepository
from wallet.claims.repository import ClaimRepository
from wallet.clock import Clock
from wallet.crypto import SM2Backend
from wallet.errors import Conflict, Forbidden, NotFound
from wallet.keys.service import KeyStore
from wallet.licences.catalogue import get_kind
from wallet.licences.models import Licence
from wallet.licences.repository import LicenceRepository
from wallet.presentation.tokens import mint_credential, mint_qr
from wallet.uow import UnitOfWork

__all__ = ["Presentation", "Presenter", "kind_code"]

REFRESH_MARGIN: Final = 10
"""Seconds before expiry at which the mini-program should fetch a new QR."""

_PRESENTATION_SLOT: Final = KeyStore.slot("presentation")


def kind_code(kind: str) -> str:
    """The short kind claim: the catalogue type code's sequence, e.g. ``D071``."""
    return get_kind(kind).type_code[-4:]


@dataclass(frozen=True)
class Presentation:
    """A minted QR string, when it expires, and when to fetch the next one."""

    qr: str
    expires_at: datetime
    refresh_in: int


class Presenter:
    """Mints QR strings and offline credentials with the active presentation key."""

    def __init__(
        self,
        *,
        keys: KeyStore,
        sm2: SM2Backend,
        clock: Clock,
        licences: LicenceRepository,
        activations: ActivationRepository,
        claims: ClaimRepository,
        qr_lifetime: int,
        credential_lifetime: int,
    ) -> None:
        self.keys, self.sm2, self.clock = keys, sm2, clock
        self.licences, self.activations, self.claims = licences, activations, claims
        self.qr_lifetime, self.credential_lifetime = qr_lifetime, credential_lifetime

    async def present(
        self,
        uow: UnitOfWork,
        ref: str,
        account_id: uuid.UUID,
        device_id: str | None,
        lifetime: int | None = None,
    ) -> Presentation:
        """A fresh online QR for the holder's licence on this device.

        One statement reads the activation, the licence and the active
        presentation kid (every QR sees the activation's and the licence's
        state and the key slot as committed); the unwrapped key comes from
        memory once its kid has been seen.
        """
        licence = await self.activations.showing(uow, ref, account_id, _PRESENTATION_SLOT)
        if licence is None:
            raise NotFound("this licence is not active for you: activate it first")
        if device_id is None or licence.device_id != device_id:
            raise Forbidden("the licence is active on another device")
        if licence.status != "valid":
            raise Conflict(f"the licence is {licence.status}: it cannot be shown")
        key = await self.keys.active_key_read(uow, licence.kid, "presentation")
        now = self.clock.timestamp()
        lifetime = lifetime or self.qr_lifetime
        qr = mint_qr(
            key.kid,
            key.private_key,
            self.sm2,
            lic=licence.ref,
            knd=kind_code(licence.kind),
            iss=licence.issuer_division,
            ver=licence.version,
            now=now,
            lifetime=lifetime,
        )
        return Presentation(
            qr, datetime.fromtimestamp(now + lifetime, UTC), max(lifetime - REFRESH_MARGIN, 1)
        )

    async def holds(self, uow: UnitOfWork, ref: str, account_id: uuid.UUID) -> bool:
        """Whether the account claimed or activated this licence: it may see its history."""
        return await self.claims.claimed_by(uow, ref, account_id) or (
            await self.activations.activated_by(uow, ref, account_id)
        )

    async def offline_credential(self, uow: UnitOfWork, licence: Licence) -> str:
        """A credential for offline showing (lifetime from settings, at most 7 days)."""
        idx = await self.status_idx(uow, licence)
        key = await self.keys.active_key(uow, "presentation")
        return mint_credential(
            key.kid,
            key.private_key,
            self.sm2,
            lic=licence.ref,
            knd=kind_code(licence.kind),
            iss=licence.issuer_division,
            ver=licence.version,
            idx=idx,
            now=self.clock.timestamp(),
            lifetime=self.credential_lifetime,
        )

    async def status_idx(self, uow: UnitOfWork, licence: Licence) -> int:
        """The licence's index in its province's status list, assigned once."""
        if licence.status_idx is None:
            licence.status_idx = await self.licences.assign_status_idx(uow, licence.id)
        return licence.status_idx
