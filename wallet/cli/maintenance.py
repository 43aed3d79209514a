"""``wallet maintenance``: periodic upkeep of the database.

``partitions [--retention-months N] [--ahead N] [--json]`` makes the
verification log's monthly partitions for this month and the next ``N``
(default 3) and drops those older than the retention
(``WALLET_VERIFICATION_RETENTION_MONTHS``, default 24), with the DEFAULT
partition's rows as old; run it daily or monthly from a timer. On SQLite it
reports that the log is one table and changes nothing. ``wallet migrate``
makes the months ahead too, and never drops.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from wallet.cli._base import Subparsers
from wallet.cli._output import add_json_flag, emit
from wallet.clock import SystemClock
from wallet.db import close_database, open_database
from wallet.settings import Settings
from wallet.uow import unit_of_work
from wallet.verification.repository import VerificationRepository
from wallet.verification.retention import AHEAD_MONTHS, PartitionUpkeep, keep_partitions

__all__ = ["keep_log_partitions", "register"]

_MAX_AHEAD = 24


async def keep_log_partitions(
    settings: Settings, retention_months: int | None, ahead: int = AHEAD_MONTHS
) -> PartitionUpkeep:
    """Open the database, keep the verification log's partitions, close it again."""
    await open_database(settings)
    try:
        async with unit_of_work() as uow:
            return await keep_partitions(
                uow, VerificationRepository(), SystemClock().now(), retention_months, ahead
            )
    finally:
        await close_database()


def _bounded(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"a whole number from {low} to {high}")
        return value

    return parse


async def _cmd_partitions(args: argparse.Namespace, settings: Settings) -> int:
    months = args.retention_months or settings.verification_retention_months
    upkeep = await keep_log_partitions(settings, months, args.ahead)
    rows = [
        {
            "partitioned": upkeep.partitioned,
            "retention_months": months,
            "created": upkeep.created,
            "dropped": upkeep.dropped,
            "moved_from_default": upkeep.moved,
            "purged_from_default": upkeep.purged,
        }
    ]
    columns = (
        "partitioned",
        "retention_months",
        "created",
        "dropped",
        "moved_from_default",
        "purged_from_default",
    )
    emit(rows, columns, as_json=args.as_json)
    return 0


def register(subparsers: Subparsers) -> None:
    """Add ``maintenance`` to the ``wallet`` command tree."""
    group = subparsers.add_parser("maintenance", help="periodic upkeep of the database")
    sub = group.add_subparsers(dest="maintenance_command", required=True)
    partitions = sub.add_parser(
        "partitions",
        help="make the verification log's coming months, drop those past the retention",
    )
    partitions.add_argument(
        "--retention-months",
        type=_bounded(1, 600),
        default=None,
        help="months kept (default: WALLET_VERIFICATION_RETENTION_MONTHS)",
    )
    partitions.add_argument(
        "--ahead",
        type=_bounded(0, _MAX_AHEAD),
        default=AHEAD_MONTHS,
        help=f"months after this one made ahead (default {AHEAD_MONTHS})",
    )
    add_json_flag(partitions)
    partitions.set_defaults(handler=_cmd_partitions)
