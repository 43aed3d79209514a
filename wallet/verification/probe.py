"""The scan's one cache round trip: rate-limit counters, the replay mark and the status read.

A scan's officer and device counters, its replay mark (``SET NX GET``) and
the licence's cached status go in one pipeline, and the scans of a process
that wait together share that pipeline (:class:`~wallet.verification.coalesce.Coalescer`).
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
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from wallet.cache import tagged
from wallet.db import map_storage_errors
from wallet.errors import RateLimited, Unavailable
from wallet.licences.status import LiveStatus, cache_key, parse_entry
from wallet.metrics import STATUS_CACHE_READS
from wallet.officers.service import OfficerSession
from wallet.verification.coalesce import Coalescer

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


class CacheProbe:
    """Rate limits, replay marks and cached statuses, in as few round trips as possible."""

    def __init__(self, cache: Redis) -> None:
        self.cache = cache
        self._probes = Coalescer(self._batch)

    async def rate_limit(self, officer: OfficerSession, mode: str, limit: Limit) -> None:
        """Count one ``mode`` for the officer and the device; :class:`RateLimited` past it."""
        count, window = limit
        keys = _rate_keys(officer, mode)
        try:
            with map_storage_errors("cache"):
                async with self.cache.pipeline(transaction=False) as pipe:
                    for key in keys:
                        pipe.incr(key)
                        pipe.expire(key, window, nx=True)
                    results = await pipe.execute()
        except Unavailable:
            # Enforcement must go on while the cache is down: limits lapse, loudly.
            log.warning("rate limits not applied: cache unavailable")
            return
        if max(results[0], results[2]) > count:
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
        *counts, previous, raw_status = results
        if limit is not None and max(counts[0], counts[2]) > limit[0]:
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

    async def _batch(self, batch: list[_ProbeRequest]) -> list[list[Any] | None]:
        """The probes of ``batch`` in one pipeline; ``None`` for each if the cache fails."""
        try:
            with map_storage_errors("cache"):
                async with self.cache.pipeline(transaction=False) as pipe:
                    for probe in batch:
                        for key in probe.rate_keys:
                            pipe.incr(key)
                            pipe.expire(key, probe.rate_window, nx=True)
                        # SET NX GET: the previous marker, or None when this scan set it.
                        pipe.set(probe.mark_key, probe.marker, nx=True, ex=probe.mark_ttl, get=True)
                        pipe.get(probe.status_key)
                    results = await pipe.execute()
        except Unavailable:
            log.warning(
                "cache unavailable: rate limits not applied; replay and status from the database"
            )
            return [None] * len(batch)
        answers: list[list[Any] | None] = []
        start = 0
        for probe in batch:
            end = start + 2 * len(probe.rate_keys) + 2
            answers.append(results[start:end])
            start = end
        return answers
