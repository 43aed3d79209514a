"""What the verifier publishes for other provinces and offline apps: trust and status lists.

A province's status list reads a row per licence (seconds for millions), so
each process keeps the last signed list of each province with its stamp
(how many licences it places, the sum of their status sequences, the day),
which one aggregate query reads: an unchanged stamp serves the kept list,
a changed one builds anew, one build at a time per province. The stamp
itself is an aggregate over the province (about 0.1 s at a million
licences), so it is read again only after :data:`STATUS_STAMP_TTL`
seconds: a change reaches the list within that, well inside the minute
the list's ``Cache-Control`` lets an app keep it.

The ETag names the list's content, not its signature bytes: the province,
the seal key, the packed statuses and the signing period. Every process (every
worker, every host) then gives the same ETag to the same list, though each
signs its own token (SM2 signatures differ every time, and so does
``iat``), and an app polling through a load balancer gets 304 whichever
process answers. A new period (every :data:`STATUS_LIST_RESIGN` seconds)
brings a new token and ETag, so a token kept on 304s is never older than
a period and its ``exp`` (a day after ``iat``) stays far off.
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

__all__ = ["STATUS_LIST_RESIGN", "STATUS_STAMP_TTL", "Publication", "SignedList"]

STATUS_LIST_RESIGN: Final = 3600
"""Seconds of a signing period: an unchanged list keeps its ETag within one, and a new
one signs it anew (its ``exp`` is a day after ``iat``)."""

STATUS_STAMP_TTL: Final = 10
"""Seconds a process trusts the last stamp it read before reading it again."""


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
        self._stamps: dict[str, tuple[tuple[int, int, str], float]] = {}
        self._building: dict[str, asyncio.Lock] = {}

    def forget(self) -> None:
        """Drop the kept lists and stamps (the next request reads and builds anew)."""
        self._lists.clear()
        self._stamps.clear()

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
            now = self.clock.timestamp()
            stamp = await self._stamp(uow, division, now)
            key = await self.keys.active_key(uow, "seal", division)
            period = now - now % STATUS_LIST_RESIGN
            cached = self._lists.get(division)
            if (
                cached is not None
                and cached.stamp == stamp
                and cached.kid == key.kid
                and cached.signed_at - cached.signed_at % STATUS_LIST_RESIGN == period
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
            content = f"{division}|{key.kid}|{period}|".encode() + sm3(packed)
            etag = '"' + sm3(content).hex()[:32] + '"'
            built = SignedList(token, etag, stamp, key.kid, now)
            self._lists[division] = built
            return built

    async def _stamp(self, uow: UnitOfWork, division: str, now: float) -> tuple[int, int, str]:
        """The province's stamp, read again once :data:`STATUS_STAMP_TTL` has passed."""
        kept = self._stamps.get(division)
        if kept is not None and 0 <= now - kept[1] < STATUS_STAMP_TTL:
            return kept[0]
        placed, changes = await self.licences.status_list_stamp(uow, division)
        stamp = (placed, changes, self.clock.now().date().isoformat())
        self._stamps[division] = (stamp, now)
        return stamp
