"""Every query of officer accounts and their sessions (``officer``, ``officer_session``)."""

from __future__ import annotations

from datetime import datetime

from wallet.officers.models import Officer, OfficerSessionRecord
from wallet.uow import UnitOfWork

__all__ = ["OfficerRepository"]


class OfficerRepository:
    """Queries of :class:`Officer` and :class:`OfficerSessionRecord`."""

    async def by_badge(self, uow: UnitOfWork, badge: str, *, lock: bool = False) -> Officer | None:
        """The officer with ``badge``."""
        query = Officer.filter(badge=badge).using_db(uow.conn)
        if lock and uow.is_postgres:
            query = query.select_for_update()
        return await query.first()

    async def exists(self, uow: UnitOfWork, badge: str) -> bool:
        """Whether an officer has ``badge``."""
        return await Officer.filter(badge=badge).using_db(uow.conn).exists()

    async def add(self, uow: UnitOfWork, officer: Officer) -> Officer:
        """Insert an officer."""
        await officer.save(using_db=uow.conn, force_create=True)
        return officer

    async def save(self, uow: UnitOfWork, officer: Officer, *fields: str) -> None:
        """Update ``fields`` of a stored officer."""
        await officer.save(using_db=uow.conn, update_fields=list(fields))

    async def end_sessions(self, uow: UnitOfWork, officer_id: int) -> list[str]:
        """Delete every session of the officer; the token hashes they had."""
        records = OfficerSessionRecord.filter(officer_id=officer_id).using_db(uow.conn)
        ended = [record.token_hash for record in await records.only("token_hash")]
        await OfficerSessionRecord.filter(officer_id=officer_id).using_db(uow.conn).delete()
        return ended

    async def end_session(self, uow: UnitOfWork, token_hash: str) -> None:
        """Delete the session stored under ``token_hash``."""
        await OfficerSessionRecord.filter(token_hash=token_hash).using_db(uow.conn).delete()

    async def purge_expired(self, uow: UnitOfWork, now: datetime) -> None:
        """Delete the sessions that expired by ``now``."""
        await OfficerSessionRecord.filter(expires_at__lte=now).using_db(uow.conn).delete()

    async def add_session(self, uow: UnitOfWork, record: OfficerSessionRecord) -> None:
        """Insert a session."""
        await record.save(using_db=uow.conn, force_create=True)

    async def live_session(
        self, uow: UnitOfWork, token_hash: str, now: datetime
    ) -> OfficerSessionRecord | None:
        """The unexpired session of an enabled officer under ``token_hash``, with its officer."""
        return (
            await OfficerSessionRecord.filter(
                token_hash=token_hash, expires_at__gt=now, officer__enabled=True
            )
            .using_db(uow.conn)
            .select_related("officer")
            .first()
        )

    async def session_stands(self, uow: UnitOfWork, token_hash: str) -> bool:
        """Whether the session under ``token_hash`` is stored and its officer enabled."""
        return (
            await OfficerSessionRecord.filter(token_hash=token_hash, officer__enabled=True)
            .using_db(uow.conn)
            .exists()
        )

    async def all(self, uow: UnitOfWork) -> list[Officer]:
        """Every officer, by division and badge."""
        return list(await Officer.all().using_db(uow.conn).order_by("division", "badge"))
