"""Every query of the audit chain: its entries and its head row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wallet.audit.models import AuditEntry, AuditHead
from wallet.uow import UnitOfWork

__all__ = ["AuditRepository"]

_LOCK_KEY = 0x52544541  # "RTEA": the advisory lock that serialises appends
_HEAD_ID = 1


class AuditRepository:
    """Queries of ``audit_entry`` and ``audit_head``; no per-request state."""

    async def lock(self, uow: UnitOfWork) -> None:
        """Serialise appends until the transaction ends (PostgreSQL; SQLite has one writer)."""
        if uow.is_postgres:
            await uow.conn.execute_query("SELECT pg_advisory_xact_lock($1)", [_LOCK_KEY])

    async def head(self, uow: UnitOfWork) -> AuditHead | None:
        """The chain head (last id and hash), or ``None`` before the first entry."""
        return await AuditHead.get_or_none(id=_HEAD_ID, using_db=uow.conn)

    async def add(
        self,
        uow: UnitOfWork,
        *,
        entry_id: int,
        at: datetime,
        actor: str,
        action: str,
        subject: str,
        detail: dict[str, Any],
        prev_hash: str,
        digest: str,
    ) -> AuditEntry:
        """Insert one entry (entries are never updated)."""
        return await AuditEntry.create(
            id=entry_id,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            detail=detail,
            prev_hash=prev_hash,
            hash=digest,
            using_db=uow.conn,
        )

    async def move_head(
        self, uow: UnitOfWork, head: AuditHead | None, entry_id: int, digest: str
    ) -> None:
        """Point the head at the entry just added (creating the head for the first one)."""
        if head is None:
            await AuditHead.create(
                id=_HEAD_ID, last_id=entry_id, last_hash=digest, using_db=uow.conn
            )
        else:
            await (
                AuditHead.filter(id=_HEAD_ID)
                .using_db(uow.conn)
                .update(last_id=entry_id, last_hash=digest)
            )

    async def entry(self, uow: UnitOfWork, entry_id: int) -> AuditEntry | None:
        """The entry ``entry_id``, or ``None``."""
        return await AuditEntry.filter(id=entry_id).using_db(uow.conn).first()

    async def entries_after(self, uow: UnitOfWork, last_id: int, limit: int) -> list[AuditEntry]:
        """Up to ``limit`` entries with an id above ``last_id``, in id order."""
        return list(
            await AuditEntry.filter(id__gt=last_id).using_db(uow.conn).order_by("id").limit(limit)
        )
