"""wallet.uow: the unit of work commits, rolls back, runs after-commit actions and turns
storage outages (in the body, at commit) into one 503 naming the dependency."""

from __future__ import annotations

import socket

import pytest
from redis.asyncio import Redis

from wallet.audit.models import AuditHead
from wallet.errors import Unavailable
from wallet.runtime import Runtime
from wallet.uow import read_only, unit_of_work


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on return: nothing listens there


async def test_a_redis_error_in_the_body_is_a_503_naming_the_cache(rt: Runtime) -> None:
    dead = Redis(port=_closed_port(), socket_connect_timeout=0.5)
    try:
        with pytest.raises(Unavailable) as caught:
            async with unit_of_work():
                await dead.get("anything")
    finally:
        await dead.aclose()
    assert caught.value.extra["dependency"] == "cache"


async def test_commit_and_after_commit(rt: Runtime) -> None:
    ran: list[str] = []

    async def after() -> None:
        ran.append("after")

    async with unit_of_work() as uow:
        await AuditHead.create(id=1, last_id=0, last_hash="0" * 64, using_db=uow.conn)
        uow.after_commit(after)
        assert ran == []
    assert ran == ["after"]
    async with read_only() as ro:
        assert await AuditHead.filter(id=1).using_db(ro.conn).exists()


async def test_rollback_runs_no_after_commit_action(rt: Runtime) -> None:
    ran: list[str] = []

    async def after() -> None:
        ran.append("after")

    with pytest.raises(LookupError):
        async with unit_of_work() as uow:
            await AuditHead.create(id=1, last_id=0, last_hash="0" * 64, using_db=uow.conn)
            uow.after_commit(after)
            raise LookupError
    assert ran == []
    assert not await AuditHead.filter(id=1).exists()


async def test_read_only_runs_after_commit_actions_on_success_only(rt: Runtime) -> None:
    ran: list[str] = []

    async def after() -> None:
        ran.append("after")

    async with read_only() as uow:
        uow.after_commit(after)
        assert not await AuditHead.filter(id=1).using_db(uow.conn).exists()
    assert ran == ["after"]
    with pytest.raises(LookupError):
        async with read_only() as uow:
            uow.after_commit(after)
            raise LookupError
    assert ran == ["after"]
