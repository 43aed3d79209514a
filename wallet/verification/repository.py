"""Every query of the verification log (``verification_record``).

Each method runs on the caller's unit of work (:func:`wallet.uow.read_only`
on the scan path; the log's inserts are single statements).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Final

from wallet.uow import UnitOfWork
from wallet.verification.models import VerificationRecord
from wallet.verification.spool import SPOOL_COLUMNS, SpoolRow

__all__ = ["VerificationRepository"]

# PostgreSQL: a whole batch of log rows as one statement (one array per column).
# A record id already stored is skipped: that is what makes a spool drain idempotent.
_INSERT_ROWS: Final = (
    'INSERT INTO "verification_record" ("record_id", "at", "officer_id", "officer_badge", '
    '"officer_division", "device_id", "mode", "verdict", "licence_ref", "token_id") '
    "SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::varchar[], "
    "$5::varchar[], $6::varchar[], $7::varchar[], $8::varchar[], $9::varchar[], "
    '$10::varchar[]) ON CONFLICT ("record_id") DO NOTHING'
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
        """The licence's records, newest first, with ids below ``before``; at most ``limit``."""
        query = VerificationRecord.filter(licence_ref=ref)
        if before is not None:
            query = query.filter(id__lt=before)
        return await query.order_by("-id").limit(limit).using_db(uow.conn)
