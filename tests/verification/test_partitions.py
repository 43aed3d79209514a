"""The verification log by month: partitions ahead, retention, idempotent drains, history order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from tortoise import connections

from wallet.uow import read_only, unit_of_work
from wallet.verification.models import VerificationRecord
from wallet.verification.repository import VerificationRepository
from wallet.verification.retention import keep_partitions

OFFICER = (7, "21010007", "210100", "ENF-DEVICE-0007")


def _row(at: datetime, ref: str | None = "L-PART", token_id: str = "jti"):
    return (uuid4(), at, *OFFICER, "scan", "valid", ref, token_id)


def _on_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


async def _where(record_id) -> str:
    _, rows = await connections.get("default").execute_query(
        "SELECT tableoid::regclass::text FROM verification_record WHERE record_id = $1",
        [str(record_id)],
    )
    return str(rows[0][0])


async def test_a_spool_drained_twice_stores_each_row_once_in_its_month(rt):
    # On both engines a repeated drain stores each row once; on PostgreSQL each
    # row also lands in its month's partition (or DEFAULT, outside every month).
    now = rt.clock.now()
    rows = [
        _row(now, token_id="jti-now"),
        _row(now - timedelta(days=400), token_id="jti-old"),  # no month: DEFAULT
        _row(now + timedelta(days=3650), token_id="jti-far"),  # no month: DEFAULT
    ]
    spool = rt.verifier.log.spool
    spool.append(rows)
    spooled = spool.path.read_bytes()
    await rt.verifier.drain_spool()
    spool.path.write_bytes(spooled)  # a drain that died before emptying the file
    await rt.verifier.drain_spool()
    assert await VerificationRecord.all().count() == 3
    if not _on_postgres():
        return
    assert await _where(rows[0][0]) == f"verification_record_p{now:%Y%m}"
    assert await _where(rows[1][0]) == "verification_record_default"
    assert await _where(rows[2][0]) == "verification_record_default"


async def test_months_are_made_ahead_and_dropped_past_the_retention(rt):
    records = VerificationRepository()
    if not _on_postgres():
        async with unit_of_work() as uow:
            upkeep = await keep_partitions(uow, records, rt.clock.now(), 24)
        assert not upkeep.partitioned and upkeep.created == upkeep.dropped == []
        return
    early, older = (
        _row(datetime(2020, 2, 10, 8, tzinfo=UTC)),
        _row(datetime(2019, 6, 1, tzinfo=UTC)),
    )
    async with read_only() as uow:
        await records.insert_rows(uow, [early, older])
    assert await _where(early[0]) == "verification_record_default"
    try:
        async with unit_of_work() as uow:
            made = await keep_partitions(uow, records, datetime(2020, 1, 15, tzinfo=UTC), None)
        assert made.created == [f"verification_record_p2020{m:02d}" for m in (1, 2, 3, 4)]
        assert made.dropped == [] and made.moved == 1
        assert await _where(early[0]) == "verification_record_p202002"  # moved out of DEFAULT

        async with unit_of_work() as uow:
            again = await keep_partitions(uow, records, datetime(2020, 1, 31, tzinfo=UTC), None)
        assert again.created == [] and again.moved == 0

        async with unit_of_work() as uow:
            kept = await keep_partitions(uow, records, datetime(2020, 6, 15, tzinfo=UTC), 2)
        # June and May kept; January to April dropped; this year's months untouched.
        assert kept.dropped == [f"verification_record_p2020{m:02d}" for m in (1, 2, 3, 4)]
        assert kept.purged == 1  # the 2019 row the DEFAULT partition held
        assert await VerificationRecord.all().count() == 0
        async with read_only() as uow:
            names = await records.partitions(uow)
        assert names is not None
        assert f"verification_record_p{rt.clock.now():%Y%m}" in names
    finally:
        async with read_only() as uow:
            for name in await records.partitions(uow) or []:
                if name.startswith("verification_record_p2020"):
                    await records.drop_partition(uow, name)


async def test_history_is_newest_first_by_time_across_months_and_pages(rt):
    records = VerificationRepository()
    now = rt.clock.now().replace(microsecond=0)
    times = [now - timedelta(days=d) for d in (0, 35, 70)]
    async with read_only() as uow:
        await records.insert_rows(uow, [_row(at) for at in times])
        # Drained late from a spool: the highest id, yet the oldest time.
        await records.insert_rows(uow, [_row(now - timedelta(days=100))])
        await records.insert_rows(uow, [_row(now, ref="L-OTHER")])
        first = await records.history(uow, "L-PART", None, 2)
        second = await records.history(uow, "L-PART", first[-1].id, 2)
        third = await records.history(uow, "L-PART", second[-1].id, 2)
        unknown = await records.history(uow, "L-PART", 10**12, 2)
    seen = [r.at for r in first + second + third]
    assert seen == [*times, now - timedelta(days=100)]
    assert third == []
    assert unknown == []
