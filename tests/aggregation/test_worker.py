"""The aggregation worker against the ministry stand-in over real HTTP, on both legs.

Whatever the stand-in does (fail, time out, answer slowly, refuse in the body,
lose its answer), in the end every event is recorded by the ministry exactly
once, we acknowledge each exactly once, and a licence's events arrive in order.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from tests.aggregation.conftest import LEASE, Bench
from tests.factories import version_body
from wallet.aggregation.models import AggregationBatch
from wallet.aggregation.schemas import RunStats
from wallet.aggregation.service import Backoff
from wallet.aggregation.worker import Worker, in_process_worker, run_workers
from wallet.licences.models import OutboxEvent
from wallet.licences.schemas import StatusIn, VersionIn
from wallet.uow import read_only, unit_of_work

AFTER_ANY_BACKOFF = Backoff().cap + 1


async def _until_empty(bench: Bench, rounds: int = 20) -> RunStats:
    """Drain, letting back-offs pass, until every event is acknowledged."""
    total = RunStats()
    for _ in range(rounds):
        total.add(await Worker(bench.aggregator).drain())
        if await bench.unsent() == 0:
            return total
        bench.later(AFTER_ANY_BACKOFF)
    raise AssertionError("events left unacknowledged")


def _assert_exactly_once(bench: Bench, ids: list[int], acknowledged: int) -> None:
    state = bench.ministry.state
    assert state.distinct_events == len(ids)
    assert sorted(state.events) == ids
    assert state.repeated_events == 0  # no event in two batches
    assert [r for r in state.refusals if r[0] != 503] == []  # never a key reused
    assert acknowledged == len(ids)  # we stamped each event once


def _assert_in_order(bench: Bench) -> None:
    seen: dict[str, list[int]] = defaultdict(list)
    for event_id in bench.ministry.state.arrival_order():
        seen[bench.ministry.state.events[event_id]["licence_ref"]].append(event_id)
    assert all(ids == sorted(ids) for ids in seen.values())


async def test_everything_is_acknowledged_once_in_order(bench: Bench) -> None:
    ids = await bench.seed(licences=20, per_licence=3)

    # One run empties the outbox when nothing fails: no batch is left leased.
    stats = await Worker(bench.aggregator).drain()

    _assert_exactly_once(bench, ids, stats.events_acknowledged)
    _assert_in_order(bench)
    assert set(bench.ministry.state.deliveries.values()) == {1}
    backlog = await bench.backlog()
    assert (backlog.pending, backlog.failed) == (0, {})
    async with read_only() as uow:
        stamped = await OutboxEvent.filter(sent_at=None).using_db(uow.conn).count()
    assert stamped == 0


async def test_a_licence_waits_for_its_older_unsent_event(bench: Bench) -> None:
    await bench.seed(licences=3, per_licence=2)
    bench.ministry.state.fail()

    await Worker(bench.aggregator).drain()

    # Only each licence's first event went out (and failed); the second waits.
    async with read_only() as uow:
        batched = await OutboxEvent.exclude(batch_id=None).using_db(uow.conn).count()
    assert batched == 3
    assert bench.ministry.state.distinct_events == 0


@pytest.mark.parametrize(
    ("steer", "reason"),
    [
        (lambda s: s.fail(), "http_5xx"),
        (lambda s: s.body_error(), "body_error"),
        (lambda s: s.hang(1.0), "timeout"),
        (lambda s: s.hang(1.0, record=True), "timeout"),  # recorded, answer lost
    ],
    ids=["5xx", "body-error", "timeout", "lost-answer"],
)
async def test_failures_stay_visible_then_recover(bench: Bench, steer, reason) -> None:
    ids = await bench.seed(licences=10, per_licence=2)
    steer(bench.ministry.state)

    first = await Worker(bench.aggregator).drain()

    assert first.events_acknowledged == 0 and first.batches_failed > 0
    backlog = await bench.backlog()
    assert backlog.pending == len(ids)
    assert backlog.failed == {reason: 10}  # each licence's first event, the rest wait
    async with read_only() as uow:
        failed = await OutboxEvent.exclude(failure_reason="").using_db(uow.conn).first()
    assert failed is not None and failed.next_attempt_at > bench.clock.now()
    assert failed.attempts == 1 and failed.last_error

    bench.ministry.state.recover()
    rest = await _until_empty(bench)

    _assert_exactly_once(bench, ids, first.events_acknowledged + rest.events_acknowledged)
    _assert_in_order(bench)
    assert (await bench.backlog()).failed == {}


async def test_a_slow_answer_within_the_timeout_is_fine(bench: Bench) -> None:
    ids = await bench.seed(licences=6)
    bench.ministry.state.slow(0.2)

    stats = await Worker(bench.aggregator).drain()

    _assert_exactly_once(bench, ids, stats.events_acknowledged)
    assert stats.batches_failed == 0


async def test_back_off_grows_and_resend_makes_failures_due(bench: Bench) -> None:
    ids = await bench.seed(licences=4)
    bench.ministry.state.fail()
    await Worker(bench.aggregator).drain()
    bench.ministry.state.recover()

    # Not due yet: nothing goes out without waiting or a resend.
    assert (await Worker(bench.aggregator).drain()).batches_sent == 0
    async with read_only() as uow:
        assert await bench.aggregator.resend(uow, "body_error") == 0
    async with unit_of_work() as uow:
        assert await bench.aggregator.resend(uow, "http_5xx") == len(ids)
    stats = await Worker(bench.aggregator).drain()

    _assert_exactly_once(bench, ids, stats.events_acknowledged)


def test_back_off_is_exponential_with_jitter() -> None:
    backoff = Backoff(base=5, cap=1800)
    delays = [backoff.delay(n) for n in range(1, 12)]
    for n, delay in enumerate(delays, start=1):
        full = min(1800, 5 * 2 ** (n - 1))
        assert full / 2 <= delay <= full
    assert len({backoff.delay(3) for _ in range(20)}) > 1


async def test_a_worker_killed_mid_batch_is_recovered_by_the_next(bench: Bench) -> None:
    ids = await bench.seed(licences=5)
    # The stand-in records the batch, then keeps its answer back: the worker is
    # killed between the push and the acknowledgement.
    bench.ministry.state.hang(3.0, record=True, times=1)
    task = asyncio.create_task(Worker(bench.aggregator).drain())
    for _ in range(400):
        if bench.ministry.state.distinct_events:
            break
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    killed = next(iter(bench.ministry.state.batches))
    assert await bench.unsent() == len(ids)

    # A restart at once leaves the leased batch alone and sends the rest.
    first = await Worker(bench.aggregator).drain()
    assert bench.ministry.state.deliveries[killed] == 1
    # Once the lease runs out the next run sends it again, same idempotency key.
    bench.later(LEASE + 1)
    second = await Worker(bench.aggregator).drain()

    assert bench.ministry.state.deliveries[killed] == 2
    _assert_exactly_once(bench, ids, first.events_acknowledged + second.events_acknowledged)


async def test_two_workers_at_once_do_not_double_send(bench: Bench) -> None:
    ids = await bench.seed(licences=150)
    bench.ministry.state.slow(0.02)

    stats = await run_workers(bench.aggregator, 2)
    while await bench.unsent():  # one worker may stop while the other still forms
        stats.add(await run_workers(bench.aggregator, 2))

    _assert_exactly_once(bench, ids, stats.events_acknowledged)
    assert set(bench.ministry.state.deliveries.values()) == {1}  # no batch sent twice


async def test_the_in_process_worker_pushes_and_stops_cleanly(bench: Bench) -> None:
    ids = await bench.seed(licences=8)

    async with in_process_worker(bench.aggregator):
        for _ in range(400):
            if not await bench.unsent():
                break
            await asyncio.sleep(0.01)

    assert bench.ministry.state.distinct_events == len(ids)
    assert await bench.unsent() == 0


async def test_a_batch_without_a_seal_key_waits_visibly(bench: Bench) -> None:
    await bench.seed(licences=1)
    async with read_only() as uow:
        event = await OutboxEvent.first().using_db(uow.conn)
    assert event is not None
    event.payload = {**event.payload, "division": "440103"}  # no Guangdong key
    await event.save(update_fields=["payload"])

    await Worker(bench.aggregator).drain()

    assert (await bench.backlog()).failed == {"no_seal_key": 1}


async def test_the_registry_outbox_goes_out_in_order(bench: Bench) -> None:
    registry = bench.rt.registry
    refs = []
    async with unit_of_work() as uow:
        for seed, division in ((1, "210102"), (2, "130102")):
            body = version_body("qualification", seed=seed, division=division)
            result = await registry.upsert_version(uow, VersionIn.model_validate(body), actor="t")
            refs.append(result.licence.ref)
    for action in ("suspend", "reinstate", "revoke"):
        async with unit_of_work() as uow:
            await registry.change_status(
                uow, refs[0], StatusIn(action=action, reason="test"), actor="t"
            )
    async with read_only() as uow:
        ids = list(
            await OutboxEvent.all().using_db(uow.conn).order_by("id").values_list("id", flat=True)
        )

    stats = await Worker(bench.aggregator).drain()

    _assert_exactly_once(bench, ids, stats.events_acknowledged)
    events = bench.ministry.state.events
    first = [
        events[i]["payload"]
        for i in bench.ministry.state.arrival_order()
        if events[i]["licence_ref"] == refs[0]
    ]
    assert [p["status"] for p in first] == ["valid", "suspended", "valid", "revoked"]
    assert {events[i]["batch"] for i in ids} and len(bench.ministry.state.batches) == 5


async def test_a_claim_leases_one_batch(bench: Bench) -> None:
    await bench.seed(licences=60)
    async with unit_of_work() as uow:
        formed = await bench.aggregator.form_batches(uow)
    async with unit_of_work() as uow:
        claimed = await bench.aggregator.claim(uow)

    assert formed == 4 and claimed is not None
    async with read_only() as uow:
        leased = await AggregationBatch.exclude(claim_token="").using_db(uow.conn).count()
    assert leased == 1
    assert claimed.request is not None and claimed.request.events == claimed.batch.size
