"""Factories shared by the key tests."""

from __future__ import annotations

from datetime import UTC, datetime

from wallet.clock import FixedClock
from wallet.keys import KeyStore

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
DAY = 86400


def make_store(
    rt, at: datetime = T0, master_key: bytes | None = None
) -> tuple[KeyStore, FixedClock]:
    """A key store over the test runtime with its own fixed clock."""
    clock = FixedClock(at)
    return KeyStore(master_key or rt.master_key, rt.sm2, clock), clock
