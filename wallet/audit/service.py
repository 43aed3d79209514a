"""Appending to and verifying the audit chain.

Each entry's hash is SM3 over the previous hash and the entry's canonical
JSON; a head row holds the last id and hash. Appends are serialised (a
PostgreSQL advisory lock, SQLite's single writer) so the chain never forks.
``verify_chain`` walks the table in id order and reports the first break: a
changed entry (hash mismatch), a deleted one (link or head mismatch), or a
reordered one. Details must already be masked: the log holds no clear
personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from wallet.audit.models import AuditEntry
from wallet.audit.repository import AuditRepository
from wallet.crypto import sm3
from wallet.uow import UnitOfWork

__all__ = ["GENESIS", "ChainReport", "append", "entry_hash", "verify_chain"]

GENESIS = "0" * 64
# The chain's queries hold no state: one repository serves every caller.
_repository = AuditRepository()


def entry_hash(
    prev_hash: str,
    entry_id: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: Mapping[str, Any],
) -> str:
    """SM3 over the previous hash and the entry's canonical JSON."""
    canonical = orjson.dumps(
        {
            "id": entry_id,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": detail,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return sm3(bytes.fromhex(prev_hash) + canonical).hex()


async def append(
    uow: UnitOfWork,
    *,
    at: datetime,
    actor: str,
    action: str,
    subject: str = "",
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry inside the caller's unit of work ``uow``."""
    detail = dict(detail or {})
    await _repository.lock(uow)
    head = await _repository.head(uow)
    prev_hash = head.last_hash if head else GENESIS
    entry_id = (head.last_id if head else 0) + 1
    at = at.astimezone(UTC)
    digest = entry_hash(prev_hash, entry_id, at, actor, action, subject, detail)
    entry = await _repository.add(
        uow,
        entry_id=entry_id,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        detail=detail,
        prev_hash=prev_hash,
        digest=digest,
    )
    await _repository.move_head(uow, head, entry_id, digest)
    return entry


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :func:`verify_chain`; ``ok`` with ``entries`` checked, or the first break."""

    ok: bool
    entries: int
    broken_at: int | None = None
    reason: str | None = None


async def verify_chain(uow: UnitOfWork, batch: int = 1000) -> ChainReport:
    """Walk the chain in id order and report the first changed, deleted or reordered entry."""
    prev_hash, expected_id, count, last_id = GENESIS, 1, 0, 0
    while True:
        rows = await _repository.entries_after(uow, last_id, batch)
        if not rows:
            break
        for row in rows:
            if row.id != expected_id:
                return ChainReport(False, count, expected_id, "entry missing (deleted)")
            if row.prev_hash != prev_hash:
                return ChainReport(False, count, row.id, "link to previous entry broken")
            digest = entry_hash(
                prev_hash, row.id, row.at, row.actor, row.action, row.subject, row.detail
            )
            if digest != row.hash:
                return ChainReport(False, count, row.id, "entry changed")
            prev_hash, expected_id, last_id = row.hash, row.id + 1, row.id
            count += 1
    head = await _repository.head(uow)
    if head is None:
        if count:
            return ChainReport(False, count, None, "chain head missing")
        return ChainReport(True, 0)
    if head.last_id != last_id or head.last_hash != prev_hash:
        return ChainReport(False, count, last_id + 1, "entries after the last one deleted")
    return ChainReport(True, count)
