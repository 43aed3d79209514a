"""PostgreSQL unreachable (DESIGN §7): scans go on from the status cache, every verdict keeps a
record, what needs the database answers 503 naming it, and readiness recovers by itself."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise import connections
from tortoise.backends.asyncpg import AsyncpgDBClient

from wallet.verification.models import VerificationRecord

VERIFY = "/verifier/v1/verifications"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on return: nothing listens there


@asynccontextmanager
async def database_unreachable() -> AsyncIterator[None]:
    """Every query of this task (and the tasks it starts) goes to a port nobody listens on."""
    dead = AsyncpgDBClient(
        user="postgres",
        password="",
        database="wallet",
        host="127.0.0.1",
        port=_closed_port(),
        connection_name="default",
    )
    token = connections.set("default", dead)
    try:
        yield
    finally:
        connections.reset(token)
        await dead.close()


async def test_status_change_with_the_database_down_is_503_naming_it(scene):
    async with database_unreachable():
        response = await scene.caller.post(
            f"/authority/v1/licences/{scene.licence.ref}/status",
            {"action": "suspend", "reason": "测试"},
        )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "unavailable" and problem["dependency"] == "database"
    assert problem["detail"].startswith("database")
    await scene.status("suspend")  # back: the same change goes through


async def test_readyz_names_the_database_and_recovers(scene, client):
    async with database_unreachable():
        down = await client.get("/readyz")
    up = await client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["checks"]["database"].startswith("database:")
    assert down.json()["checks"]["cache"] == "ok"
    assert up.status_code == 200 and up.json()["checks"]["database"] == "ok"


async def test_scans_go_on_from_the_cache_and_are_recorded_once_back(scene):
    first = await scene.qr()
    assert (await _verify(scene, first))["verdict"] == "valid"  # trust list, face, status warm
    qrs = [await scene.qr() for _ in range(3)]
    async with database_unreachable():
        bodies = [await _verify(scene, qr) for qr in qrs]
    assert [b["verdict"] for b in bodies] == ["valid"] * 3
    assert all(b["licence"]["face"]["name"] for b in bodies)
    await scene.rt.verifier.drain_spool()
    assert await VerificationRecord.filter(verdict="valid").count() == 4


async def test_a_suspension_cached_before_the_outage_still_counts(scene):
    await scene.rt.verifier.trust_list.current()  # the trust list is in memory; the face is not
    await scene.status("suspend")
    qr = await scene.qr()
    async with database_unreachable():
        body = await _verify(scene, qr)
    assert body["verdict"] == "suspended", body
    await scene.rt.verifier.drain_spool()  # unless the background drain was first
    assert await VerificationRecord.filter(verdict="suspended").count() == 1


async def _verify(scene, qr):
    response = await scene.caller.http.post(VERIFY, json={"qr": qr}, headers=scene.officer.headers)
    assert response.status_code == 200, response.text
    return response.json()
