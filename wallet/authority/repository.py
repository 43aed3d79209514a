"""Every query of the authority API's clients and the nonces of their signed requests."""

from __future__ import annotations

from datetime import datetime

from tortoise.exceptions import IntegrityError

from wallet.authority.models import AuthorityClient, AuthorityNonce
from wallet.uow import UnitOfWork

__all__ = ["AuthorityRepository"]


class AuthorityRepository:
    """Queries of ``authority_client`` and ``authority_nonce``; no per-request state."""

    async def by_client_id(self, uow: UnitOfWork, client_id: str) -> AuthorityClient | None:
        """The client ``client_id`` (enabled or not), or ``None``."""
        return await AuthorityClient.get_or_none(client_id=client_id, using_db=uow.conn)

    async def add(self, uow: UnitOfWork, client: AuthorityClient) -> AuthorityClient:
        """Insert a new client."""
        await client.save(using_db=uow.conn)
        return client

    async def all(self, uow: UnitOfWork) -> list[AuthorityClient]:
        """Every client, oldest first."""
        return list(await AuthorityClient.all().using_db(uow.conn).order_by("id"))

    async def record_nonce(
        self, uow: UnitOfWork, key: str, *, now: datetime, until: datetime
    ) -> bool:
        """Record the nonce ``key`` until ``until``; False if it is already recorded.

        Nonces whose time has passed (before ``now``) are dropped first: their
        requests are stale anyway, and this keeps the table small.
        """
        await AuthorityNonce.filter(expires_at__lt=now).using_db(uow.conn).delete()
        try:
            await AuthorityNonce.create(key=key, expires_at=until, using_db=uow.conn)
        except IntegrityError:
            return False
        return True
