"""Every answered verdict has a durable record: the database, or the spool drained into it once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from uuid import uuid4

import orjson
from tortoise import connections

from tests.factories import version_body
from wallet.verification.models import VerificationRecord
from wallet.verification.spool import SPOOL_COLUMNS, VerificationSpool

VERIFY = "/verifier/v1/verifications"


async def _rename(old: str, new: str) -> None:
    await connections.get("default").execute_script(f'ALTER TABLE "{old}" RENAME TO "{new}"')


@asynccontextmanager
async def log_table_refusing() -> AsyncIterator[None]:
    """The database answers, but every insert into the verification log fails."""
    await _rename("verification_record", "verification_record_away")
    try:
        yield
    finally:
        await _rename("verification_record_away", "verification_record")


async def test_verdicts_answered_while_the_log_fails_are_spooled_and_stored_once(scene):
    verifier = scene.rt.verifier
    qrs = [await scene.qr() for _ in range(3)]
    async with log_table_refusing():
        answers = [
            await scene.caller.http.post(VERIFY, json={"qr": qr}, headers=scene.officer.headers)
            for qr in qrs
        ]
        spooled = verifier.log.spool.path.read_bytes()
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["verdict"] for a in answers] == ["valid"] * 3
    records = [orjson.loads(line) for line in spooled.splitlines()]
    assert len(records) == 3 and all(set(r) == set(SPOOL_COLUMNS) for r in records)
    name = version_body("qualification", seed=11)["face"]["name"]
    assert name.encode() not in spooled  # badge and licence ref, never the face

    await verifier.drain_spool()  # the background drain may have been first: same result
    token_ids = {r["token_id"] for r in records}
    assert await VerificationRecord.filter(token_id__in=token_ids).count() == 3
    assert verifier.log.spool.path.read_bytes() == b""

    # A drain that crashed after its insert and before emptying the file runs again.
    verifier.log.spool.path.write_bytes(spooled)
    await verifier.drain_spool()
    assert await VerificationRecord.filter(token_id__in=token_ids).count() == 3
    assert await VerificationRecord.filter(verdict="valid").count() == 3


async def test_no_database_and_no_spool_means_no_verdict(scene):
    spool = scene.rt.verifier.log.spool
    qr = await scene.qr()
    spool.path.unlink(missing_ok=True)
    spool.path.mkdir(parents=True)  # a directory where the file should be: appends fail
    try:
        async with log_table_refusing():
            response = await scene.caller.http.post(
                VERIFY, json={"qr": qr}, headers=scene.officer.headers
            )
    finally:
        spool.path.rmdir()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["dependency"] == "database"
    assert "valid" not in response.text
    await scene.rt.verifier.drain_spool()
    assert await VerificationRecord.all().count() == 0


async def test_the_running_app_drains_what_an_earlier_process_left(scene):
    directory = scene.rt.verifier.log.spool.path.parent
    left = VerificationSpool(directory)
    left.path = directory / "verifications-1.jsonl"  # a process that has exited
    record_id = uuid4()
    row = (record_id, datetime.now(UTC), 7, "21010007", "210100", "ENF-DEVICE-0007")
    left.append([(*row, "scan", "revoked", scene.licence.ref, "jti-left-behind")])
    with left.path.open("ab") as torn:  # a write cut short, never answered
        torn.write(b'{"record_id": "')
    for _ in range(100):  # the drain runs every second
        if not left.path.exists() and await VerificationRecord.exists(record_id=record_id):
            break
        await asyncio.sleep(0.1)
    stored = await VerificationRecord.get(record_id=record_id)
    assert (stored.officer_badge, stored.verdict) == ("21010007", "revoked")
    assert not left.path.exists()
    assert await VerificationRecord.all().count() == 1
