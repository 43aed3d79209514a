"""What the verifier publishes for other provinces and offline apps: trust and status lists.

A province's status list reads a row per licence (seconds for millions), so
each process keeps the last signed list of each province with its stamp
(how many licences it places, the sum of their status sequences, the day),
which one aggregate query reads: an unchanged stamp serves the kept list,
a changed one builds anew, one build at a time per province. An unchanged
list keeps its signed token for :data:`STATUS_LIST_RESIGN` seconds, so its
ETag stays the same and apps that poll get 304.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final

from wallet import identifiers
from wallet.clock import Clock
from wallet.crypto import SM2Backend, sm3
from wallet.errors import InvalidIdentifier
from wallet.keys.service import KeyStore
from wallet.keys.trust_list import build_trust_list
from wallet.licences.repository import LicenceRepository
from wallet.licences.status import effective_status
from wallet.uow import UnitOfWork
from wallet.verification.status_list import encode_statuses, sign_status_list

__all__ = ["Publication", "SignedList"]

STATUS_LIST_RESIGN: Final = 3600
"""Seconds an unchanged list keeps its signed token (its ``exp`` is a day after ``iat``)."""


@dataclass(frozen=True)
class SignedList:
    """A signed status list, its entity tag and what it was built from."""

    token: str
    etag: str
    stamp: tuple[int, int, str]
    kid: str
    signed_at: int


class Publication:
    """The signed trust list and the provinces' signed status lists."""

    def __init__(
        self, keys: KeyStore, licences: LicenceRepository, clock: Clock, sm2: SM2Backend
    ) -> None:
        self.keys, self.licences, self.clock, self.sm2 = keys, licences, clock, sm2
        self._lists: dict[str, SignedList] = {}
        self._building: dict[str, asyncio.Lock] = {}

    async def trust_list(self, uow: UnitOfWork) -> str:
        """The trust list JWS, signed now by the active root key."""
        return await build_trust_list(uow, self.keys)

    async def status_list(self, uow: UnitOfWork, division: str) -> str:
        """The status list JWS of province ``division`` (``xx0000``), signed by its seal key."""
        return (await self.signed_status_list(uow, division)).token

    async def signed_status_list(self, uow: UnitOfWork, division: str) -> SignedList:
        """The current status list of province ``division`` with its ETag."""
        division = identifiers.division_code(division)
        if not division.endswith("0000"):
            raise InvalidIdentifier("division", "province_level", "status lists are per province")
        lock = self._building.setdefault(division, asyncio.Lock())
        async with lock:  # one build at a time per province; the others take its result
            placed, changes = await self.licences.status_list_stamp(uow, division)
            stamp = (placed, changes, self.clock.now().date().isoformat())
            key = await self.keys.active_key(uow, "seal", division)
            now = self.clock.timestamp()
            cached = self._lists.get(division)
            if (
                cached is not None
                and cached.stamp == stamp
                and cached.kid == key.kid
                and 0 <= now - cached.signed_at < STATUS_LIST_RESIGN
            ):
                return cached
            size = await self.licences.status_list_size(uow, division)
            today = self.clock.now().date()
            rows = await self.licences.status_entries(uow, division)
            packed = encode_statuses(
                ((idx, effective_status(status, until, today)) for idx, status, until in rows),
                size,
            )
            token = sign_status_list(
                division, packed, kid=key.kid, private_key=key.private_key, sm2=self.sm2, now=now
            )
            etag = '"' + sm3(token.encode()).hex()[:32] + '"'
            built = SignedList(token, etag, stamp, key.kid, now)
            self._lists[division] = built
            return built
