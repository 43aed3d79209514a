"""The scan's cache traffic: one request per node it touches, the keys of one scan in two slots.

On a single Redis (and the in-process store) a scan's probe is one request;
on a Redis Cluster (``tests/redis_cluster.py``) the probe's keys are
hash-tagged so that it touches the licence's slot and the device's slot
only: one request to one node when both slots live there, else one request
to each of the two, sent at once. Requests are counted where redis-py writes
them to a server (``send_packed_command``).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import fakeredis
import pytest
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.crc import key_slot

from tests.verification.conftest import Scene, add_officer
from wallet.cache import preload_scripts
from wallet.errors import RateLimited
from wallet.licences.status import cache_key
from wallet.officers.service import OfficerSession
from wallet.verification.probe import CacheProbe, _rate_keys

VERIFY = "/verifier/v1/verifications"
_IN_PROBE: contextvars.ContextVar[bool] = contextvars.ContextVar("in_probe", default=False)


def _slot(key: str) -> int:
    return key_slot(key.encode())


async def test_the_keys_of_one_scan_share_two_slots():
    cache = fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer())
    officer = OfficerSession(7, "21010001", "210100", "inspector", "ENF-DEVICE-0001")
    ref = "LABCDEFGHIJKLMNOP"
    await CacheProbe(cache).probe(officer, "some-jti", 60, ref, limit=(120, 60))
    written = sorted(k.decode() for k in await cache.keys("*"))
    officer_key, device_key, mark = (
        next(k for k in written if k.startswith(p))
        for p in ("rtel:rl:scan:o:", "rtel:rl:scan:d:", "rtel:seen:")
    )
    assert len(written) == 3
    # The anchors keep their names: the device counter and the status entry.
    assert device_key == "rtel:rl:scan:d:ENF-DEVICE-0001"
    assert cache_key(ref) == f"rtel:status:{ref}"
    assert _slot(officer_key) == _slot(device_key)
    assert _slot(mark) == _slot(cache_key(ref))
    await cache.aclose()


async def test_the_probe_loads_its_scripts_again_when_the_cache_lost_them(rt):
    """A restarted Redis knows no scripts: the probe loads them and its answers hold."""
    probe = CacheProbe(rt.cache)
    officer = OfficerSession(8, "21010002", "210100", "inspector", "ENF-DEVICE-0002")
    other = OfficerSession(9, "21010003", "210100", "inspector", "ENF-DEVICE-0003")
    ref = "LQRSTUVWXYZ234567"
    try:
        assert (await probe.probe(officer, "jti-flush", 60, ref, limit=(120, 60))).replayed is False
        await rt.cache.script_flush()
        # Its own mark again, then another officer's scan of the same token: a replay.
        again = await probe.probe(officer, "jti-flush", 60, ref, limit=(120, 60))
        assert again.replayed is False
        assert (await probe.probe(other, "jti-flush", 60, ref, limit=(120, 60))).replayed is True
        await rt.cache.script_flush()
        # Two scans counted for the officer, once each: a third is over a limit of two.
        with pytest.raises(RateLimited):
            await probe.rate_limit(officer, "scan", (2, 60))
        await probe.rate_limit(other, "scan", (2, 60))
    finally:
        assert await preload_scripts(rt.cache)  # as the server left them at start-up


class _Requests:
    """Requests written to each server, and those of the probe's flushes."""

    def __init__(self) -> None:
        self.all: Counter[str] = Counter()
        self.probe: Counter[str] = Counter()

    def clear(self) -> None:
        self.all.clear()
        self.probe.clear()


