import asyncio
import os
import sys
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from asyncpg.exceptions import RaiseError
from tortoise import connections
from tortoise.exceptions import OperationalError

from tests.audit.helpers import verify_audit
from wallet.audit.models import AuditEntry
from wallet.audit.service import append
from wallet.uow import unit_of_work

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@asynccontextmanager
async def tampering():
    """An attacker with DDL rights: on PostgreSQL, past the append-only trigger."""
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    if postgres:
        await conn.execute_script("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only")
    try:
        yield
    finally:
        if postgres:
            await conn.execute_script(
                "ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only"
            )


async def _append_three():
    for i in range(3):
        async with unit_of_work() as uow:
            await append(
                uow,
                at=T0,
                actor=f"holder:{i}",
                action="licence.claim",
                subject=f"lic-{i}",
                detail={"n": i, "name": "张*丰"},
            )


async def test_intact_chain_verifies(rt):
    await _append_three()
    report = await verify_audit()
    assert report.ok and report.entries == 3


async def test_empty_chain_is_intact(rt):
    assert (await verify_audit()).ok


async def test_changed_entry_is_detected(rt):
    await _append_three()
    async with tampering():
        await AuditEntry.filter(id=2).update(actor="someone-else")
    report = await verify_audit()
    assert not report.ok and report.broken_at == 2 and report.reason == "entry changed"


async def test_changed_detail_is_detected(rt):
    await _append_three()
    async with tampering():
        await AuditEntry.filter(id=1).update(detail={"n": 99})
    report = await verify_audit()
    assert not report.ok and report.broken_at == 1


async def test_deleted_middle_entry_is_detected(rt):
    await _append_three()
    async with tampering():
        await AuditEntry.filter(id=2).delete()
    report = await verify_audit()
    assert not report.ok and report.broken_at == 2 and "deleted" in report.reason


async def test_deleted_last_entry_is_detected(rt):
    await _append_three()
    async with tampering():
        await AuditEntry.filter(id=3).delete()
    report = await verify_audit()
    assert not report.ok and report.broken_at == 3


async def test_rolled_back_append_leaves_no_trace(rt):
    await _append_three()
    try:
        async with unit_of_work() as uow:
            await append(uow, at=T0, actor="x", action="y")
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert await AuditEntry.all().count() == 3
    assert (await verify_audit()).ok


async def _cli(settings, *args):
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "WALLET_MASTER_KEY": settings.master_key,
        "WALLET_DATA_DIR": str(settings.data_dir),
        "WALLET_DEPLOYMENT": settings.deployment,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "httpkit.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def test_cli_audit_verify_reports_intact_then_broken(rt, settings):
    await _append_three()
    code, out, _ = await _cli(settings, "audit", "verify")
    assert code == 0 and "3 entries" in out
    async with tampering():
        await connections.get("default").execute_query(
            "UPDATE audit_entry SET action = 'tampered' WHERE id = 1"
        )
    code, _, err = await _cli(settings, "audit", "verify")
    assert code == 1 and "BROKEN at entry 1" in err


async def test_the_database_itself_refuses_changes_on_postgresql(rt):
    await _append_three()
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        for sql in (
            "UPDATE audit_entry SET actor = 'x' WHERE id = 1",
            "DELETE FROM audit_entry WHERE id = 3",
        ):
            with pytest.raises((OperationalError, RaiseError), match="append-only"):
                await conn.execute_query(sql)
        assert (await verify_audit()).ok
    else:  # SQLite has no such trigger: the chain is what catches the change
        await conn.execute_query("UPDATE audit_entry SET actor = 'x' WHERE id = 1")
        assert not (await verify_audit()).ok
