"""wallet.db: storage outages become one :class:`Unavailable` naming the dependency."""

from __future__ import annotations

import asyncpg.exceptions
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeout
from tortoise.exceptions import DBConnectionError, IntegrityError

from wallet.db import map_storage_errors
from wallet.errors import NotFound, Unavailable


@pytest.mark.parametrize(
    "error",
    [RedisConnectionError("refused"), RedisTimeout("timed out"), ResponseError("READONLY")],
)
@pytest.mark.parametrize("io_errors", ["database", "cache"])
def test_redis_errors_name_the_cache(error: Exception, io_errors: str) -> None:
    with pytest.raises(Unavailable) as caught, map_storage_errors(io_errors):
        raise error
    assert caught.value.extra["dependency"] == "cache"
    assert caught.value.status == 503
    assert caught.value.__cause__ is error


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.ConnectionDoesNotExistError("closed"),
        asyncpg.exceptions.AdminShutdownError("shutting down"),
        asyncpg.exceptions.CannotConnectNowError("starting up"),
        asyncpg.exceptions.InterfaceError("connection is closed"),
        DBConnectionError("no pool"),
    ],
)
@pytest.mark.parametrize("io_errors", ["database", "cache"])
def test_database_driver_errors_name_the_database(error: Exception, io_errors: str) -> None:
    with pytest.raises(Unavailable) as caught, map_storage_errors(io_errors):
        raise error
    assert caught.value.extra["dependency"] == "database"


@pytest.mark.parametrize("error", [ConnectionRefusedError(111, "refused"), TimeoutError()])
@pytest.mark.parametrize("io_errors", ["database", "cache"])
def test_plain_io_errors_name_the_dependency_the_block_talks_to(
    error: Exception, io_errors: str
) -> None:
    with pytest.raises(Unavailable) as caught, map_storage_errors(io_errors):
        raise error
    assert caught.value.extra["dependency"] == io_errors


@pytest.mark.parametrize("error", [NotFound("no such thing"), IntegrityError("dup"), KeyError("x")])
def test_domain_errors_and_bugs_pass_unchanged(error: Exception) -> None:
    with pytest.raises(type(error)) as caught, map_storage_errors():
        raise error
    assert caught.value is error


async def test_it_wraps_awaits_in_async_code() -> None:
    async def refused() -> None:
        raise RedisConnectionError("refused")

    with pytest.raises(Unavailable, match=r"^cache"), map_storage_errors():
        await refused()
