"""Minting presentations for a holder's active licence, and the offline credential.

A QR is minted only for a licence that is active on the calling device and
whose registry status is ``valid``; it names the licence's current version.
The offline credential carries the licence's place in its province's status
list, assigned on first need.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from tortoise.transactions import in_transaction

from wallet.clock import Clock
from wallet.crypto import SM2Backend
from wallet.errors import Conflict, Forbidden, NotFound
from wallet.keys.service import KeyStore
from wallet.licences.catalogue import get_kind
from wallet.licences.models import Licence, StatusListCounter
from wallet.presentation.tokens import mint_credential, mint_qr

__all__ = ["Presentation", "Presenter", "kind_code"]

REFRESH_MARGIN: Final = 10
"""Seconds before expiry at which the mini-program should fetch a new QR."""


def kind_code(kind: str) -> str:
    """The short kind claim: the catalogue type code's sequence, e.g. ``D071``."""
    return get_kind(kind).type_code[-4:]


@dataclass(frozen=True)
class Presentation:
    qr: str
    expires_at: datetime
    refresh_in: int


class Presenter:
    def __init__(
        self,
        keys: KeyStore,
        sm2: SM2Backend,
        clock: Clock,
        qr_lifetime: int,
        credential_lifetime: int,
    ) -> None:
        self.keys, self.sm2, self.clock = keys, sm2, clock
        self.qr_lifetime, self.credential_lifetime = qr_lifetime, credential_lifetime

    async def present(
        self, ref: str, account_id: uuid.UUID, device_id: str | None, lifetime: int | None = None
    ) -> Presentation:
        """A fresh online QR for the holder's licence on this device."""
        from wallet.activation.models import Activation  # the holder side imports this module

        activation = (
            await Activation.filter(licence__ref=ref, account_id=account_id, status="active")
            .select_related("licence")
            .first()
        )
        if activation is None:
            raise NotFound("this licence is not active for you: activate it first")
        if device_id is None or activation.device_id != device_id:
            raise Forbidden("the licence is active on another device")
        licence = activation.licence
        if licence.status != "valid":
            raise Conflict(f"the licence is {licence.status}: it cannot be shown")
        key = await self.keys.active_key("presentation")
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

    async def holds(self, ref: str, account_id: uuid.UUID) -> bool:
        """Whether the account claimed or activated this licence: it may see its history."""
        from wallet.activation.models import Activation
        from wallet.claims.models import Claim

        return bool(
            await Claim.exists(licence__ref=ref, account_id=account_id)
            or await Activation.exists(licence__ref=ref, account_id=account_id)
        )

    async def offline_credential(self, licence: Licence) -> str:
        """A credential for offline showing (lifetime from settings, at most 7 days)."""
        idx = await ensure_status_idx(licence)
        key = await self.keys.active_key("presentation")
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


async def ensure_status_idx(licence: Licence) -> int:
    """The licence's index in its province's status list, assigned once."""
    if licence.status_idx is not None:
        return licence.status_idx
    province = licence.issuer_division[:2] + "0000"
    async with in_transaction() as conn:
        query = Licence.filter(id=licence.id).using_db(conn)
        if conn.capabilities.dialect == "postgres":
            query = query.select_for_update()
        fresh = await query.get()
        if fresh.status_idx is None:
            counter_q = StatusListCounter.filter(division=province).using_db(conn)
            if conn.capabilities.dialect == "postgres":
                counter_q = counter_q.select_for_update()
            counter = await counter_q.first()
            if counter is None:
                counter = await StatusListCounter.create(
                    division=province, next_idx=0, using_db=conn
                )
            fresh.status_idx = counter.next_idx
            counter.next_idx += 1
            await counter.save(using_db=conn, update_fields=["next_idx"])
            await fresh.save(using_db=conn, update_fields=["status_idx"])
    licence.status_idx = fresh.status_idx
    assert licence.status_idx is not None
    return licence.status_idx
