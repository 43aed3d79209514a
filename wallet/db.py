"""Database wiring: the Tortoise configuration, opening, closing and migrating.

One Tortoise app, ``wallet``, spans the model modules of every domain; its
schema changes live in ``wallet/migrations`` and are applied by
``wallet migrate`` (and by ``wallet serve`` on start). Production paths never
call ``generate_schemas``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Literal

from asyncpg.exceptions import (
    InterfaceError,
    InternalClientError,
    OperatorInterventionError,
    PostgresConnectionError,
)
from redis.exceptions import RedisError
from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.api import migrate as _tortoise_migrate

from wallet.errors import Unavailable
from wallet.settings import Settings

__all__ = [
    "DATABASE_OUTAGES",
    "MODEL_MODULES",
    "Dependency",
    "cache_unavailable",
    "close_database",
    "database_unavailable",
    "map_storage_errors",
    "migrate_database",
    "open_database",
    "ping_database",
    "tortoise_config",
]

MODEL_MODULES: list[str] = [
    "wallet.audit.models",
    "wallet.keys.models",
    "wallet.holders.models",
    "wallet.licences.models",
    "wallet.authority.models",
    "wallet.officers.models",
    "wallet.verification.models",
    "wallet.accounts.models",
    "wallet.enterprises.models",
    "wallet.claims.models",
    "wallet.activation.models",
    "wallet.sharing.models",
    "wallet.aggregation.models",
    "wallet.notifications.models",
    "wallet.console.models",
]


DATABASE_OUTAGES: Final[tuple[type[Exception], ...]] = (
    # Refused or reset connections, timeouts, and Tortoise's DBConnectionError.
    OSError,
    # The server closed the connection, or is starting up or shutting down.
    PostgresConnectionError,
    OperatorInterventionError,
    # The client's connection or pool is already closed.
    InterfaceError,
    # The connection's protocol state broke when its server went away mid-operation
    # (seen at COMMIT after the backend was terminated): the connection is unusable.
    InternalClientError,
)
"""What the database driver raises when the database cannot be reached (not a bug)."""


Dependency = Literal["database", "cache"]
"""The storage a :class:`Unavailable` names."""


def database_unavailable(exc: BaseException) -> Unavailable:
    """The :class:`Unavailable` (503, naming the database) for a driver's outage error."""
    return Unavailable(
        f"database: unavailable ({type(exc).__name__}); try again shortly",
        dependency="database",
    )


def cache_unavailable(exc: BaseException) -> Unavailable:
    """The :class:`Unavailable` (503, naming the cache) for a Redis client's outage error."""
    return Unavailable(
        f"cache: unavailable ({type(exc).__name__}); try again shortly",
        dependency="cache",
    )


@contextmanager
def map_storage_errors(io_errors: Dependency = "database") -> Iterator[None]:
    """Translate storage outages raised inside the block into :class:`Unavailable` (503).

    The one boundary between the storage drivers and the domain (as HTTPX's
    ``map_httpcore_exceptions``), used by :func:`wallet.uow.unit_of_work`,
    :func:`wallet.uow.read_only` and the code that talks to the cache::

        with map_storage_errors("cache"):
            raw = await cache.get(key)

    - ``redis.exceptions.RedisError`` (refused, reset, timed out, read-only
      replica, a failed pipeline) names the ``cache``;
    - the database driver's connection errors (:data:`DATABASE_OUTAGES`:
      asyncpg's connection, operator-intervention and interface errors,
      Tortoise's ``DBConnectionError``) name the ``database``;
    - a plain ``OSError`` (``TimeoutError`` included), which either client can
      let through, names ``io_errors``: the dependency the block talks to.

    Anything else (a :class:`~wallet.errors.WalletError`, a bug) and
    cancellation pass unchanged. Works around ``await`` in async code.
    """
    try:
        yield
    except RedisError as exc:
        raise cache_unavailable(exc) from exc
    except DATABASE_OUTAGES as exc:
        plain_io = isinstance(exc, OSError) and not isinstance(exc, DBConnectionError)
        if plain_io and io_errors == "cache":
            raise cache_unavailable(exc) from exc
        raise database_unavailable(exc) from exc


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config dict for ``database_url`` (shared by app, CLI and migrations)."""
    connection: str | dict[str, Any] = database_url
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Tortoise's SQLite engine, with transactions that take the write lock at BEGIN.
        connection = expand_db_url(database_url)
        connection["engine"] = "wallet.sqlite_engine"
    return {
        "connections": {"default": connection},
        "apps": {
            "wallet": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "wallet.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_database(settings: Settings) -> None:
    """Initialise Tortoise for this process (connections open lazily)."""
    await Tortoise.init(config=tortoise_config(settings.database_url), _enable_global_fallback=True)


async def close_database() -> None:
    """Close every connection this process opened."""
    await Tortoise.close_connections()


async def migrate_database(settings: Settings) -> None:
    """Apply every pending migration, then leave Tortoise closed."""
    await _tortoise_migrate(config=tortoise_config(settings.database_url))
    await Tortoise.close_connections()


async def ping_database() -> None:
    """Raise :class:`Unavailable` unless a trivial query succeeds."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception as exc:  # any driver error means "not reachable"
        raise Unavailable(f"database: {type(exc).__name__}") from exc
