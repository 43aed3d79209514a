"""Upkeep of the verification log's monthly partitions (PostgreSQL).

The log is partitioned by month of ``at`` in UTC (migration 0013):
``verification_record_pYYYYMM`` and a DEFAULT partition for anything no
month covers. :func:`keep_partitions` makes the months ahead before they
begin (a row caught by DEFAULT meanwhile moves into its month) and drops the
months past the retention, with the DEFAULT partition's rows as old. Where
the log is one table (SQLite, the embedded default) it does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from wallet.uow import UnitOfWork
from wallet.verification.repository import VerificationRepository

__all__ = ["AHEAD_MONTHS", "PartitionUpkeep", "keep_partitions", "partition_name"]

AHEAD_MONTHS: Final = 3
"""Months after the current one whose partitions exist before they begin."""

_MONTH_PARTITION = re.compile(r"verification_record_p([0-9]{4})([0-9]{2})")


@dataclass
class PartitionUpkeep:
    """What :func:`keep_partitions` did; ``partitioned`` is false where the log is one table."""

    partitioned: bool
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    moved: int = 0
    """Rows moved from the DEFAULT partition into a month made for them."""
    purged: int = 0
    """Rows past the retention deleted from the DEFAULT partition."""


def _month(year: int, month: int, plus: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + plus
    return index // 12, index % 12 + 1


def _start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def partition_name(year: int, month: int) -> str:
    """The partition of one month: ``verification_record_p202611``."""
    return f"verification_record_p{year:04d}{month:02d}"


async def keep_partitions(
    uow: UnitOfWork,
    records: VerificationRepository,
    now: datetime,
    retention_months: int | None,
    ahead: int = AHEAD_MONTHS,
) -> PartitionUpkeep:
    """Make the partitions of this month and ``ahead`` more; drop those past the retention.

    The current month and the ``retention_months - 1`` before it are kept;
    ``retention_months=None`` drops nothing (``wallet migrate`` makes months
    ahead without deleting). Run it in one unit of work: a month that moves
    rows out of DEFAULT must move them all or none.
    """
    names = await records.partitions(uow)
    if names is None:
        return PartitionUpkeep(partitioned=False)
    upkeep = PartitionUpkeep(partitioned=True)
    now = now.astimezone(UTC)
    for plus in range(ahead + 1):
        year, month = _month(now.year, now.month, plus)
        name = partition_name(year, month)
        if name in names:
            continue
        upkeep.moved += await records.add_partition(
            uow,
            name,
            _start(year, month).isoformat(),
            _start(*_month(year, month, 1)).isoformat(),
        )
        upkeep.created.append(name)
    if retention_months is None:
        return upkeep
    first_kept = _month(now.year, now.month, 1 - retention_months)
    for name in names:
        found = _MONTH_PARTITION.fullmatch(name)
        if found and (int(found[1]), int(found[2])) < first_kept:
            await records.drop_partition(uow, name)
            upkeep.dropped.append(name)
    upkeep.purged = await records.purge_default(uow, _start(*first_kept))
    return upkeep
