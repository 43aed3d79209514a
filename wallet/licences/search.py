"""Search: licences by kind, status and division, or by an identifier's blind index.

Also the division scopes of authority clients: a client acts only on
licences issued inside its division prefix, and a licence outside it does
not exist for the client (a 403 would tell which references are real).
"""

from __future__ import annotations

from wallet import identifiers
from wallet.clock import Clock
from wallet.errors import Forbidden
from wallet.holders.repository import HolderRepository
from wallet.licences.builders import RecordBuilder
from wallet.licences.catalogue import get_kind
from wallet.licences.models import Licence
from wallet.licences.repository import NO_PERSON, LicenceRepository
from wallet.licences.schemas import LicenceOut, SearchIn
from wallet.licences.views import licence_view
from wallet.uow import UnitOfWork

__all__ = ["LicenceSearch", "check_scope", "division_scope", "in_scope"]


def in_scope(scope: str | None, division: str) -> bool:
    """Whether ``division`` lies inside a client's division prefix (None = everywhere)."""
    return not scope or division.startswith(scope)


def check_scope(scope: str | None, division: str) -> None:
    """An authority client acts only inside its division prefix (None = everywhere)."""
    if not in_scope(scope, division):
        raise Forbidden("this client may not act on licences of that division")


def division_scope(division: str | None) -> str | None:
    """``210000`` → ``21``, ``210100`` → ``2101``, ``210102`` → ``210102``, None → None."""
    if not division or division == "000000":
        return None
    if division.endswith("0000"):
        return division[:2]
    if division.endswith("00"):
        return division[:4]
    return division


class LicenceSearch:
    """Exact-match search with keyset pagination (identifiers matched by blind index)."""

    def __init__(
        self,
        licences: LicenceRepository,
        holders: HolderRepository,
        builder: RecordBuilder,
        clock: Clock,
    ) -> None:
        self.licences = licences
        self.holders = holders
        self.builder = builder
        self.clock = clock

    async def find(
        self,
        uow: UnitOfWork,
        query: SearchIn,
        *,
        status: str | None = None,
        division: str | None = None,
        scope: str | None = None,
    ) -> list[Licence]:
        """Licences matching ``query``, ordered by ref, one more than ``query.limit`` when
        there are more."""
        person_id = None
        if query.id_number:
            index = self.builder.person_index(query.id_number)
            person = await self.holders.person_by_id_number(uow, index)
            person_id = person.id if person else NO_PERSON
        return await self.licences.search(
            uow,
            kind=query.kind,
            status=status,
            number_index=self.builder.number_index(query.number) if query.number else None,
            person_id=person_id,
            uscc=query.uscc.upper() if query.uscc else None,
            plate_number=(
                identifiers.plate_number(query.plate_number) if query.plate_number else None
            ),
            division_prefixes=[p for p in (scope, division_scope(division)) if p],
            after=query.cursor,
            limit=query.limit + 1,
        )

    async def search(
        self,
        uow: UnitOfWork,
        query: SearchIn,
        *,
        status: str | None = None,
        division: str | None = None,
        scope: str | None = None,
    ) -> tuple[list[LicenceOut], str | None]:
        """One page of views and the cursor of the next page (``None`` on the last)."""
        rows = await self.find(uow, query, status=status, division=division, scope=scope)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        today = self.clock.now().date()
        items = [licence_view(r, get_kind(r.kind), today) for r in rows]
        return items, (rows[-1].ref if more and rows else None)
