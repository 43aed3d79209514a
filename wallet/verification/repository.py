"""Every query of the verification log (``verification_record``).

Each method runs on the caller's unit of work (:func:`wallet.uow.read_only`
on the scan path; the log's inserts are single statements).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Final

from tortoise.expressions import Q

from wallet.uow import UnitOfWork
from wallet.verification.models import VerificationRecord
from wallet.verification.spool import SPOOL_COLUMNS, SpoolRow

__all__ = ["VerificationRepository"]

# PostgreSQL: a whole batch of log rows as one statement (one array per column).
# A record already stored is skipped: that is what makes a spool drain idempotent. The
# conflict target holds the partition key (a partitioned table's unique constraints
# must), and a spooled row keeps its time, so a drain repeated meets the same pair.
_PARTITIONS: Final = (
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = to_regclass('verification_record') ORDER BY 1"
)
_IS_PARTITIONED: Final = (
    "SELECT count(*) FROM pg_partitioned_table WHERE partrelid = to_regclass('verification_record')"
)
DEFAULT_PARTITION: Final = "verification_record_default"

_INSERT_ROWS: Final = (
    'INSERT INTO "verification_record" ("record_id", "at", "officer_id", "officer_badge", '
    '"officer_division", "device_id", "mode", "verdict", "licence_ref", "token_id") '
    "SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::varchar[], "
    "$5::varchar[], $6::varchar[], $7::varchar[], $8::varchar[], $9::varchar[], "
    '$10::varchar[]) ON CONFLICT ("record_id", "at") DO NOTHING'
)


class VerificationRepository:
    """Queries of :class:`VerificationRecord`."""

    async def insert_rows(self, uow: UnitOfWork, rows: Sequence[SpoolRow]) -> None:
        """Insert ``rows`` (in :data:`SPOOL_COLUMNS` order), skipping record ids already stored."""
        if uow.is_postgres:
            # One statement, one round trip, whatever the batch size
            # (the ORM's bulk insert takes a transaction and a row each).
            columns = [list(column) for column in zip(*rows, strict=True)]
            await uow.conn.execute_query(_INSERT_ROWS, columns)
        else:
            await VerificationRecord.bulk_create(
                [VerificationRecord(**dict(zip(SPOOL_COLUMNS, row, strict=True))) for row in rows],
                ignore_conflicts=True,
                using_db=uow.conn,
            )

    async def seen_elsewhere(
        self, uow: UnitOfWork, token_id: str, officer_id: int, device_id: str, since: datetime
    ) -> bool:
        """Whether ``token_id`` was logged since ``since`` by another officer or device."""
        return await (
            VerificationRecord.filter(token_id=token_id, at__gte=since)
            .exclude(officer_id=officer_id, device_id=device_id)
            .using_db(uow.conn)
            .exists()
        )

    async def verified_by(
        self,
        uow: UnitOfWork,
        officer_id: int,
        ref: str,
        since: datetime,
        verdicts: Collection[str],
        modes: Collection[str],
    ) -> bool:
        """Whether the officer verified ``ref`` since ``since`` in ``modes`` with ``verdicts``."""
        return await (
            VerificationRecord.filter(
                officer_id=officer_id,
                licence_ref=ref,
                at__gte=since,
                verdict__in=list(verdicts),
                mode__in=list(modes),
            )
            .using_db(uow.conn)
            .exists()
        )

    async def history(
        self, uow: UnitOfWork, ref: str, before: int | None, limit: int
    ) -> list[VerificationRecord]:
        """The licence's records, newest first, after record ``before``; at most ``limit``.

        Newest by time, then id: one index range a partition
        (``licence_ref, at DESC, id DESC``), merged, read no further than the
        page. A ``before`` that is no record of the licence (dropped with its
        month, or never one) ends the list.
        """
        query = VerificationRecord.filter(licence_ref=ref)
        if before is not None:
            anchor = (
                await VerificationRecord.filter(licence_ref=ref, id=before)
                .using_db(uow.conn)
                .first()
                .values_list("at", flat=True)
            )
            if anchor is None:
                return []
            # at <= anchor lets PostgreSQL skip the later months' partitions.
            query = query.filter(Q(at__lt=anchor) | Q(at=anchor, id__lt=before), at__lte=anchor)
        return await query.order_by("-at", "-id").limit(limit).using_db(uow.conn)

    # -- monthly partitions (PostgreSQL) ------------------------------------------------

    async def partitions(self, uow: UnitOfWork) -> list[str] | None:
        """The names of the log's partitions; ``None`` when the log is one table (SQLite)."""
        if not uow.is_postgres:
            return None
        _, rows = await uow.conn.execute_query(_IS_PARTITIONED)
        if not rows[0][0]:
            return None
        _, rows = await uow.conn.execute_query(_PARTITIONS)
        return [str(row[0]) for row in rows]

    async def add_partition(self, uow: UnitOfWork, name: str, start: str, end: str) -> int:
        """Make partition ``name`` for ``[start, end)``; the rows it takes from DEFAULT.

        Rows the DEFAULT partition caught in that range move into it (the
        partition cannot be made over them). One script, so one transaction
        even outside a unit of work: the rows move whole or stay. ``name``,
        ``start`` and ``end`` come from the caller's own calendar, never from
        input.
        """
        bounds = f"at >= '{start}' AND at < '{end}'"
        _, rows = await uow.conn.execute_query(
            f'SELECT count(*) FROM "{DEFAULT_PARTITION}" WHERE {bounds}'  # noqa: S608
        )
        moved = f"{name}_moved"
        await uow.conn.execute_script(
            f'CREATE TEMP TABLE "{moved}" (LIKE verification_record) ON COMMIT DROP; '  # noqa: S608
            f'WITH gone AS (DELETE FROM "{DEFAULT_PARTITION}" WHERE {bounds} RETURNING *) '
            f'INSERT INTO "{moved}" SELECT * FROM gone; '
            f'CREATE TABLE "{name}" PARTITION OF verification_record '
            f"FOR VALUES FROM ('{start}') TO ('{end}'); "
            f'INSERT INTO verification_record SELECT * FROM "{moved}"; '
            f'DROP TABLE "{moved}"'
        )
        return int(rows[0][0])

    async def drop_partition(self, uow: UnitOfWork, name: str) -> None:
        """Drop partition ``name`` and its rows."""
        await uow.conn.execute_script(f'DROP TABLE "{name}"')

    async def purge_default(self, uow: UnitOfWork, before: datetime) -> int:
        """Delete the DEFAULT partition's rows older than ``before``; how many."""
        _, rows = await uow.conn.execute_query(
            f'WITH gone AS (DELETE FROM "{DEFAULT_PARTITION}" WHERE at < $1 RETURNING 1) '  # noqa: S608
            "SELECT count(*) FROM gone",
            [before],
        )
        return int(rows[0][0])
