"""Sign-in throttling: growing delays by source and by badge, never a lockout.

Every attempt is counted before the password is checked (so parallel
guesses cannot slip through together) in three scopes:

- the *source* (the client address; IPv6 by its /64), across all badges;
- the *pair* of badge and source;
- the *badge*, across all sources.

A scope's first ``free`` attempts pass; each later one must take the
scope's gate, which it then holds for ``2 ** (n - free - 1)`` seconds (n is
the attempt's number), capped; an attempt while a gate is held is answered
429 with ``Retry-After``. The badge gate applies only to sources that have
used up their free attempts on that badge: a stranger failing from
elsewhere slows the officer only where the stranger is, and the officer
with the right password from any other source always gets a check. A
success clears the pair and the badge and does not count against the
source. Counts are forgotten a day after a scope's last attempt.

With the numbers below, one source gets at most 23 attempts in its first
hour and 4 an hour after that, over all badges (16, then 4, on one badge);
one badge gets at most 30 in the first hour and 12 an hour after that from
sources past their free attempts, plus 3 from each source new to it.

The state lives in the cache. While the cache is unreachable each process
keeps its own (bounded) state: the same rules per process, so with W
processes an attacker gets at most W times the numbers above, and state
from before the outage is not seen.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Final, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from wallet.cache import Script, get_many, run_script
from wallet.clock import Clock
from wallet.errors import RateLimited, Unavailable

__all__ = ["SignInThrottle", "TooManySignIns", "source_of"]

log = logging.getLogger(__name__)

_MEMORY: Final = 86400
"""Seconds a scope's count is kept after its last attempt."""
_GATE_SLACK: Final = 300
"""Seconds a gate's key outlives the gate (cleanup only: the stored time is what counts)."""
_MEMORY_ENTRIES: Final = 65536


@dataclass(frozen=True, slots=True)
class _Scope:
    name: str
    free: int
    cap: int

    def delay(self, n: int) -> int:
        """Seconds the ``n``-th attempt holds the gate for (0 within the free attempts)."""
        if n <= self.free:
            return 0
        return int(min(2 ** min(n - self.free - 1, 32), self.cap))


SOURCE: Final = _Scope("s", free=10, cap=900)
PAIR: Final = _Scope("p", free=3, cap=900)
BADGE: Final = _Scope("b", free=10, cap=300)


class TooManySignIns(RateLimited):
    type_code = "too_many_sign_ins"
    title = "Too many sign-in attempts: wait before trying again"


def source_of(host: str | None) -> str:
    """The throttling key of a client address: IPv4 as is, IPv6 by its /64."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class _Store(Protocol):
    async def gates(self, keys: list[str], now: int) -> list[int]: ...
    async def count(self, key: str, now: int) -> int: ...
    async def incr(self, keys: list[str], now: int) -> list[int]: ...
    async def take_gate(self, key: str, until: int, now: int) -> bool: ...
    async def success(self, clear: list[str], uncount: str) -> None: ...


# Take a gate unless it is held: KEYS[1] = gate; ARGV = now, until, seconds to keep the key.
_TAKE_GATE: Final = Script(
    """
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if held > tonumber(ARGV[1]) then
    return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
