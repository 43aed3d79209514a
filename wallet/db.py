"""Database wiring: the Tortoise configuration, opening, closing and migrating.

One Tortoise app, ``wallet``, spans the model modules of every domain; its
schema changes live in ``wallet/migrations`` and are applied by
``wallet migrate`` (and by ``wallet serve`` on start). Production paths never
call ``generate_schemas``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from asyncpg.exceptions import InterfaceError, OperatorInterventionError, PostgresConnectionError
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate as _tortoise_migrate

from wallet.errors import Unavailable
from wallet.settings import Settings

__all__ = [
    "DATABASE_OUTAGES",
    "MODEL_MODULES",
    "close_database",
    "database_unavailable",
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
]


DATABASE_OUTAGES: Final[tuple[type[Exception], ...]] = (
    # Refused or reset connections, timeouts, and Tortoise's DBConnectionError.
    OSError,
    # The server closed the connection, or is starting up or shutting down.
    PostgresConnectionError,
    OperatorInterventionError,
    # The client's connection or pool is already closed.
    InterfaceError,
)
"""What the database driver raises when the database cannot be reached (not a bug)."""


def database_unavailable(exc: BaseException) -> Unavailable:
    """The :class:`Unavailable` (503, naming the database) for a driver's outage error."""
    return Unavailable(
        f"database: unavailable ({type(exc).__name__}); try again shortly",
        dependency="database",
    )


def tortoise_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config dict for ``database_url`` (shared by app, CLI and migrations)."""
    if database_url.startswith("sqlite://"):
        path = database_url.removeprefix("sqlite://")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": database_url},
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
