"""The verifier's trust list: built from the key table, kept in memory, refreshed every few seconds.

A reload that fails keeps the last list for at most :data:`TRUST_MAX_AGE`
seconds (a key revoked meanwhile must not stay trusted for the length of an
outage); a key the list does not know is looked up again (at most once a
second) before a token is answered ``unknown_key``, so a key rotated in by
another process is not refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Final

from wallet.clock import Clock
from wallet.crypto import SM2Backend
from wallet.errors import Unavailable
from wallet.keys.service import KeyStore
from wallet.keys.trust_list import TrustList, trust_list_of
from wallet.uow import read_only
from wallet.verification.verdict import TokenCheck, Verdict, check_token

__all__ = ["DB_TIMEOUT", "TRUST_MAX_AGE", "TRUST_REFRESH", "TrustCache"]

log = logging.getLogger(__name__)

TRUST_REFRESH: Final = 10.0
"""Seconds between reloads of the trust list."""
TRUST_MAX_AGE: Final = 300.0
"""Seconds a trust list may be used after reloads started failing."""
FORCED_REFRESH: Final = 1.0
"""Seconds between reloads forced by a key the list does not know."""
DB_TIMEOUT: Final = 2.0
"""Seconds the verifier waits for one database read before it counts as down."""


class TrustCache:
    """The trust list of this process, and the token checks run against it."""

    def __init__(self, keys: KeyStore, clock: Clock, sm2: SM2Backend) -> None:
        self.keys, self.clock, self.sm2 = keys, clock, sm2
        self._trust: TrustList | None = None
        self._loaded = 0.0  # monotonic: last successful load
        self._tried = 0.0  # last attempt: a failing database is retried, not hammered

    def forget(self) -> None:
        """Drop the cached trust list (the next check reloads it)."""
        self._trust = None

    async def current(self) -> TrustList:
        """The current trust list; :class:`Unavailable` when none can be vouched for."""
        if self._trust is None or time.monotonic() - self._tried > TRUST_REFRESH:
            self._tried = time.monotonic()
            try:
                async with asyncio.timeout(DB_TIMEOUT), read_only() as uow:
                    keys = await self.keys.list_keys(uow)
            except Unavailable:  # database down: keep the list we have, for a while
                log.warning("trust list reload failed; keeping the previous one")
            else:
                self._trust = trust_list_of(keys, self.clock.now())
                self._loaded = time.monotonic()
        if self._trust is None or time.monotonic() - self._loaded > TRUST_MAX_AGE:
            raise Unavailable("trust list cannot be loaded")
        return self._trust

    async def check(self, qr: str, now: int) -> TokenCheck:
        """The token checks of ``qr`` at ``now`` (``status_unavailable`` without a trust list)."""
        try:
            checked = check_token(qr, await self.current(), now, self.sm2)
            if (
                checked.verdict is Verdict.UNKNOWN_KEY
                and checked.presentation is not None
                and time.monotonic() - self._tried > FORCED_REFRESH
            ):
                # A key rotated in by another process minutes ago is not "unknown":
                # look again before saying so.
                self._tried = 0.0
                checked = check_token(qr, await self.current(), now, self.sm2)
        except Unavailable:
            return TokenCheck(Verdict.STATUS_UNAVAILABLE, detail="trust list unavailable")
        return checked
