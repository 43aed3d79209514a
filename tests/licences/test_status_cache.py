"""The live-status cache rule: an entry is only ever replaced by a newer one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from tests.factories import authority, version_body
from wallet.cache import preload_scripts
from wallet.errors import Unavailable
from wallet.holders.repository import HolderRepository
from wallet.licences.models import Licence, StatusChange
from wallet.licences.repository import LicenceRepository
from wallet.licences.schemas import StatusIn
from wallet.licences.service import Registry
from wallet.licences.status import (
    PENDING_TTL,
    LiveStatus,
    cache_key,
    mark_pending,
    read_cached_status,
    refill_status,
    take_lease,
    write_status,
)
from wallet.uow import read_only, unit_of_work

FEED = "/authority/v1/licence-versions"
_WRITES = {"SET", "EVAL", "EVALSHA"}


def _pausing_before_status_write(
    cache: Redis, ref: str, before: Callable[[], Awaitable[None]]
) -> Redis:
    """A client on ``cache``'s connections that runs ``before`` ahead of its first write
    of a status into ``ref``'s entry: the moment a refill has read the database but
    not yet written the cache."""
    key = cache_key(ref)

    class Pausing(type(cache)):  # type: ignore[misc]
        paused = False

        async def execute_command(self, *args: Any, **options: Any) -> Any:
            command = args[0].decode() if isinstance(args[0], bytes) else str(args[0])
            values = [a.encode() if isinstance(a, str) else a for a in args[1:]]
            values = [v for v in values if isinstance(v, bytes)]
            writes = command.upper() in _WRITES and key.encode() in values
            if not Pausing.paused and writes and any(b'"s":"' in v for v in values):
                Pausing.paused = True
                await before()
            return await super().execute_command(*args, **options)

    if isinstance(cache, RedisCluster):  # a cluster client has no single pool: a new client
        node = cache.get_default_node()
        return Pausing(host=node.host, port=node.port)
    return Pausing(connection_pool=cache.connection_pool)


async def _licence(client, rt) -> tuple[Any, str]:
    caller = await authority(client, rt)
    response = await caller.post(FEED, version_body("qualification", seed=21))
    assert response.status_code == 201, response.text
    return caller, response.json()["ref"]


async def test_a_refill_that_read_the_old_status_never_overwrites_a_change(client, rt, monkeypatch):
    caller, ref = await _licence(client, rt)
    await rt.cache.delete(cache_key(ref))  # expired: the next read refills from the database

    async def suspend() -> None:
        response = await caller.post(
            f"/authority/v1/licences/{ref}/status", {"action": "suspend", "reason": "测试"}
        )
        assert response.status_code == 200, response.text

    pausing = _pausing_before_status_write(rt.cache, ref, suspend)
    monkeypatch.setattr(rt.verifier, "cache", pausing)
    async with read_only() as uow:
        seen = await rt.verifier.live_status(uow, ref)
    # The refill read the row before the change: true when read, but it must not stay.
    assert seen is not None and seen.status == "valid"
    assert (await Licence.get(ref=ref)).status == "suspended"
    cached = await read_cached_status(rt.cache, ref)
    assert cached is not None and cached.status == "suspended"
    monkeypatch.undo()
    if isinstance(pausing, RedisCluster):
        await pausing.aclose()  # its own client (on a cluster)
    async with read_only() as uow:
        live = await rt.verifier.live_status(uow, ref)
    assert live is not None and live.status == "suspended"


async def test_every_change_increments_the_sequence_and_the_entry_carries_it(client, rt):
    caller, ref = await _licence(client, rt)
    assert (await Licence.get(ref=ref)).status_seq == 1
    for n, action in enumerate(("suspend", "reinstate", "suspend"), start=2):
        response = await caller.post(
            f"/authority/v1/licences/{ref}/status", {"action": action, "reason": "测试"}
        )
        assert response.status_code == 200, response.text
        row = await Licence.get(ref=ref)
        cached = await read_cached_status(rt.cache, ref)
        assert row.status_seq == n
        assert cached == LiveStatus(row.status, row.version, row.valid_until, n)
    renewed = version_body("qualification", seed=21, version=2)
    assert (await caller.post(FEED, renewed)).status_code == 201
    cached = await read_cached_status(rt.cache, ref)
    assert cached is not None and (cached.version, cached.seq) == (2, 5)


async def test_a_change_hides_the_entry_until_it_commits(client, rt):
    _, ref = await _licence(client, rt)
    assert (await read_cached_status(rt.cache, ref)) is not None
    async with unit_of_work() as uow:
        await rt.registry.change_status(
            uow, ref, StatusIn(action="suspend", reason="测试"), actor="test"
        )
        # Pending: readers go to the database; an older refill is refused.
        assert await read_cached_status(rt.cache, ref) is None
        assert 0 < await rt.cache.ttl(cache_key(ref)) <= PENDING_TTL
        assert not await write_status(rt.cache, ref, LiveStatus("valid", 1, None, 1))
    cached = await read_cached_status(rt.cache, ref)
    assert cached is not None and (cached.status, cached.seq) == ("suspended", 2)


async def test_the_compare_and_set_never_replaces_a_newer_entry(rt):
    ref = "LCASRULES"
    assert await write_status(rt.cache, ref, LiveStatus("suspended", 1, None, 3))
    assert not await write_status(rt.cache, ref, LiveStatus("valid", 1, None, 2))
    assert not await write_status(rt.cache, ref, LiveStatus("valid", 1, None, 3))
    assert (await read_cached_status(rt.cache, ref)).status == "suspended"
    await mark_pending(rt.cache, {ref: 4})
    assert await read_cached_status(rt.cache, ref) is None
    assert not await write_status(rt.cache, ref, LiveStatus("suspended", 1, None, 3))
    assert await write_status(rt.cache, ref, LiveStatus("valid", 1, None, 4))
    assert (await read_cached_status(rt.cache, ref)).status == "valid"
    # An entry from before sequences existed counts as the oldest.
    await rt.cache.set(cache_key(ref), b'{"s":"valid","v":1,"u":null}')
    assert await write_status(rt.cache, ref, LiveStatus("suspended", 1, None, 0))


async def test_the_rule_holds_when_the_cache_lost_its_scripts(rt):
    """A restarted Redis knows no scripts: each call loads its script and runs once."""
    ref = "LNOSCRIPT"
    try:
        await rt.cache.script_flush()
        assert await write_status(rt.cache, ref, LiveStatus("suspended", 1, None, 3))
        await rt.cache.script_flush()
        assert not await write_status(rt.cache, ref, LiveStatus("valid", 1, None, 2))
        await rt.cache.script_flush()
        await mark_pending(rt.cache, {ref: 4})  # the pipelined calls load it too
        assert await read_cached_status(rt.cache, ref) is None
    finally:
        assert await preload_scripts(rt.cache)  # as the server left them at start-up


async def test_a_refill_needs_its_lease_or_a_newer_sequence(rt):
    ref, old, new = "LLEASES", LiveStatus("valid", 1, None, 1), LiveStatus("suspended", 1, None, 2)
    lease = await take_lease(rt.cache, ref)
    assert lease is not None and await take_lease(rt.cache, ref) is None
    assert await read_cached_status(rt.cache, ref) is None
    assert not await refill_status(rt.cache, ref, old, "another reader's")
    assert await refill_status(rt.cache, ref, old, lease)
    # An entry written and evicted after the lease: the refill may have read an older row.
    await rt.cache.delete(cache_key(ref))
    lease = await take_lease(rt.cache, ref)
    assert await write_status(rt.cache, ref, new)
    await rt.cache.delete(cache_key(ref))
    assert not await refill_status(rt.cache, ref, old, lease)
    assert await read_cached_status(rt.cache, ref) is None
    # Without a lease (the key was held), only by sequence.
    await write_status(rt.cache, ref, old)
    assert await refill_status(rt.cache, ref, new, None)
    assert not await refill_status(rt.cache, ref, old, None)
    assert (await read_cached_status(rt.cache, ref)).status == "suspended"


async def test_a_change_is_refused_when_the_cache_is_down(client, rt):
    _, ref = await _licence(client, rt)
    dead = Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.5)
    try:
        registry = Registry(
            rt.vault, rt.keys, rt.sm2, dead, rt.clock, LicenceRepository(), HolderRepository()
        )
        with pytest.raises(Unavailable) as refused:
            async with unit_of_work() as uow:
                await registry.change_status(
                    uow, ref, StatusIn(action="suspend", reason="测试"), actor="test"
                )
    finally:
        await dead.aclose()
    assert refused.value.to_problem()["dependency"] == "cache"
    row = await Licence.get(ref=ref)
    assert (row.status, row.status_seq) == ("valid", 1)
    assert await StatusChange.filter(licence_id=row.id).count() == 0
