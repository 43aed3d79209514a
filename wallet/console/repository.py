"""Every query of console users and sessions (``authority_user``, ``console_session``)."""

from __future__ import annotations

from datetime import datetime

from wallet.console.models import AuthorityUser, ConsoleSession
from wallet.uow import UnitOfWork

__all__ = ["ConsoleRepository"]


class ConsoleRepository:
    """Queries of :class:`AuthorityUser` and :class:`ConsoleSession`."""

    async def by_username(
        self, uow: UnitOfWork, username: str, *, lock: bool = False
    ) -> AuthorityUser | None:
        """The user called ``username``."""
        query = AuthorityUser.filter(username=username).using_db(uow.conn)
        if lock and uow.is_postgres:
            query = query.select_for_update()
        return await query.first()

    async def exists(self, uow: UnitOfWork, username: str) -> bool:
        """Whether a user is called ``username``."""
        return await AuthorityUser.filter(username=username).using_db(uow.conn).exists()

    async def add(self, uow: UnitOfWork, user: AuthorityUser) -> AuthorityUser:
        """Insert a user."""
        await user.save(using_db=uow.conn, force_create=True)
        return user

    async def save(self, uow: UnitOfWork, user: AuthorityUser, *fields: str) -> None:
        """Update ``fields`` of a stored user."""
        await user.save(using_db=uow.conn, update_fields=list(fields))

    async def all(self, uow: UnitOfWork) -> list[AuthorityUser]:
        """Every user, by division and username."""
        return await AuthorityUser.all().using_db(uow.conn).order_by("division", "username")

    async def add_session(self, uow: UnitOfWork, session: ConsoleSession) -> None:
        """Insert a session."""
        await session.save(using_db=uow.conn, force_create=True)

    async def live_session(
        self, uow: UnitOfWork, token_hash: str, now: datetime
    ) -> ConsoleSession | None:
        """The session stored under ``token_hash`` if it has not expired by ``now``, with its
        user."""
        return (
            await ConsoleSession.filter(token_hash=token_hash, expires_at__gt=now)
            .using_db(uow.conn)
            .select_related("user")
            .first()
        )

    async def end_session(self, uow: UnitOfWork, token_hash: str) -> None:
        """Delete the session stored under ``token_hash``."""
        await ConsoleSession.filter(token_hash=token_hash).using_db(uow.conn).delete()

    async def end_sessions(self, uow: UnitOfWork, user_id: int) -> None:
        """Delete every session of the user."""
        await ConsoleSession.filter(user_id=user_id).using_db(uow.conn).delete()

    async def purge_expired(self, uow: UnitOfWork, now: datetime) -> None:
        """Delete the sessions that expired by ``now``."""
        await ConsoleSession.filter(expires_at__lte=now).using_db(uow.conn).delete()
