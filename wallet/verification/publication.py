"""What the verifier publishes for other provinces and offline apps: trust and status lists."""

from __future__ import annotations

from wallet import identifiers
from wallet.clock import Clock
from wallet.crypto import SM2Backend
from wallet.errors import InvalidIdentifier
from wallet.keys.service import KeyStore
from wallet.keys.trust_list import build_trust_list
from wallet.licences.repository import LicenceRepository
from wallet.licences.status import effective_status
from wallet.uow import UnitOfWork
from wallet.verification.status_list import encode_statuses, sign_status_list

__all__ = ["Publication"]


class Publication:
    """The signed trust list and the provinces' signed status lists."""

    def __init__(
        self, keys: KeyStore, licences: LicenceRepository, clock: Clock, sm2: SM2Backend
    ) -> None:
        self.keys, self.licences, self.clock, self.sm2 = keys, licences, clock, sm2

    async def trust_list(self, uow: UnitOfWork) -> str:
        """The trust list JWS, signed now by the active root key."""
        return await build_trust_list(uow, self.keys)

    async def status_list(self, uow: UnitOfWork, division: str) -> str:
        """The status list JWS of province ``division`` (``xx0000``), signed by its seal key."""
        division = identifiers.division_code(division)
        if not division.endswith("0000"):
            raise InvalidIdentifier("division", "province_level", "status lists are per province")
        size = await self.licences.status_list_size(uow, division)
        today = self.clock.now().date()
        rows = await self.licences.status_entries(uow, division)
        packed = encode_statuses(
            ((idx, effective_status(status, until, today)) for idx, status, until in rows), size
        )
        key = await self.keys.active_key(uow, "seal", division)
        return sign_status_list(
            division,
            packed,
            kid=key.kid,
            private_key=key.private_key,
            sm2=self.sm2,
            now=self.clock.timestamp(),
        )
