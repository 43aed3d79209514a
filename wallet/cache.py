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

import hashlib
from collections.abc import Sequence
from typing import Any, TypeAlias, cast

import fakeredis
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisClusterException, RedisError

from wallet.errors import Unavailable
from wallet.settings import Settings

__all__ = [
    "CLUSTER_SCHEMES",
    "Cache",
    "Script",
    "get_many",
    "is_cluster",
    "open_cache",
    "ping_cache",
    "preload_scripts",
    "run_script",
    "run_scripts",
    "tagged",
]

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


async def get_many(cache: Redis, keys: Sequence[str]) -> list[Any]:
    """The values of ``keys`` (None where absent), GETs in one pipeline rather than an
    MGET: on a Redis Cluster the keys may lie in different slots (one round trip either
    way; one per node at once there). Cache errors propagate."""
    async with cache.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.get(key)
        values: list[Any] = await pipe.execute()
    return values


class Script:
    """A Lua script the server knows by its SHA-1 once loaded (see :func:`run_scripts`)."""

    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        # Redis names a script by its SHA-1 (a name, not a security measure).
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        _SCRIPTS.append(self)


_SCRIPTS: list[Script] = []


async def preload_scripts(cache: Redis) -> bool:
    """Load every :class:`Script` made so far (on every primary of a cluster), so that a
    server's first requests need no NOSCRIPT round; True when loaded. Best effort: with
    the cache down, :func:`run_scripts` loads them when it is back."""
    try:
        for script in _SCRIPTS:
            await cache.script_load(script.source)
    except (RedisError, OSError):
        return False
    return True


ScriptArg: TypeAlias = bytes | int | str


async def run_script(
    cache: Redis, script: Script, keys: Sequence[str], args: Sequence[ScriptArg]
) -> Any:
    """Run one ``script`` call (``EVALSHA``, the script loaded on a NOSCRIPT and the call
    sent again, as :func:`run_scripts` does); its answer. Cache errors propagate."""
    try:
        return await cache.evalsha(script.sha, len(keys), *keys, *args)
    except NoScriptError:
        await cache.script_load(script.source)
        return await cache.evalsha(script.sha, len(keys), *keys, *args)


async def run_scripts(
    cache: Redis, calls: Sequence[tuple[Script, Sequence[str], Sequence[ScriptArg]]]
) -> list[Any]:
    """Run each ``(script, keys, args)`` in one pipeline (one per node on a cluster); the
    answers in order.

    A script call is one command however much it does, which is what the
    scan path needs: the client's own work is per command. The pipeline
    sends ``EVALSHA`` alone (a cluster's pipeline neither loads scripts nor
    takes the script helper's calls): a server that does not know a script
    yet answers NOSCRIPT, and then the scripts are loaded (on every primary
    of a cluster) and the pipeline sent again, so the callers' scripts must
    bear running twice. The keys of one call must share a slot (:func:`tagged`).
    Cache errors propagate.
    """
    for attempt in (1, 2):
        try:
            async with cache.pipeline(transaction=False) as pipe:
                for script, keys, args in calls:
                    pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
                results: list[Any] = await pipe.execute()
                return results
        except NoScriptError:
            if attempt == 2:
                raise
            for source in {script.source for script, _, _ in calls}:
                await cache.script_load(source)
    raise AssertionError("unreachable")
