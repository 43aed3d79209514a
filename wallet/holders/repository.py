"""Every query of the holder tables: people and enterprises.

Each method runs on the caller's unit of work (a transaction, or
:func:`wallet.uow.read_only` for reads).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TypeVar

from wallet.holders.models import Enterprise, Person, Vehicle
from wallet.uow import UnitOfWork

__all__ = ["HolderRecord", "HolderRepository", "legal_rep_of"]

HolderRecord = TypeVar("HolderRecord", Person, Enterprise, Vehicle)


def legal_rep_of(enterprise: Enterprise) -> uuid.UUID | None:
    """The enterprise's legal representative column (a person id)."""
    value: uuid.UUID | None = enterprise.legal_rep_id  # type: ignore[attr-defined]
    return value


class HolderRepository:
    """Queries of :class:`Person` and :class:`Enterprise`."""

    async def person(self, uow: UnitOfWork, person_id: uuid.UUID) -> Person:
        """The person with ``person_id`` (it must exist)."""
        return await Person.filter(id=person_id).using_db(uow.conn).get()

    async def person_by_id_number(self, uow: UnitOfWork, index: str) -> Person | None:
        """The person whose resident ID number has the blind index ``index``."""
        return await Person.filter(id_number_index=index).using_db(uow.conn).first()

    async def add_person(self, uow: UnitOfWork, person: Person) -> Person:
        """Insert ``person`` (``IntegrityError`` when its ID number is taken meanwhile)."""
        await person.save(using_db=uow.conn, force_create=True)
        return person

    async def enterprise_by_uscc(
        self, uow: UnitOfWork, uscc: str, *, lock: bool = False
    ) -> Enterprise | None:
        """The enterprise with ``uscc``; locked for the transaction when ``lock`` (PostgreSQL)."""
        query = Enterprise.filter(uscc=uscc).using_db(uow.conn)
        if lock and uow.is_postgres:
            query = query.select_for_update()
        return await query.first()

    async def enterprises(self, uow: UnitOfWork, ids: list[uuid.UUID]) -> list[Enterprise]:
        """The enterprises with these ids, by USCC."""
        return await Enterprise.filter(id__in=ids).using_db(uow.conn).order_by("uscc")

    async def usccs(self, uow: UnitOfWork, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The USCC of each enterprise id."""
        rows = await Enterprise.filter(id__in=ids).using_db(uow.conn).values_list("id", "uscc")
        return {uuid.UUID(str(key)): str(value) for key, value in rows}

    async def represented_by(self, uow: UnitOfWork, person_id: uuid.UUID) -> list[uuid.UUID]:
        """The enterprises whose legal representative is ``person_id``."""
        ids = (
            await Enterprise.filter(legal_rep_id=person_id)
            .using_db(uow.conn)
            .values_list("id", flat=True)
        )
        return [uuid.UUID(str(value)) for value in ids]

    async def set_legal_rep(
        self, uow: UnitOfWork, enterprise: Enterprise, person: Person, now: datetime
    ) -> None:
        """Record ``person`` as the enterprise's legal representative."""
        enterprise.legal_rep = person
        enterprise.updated_at = now
        await enterprise.save(using_db=uow.conn, update_fields=["legal_rep_id", "updated_at"])

    # -- holder records of the registry feed (wallet.licences) ------------------------

    async def vehicle_by_plate(self, uow: UnitOfWork, plate: str, colour: str) -> Vehicle | None:
        """The vehicle with this plate number and plate colour."""
        query = Vehicle.filter(plate_number=plate, plate_colour=colour).using_db(uow.conn)
        return await query.first()

    async def persons_by_id_numbers(
        self, uow: UnitOfWork, indexes: Collection[str]
    ) -> list[Person]:
        """The people whose resident ID numbers have these blind indexes."""
        if not indexes:
            return []
        return list(await Person.filter(id_number_index__in=list(indexes)).using_db(uow.conn))

    async def enterprises_by_usccs(
        self, uow: UnitOfWork, usccs: Collection[str]
    ) -> list[Enterprise]:
        """The enterprises with these USCCs."""
        if not usccs:
            return []
        return list(await Enterprise.filter(uscc__in=list(usccs)).using_db(uow.conn))

    async def vehicles_by_plates(self, uow: UnitOfWork, plates: Collection[str]) -> list[Vehicle]:
        """The vehicles with these plate numbers (any plate colour)."""
        if not plates:
            return []
        return list(await Vehicle.filter(plate_number__in=list(plates)).using_db(uow.conn))

    async def save_record(self, uow: UnitOfWork, record: HolderRecord, *, new: bool) -> None:
        """Insert a ``new`` person, enterprise or vehicle, or update a stored one."""
        await record.save(using_db=uow.conn, force_create=new)

    async def update_records(
        self, uow: UnitOfWork, records: Sequence[HolderRecord], fields: Sequence[str]
    ) -> None:
        """Write ``fields`` of stored records of one type in bulk."""
        if records:
            await type(records[0]).bulk_update(records, list(fields), using_db=uow.conn)
