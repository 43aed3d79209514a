"""Every query of the signing-key table."""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q

from wallet.keys.models import KeyStatus, SigningKey
from wallet.uow import UnitOfWork

__all__ = ["KeyRepository"]

_LOCK_KEY = 0x5254454B  # "RTEK": the advisory lock that serialises key changes


class KeyRepository:
    """Queries of ``signing_key``; no per-request state."""

    async def lock(self, uow: UnitOfWork) -> None:
        """Serialise key changes until the transaction ends (PostgreSQL; SQLite has one writer)."""
        if uow.is_postgres:
            await uow.conn.execute_query("SELECT pg_advisory_xact_lock($1)", [_LOCK_KEY])

    async def in_slot(self, uow: UnitOfWork, slot: str, *, lock: bool = False) -> SigningKey | None:
        """The active key of ``slot`` (``use:division``), row-locked with ``lock``."""
        query = SigningKey.filter(active_slot=slot).using_db(uow.conn)
        return await (query.select_for_update() if lock else query).first()

    async def kid_in_slot(self, uow: UnitOfWork, slot: str) -> str | None:
        """Only the kid of the active key of ``slot`` (one indexed lookup)."""
        kid = await (
            SigningKey.filter(active_slot=slot)
            .using_db(uow.conn)
            .first()
            .values_list("kid", flat=True)
        )
        return None if kid is None else str(kid)

    async def by_kid(self, uow: UnitOfWork, kid: str, *, lock: bool = False) -> SigningKey | None:
        """The key ``kid`` whatever its status, row-locked with ``lock``."""
        query = SigningKey.filter(kid=kid).using_db(uow.conn)
        return await (query.select_for_update() if lock else query).first()

    async def trusted(self, uow: UnitOfWork, kid: str) -> SigningKey | None:
        """The key ``kid`` unless it is unknown or revoked."""
        return (
            await SigningKey.filter(kid=kid)
            .using_db(uow.conn)
            .exclude(status=KeyStatus.REVOKED.value)
            .first()
        )

    async def add(self, uow: UnitOfWork, key: SigningKey) -> SigningKey:
        """Insert a new key."""
        await key.save(using_db=uow.conn)
        return key

    async def save(self, uow: UnitOfWork, key: SigningKey, *fields: str) -> None:
        """Write the named fields of ``key``."""
        await key.save(update_fields=list(fields), using_db=uow.conn)

    async def raise_signed_until(self, uow: UnitOfWork, kid: str, until: datetime) -> None:
        """Set ``signed_until`` of ``kid`` to ``until`` where it is earlier or unset."""
        await (
            SigningKey.filter(kid=kid)
            .filter(Q(signed_until__isnull=True) | Q(signed_until__lt=until))
            .using_db(uow.conn)
            .update(signed_until=until)
        )

    async def all(self, uow: UnitOfWork) -> list[SigningKey]:
        """Every key, revoked ones included, by use, division and age."""
        return list(
            await SigningKey.all()
            .using_db(uow.conn)
            .order_by("use", "division", "created_at", "id")
        )
