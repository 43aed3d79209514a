"""The verification log: group commit, the spool behind it, and drains that never overtake a test.

The ``rt`` fixture empties the tables between tests; a row of an earlier test
that lands afterwards (a drain of the spool running in the background, a
group-commit insert still in flight) would appear in the next test's tables.
:meth:`VerificationLog.settle` waits for both.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

from wallet.officers.service import OfficerSession
from wallet.verification.log import VerificationLog
from wallet.verification.models import VerificationRecord
from wallet.verification.repository import VerificationRepository
from wallet.verification.spool import VerificationSpool
from wallet.verification.verdict import Verdict


class _SlowRecords(VerificationRepository):
    """The log table, with each insert held until ``go`` is set (a slow database)."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.inserting = asyncio.Event()

    async def insert_rows(self, uow, rows):
        self.inserting.set()
        await self.go.wait()
        await super().insert_rows(uow, rows)


def _row(token_id: str):
    officer = (7, "21010007", "210100", "ENF-DEVICE-0007")
    return (uuid4(), datetime.now(UTC), *officer, "scan", "valid", None, token_id)


async def test_a_drain_waits_for_the_drain_running_in_this_process(rt, tmp_path):
    records = _SlowRecords()
    log = VerificationLog(records, rt.clock, VerificationSpool(tmp_path))
    log.spool.append([_row("left-1"), _row("left-2")])
    background = asyncio.create_task(log.drain_spool())  # the lifespan's drain, mid-insert
    await records.inserting.wait()
    asyncio.get_running_loop().call_later(0.2, records.go.set)
    # Before: the file was locked by the background drain, so this drain skipped it and
    # returned at once, and the rows landed later (after a fixture had emptied the tables).
    await log.drain_spool()
    assert await VerificationRecord.filter(token_id__startswith="left-").count() == 2
    assert await background == 2


async def test_settle_waits_for_a_group_commit_whose_caller_went_away(rt, tmp_path):
    records = _SlowRecords()
    log = VerificationLog(records, rt.clock, VerificationSpool(tmp_path))
    officer = OfficerSession(7, "21010007", "210100", "inspector", "ENF-DEVICE-0007")
    caller = asyncio.create_task(log.record(officer, "scan", Verdict.VALID, None, "gone"))
    await records.inserting.wait()
    caller.cancel()  # the client gave up; the insert goes on
    asyncio.get_running_loop().call_later(0.2, records.go.set)
    await log.settle()
    assert await VerificationRecord.filter(token_id="gone").count() == 1
