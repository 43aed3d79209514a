"""Whether the grant behind an annotated copy is still live, read through the sharing tables.

Live: the grant exists, covers the licence the copy names, is not revoked
and has not ended. Its use count does not matter: a copy is what one of its
uses produced, and it stays good while the grant does.
"""

from __future__ import annotations

from wallet.clock import Clock
from wallet.sharing.repository import SharingRepository
from wallet.uow import UnitOfWork

__all__ = ["SharedGrants"]


class SharedGrants:
    """:class:`~wallet.verification.service.GrantLiveness` over the sharing repository."""

    def __init__(self, repository: SharingRepository, clock: Clock) -> None:
        self.repository, self.clock = repository, clock

    async def grant_live(self, uow: UnitOfWork, grant_id: str, ref: str) -> bool | None:
        grant = await self.repository.grant_by_public_id(uow, grant_id)
        if grant is None or grant.revoked_at is not None or grant.expires_at <= self.clock.now():
            return False
        return await self.repository.grant_covers(uow, grant.id, ref) is not None
