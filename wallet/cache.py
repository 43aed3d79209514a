"""The cache: ``redis.asyncio`` against a real Redis or Redis Cluster, or an in-process stand-in.

With ``REDIS_URL`` unset, fakeredis provides the same API inside the process,
so a single process runs with no services. It is not shared between
processes: production sets ``REDIS_URL``.

A Redis Cluster is named by ``redis+cluster://host:port`` (``rediss+cluster://``
with TLS; any node of the cluster, more are found from it) or by a plain
``redis://`` URL with ``WALLET_REDIS_CLUSTER=true``. The client is then
``redis.asyncio.cluster.RedisCluster``, which speaks the same commands.
Keys that one operation touches together carry a hash tag (:func:`tagged`)
so that they sit in one slot, and a pipeline of them goes to one node.
"""

from __future__ import annotations

from typing import Any, TypeAlias, cast

import fakeredis
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError

from wallet.errors import Unavailable
from wallet.settings import Settings

__all__ = ["CLUSTER_SCHEMES", "Cache", "is_cluster", "open_cache", "ping_cache", "tagged"]

Cache: TypeAlias = "Redis"

CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")
"""URL schemes that name a Redis Cluster (any of its nodes)."""


def tagged(key: str, anchor: str) -> str:
    """``key`` made to hash to the slot of ``anchor`` (a key without braces).

    Redis Cluster hashes only the part of a key inside its first ``{…}``, and
    all of a key without braces, so ``key{anchor}`` lands in ``anchor``'s slot:
    the anchor keeps its name, and only the keys that join it are renamed.
    On a single Redis this changes nothing but the name.
    """
    return f"{key}{{{anchor}}}"


def is_cluster(settings: Settings) -> bool:
    """Whether ``settings`` name a Redis Cluster (by URL scheme or ``WALLET_REDIS_CLUSTER``)."""
    url = settings.redis_url
    return url is not None and (url.startswith(CLUSTER_SCHEMES) or settings.redis_cluster)


class _Cluster(RedisCluster):
    """A cluster client whose "cannot reach the cluster" is an ordinary connection error.

    redis-py raises ``RedisClusterException`` (not a ``RedisError``) when no
    startup node answers or the slots are not all covered; the callers here
    treat a ``RedisError`` as an outage (503, limits from memory, database
    fallbacks), so it is raised as one.
    """

    async def initialize(self, *args: Any, **kwargs: Any) -> RedisCluster:
        try:
            return await super().initialize(*args, **kwargs)
        except RedisClusterException as exc:
            raise RedisConnectionError(f"cluster unreachable: {exc}") from exc


def open_cache(settings: Settings) -> Redis:
    """A client for the configured cache (no I/O until first use)."""
    if settings.redis_url:
        options: dict[str, Any] = {
            "socket_connect_timeout": 1.0,
            "socket_timeout": 1.0,
            "health_check_interval": 30,
        }
        if is_cluster(settings):
            url = settings.redis_url.replace("+cluster://", "://", 1)
            # The cluster client has the single client's commands (typed alike by
            # redis-py's mixins); the code here uses only those.
            return cast(Redis, _Cluster.from_url(url, **options))
        return Redis.from_url(settings.redis_url, **options)
    client: Redis = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    return client


async def ping_cache(cache: Redis) -> None:
    """Raise :class:`Unavailable` unless the cache answers PING."""
    try:
        await cache.ping()
    except (RedisError, OSError) as exc:
        raise Unavailable(f"cache: {type(exc).__name__}") from exc