@pytest.fixture
def requests(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> _Requests:
    seen = _Requests()
    send = AbstractConnection.send_packed_command

    async def counted(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        server = f"{getattr(self, 'host', '?')}:{getattr(self, 'port', '?')}"
        seen.all[server] += 1
        if _IN_PROBE.get():
            seen.probe[server] += 1
        await send(self, command, check_health)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    coalescer = scene.rt.verifier.probe._probes
    flush: Callable[[list[Any]], Awaitable[list[Any]]] = coalescer._flush

    async def marked(batch: list[Any]) -> list[Any]:
        _IN_PROBE.set(True)  # the flush runs in its own task: this marks only its requests
        return await flush(batch)

    monkeypatch.setattr(coalescer, "_flush", marked)
    return seen


def _nodes_of(cache: Any, *keys: str) -> set[str]:
    """The servers holding ``keys`` (one for a single Redis)."""
    if not isinstance(cache, RedisCluster):
        return {"single"}
    return {cache.get_node_from_key(key).name for key in keys}


async def test_a_scan_sends_one_request_to_each_node_it_touches(scene, requests, capsys):
    cache, ref = scene.rt.cache, scene.licence.ref
    officer = OfficerSession(0, "", "", "", scene.officer.device)
    nodes = _nodes_of(cache, cache_key(ref), _rate_keys(officer, "scan")[1])
    # The first scan reads the session and the status through; then both are cached.
    first = await scene.caller.http.post(
        VERIFY, json={"qr": await scene.qr()}, headers=scene.officer.headers
    )
    assert first.json()["verdict"] == "valid"
    assert sum(requests.probe.values()) == len(nodes)
    cold = sum(requests.all.values())
    requests.clear()
    scans = 20
    for _ in range(scans):
        response = await scene.caller.http.post(
            VERIFY, json={"qr": await scene.qr()}, headers=scene.officer.headers
        )
        assert response.json()["verdict"] == "valid"
    # Each scan's probe: one request per node (never more), here len(nodes) of them.
    assert sum(requests.probe.values()) == scans * len(nodes)
    assert all(n == scans for n in requests.probe.values())
    warm = sum(requests.all.values()) / scans
    # Besides the probe, a warm scan reads only the officer's session (one request).
    assert warm <= len(nodes) + 1
    with capsys.disabled():
        kind = "cluster" if isinstance(cache, RedisCluster) else "single"
        print(
            f"\n[{kind}] scan cache requests: first {cold}, then {warm:.1f} per scan "
            f"(probe {len(nodes)} node(s) at once + session read)"
        )


@pytest.mark.parametrize("same_node", [True, False])
async def test_on_a_cluster_a_scan_touches_the_licences_node_and_the_devices(
    client, rt, scene, requests, same_node
):
    cache, ref = rt.cache, scene.licence.ref
    if not isinstance(cache, RedisCluster):
        return  # a single server: every scan is one request (the test above)
    licence_node = cache.get_node_from_key(cache_key(ref)).name
    device = next(
        d
        for d in (f"ENF-DEVICE-{n:04d}" for n in range(2, 500))
        if (cache.get_node_from_key(f"rtel:rl:scan:d:{d}").name == licence_node) == same_node
    )
    device_node = cache.get_node_from_key(f"rtel:rl:scan:d:{device}").name
    officer = await add_officer(client, rt, "21010077", device=device)
    await scene.caller.http.post(VERIFY, json={"qr": await scene.qr()}, headers=officer.headers)
    requests.clear()
    response = await scene.caller.http.post(
        VERIFY, json={"qr": await scene.qr()}, headers=officer.headers
    )
    assert response.json()["verdict"] == "valid"
    assert requests.probe == Counter(
        {licence_node: 1, device_node: 1} if not same_node else {licence_node: 1}
    )


async def test_concurrent_scans_share_the_probes_requests(client, rt, scene, requests, capsys):
    officers = [scene.officer] + [
        await add_officer(client, rt, f"2101009{n}", device=f"ENF-DEVICE-{n:04d}")
        for n in range(2, 5)
    ]
    qrs = [await scene.qr() for _ in range(32)]
    requests.clear()

    async def scan(n: int) -> str:
        officer = officers[n % len(officers)]
        response = await scene.caller.http.post(
            VERIFY, json={"qr": qrs[n]}, headers=officer.headers
        )
        verdict: str = response.json()["verdict"]
        return verdict

    verdicts = await asyncio.gather(*(scan(n) for n in range(len(qrs))))
    assert set(verdicts) == {"valid"}
    # Never more than one request per node a scan touches (at most two); fewer when the
    # scans waiting together share a flush.
    per_scan = sum(requests.probe.values()) / len(qrs)
    assert per_scan <= 2
    with capsys.disabled():
        kind = "cluster" if isinstance(rt.cache, RedisCluster) else "single"
        print(
            f"\n[{kind}] {len(qrs)} concurrent scans: probe {per_scan:.2f} requests per scan, "
            f"all cache requests {sum(requests.all.values()) / len(qrs):.2f} per scan, "
            f"by server {dict(requests.probe)}"
        )
