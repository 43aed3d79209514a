"""Every query of holder accounts.

Each method runs on the caller's unit of work (a transaction, or
:func:`wallet.uow.read_only` for reads).
"""

from __future__ import annotations

import uuid

from wallet.accounts.models import Account
from wallet.uow import UnitOfWork

__all__ = ["AccountRepository"]


class AccountRepository:
    """Queries of :class:`Account`."""

    async def get(self, uow: UnitOfWork, account_id: uuid.UUID) -> Account | None:
        """The account with ``account_id``."""
        return await Account.filter(id=account_id).using_db(uow.conn).first()

    async def locked(self, uow: UnitOfWork, account_id: uuid.UUID) -> Account | None:
        """The account, locked for the transaction (PostgreSQL; SQLite serialises writers)."""
        query = Account.filter(id=account_id).using_db(uow.conn)
        if uow.is_postgres:
            query = query.select_for_update()
        return await query.first()

    async def by_openid(self, uow: UnitOfWork, openid_index: str) -> Account | None:
        """The account whose WeChat openid has the blind index ``openid_index``."""
        return await Account.filter(openid_index=openid_index).using_db(uow.conn).first()

    async def bound_to(self, uow: UnitOfWork, person_id: uuid.UUID) -> Account | None:
        """The account ``person_id`` is bound to, if any."""
        return await Account.filter(person_id=person_id).using_db(uow.conn).first()

    async def is_bound(self, uow: UnitOfWork, person_id: uuid.UUID) -> bool:
        """Whether some account is bound to ``person_id``."""
        return await Account.filter(person_id=person_id).using_db(uow.conn).exists()

    async def person_of(
        self, uow: UnitOfWork, account_id: uuid.UUID
    ) -> tuple[bool, uuid.UUID | None]:
        """``(exists, bound person id)`` of an account, in one indexed query."""
        rows = (
            await Account.filter(id=account_id)
            .using_db(uow.conn)
            .values_list("person_id", flat=True)
        )
        if not rows:
            return False, None
        return True, uuid.UUID(str(rows[0])) if rows[0] else None

    async def add(self, uow: UnitOfWork, account: Account) -> None:
        """Insert ``account`` (``IntegrityError`` when its openid is taken meanwhile)."""
        await account.save(using_db=uow.conn, force_create=True)

    async def save(self, uow: UnitOfWork, account: Account, *fields: str) -> None:
        """Write the named columns of ``account``."""
        await account.save(using_db=uow.conn, update_fields=list(fields))