"""
)


class _CacheStore:
    """Throttle state in the shared cache; a gate holds the time it opens again."""

    def __init__(self, cache: Redis) -> None:
        self.cache = cache

    async def gates(self, keys: list[str], now: int) -> list[int]:
        answers = await get_many(self.cache, keys)  # the scopes' keys lie in several slots
        return [max(int(raw) - now, 0) if raw is not None else 0 for raw in answers]

    async def count(self, key: str, now: int) -> int:
        raw = await self.cache.get(key)
        return int(raw) if raw is not None else 0

    async def incr(self, keys: list[str], now: int) -> list[int]:
        async with self.cache.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.incr(key)
                pipe.expire(key, _MEMORY)
            answers = await pipe.execute()
        return [int(n) for n in answers[::2]]

    async def take_gate(self, key: str, until: int, now: int) -> bool:
        # The stored time decides when the gate opens; the key's own expiry only
        # tidies up, so it is kept a while past it (a gate read after its time says 0).
        keep = until - now + _GATE_SLACK
        return bool(await run_script(self.cache, _TAKE_GATE, [key], [now, until, keep]))

    async def success(self, clear: list[str], uncount: str) -> None:
        async with self.cache.pipeline(transaction=False) as pipe:
            for key in clear:
                pipe.delete(key)
            pipe.decr(uncount)
            await pipe.execute()


class _MemoryStore:
    """Throttle state of this process alone, for while the cache is unreachable."""

    def __init__(self) -> None:
        # key -> (value, forgotten after); a gate's value is the time it opens again.
        self._entries: dict[str, tuple[int, int]] = {}

    def _get(self, key: str, now: int) -> int | None:
        entry = self._entries.get(key)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def _put(self, key: str, value: int, until: int, now: int) -> None:
        if key not in self._entries and len(self._entries) >= _MEMORY_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[1] > now}
            if len(self._entries) >= _MEMORY_ENTRIES:
                # Forgetting state would lift the limits: refuse instead.
                raise Unavailable("cache: sign-in throttle unavailable", dependency="cache")
        self._entries[key] = (value, until)

    async def gates(self, keys: list[str], now: int) -> list[int]:
        return [max((self._get(key, now) or 0) - now, 0) for key in keys]

    async def count(self, key: str, now: int) -> int:
        return self._get(key, now) or 0

    async def incr(self, keys: list[str], now: int) -> list[int]:
        counts = []
        for key in keys:
            n = (self._get(key, now) or 0) + 1
            self._put(key, n, now + _MEMORY, now)
            counts.append(n)
        return counts

    async def take_gate(self, key: str, until: int, now: int) -> bool:
        if (self._get(key, now) or 0) > now:
            return False
        self._put(key, until, until, now)
        return True

    async def success(self, clear: list[str], uncount: str) -> None:
        for key in clear:
            self._entries.pop(key, None)
        entry = self._entries.get(uncount)
        if entry is not None:
            self._entries[uncount] = (entry[0] - 1, entry[1])


class SignInThrottle:
    """The sign-in limits of the module docstring, over the cache or this process's memory."""

    def __init__(self, cache: Redis, clock: Clock) -> None:
        self._cache = _CacheStore(cache)
        self._memory = _MemoryStore()
        self.clock = clock

    async def attempt(self, badge: str, source: str) -> None:
        """Count an attempt of ``badge`` from ``source``; raise :class:`TooManySignIns` if held."""
        try:
            await self._attempt(self._cache, badge, source)
        except (RedisError, OSError):
            log.warning("sign-in throttle on this process's memory: cache unavailable")
            await self._attempt(self._memory, badge, source)

    async def succeeded(self, badge: str, source: str) -> None:
        """Forget the pair's and the badge's attempts; this one does not count for the source."""
        keys = _Keys(badge, source)
        clear = [keys.count(PAIR), keys.gate(PAIR), keys.count(BADGE), keys.gate(BADGE)]
        for store in (self._cache, self._memory):
            try:
                await store.success(clear, keys.count(SOURCE))
            except (RedisError, OSError):
                log.warning("sign-in throttle not cleared: cache unavailable")

    async def _attempt(self, store: _Store, badge: str, source: str) -> None:
        now = self.clock.timestamp()
        keys = _Keys(badge, source)
        pair_count = await store.count(keys.count(PAIR), now)
        scopes = [SOURCE, PAIR] + ([BADGE] if pair_count >= PAIR.free else [])
        held = max(await store.gates([keys.gate(scope) for scope in scopes], now))
        if held > 0:
            _refuse(held)
        counts = await store.incr([keys.count(scope) for scope in (SOURCE, PAIR, BADGE)], now)
        for scope, n in zip((SOURCE, PAIR, BADGE), counts, strict=True):
            delay = scope.delay(n)
            if not delay:
                continue
            taken = await store.take_gate(keys.gate(scope), now + delay, now)
            # A source new to the badge is not held by the badge gate, but its
            # attempt still counts and keeps the gate closed to the others.
            if not taken and scope in scopes:
                _refuse(1)


class _Keys:
    def __init__(self, badge: str, source: str) -> None:
        self._parts = {SOURCE.name: source, PAIR.name: f"{badge}|{source}", BADGE.name: badge}

    def count(self, scope: _Scope) -> str:
        return f"rtel:signin:{scope.name}:n:{self._parts[scope.name]}"

    def gate(self, scope: _Scope) -> str:
        return f"rtel:signin:{scope.name}:gate:{self._parts[scope.name]}"


def _refuse(seconds: int) -> None:
    raise TooManySignIns(
        "too many sign-in attempts from here or for this badge; try again later",
        retry_after=max(seconds, 1),
    )
