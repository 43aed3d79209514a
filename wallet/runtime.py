"""The process runtime: everything a request or a command needs, opened once.

The app lifespans and the command line open a :class:`Runtime` and hand it
down as an argument; nothing is created at import time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property

from redis.asyncio import Redis

from wallet.cache import open_cache, ping_cache
from wallet.clock import Clock, SystemClock
from wallet.crypto import SM2Backend, sm2_backend
from wallet.db import close_database, open_database, ping_database
from wallet.keys.service import KeyStore
from wallet.licences.service import Registry
from wallet.masterkey import load_master_key
from wallet.officers.service import Officers
from wallet.presentation.service import Presenter
from wallet.settings import Settings
from wallet.vault import Vault
from wallet.verification.service import Verifier
from wallet.verification.spool import VerificationSpool

__all__ = ["Runtime", "open_runtime"]


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    cache: Redis
    sm2: SM2Backend
    vault: Vault
    keys: KeyStore
    master_key: bytes = field(repr=False)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run ``closer`` when the runtime closes (for services built on first use)."""
        self._closers.append(closer)

    @cached_property
    def registry(self) -> Registry:
        """The registry service over this runtime's vault, keys, cache and clock."""
        return Registry(self.vault, self.keys, self.sm2, self.cache, self.clock)

    @cached_property
    def officers(self) -> Officers:
        """Officer accounts and sessions (sign-in throttling keeps state per process too)."""
        return Officers(self.vault, self.cache, self.clock, self.settings.officer_session_ttl)

    @cached_property
    def verifier(self) -> Verifier:
        """The online verifier (one per process: it holds the trust list in memory)."""
        return Verifier(
            self.keys,
            self.cache,
            self.sm2,
            self.clock,
            self.vault,
            self.settings.scan_rate_limit,
            self.settings.lookup_rate_limit,
            VerificationSpool(self.settings.data_dir / "spool"),
        )

    @cached_property
    def presenter(self) -> Presenter:
        return Presenter(
            self.keys,
            self.sm2,
            self.clock,
            self.settings.qr_lifetime,
            self.settings.offline_credential_lifetime,
        )

    async def readiness(self) -> dict[str, str]:
        """``{"database": "ok"|reason, "cache": "ok"|reason}``."""
        report: dict[str, str] = {}
        probes = (("database", ping_database), ("cache", lambda: ping_cache(self.cache)))
        for name, probe in probes:
            try:
                async with asyncio.timeout(2.0):
                    await probe()
                report[name] = "ok"
            except Exception as exc:  # a probe failing for any reason means not ready
                report[name] = str(getattr(exc, "detail", type(exc).__name__))
        return report


@asynccontextmanager
async def open_runtime(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    """Open the database, cache and keys for this process; close them on exit."""
    master_key = load_master_key(settings)
    await open_database(settings)
    cache = open_cache(settings)
    clock = clock or SystemClock()
    sm2 = sm2_backend(settings.sm2_backend)
    runtime: Runtime | None = None
    try:
        runtime = Runtime(
            settings=settings,
            clock=clock,
            cache=cache,
            sm2=sm2,
            vault=Vault.from_master_key(master_key, settings.vault_key_id),
            keys=KeyStore(master_key, sm2, clock),
            master_key=master_key,
        )
        yield runtime
    finally:
        for closer in runtime._closers if runtime else ():
            closer()
        await cache.aclose()
        await close_database()
