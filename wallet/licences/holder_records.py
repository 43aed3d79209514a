"""Holder-record creation: the person, operator and vehicle a feed version names.

The feed creates and refreshes these records of the holders domain
(:mod:`wallet.holders`) through its repository: a person is found by the
blind index of their resident ID number, an operator by USCC, a vehicle by
plate number and colour. The rules of what a record holds are the
:class:`~wallet.licences.builders.RecordBuilder`'s, shared with the bulk
importer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from wallet.holders.models import Enterprise, Person, Vehicle
from wallet.holders.repository import HolderRepository
from wallet.licences.builders import HolderRef, RecordBuilder
from wallet.uow import UnitOfWork

__all__ = ["HolderRecords", "ResolvedHolder"]


@dataclass(frozen=True)
class ResolvedHolder:
    """The stored records of the holder ``ref`` names (a person, or an operator and vehicle)."""

    person: Person | None
    enterprise: Enterprise | None
    vehicle: Vehicle | None
    ref: HolderRef


class HolderRecords:
    """Finds, creates and refreshes the holder records of one version, in its unit of work."""

    def __init__(self, holders: HolderRepository, builder: RecordBuilder) -> None:
        self.holders = holders
        self.builder = builder

    async def resolve(self, uow: UnitOfWork, ref: HolderRef, now: datetime) -> ResolvedHolder:
        """The records of ``ref``'s holder, created or refreshed as the version prints them."""
        builder, holders = self.builder, self.holders
        if ref.holder_type == "person":
            person = await holders.person_by_id_number(uow, builder.person_index(ref.code))
            if person is None:
                person = builder.new_person(ref, now)
                await holders.save_record(uow, person, new=True)
            elif builder.refresh_person(person, ref, now):
                await holders.save_record(uow, person, new=False)
            return ResolvedHolder(person, None, None, ref)
        enterprise = await holders.enterprise_by_uscc(uow, ref.code)
        if enterprise is None:
            enterprise = builder.new_enterprise(ref, now)
            await holders.save_record(uow, enterprise, new=True)
        elif builder.refresh_enterprise(enterprise, ref, now):
            await holders.save_record(uow, enterprise, new=False)
        vehicle = None
        if ref.holder_type == "vehicle":
            vehicle = await holders.vehicle_by_plate(uow, ref.plate, ref.colour)
            if vehicle is None:
                vehicle = builder.new_vehicle(ref, enterprise, now)
                await holders.save_record(uow, vehicle, new=True)
            elif builder.refresh_vehicle(vehicle, enterprise, now):
                await holders.save_record(uow, vehicle, new=False)
        return ResolvedHolder(None, enterprise, vehicle, ref)
