"""The ministry stand-in over real HTTP, and an aggregator on a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.factories import committing
from wallet.aggregation.ministry import MinistryClient
from wallet.aggregation.repository import AggregationRepository
from wallet.aggregation.service import Aggregator
from wallet.aggregation.standin import MinistryStandin
from wallet.clock import FixedClock, utc_now
from wallet.keys.trust_list import TrustList, trust_list_of
from wallet.licences.models import OutboxEvent
from wallet.runtime import Runtime
from wallet.uow import read_only, unit_of_work

PROVINCES = ("210000", "130000")
COUNTIES = ("210102", "130102")
TIMEOUT = 0.5
LEASE = 60.0


class _Trust:
    """The trust list the stand-in checks with; each test puts its own keys in."""

    def __init__(self) -> None:
        self.current = TrustList(0, "", {})

    def __call__(self) -> TrustList:
        return self.current


@pytest.fixture(scope="session")
def trust() -> _Trust:
    return _Trust()


@pytest.fixture(scope="session")
def ministry(trust: _Trust) -> Iterator[MinistryStandin]:
    with MinistryStandin(trust) as server:
        yield server


@dataclass
class Bench:
    """What a test drives: the aggregator, its clock and the stand-in."""

    rt: Runtime
    aggregator: Aggregator
    clock: FixedClock
    ministry: MinistryStandin

    async def seed(self, licences: int, per_licence: int = 1, prefix: str = "L") -> list[int]:
        """Outbox events of ``licences`` licences, ``per_licence`` each, interleaved so a
        licence's events are far apart in id order; their ids."""
        rows = []
        for round_ in range(per_licence):
            for n in range(licences):
                ref = f"{prefix}{n:06d}"
                rows.append(
                    OutboxEvent(
                        topic="licence.status" if round_ else "licence.version",
                        licence_ref=ref,
                        created_at=self.clock.now(),
                        next_attempt_at=self.clock.now(),
                        payload={
                            "ref": ref,
                            "kind": "transport_cert",
                            "version": 1,
                            "status": "valid",
                            "division": COUNTIES[n % len(COUNTIES)],
                            "seq": round_,
                        },
                    )
                )
        async with unit_of_work() as uow:
            await OutboxEvent.bulk_create(rows, using_db=uow.conn)
        async with read_only() as uow:
            return list(
                await OutboxEvent.all()
                .using_db(uow.conn)
                .order_by("id")
                .values_list("id", flat=True)
            )

    async def unsent(self) -> int:
        async with read_only() as uow:
            return await OutboxEvent.filter(sent_at=None).using_db(uow.conn).count()

    def later(self, seconds: float) -> None:
        self.clock.advance(seconds)

    async def backlog(self) -> Any:
        async with read_only() as uow:
            return await self.aggregator.backlog(uow)


@pytest.fixture
async def bench(rt: Runtime, ministry: MinistryStandin, trust: _Trust) -> AsyncIterator[Bench]:
    await committing(rt.keys.init)(list(PROVINCES))
    async with read_only() as uow:
        keys = await rt.keys.list_keys(uow)
    trust.current = trust_list_of(keys, utc_now() + timedelta(seconds=1))
    ministry.state.reset()
    clock = FixedClock(utc_now())
    client = MinistryClient(ministry.url, TIMEOUT)
    aggregator = Aggregator(
        AggregationRepository(), rt.keys, client, clock, batch_size=7, lease=LEASE
    )
    try:
        yield Bench(rt, aggregator, clock, ministry)
    finally:
        ministry.state.reset()
        await client.aclose()
