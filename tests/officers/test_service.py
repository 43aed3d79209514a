"""Officer sessions and sign-in: ending sessions at once, cache outages, throttling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import time_machine
from redis.asyncio import Redis

from tests.verification.conftest import PASSWORD
from wallet.errors import Unauthorized
from wallet.officers.models import OfficerSessionRecord
from wallet.officers.repository import OfficerRepository
from wallet.officers.service import BadCredentials, Officers
from wallet.officers.throttle import TooManySignIns, source_of
from wallet.runtime import Runtime
from wallet.uow import read_only, unit_of_work

VERIFY = "/verifier/v1/verifications"
SESSION = "/verifier/v1/session"
BADGE = "21010001"
DEVICE = "ENF-DEVICE-0001"
GOOD = {"badge": BADGE, "password": PASSWORD, "device_id": DEVICE}
BAD = {"badge": BADGE, "password": "not the password", "device_id": DEVICE}


class _Process:
    """Another process's view: its own Officers over the same database (and cache), each call
    in a unit of work of its own, as the edge and the command line open them."""

    def __init__(self, officers: Officers) -> None:
        self.officers = officers

    async def sign_in(self, *args):
        async with unit_of_work() as uow:
            return await self.officers.sign_in(uow, *args)

    async def session(self, *args):
        async with read_only() as uow:
            return await self.officers.session(uow, *args)

    async def sign_out(self, *args):
        async with unit_of_work() as uow:
            return await self.officers.sign_out(uow, *args)

    async def set_enabled(self, *args):
        async with unit_of_work() as uow:
            return await self.officers.set_enabled(uow, *args)


def _officers(rt: Runtime, cache: Redis | None = None) -> _Process:
    return _Process(
        Officers(
            OfficerRepository(),
            rt.vault,
            cache or rt.cache,
            rt.clock,
            rt.settings.officer_session_ttl,
        )
    )


@asynccontextmanager
async def _dead_cache() -> AsyncIterator[Redis]:
    """A cache client whose server is not there (a closed port): every call fails."""
    cache = Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        yield cache
    finally:
        await cache.aclose()


@asynccontextmanager
async def _from(served, host: str) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP to the app from the client address ``host``."""
    transport = httpx.ASGITransport(app=served, client=(host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def _scan(scene, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}", "X-Device-Id": DEVICE}
    response = await scene.caller.http.post(VERIFY, json={"qr": await scene.qr()}, headers=headers)
    return response.status_code


async def test_disabling_ends_every_session_at_once_in_every_process(scene, rt):
    other_process = _officers(rt)
    second, _ = await other_process.sign_in(BADGE, PASSWORD, DEVICE, "192.0.2.1")
    assert await _scan(scene, scene.officer.token) == 200  # this process has read the session
    assert (await other_process.session(second, DEVICE)).badge == BADGE

    await _officers(rt).set_enabled(BADGE, False)  # a third process: the command line

    assert await _scan(scene, scene.officer.token) == 401
    assert await _scan(scene, second) == 401
    for token in (scene.officer.token, second):
        with pytest.raises(Unauthorized):
            await other_process.session(token, DEVICE)
    assert await OfficerSessionRecord.all().count() == 0
    await _officers(rt).set_enabled(BADGE, True)  # enabling again does not bring them back
    assert await _scan(scene, scene.officer.token) == 401


async def test_a_session_outlives_the_cache_entry(scene, rt):
    assert await OfficerSessionRecord.filter(token_hash__not="").count() == 1
    await rt.cache.flushdb()  # a cache restarted empty
    assert await _scan(scene, scene.officer.token) == 200
    assert await _scan(scene, scene.officer.token) == 200  # refilled
    headers = {"Authorization": f"Bearer {scene.officer.token}"}
    assert (await scene.caller.http.delete(SESSION, headers=headers)).status_code == 204
    assert await _scan(scene, scene.officer.token) == 401
    assert await OfficerSessionRecord.all().count() == 0


async def test_sessions_are_stored_under_the_hash_of_the_token(scene, rt):
    record = await OfficerSessionRecord.get()
    assert record.token_hash != scene.officer.token
    assert scene.officer.token not in {k.decode() for k in await rt.cache.keys("*")}


async def test_with_the_cache_down_sign_in_and_sessions_go_on_from_the_database(scene, rt):
    async with _dead_cache() as dead:
        down = _officers(rt, dead)
        token, session = await down.sign_in(BADGE, PASSWORD, DEVICE, "192.0.2.1")
        assert (await down.session(token, DEVICE)) == session
        # Signed in while the cache was up, read while it is down.
        assert (await down.session(scene.officer.token, DEVICE)).officer_id == session.officer_id
        with pytest.raises(Unauthorized):
            await down.session(token, "ENF-DEVICE-9999")
        # The session made during the outage works where the cache is up.
        assert await _scan(scene, token) == 200

        await down.sign_out(token)
        with pytest.raises(Unauthorized):
            await down.session(token, DEVICE)
        await down.set_enabled(BADGE, False)
        with pytest.raises(Unauthorized):
            await down.session(scene.officer.token, DEVICE)


async def test_with_the_cache_down_sign_in_is_still_throttled(scene, rt):
    async with _dead_cache() as dead:
        down = _officers(rt, dead)
        with time_machine.travel(rt.clock.timestamp(), tick=False):
            for _ in range(4):
                with pytest.raises(BadCredentials):
                    await down.sign_in(BADGE, "not the password", DEVICE, "203.0.113.5")
            with pytest.raises(TooManySignIns):
                await down.sign_in(BADGE, PASSWORD, DEVICE, "203.0.113.5")
            # Still no lockout: the officer elsewhere gets in.
            await down.sign_in(BADGE, PASSWORD, DEVICE, "192.0.2.1")


async def test_a_stranger_cannot_lock_out_an_officer(scene, served, rt):
    # The clock stands still: the gates' waits are seconds, and a busy machine
    # must not let one open in the middle of the test.
    with time_machine.travel(rt.clock.timestamp(), tick=False):
        async with _from(served, "203.0.113.7") as stranger:
            codes = [(await stranger.post(SESSION, json=BAD)).status_code for _ in range(30)]
        assert codes[:4] == [401] * 4 and codes.count(429) >= 25
        # Strangers from many places, each using its free attempts on the badge...
        for n in range(5):
            async with _from(served, f"198.51.100.{n}") as stranger:
                for _ in range(3):
                    assert (await stranger.post(SESSION, json=BAD)).status_code == 401
        # ...after which the badge's own gate holds them all.
        async with _from(served, "198.51.100.99") as stranger:
            for _ in range(3):
                await stranger.post(SESSION, json=BAD)
            assert (await stranger.post(SESSION, json=GOOD)).status_code == 429
        # The officer, from a place with a mistake of its own, and from a new place.
        async with _from(served, "192.0.2.44") as officer:
            assert (await officer.post(SESSION, json=BAD)).status_code == 401
            assert (await officer.post(SESSION, json=GOOD)).status_code == 201
        async with _from(served, "192.0.2.45") as officer:
            assert (await officer.post(SESSION, json=GOOD)).status_code == 201


async def test_guessing_waits_twice_as_long_after_each_failure(scene, served, rt):
    start = rt.clock.timestamp()
    async with _from(served, "203.0.113.9") as guesser:
        with time_machine.travel(start, tick=False):
            for _ in range(4):  # three free attempts; the fourth closes the gate for 1 s
                assert (await guesser.post(SESSION, json=BAD)).status_code == 401
        waits = []
        elapsed = 0
        for _ in range(12):
            with time_machine.travel(start + elapsed, tick=False):
                refused = await guesser.post(SESSION, json=GOOD)
                assert refused.status_code == 429, refused.text  # the right password too
                assert refused.headers["content-type"] == "application/problem+json"
                wait = int(refused.headers["retry-after"])
                waits.append(wait)
            elapsed += wait
            with time_machine.travel(start + elapsed, tick=False):
                assert (await guesser.post(SESSION, json=BAD)).status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


async def test_one_source_cannot_spray_many_badges(scene, served, rt):
    codes = []
    async with _from(served, "203.0.113.10") as sprayer:
        with time_machine.travel(rt.clock.timestamp(), tick=False):
            for attempt in range(4):
                for n in range(6):
                    body = {
                        "badge": f"2101100{n}",
                        "password": f"guess {attempt}",
                        "device_id": DEVICE,
                    }
                    codes.append((await sprayer.post(SESSION, json=body)).status_code)
    # Ten free attempts for the source, an eleventh that closes its gate, then 429s.
    assert codes[:11] == [401] * 11 and codes[11:] == [429] * 13


def test_sources_are_client_addresses_ipv6_by_prefix():
    assert source_of("192.0.2.1") == "192.0.2.1"
    assert source_of("2001:db8:1:2:3:4:5:6") == source_of("2001:db8:1:2:ffff::1")
    assert source_of("2001:db8:1:2::1") != source_of("2001:db8:1:3::1")
    assert source_of("::ffff:192.0.2.1") == "192.0.2.1"
    assert source_of(None) == source_of("testclient") == "unknown"
