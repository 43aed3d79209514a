"""Every query of the licence tables: licences, versions, status changes, outbox events.

Each method runs on the caller's unit of work (a transaction, or
:func:`wallet.uow.read_only` for reads); ``lock=True`` takes the rows'
locks for the transaction (PostgreSQL; SQLite has a single writer).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import Any

from tortoise.functions import Count, Sum

from wallet.identifiers import province_division
from wallet.licences.models import (
    Licence,
    LicenceVersion,
    OutboxEvent,
    StatusChange,
    StatusListCounter,
)
from wallet.uow import UnitOfWork

__all__ = ["NO_PERSON", "LicenceRepository"]

NO_PERSON = uuid.UUID(int=0)
"""A person id no licence holds: a search for an unknown person finds nothing."""


class LicenceRepository:
    """Queries of :class:`Licence` and the rows that hang off it."""

    async def by_ref(self, uow: UnitOfWork, ref: str, *, lock: bool = False) -> Licence | None:
        """The licence with the public reference ``ref``."""
        query = Licence.filter(ref=ref).using_db(uow.conn)
        if lock and uow.is_postgres:
            query = query.select_for_update()
        return await query.first()

    async def by_number(
        self, uow: UnitOfWork, kind: str, number_index: str, *, lock: bool = False
    ) -> Licence | None:
        """The licence of ``kind`` whose number has the blind index ``number_index``."""
        query = Licence.filter(kind=kind, number_index=number_index).using_db(uow.conn)
        if lock and uow.is_postgres:
            query = query.select_for_update()
        return await query.first()

    async def version(
        self, uow: UnitOfWork, licence_id: uuid.UUID, version: int
    ) -> LicenceVersion | None:
        """Version ``version`` of the licence ``licence_id``."""
        return (
            await LicenceVersion.filter(licence_id=licence_id, version=version)
            .using_db(uow.conn)
            .first()
        )

    async def versions(self, uow: UnitOfWork, licence_id: uuid.UUID) -> list[LicenceVersion]:
        """Every version of the licence, newest first."""
        return (
            await LicenceVersion.filter(licence_id=licence_id)
            .using_db(uow.conn)
            .order_by("-version")
        )

    async def status_changes(
        self, uow: UnitOfWork, licence_id: uuid.UUID, limit: int
    ) -> list[StatusChange]:
        """The licence's status changes, newest first; at most ``limit``."""
        return (
            await StatusChange.filter(licence_id=licence_id)
            .using_db(uow.conn)
            .order_by("-id")
            .limit(limit)
        )

    async def save(
        self, uow: UnitOfWork, licence: Licence, *, fields: Sequence[str] | None = None
    ) -> None:
        """Insert a new licence or update ``fields`` (all when ``None``) of a stored one.

        ``IntegrityError`` when a concurrent writer inserted the same number.
        """
        await licence.save(using_db=uow.conn, update_fields=list(fields) if fields else None)

    async def add_version(self, uow: UnitOfWork, version: LicenceVersion) -> None:
        """Insert a version row (``IntegrityError`` when the number is taken meanwhile)."""
        await version.save(using_db=uow.conn)

    async def add_status_change(self, uow: UnitOfWork, change: StatusChange) -> None:
        """Insert a row of the status history."""
        await change.save(using_db=uow.conn, force_create=True)

    async def add_event(self, uow: UnitOfWork, event: OutboxEvent) -> None:
        """Insert an outbox event (sent after the commit by the aggregation worker)."""
        await event.save(using_db=uow.conn, force_create=True)

    async def search(
        self,
        uow: UnitOfWork,
        *,
        kind: str | None = None,
        status: str | None = None,
        number_index: str | None = None,
        person_id: uuid.UUID | None = None,
        uscc: str | None = None,
        plate_number: str | None = None,
        division_prefixes: Iterable[str] = (),
        after: str | None = None,
        limit: int,
    ) -> list[Licence]:
        """Licences matching every given filter, ordered by ref, after ``after``; at most
        ``limit``. ``division_prefixes`` each narrow the issuing division."""
        filters: dict[str, Any] = {}
        if kind:
            filters["kind"] = kind
        if status:
            filters["status"] = status
        if number_index:
            filters["number_index"] = number_index
        if person_id is not None:
            filters["holder_person_id"] = person_id
        if uscc:
            filters["holder_enterprise__uscc"] = uscc
        if plate_number:
            filters["vehicle__plate_number"] = plate_number
        query = Licence.filter(**filters).using_db(uow.conn)
        for prefix in division_prefixes:
            query = query.filter(issuer_division__startswith=prefix)
        if after:
            query = query.filter(ref__gt=after)
        return list(await query.order_by("ref").limit(limit))

    # -- the bulk importer's batch queries ------------------------------------------

    async def plan_each_batch(self, uow: UnitOfWork) -> None:
        """Have PostgreSQL plan this transaction's ``IN`` queries with their values.

        A generic plan, cached after a few batches while the tables were still
        small or without statistics (a first bulk load), filters the keys row
        by row; planning each batch with its values uses the indexes.
        """
        if uow.is_postgres:
            await uow.conn.execute_script("SET LOCAL plan_cache_mode = force_custom_plan")

    async def ids_by_number(
        self, uow: UnitOfWork, kinds: Collection[str], number_indexes: Collection[str]
    ) -> dict[tuple[str, str], uuid.UUID]:
        """``(kind, number_index) → licence id`` of the licences among these keys."""
        if uow.is_postgres:
            rows = await uow.fetch_rows(
                "SELECT id, kind, number_index FROM licence"
                " WHERE kind = ANY($1::text[]) AND number_index = ANY($2::text[])",
                list(kinds),
                list(number_indexes),
            )
            return {(row[1], row[2]): row[0] for row in rows}
        found = (
            await Licence.filter(kind__in=list(kinds), number_index__in=list(number_indexes))
            .using_db(uow.conn)
            .values_list("id", "kind", "number_index")
        )
        return {(str(kind), str(index)): licence_id for licence_id, kind, index in found}

    async def version_digests(
        self, uow: UnitOfWork, licence_ids: Collection[uuid.UUID], versions: Collection[int]
    ) -> list[tuple[uuid.UUID, int, str]]:
        """``(licence id, version, content digest)`` of these licences' recorded versions."""
        if uow.is_postgres:
            found = await uow.fetch_rows(
                "SELECT licence_id, version, content_digest FROM licence_version"
                " WHERE licence_id = ANY($1::uuid[]) AND version = ANY($2::int[])",
                list(licence_ids),
                list(versions),
            )
            return [(row[0], row[1], row[2]) for row in found]
        rows = (
            await LicenceVersion.filter(licence_id__in=list(licence_ids), version__in=versions)
            .using_db(uow.conn)
            .values_list("licence_id", "version", "content_digest")
        )
        return [(licence_id, int(version), str(digest)) for licence_id, version, digest in rows]

    async def lock_many(self, uow: UnitOfWork, ids: Collection[uuid.UUID]) -> list[Licence]:
        """The licences with these ids, locked for the transaction."""
        query = Licence.filter(id__in=list(ids)).using_db(uow.conn)
        if uow.is_postgres:
            query = query.select_for_update()
        return list(await query)

    async def update_many(
        self, uow: UnitOfWork, licences: Sequence[Licence], fields: Sequence[str]
    ) -> None:
        """Write ``fields`` of stored licences in bulk."""
        if licences:
            await Licence.bulk_update(licences, list(fields), using_db=uow.conn)

    # -- what the holder side reads -------------------------------------------------

    async def by_refs(self, uow: UnitOfWork, refs: Collection[str]) -> list[Licence]:
        """The licences among these public references."""
        return list(await Licence.filter(ref__in=list(refs)).using_db(uow.conn))

    async def of_enterprise(
        self, uow: UnitOfWork, enterprise_id: uuid.UUID, kinds: Collection[str], status: str
    ) -> list[Licence]:
        """The enterprise's licences of these kinds in ``status``."""
        return list(
            await Licence.filter(
                holder_enterprise_id=enterprise_id, kind__in=list(kinds), status=status
            ).using_db(uow.conn)
        )

    async def current_documents(
        self, uow: UnitOfWork, versions: dict[uuid.UUID, int]
    ) -> dict[uuid.UUID, str]:
        """The sealed document of each licence's version given in ``versions`` (id → version)."""
        if not versions:
            return {}
        rows = (
            await LicenceVersion.filter(licence_id__in=list(versions))
            .using_db(uow.conn)
            .values_list("licence_id", "version", "document_sealed")
        )
        found: dict[uuid.UUID, str] = {}
        for licence_id, version, sealed in rows:
            key = uuid.UUID(str(licence_id))
            if versions.get(key) == version:
                found[key] = str(sealed)
        return found

    # -- status lists (the presenter assigns places; the verifier publishes them) ----------

    async def assign_status_idx(self, uow: UnitOfWork, licence_id: uuid.UUID) -> int:
        """The licence's place in its province's status list, assigned on first need.

        Takes the licence's and the province counter's row locks (PostgreSQL),
        so two first needs at once assign one place.
        """
        query = Licence.filter(id=licence_id).using_db(uow.conn)
        if uow.is_postgres:
            query = query.select_for_update()
        licence = await query.get()
        if licence.status_idx is not None:
            return licence.status_idx
        province = province_division(licence.issuer_division)
        counter_q = StatusListCounter.filter(division=province).using_db(uow.conn)
        if uow.is_postgres:
            counter_q = counter_q.select_for_update()
        counter = await counter_q.first()
        if counter is None:
            counter = await StatusListCounter.create(
                division=province, next_idx=0, using_db=uow.conn
            )
        licence.status_idx = counter.next_idx
        counter.next_idx += 1
        await counter.save(using_db=uow.conn, update_fields=["next_idx"])
        await licence.save(using_db=uow.conn, update_fields=["status_idx"])
        return licence.status_idx

    async def status_list_size(self, uow: UnitOfWork, province: str) -> int:
        """How many places the province's status list has assigned."""
        counter = await StatusListCounter.filter(division=province).using_db(uow.conn).first()
        return counter.next_idx if counter else 0

    async def status_list_stamp(self, uow: UnitOfWork, province: str) -> tuple[int, int]:
        """``(placed licences, sum of their status_seq)`` of the province: it changes with
        every status or version change of any of them (one aggregate, no rows read)."""
        stamp = (
            await Licence.filter(issuer_division__startswith=province[:2], status_idx__isnull=False)
            .using_db(uow.conn)
            .annotate(placed=Count("id"), changes=Sum("status_seq"))
            .values("placed", "changes")
        )
        row = stamp[0] if stamp else {}
        return int(row.get("placed") or 0), int(row.get("changes") or 0)

    async def status_entries(
        self, uow: UnitOfWork, province: str
    ) -> list[tuple[int, str, date | None]]:
        """``(status_idx, status, valid_until)`` of every placed licence of the province."""
        if uow.is_postgres:  # a million rows: plain tuples, not the query builder's dicts
            found = await uow.fetch_rows(
                "SELECT status_idx, status, valid_until FROM licence"
                " WHERE issuer_division LIKE $1 AND status_idx IS NOT NULL",
                province[:2] + "%",
            )
            return [(row[0], row[1], row[2]) for row in found]
        rows = (
            await Licence.filter(issuer_division__startswith=province[:2], status_idx__isnull=False)
            .using_db(uow.conn)
            .values_list("status_idx", "status", "valid_until")
        )
        return [(int(idx), str(status), until) for idx, status, until in rows]
