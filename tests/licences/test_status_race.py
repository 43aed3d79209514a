"""Scanners refilling the status cache while the authority suspends and reinstates.

Six readers through the verifier's read path (cache, then the database,
refilling the cache) and an evictor (entries expiring) run on one licence
while 100 changes go through the authority API. After each change, and again
just before the next, the cache must agree with the database.
"""

from __future__ import annotations

import asyncio
import random

from tests.factories import authority, version_body
from wallet.licences.models import Licence
from wallet.licences.status import cache_key, read_cached_status
from wallet.runtime import Runtime
from wallet.uow import read_only

CHANGES = 100
SCANNERS = 6


async def _disagrees(rt: Runtime, ref: str) -> bool:
    """A cached status other than the stored one (a miss reads the database: no harm)."""
    cached = await read_cached_status(rt.cache, ref)
    row = await Licence.get(ref=ref)
    return cached is not None and (cached.status, cached.version) != (row.status, row.version)


async def test_scanners_never_leave_the_cache_behind_a_change(client, rt):
    caller = await authority(client, rt)
    response = await caller.post("/authority/v1/licence-versions", version_body("qualification"))
    ref = response.json()["ref"]
    stop = asyncio.Event()
    reads = 0

    async def scanner() -> None:
        nonlocal reads
        while not stop.is_set():
            async with read_only() as uow:
                assert await rt.verifier.live_status(uow, ref) is not None
            reads += 1
            await asyncio.sleep(0.001)

    async def evictor(rng: random.Random) -> None:
        while not stop.is_set():
            await rt.cache.delete(cache_key(ref))
            await asyncio.sleep(rng.uniform(0, 0.004))

    tasks = [asyncio.create_task(scanner()) for _ in range(SCANNERS)]
    tasks.append(asyncio.create_task(evictor(random.Random(8))))
    disagreements = 0
    try:
        for n in range(CHANGES):
            action = "suspend" if n % 2 == 0 else "reinstate"
            response = await caller.post(
                f"/authority/v1/licences/{ref}/status", {"action": action, "reason": "测试"}
            )
            assert response.status_code == 200, response.text
            after = await _disagrees(rt, ref)
            await asyncio.sleep(0.005)  # refills in flight land
            disagreements += after or await _disagrees(rt, ref)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert (await Licence.get(ref=ref)).status_seq == CHANGES + 1
    assert reads > CHANGES
    assert disagreements == 0, f"{disagreements} of {CHANGES} changes left the cache behind"
