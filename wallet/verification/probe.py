"""The scan's one cache round trip: rate-limit counters, the replay mark and the status read.

A scan's officer and device counters are one script call, its replay mark
(``SET NX GET``) and the licence's cached status another; both go in one
pipeline, and the scans of a process that wait together share that pipeline
(:class:`~wallet.coalesce.Coalescer`).
On a Redis Cluster the pipeline is split by node and the parts sent at once
(still one round trip of waiting): the mark is hash-tagged into the
licence's slot (with its status) and the officer's counter into the device
counter's, so a scan touches at most two nodes, and one when both slots
live on the same node.
With the cache down, limits lapse (loudly) and the probe knows neither
replay nor status: the caller asks the database.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from redis.asyncio import Redis

from wallet.cache import Script, ScriptArg, run_scripts, tagged
from wallet.coalesce import Coalescer
from wallet.db import map_storage_errors
from wallet.errors import RateLimited, Unavailable
from wallet.licences.status import LiveStatus, cache_key, parse_entry
from wallet.metrics import STATUS_CACHE_READS
from wallet.officers.service import OfficerSession

__all__ = ["CacheProbe", "Probe"]

log = logging.getLogger(__name__)

Limit = tuple[int, int]
"""At most ``count`` per ``window`` seconds."""


@dataclass(frozen=True, slots=True)
class Probe:
    """What one cache round trip told: replayed (``None``: unknown) and the cached status."""

    replayed: bool | None
    status: LiveStatus | None


@dataclass(frozen=True, slots=True)
class _ProbeRequest:
    """The cache commands of one scan (rate-limit keys may be empty)."""

    rate_keys: tuple[str, ...]
    rate_window: int
    mark_key: str
    marker: bytes
    mark_ttl: int
    status_key: str


def _rate_keys(officer: OfficerSession, mode: str) -> tuple[str, str]:
    """The officer's and the device's counters of ``mode``, in the device counter's slot.

    An officer is bound to one device, so the officer's counter always
    joins the same device counter and both go to one node.
    """
    device = f"rtel:rl:{mode}:d:{officer.device_id}"
    return tagged(f"rtel:rl:{mode}:o:{officer.officer_id}", device), device


# One count on each key (all in one slot), each key expiring ARGV[1] seconds after its
# first count; the counts. INCR and EXPIRE NX per key, as one command. Sent again after
# a NOSCRIPT (see run_scripts), a scan is counted twice: a limit errs on the safe side.
_COUNT: Final = Script(
    """
local counts = {}
for i, key in ipairs(KEYS) do
    counts[i] = redis.call('INCR', key)
    redis.call('EXPIRE', key, ARGV[1], 'NX')
end
return counts
"""
)

# The scan's replay mark (SET NX GET: the previous marker, nil when this scan set it)
# and the licence's cached status, both in the licence's slot. Sent again, the mark
# answers this scan's own marker, which is not a replay.
_MARK: Final = Script(
    """
local previous = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2], 'GET')
return {previous, redis.call('GET', KEYS[2])}
"""
)


class CacheProbe:
    """Rate limits, replay marks and cached statuses, in as few round trips as possible:
    each concern is one script call (the client's work is per command), and the scans
    waiting together share one pipeline."""

    def __init__(self, cache: Redis) -> None:
        self.cache = cache
        self._probes = Coalescer(self._batch)

    async def rate_limit(self, officer: OfficerSession, mode: str, limit: Limit) -> None:
        """Count one ``mode`` for the officer and the device; :class:`RateLimited` past it."""
        count, window = limit
        keys = _rate_keys(officer, mode)
        try:
            with map_storage_errors("cache"):
                [counts] = await run_scripts(self.cache, [(_COUNT, keys, [window])])
        except Unavailable:
            # Enforcement must go on while the cache is down: limits lapse, loudly.
            log.warning("rate limits not applied: cache unavailable")
            return
        if max(counts) > count:
            raise RateLimited(f"at most {count} {mode}s per {window} s", retry_after=window)

    async def probe(
        self,
        officer: OfficerSession,
        token_id: str,
        window: int,
        ref: str,
        limit: Limit | None,
    ) -> Probe:
        """One cache round trip: scan limits (unless ``limit`` is None), replay mark, status.

        Over the limit, the replay mark this scan made is withdrawn and
        :class:`RateLimited` raised. With the cache down, limits lapse (as in
        :meth:`rate_limit`) and the probe knows neither replay nor status.
        """
        marker = f"{officer.officer_id}:{officer.device_id}".encode()
        status_key = cache_key(ref)
        # The mark sits in the licence's slot, next to its status entry.
        mark_key = tagged(f"rtel:seen:{token_id}", status_key)
        rate_keys = () if limit is None else _rate_keys(officer, "scan")
        results = await self._probes.submit(
            _ProbeRequest(
                rate_keys,
                limit[1] if limit else 0,
                mark_key,
                marker,
                max(window, 1),
                status_key,
            )
        )
        if results is None:
            STATUS_CACHE_READS.labels(result="unavailable").inc()
            return Probe(None, None)
        counts, previous, raw_status = results
        if limit is not None and max(counts) > limit[0]:
            if previous is None:
                try:
                    with map_storage_errors("cache"):
                        await self.cache.delete(mark_key)
                except Unavailable:
                    log.warning("replay mark of a rate-limited scan not withdrawn")
            raise RateLimited(f"at most {limit[0]} scans per {limit[1]} s", retry_after=limit[1])
        # A pending marker (a change being committed) reads as a miss: the database answers.
        status = parse_entry(raw_status)
        STATUS_CACHE_READS.labels(result="miss" if status is None else "hit").inc()
        return Probe(previous is not None and previous != marker, status)

    async def _batch(
        self, batch: list[_ProbeRequest]
    ) -> list[tuple[list[int], bytes | None, bytes | None] | None]:
        """The probes of ``batch`` in one pipeline: per probe its counts (empty without
        rate keys), the previous marker and the cached status; ``None`` for each if the
        cache fails."""
        calls: list[tuple[Script, Sequence[str], Sequence[ScriptArg]]] = []
        for probe in batch:
            if probe.rate_keys:
                calls.append((_COUNT, probe.rate_keys, [probe.rate_window]))
            calls.append(
                (_MARK, [probe.mark_key, probe.status_key], [probe.marker, probe.mark_ttl])
            )
        try:
            with map_storage_errors("cache"):
                results = iter(await run_scripts(self.cache, calls))
        except Unavailable:
            log.warning(
                "cache unavailable: rate limits not applied; replay and status from the database"
            )
            return [None] * len(batch)
        answers: list[tuple[list[int], bytes | None, bytes | None] | None] = []
        for probe in batch:
            counts = next(results) if probe.rate_keys else []
            previous, raw_status = next(results)
            answers.append((list(counts), previous, raw_status))
        return answers
