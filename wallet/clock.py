"""The one clock: every component takes a :class:`Clock` instead of reading time inline."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "FixedClock", "SystemClock", "utc_now"]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...

    def timestamp(self) -> int: ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> datetime:
        return utc_now()

    def timestamp(self) -> int:
        return int(time.time())


class FixedClock:
    """A clock that moves only when told; for tests and replayable tools."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def timestamp(self) -> int:
        return int(self._at.timestamp())

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self._at = self._at + timedelta(seconds=seconds)
