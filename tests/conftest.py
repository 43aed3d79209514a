"""Test wiring for both legs.

Leg ``embedded``: no ``DATABASE_URL``/``REDIS_URL`` → a SQLite file in a temp
directory and the in-process cache. Leg ``services``: ``DATABASE_URL`` names
a PostgreSQL server (a fresh database is created for the run and dropped
after) and ``REDIS_URL`` a Redis server and database, leased for this run so
two runs never flush each other's (tests/redis_lease.py; without a database
number the first free one is taken), and flushed before each test. The
schema is built by the real migrations. The combined app's real lifespan runs
once per session; every test starts from empty tables and an empty cache.
The runtime's WeChat gateway talks to the WeChat stand-in over real HTTP.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from tortoise import Tortoise, connections

from httpkit.combined import create_app
from httpkit.inprocess import LifespanApp
from tests.redis_lease import RedisBusy, lease_database
from wallet.db import migrate_database
from wallet.runtime import Runtime
from wallet.settings import Settings, load_settings
from wallet.wechat.standin import StandinServer

TEST_MASTER_KEY = "6d" * 32  # fixed, test-only; never a production key
WECHAT_APP_ID, WECHAT_APP_SECRET = "wx0000000000000000", "dev-secret"
CLAIM_TEMPLATE = "tmpl-claim-review"


# Modules that need a real Redis server: not collected on the embedded leg (the services
# leg always runs them), so that leg reports nothing skipped.
collect_ignore = [] if os.environ.get("REDIS_URL") else ["test_redis_lease.py"]
if "+cluster://" in os.environ.get("REDIS_URL", ""):
    collect_ignore.append("test_redis_lease.py")  # leases are database numbers: none on a cluster
if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    collect_ignore.append("browser")  # one browser run per suite: the embedded leg's


def _leg() -> str:
    return "services" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "embedded"


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"leg: {_leg()}  DATABASE_URL={os.environ.get('DATABASE_URL', '(sqlite)')}  "
        f"REDIS_URL={os.environ.get('REDIS_URL', '(in-process)')}"
    )


async def _create_pg_database(url: str) -> tuple[str, str]:
    """Create a fresh database next to the one ``url`` names; return (new url, admin dsn)."""
    base, _, _ = url.rpartition("/")
    admin = base.replace("postgres://", "postgresql://", 1) + "/postgres"
    name = f"wallet_test_{os.getpid()}_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(admin, timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"{base}/{name}", admin


async def _drop_pg_database(admin: str, name: str) -> None:
    conn = await asyncpg.connect(admin, timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def tmp_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def standin() -> Iterator[StandinServer]:
    """The WeChat stand-in on a free loopback port, for the whole run."""
    with StandinServer(app_id=WECHAT_APP_ID, app_secret=WECHAT_APP_SECRET) as server:
        yield server


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str | None]:
    """This run's own Redis database (leased: see tests/redis_lease.py), or None."""
    url = os.environ.get("REDIS_URL")
    if not url:
        yield None
        return
    if url.startswith(("redis+cluster://", "rediss+cluster://")):
        yield url  # a cluster of the run's own (tests/redis_cluster.py): only database 0
        return
    try:
        lease = lease_database(url)
    except RedisBusy as exc:
        pytest.exit(str(exc), returncode=2)
    try:
        yield lease.url
    finally:
        lease.release()


@pytest.fixture(scope="session")
async def settings(
    tmp_data_dir: Path, standin: StandinServer, redis_url: str | None
) -> AsyncIterator[Settings]:
    env_db = os.environ.get("DATABASE_URL", "")
    admin = None
    if env_db.startswith("postgres"):
        db_url, admin = await _create_pg_database(env_db)
    else:
        db_url = f"sqlite://{tmp_data_dir / 'wallet.sqlite3'}"
    resolved = load_settings(
        database_url=db_url,
        redis_url=redis_url,
        data_dir=tmp_data_dir,
        master_key=TEST_MASTER_KEY,
        master_key_file=None,
        wechat_app_id=WECHAT_APP_ID,
        wechat_app_secret=WECHAT_APP_SECRET,
        wechat_api_base=standin.url,
        wechat_claim_template_id=CLAIM_TEMPLATE,
        # A test deployment: the registry identity provider on PostgreSQL and Redis.
        deployment="test",
        # Tests run their own aggregation workers against their own ministry stand-in.
        aggregation_in_serve=False,
        # Likewise the holder notifier: tests run it on their own clock.
        notify_in_serve=False,
    )
    await migrate_database(resolved)
    yield resolved
    if admin is not None:
        await _drop_pg_database(admin, db_url.rpartition("/")[2])


@pytest.fixture(scope="session")
async def served(settings: Settings) -> AsyncIterator[LifespanApp]:
    async with LifespanApp(create_app(settings)) as app:
        yield app


@pytest.fixture(scope="session")
def runtime(served: LifespanApp) -> Runtime:
    rt: Runtime = served.state["runtime"]
    return rt


async def _empty_tables() -> None:
    conn = connections.get("default")
    tables = [m._meta.db_table for m in Tortoise.apps.get_models_iterable()]
    if conn.capabilities.dialect == "postgres":
        await conn.execute_script(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
    else:
        await conn.execute_script(
            "PRAGMA foreign_keys = OFF; "
            + " ".join(f'DELETE FROM "{t}";' for t in tables)
            + " PRAGMA foreign_keys = ON;"
        )


@pytest.fixture
async def rt(runtime: Runtime) -> Runtime:
    """The session runtime, with empty tables and an empty cache for this test."""
    # Rows of an earlier test (a group-commit insert in flight, a spool drain running in
    # the background) must land before the tables are emptied, not after.
    await runtime.verifier.log.settle()
    await _empty_tables()
    await runtime.cache.flushdb()
    runtime.verifier.forget_trust()  # its keys were just deleted beneath it
    runtime.publication.forget()  # likewise the status lists it signed with them
    return runtime


@pytest.fixture
async def client(served: LifespanApp, rt: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """HTTP through the combined app (real lifespan, real database and cache)."""
    transport = httpx.ASGITransport(app=served)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
async def holder(rt: Runtime, standin: StandinServer) -> Runtime:
    """The runtime, with the development identity provider (registry match) and a fresh
    stand-in (its users, codes and sent messages forgotten)."""
    standin.state.reset()
    return rt


@pytest.fixture
async def face_holder(rt: Runtime, standin: StandinServer) -> AsyncIterator[Runtime]:
    """The runtime with WeChat face verification (through the stand-in) as the identity
    provider for this test: the provider is swapped, as a transport would be."""
    standin.state.reset()
    accounts = rt.accounts
    previous, accounts.identity = accounts.identity, accounts.strong
    yield rt
    accounts.identity = previous
