"""Failure counters in the cache: fixed windows that refuse further attempts when full."""

from __future__ import annotations

from redis.asyncio import Redis

from wallet.errors import RateLimited

__all__ = ["FailureLimit", "TooManyAttempts"]


class TooManyAttempts(RateLimited):
    type_code = "too_many_attempts"
    title = "Too many failed attempts"


class FailureLimit:
    """At most ``limit`` failures per key in a ``window`` of seconds."""

    def __init__(self, cache: Redis, prefix: str, limit: int, window: int) -> None:
        self.cache = cache
        self.prefix = prefix
        self.limit = limit
        self.window = window

    async def check(self, *keys: str) -> None:
        """Raise :class:`TooManyAttempts` (with ``retry_after``) when any key is full."""
        for key in keys:
            full_key = f"{self.prefix}:{key}"
            if await self.is_full(key):
                ttl = await self.cache.ttl(full_key)
                raise TooManyAttempts(
                    f"{self.limit} failed attempts: wait before trying again",
                    retry_after=max(int(ttl), 1),
                )

    async def is_full(self, key: str) -> bool:
        """Whether ``key`` has used up its failures in the current window."""
        count = await self.cache.get(f"{self.prefix}:{key}")
        return count is not None and int(count) >= self.limit

    async def fail(self, *keys: str) -> None:
        """Count one failure against every key."""
        for key in keys:
            full_key = f"{self.prefix}:{key}"
            if await self.cache.incr(full_key) == 1:
                await self.cache.expire(full_key, self.window)
