"""A PostgreSQL backend ended under an open unit of work: a 503 naming the database, and
the pool recovers (services leg only, like the rest of this folder)."""

from __future__ import annotations

import asyncpg
import pytest

from wallet.audit.models import AuditHead
from wallet.errors import Unavailable
from wallet.runtime import Runtime
from wallet.uow import unit_of_work


async def test_a_connection_lost_at_commit_is_a_503_naming_the_database(rt: Runtime) -> None:
    settings = rt.settings
    admin = await asyncpg.connect(settings.database_url.replace("postgres://", "postgresql://"))
    try:
        with pytest.raises(Unavailable) as caught:
            async with unit_of_work() as uow:
                _, rows = await uow.conn.execute_query("SELECT pg_backend_pid() AS pid")
                await admin.execute("SELECT pg_terminate_backend($1)", rows[0]["pid"])
        assert caught.value.extra["dependency"] == "database"
    finally:
        await admin.close()
    async with unit_of_work() as uow:  # the pool gave the dead connection up: the next one works
        await AuditHead.create(id=1, last_id=0, last_hash="0" * 64, using_db=uow.conn)
    assert await AuditHead.filter(id=1).exists()
