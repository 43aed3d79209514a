"""The cache: ``redis.asyncio`` against a real Redis, or an in-process stand-in.

With ``REDIS_URL`` unset, fakeredis provides the same API inside the process,
so a single process runs with no services. It is not shared between
processes: production sets ``REDIS_URL``.
"""

from __future__ import annotations

from typing import TypeAlias

import fakeredis
from redis.asyncio import Redis
from redis.exceptions import RedisError

from wallet.errors import Unavailable
from wallet.settings import Settings

__all__ = ["Cache", "open_cache", "ping_cache"]

Cache: TypeAlias = "Redis"


def open_cache(settings: Settings) -> Redis:
    """A client for the configured cache (no I/O until first use)."""
    if settings.redis_url:
        return Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=1.0,
            socket_timeout=1.0,
            health_check_interval=30,
        )
    client: Redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    return client


async def ping_cache(cache: Redis) -> None:
    """Raise :class:`Unavailable` unless the cache answers PING."""
    try:
        await cache.ping()
    except (RedisError, OSError) as exc:
        raise Unavailable(f"cache: {type(exc).__name__}") from exc
