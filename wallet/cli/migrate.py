"""``wallet migrate``: apply pending database migrations."""

from __future__ import annotations

import argparse

from wallet.cli._base import Subparsers
from wallet.cli.maintenance import keep_log_partitions
from wallet.db import migrate_database
from wallet.masterkey import load_master_key
from wallet.settings import Settings

__all__ = ["migrate", "register"]


async def migrate(settings: Settings) -> None:
    """Apply pending migrations to the database the settings name."""
    if settings.is_embedded_database:
        # On the embedded defaults the development master key is made before the
        # database, never after it (load_master_key refuses that order).
        load_master_key(settings)
    await migrate_database(settings)


async def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    await migrate(settings)
    print("migrations applied")
    # The verification log's coming months, made before they begin (nothing dropped).
    upkeep = await keep_log_partitions(settings, retention_months=None)
    if upkeep.created:
        print("verification log partitions made: " + ", ".join(upkeep.created))
    return 0


def register(subparsers: Subparsers) -> None:
    """Add ``migrate`` to the ``wallet`` command tree."""
    command = subparsers.add_parser("migrate", help="apply pending database migrations")
    command.set_defaults(handler=_cmd_migrate)
