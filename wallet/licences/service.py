"""The registry (运政系统, provincial registry) feed: versions, seals and status.

``upsert_version`` validates a version against the catalogue, resolves its
holder, seals it with the issuing province's key and records it, idempotent
by kind + number + version. ``change_status`` applies the lifecycle rules.
Both write an outbox event and an audit entry in the caller's unit of work,
increment the licence's ``status_seq`` and keep the live-status cache in
step (a pending marker before commit, the entry after: see
:mod:`wallet.licences.status`). The rules that turn a validated version
into rows (holder records, licence, identifier, canonical document, version
row, outbox event) are plain builders here, shared by this per-row path and
the bulk importer (:mod:`wallet.licences.importer`).
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson
from redis.asyncio import Redis
from tortoise.exceptions import IntegrityError

from wallet import identifiers
from wallet.audit.service import append as audit
from wallet.clock import Clock
from wallet.crypto import SM2Backend
from wallet.errors import Conflict, Forbidden, NotFound, ValidationFailed
from wallet.holders.models import Enterprise, Person, Vehicle
from wallet.keys.service import KeyStore
from wallet.licences.catalogue import LicenceKind, get_kind, validate_face
from wallet.licences.models import Licence, LicenceVersion, OutboxEvent, StatusChange
from wallet.licences.schemas import LicenceOut, SearchIn, StatusIn, VersionIn, VersionOut
from wallet.licences.seal import canonical_document, seal_document
from wallet.licences.status import (
    TERMINAL,
    LiveStatus,
    RegistryStatus,
    StatusAction,
    effective_status,
    mark_pending,
    next_status,
    write_status,
)
from wallet.uow import UnitOfWork
from wallet.vault import Vault, mask_id_number

__all__ = [
    "DOCUMENT_CONTEXT",
    "HolderRef",
    "PreparedVersion",
    "Registry",
    "UpsertResult",
    "check_new_version",
    "check_same_content",
    "holder_ref",
    "licence_view",
    "live_status",
    "outbox_event",
    "seal_division_of",
    "seal_horizon",
    "stamp_licence",
    "version_document",
    "version_validity",
]

DOCUMENT_CONTEXT = "licence_version.document"


def seal_division_of(division: str) -> str:
    """The province-level code (``xx0000``) whose seal key signs for ``division``."""
    return division[:2] + "0000"


def new_ref() -> str:
    """An opaque public licence reference: ``L`` + 16 base32 characters (80 random bits)."""
    return "L" + base64.b32encode(secrets.token_bytes(10)).decode()


@dataclass(frozen=True)
class UpsertResult:
    licence: Licence
    version: LicenceVersion
    created: bool


@dataclass(frozen=True, slots=True)
class PreparedVersion:
    """A validated version with its normalised face, licence number and derived keys."""

    data: VersionIn
    kind: LicenceKind
    face: dict[str, Any]
    number: str
    number_index: str
    digest: str


@dataclass(frozen=True, slots=True)
class HolderRef:
    """The holder a version names, read from its face (before any database lookup).

    ``holder_type`` follows the kind; ``code`` is the resident ID number of a
    person or the USCC of an operator; ``plate`` and ``colour`` name the
    vehicle of a vehicle licence.
    """

    holder_type: str
    code: str
    code_type: str
    name: str
    plate: str = ""
    colour: str = ""


@dataclass(frozen=True)
class _Holder:
    person: Person | None
    enterprise: Enterprise | None
    vehicle: Vehicle | None
    ref: HolderRef


def _in_scope(scope: str | None, division: str) -> bool:
    """Whether ``division`` lies inside a client's division prefix (None = everywhere)."""
    return not scope or division.startswith(scope)


def _scope_check(scope: str | None, division: str) -> None:
    """An authority client acts only inside its division prefix (None = everywhere)."""
    if not _in_scope(scope, division):
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


def licence_view(licence: Licence, kind: LicenceKind, today: date) -> LicenceOut:
    """The authority's view of a licence (number masked when it is a personal identifier)."""
    return LicenceOut(
        ref=licence.ref,
        kind=licence.kind,
        kind_name=kind.name,
        number=licence.number_display,
        status=effective_status(licence.status, licence.valid_until, today),
        registry_status=licence.status,
        version=licence.version,
        identifier=licence.identifier,
        valid_from=licence.valid_from,
        valid_until=licence.valid_until,
        issuer_division=licence.issuer_division,
        issuer_name=licence.issuer_name,
        updated_at=licence.updated_at,
    )


class Registry:
    """Registry operations over one runtime's vault, keys, cache and clock."""

    def __init__(
        self, vault: Vault, keys: KeyStore, sm2: SM2Backend, cache: Redis, clock: Clock
    ) -> None:
        self.vault = vault
        self.keys = keys
        self.sm2 = sm2
        self.cache = cache
        self.clock = clock

    # -- feed ---------------------------------------------------------------

    def number_index(self, number: str) -> str:
        return self.vault.blind_index(number, "licence_number")

    def validate(self, data: VersionIn) -> tuple[LicenceKind, dict[str, Any]]:
        """Catalogue and identifier checks of one version; ValidationFailed lists every problem."""
        try:
            kind = get_kind(data.kind)
        except NotFound:
            raise ValidationFailed(
                errors=[{"field": "kind", "rule": "enum", "message": "unknown licence kind"}]
            ) from None
        problems: list[dict[str, Any]] = []
        face: dict[str, Any] = {}
        try:
            face = validate_face(kind, data.face, today=self.clock.now().date())
        except ValidationFailed as exc:
            problems += [{**p, "field": f"face.{p['field']}"} for p in exc.errors]
        for field, check in (
            ("issuer.uscc", identifiers.uscc),
            ("issuer.division", identifiers.division_code),
        ):
            value = data.issuer.uscc if field == "issuer.uscc" else data.issuer.division
            try:
                check(value)
            except ValidationFailed as exc:
                problems += [{**p, "field": field} for p in exc.errors]
        if kind.holder_type == "vehicle":
            if data.holder is None:
                problems.append(
                    {
                        "field": "holder.uscc",
                        "rule": "required",
                        "message": "vehicle licences name their operator",
                    }
                )
            else:
                try:
                    identifiers.uscc(data.holder.uscc)
                except ValidationFailed as exc:
                    problems += [{**p, "field": "holder.uscc"} for p in exc.errors]
        if problems:
            raise ValidationFailed(errors=problems)
        return kind, face

    def prepare(self, data: VersionIn) -> PreparedVersion:
        """:meth:`validate` plus the licence number, its blind index and the content digest."""
        kind, face = self.validate(data)
        number = str(face[kind.number_field])
        return PreparedVersion(
            data, kind, face, number, self.number_index(number), self.content_digest(data, face)
        )

    async def upsert_version(
        self, uow: UnitOfWork, data: VersionIn, *, actor: str, scope: str | None = None
    ) -> UpsertResult:
        """Record one version (idempotent by kind + number + version) and seal it."""
        item = self.prepare(data)
        _scope_check(scope, data.issuer.division)
        kind, digest = item.kind, item.digest
        conn = uow.conn
        query = Licence.filter(kind=kind.code, number_index=item.number_index).using_db(conn)
        if uow.is_postgres:
            query = query.select_for_update()
        licence = await query.first()
        now = self.clock.now()
        if licence is not None:
            # Scope first: a client learns nothing of licences outside its division.
            _scope_check(scope, licence.issuer_division)
            existing = await LicenceVersion.get_or_none(
                licence_id=licence.id, version=data.version, using_db=conn
            )
            if existing is not None:
                check_same_content(existing.content_digest, digest)
                return UpsertResult(licence, existing, created=False)
            check_new_version(licence, data.version)
        holder = await self._resolve_holder(uow, item, now)
        issued_at = data.issued_at or now
        valid_from, valid_until = version_validity(item)
        if licence is None:
            licence = self.new_licence(item, issued_at, now)
        else:
            # Under the row lock: no newer change can be under way.
            await mark_pending(self.cache, {licence.ref: licence.status_seq + 1})
        identifier = stamp_licence(
            licence,
            item,
            holder.person,
            holder.enterprise,
            holder.vehicle,
            valid_from,
            valid_until,
            now,
        )
        seal_key = await self.keys.active_key("seal", seal_division_of(data.issuer.division))
        document = version_document(
            item, holder.ref, identifier, issued_at, valid_from, valid_until
        )
        version = self.new_version(
            licence,
            item,
            identifier,
            document,
            seal_document(document, seal_key.private_key, self.sm2),
            seal_key.kid,
            issued_at=issued_at,
            valid_from=valid_from,
            valid_until=valid_until,
            actor=actor,
            now=now,
        )
        try:
            await licence.save(using_db=conn)
            await version.save(using_db=conn)
        except IntegrityError:
            raise Conflict("a concurrent update touched this licence; retry") from None
        signed_until = seal_horizon(valid_until, now)
        if signed_until is not None:
            await self.keys.note_signed(seal_key.kid, signed_until, conn=conn)
        await self._emit(
            uow,
            "licence.version",
            licence,
            now,
            {"identifier": identifier, "change_type": data.change_type},
        )
        await audit(
            conn,
            at=now,
            actor=actor,
            action=f"licence.{data.change_type}",
            subject=licence.ref,
            detail={"version": data.version, "kind": kind.code},
        )
        self._after_commit_status(uow, licence)
        return UpsertResult(licence, version, created=True)

    async def change_status(
        self, uow: UnitOfWork, ref: str, change: StatusIn, *, actor: str, scope: str | None = None
    ) -> Licence:
        """Suspend, revoke, cancel or reinstate; forbidden transitions are 409."""
        conn = uow.conn
        query = Licence.filter(ref=ref).using_db(conn)
        if uow.is_postgres:
            query = query.select_for_update()
        licence = await query.first()
        if licence is None or not _in_scope(scope, licence.issuer_division):
            # Outside its division a licence does not exist for the client: a 403
            # would tell it which references are real.
            raise NotFound("no licence with that reference")
        action = StatusAction(change.action)
        before = RegistryStatus(licence.status)
        after = next_status(before, action)
        now = self.clock.now()
        # Under the row lock: no newer change can be under way.
        await mark_pending(self.cache, {licence.ref: licence.status_seq + 1})
        licence.status = after.value
        licence.status_seq += 1
        licence.updated_at = now
        await licence.save(using_db=conn, update_fields=["status", "status_seq", "updated_at"])
        await StatusChange.create(
            licence=licence,
            action=action.value,
            from_status=before.value,
            to_status=after.value,
            reason=change.reason,
            authority=actor,
            at=now,
            using_db=conn,
        )
        await self._emit(
            uow,
            "licence.status",
            licence,
            now,
            {"action": action.value, "from": before.value, "to": after.value},
        )
        await audit(
            conn,
            at=now,
            actor=actor,
            action=f"licence.{action.value}",
            subject=licence.ref,
            detail={"from": before.value, "to": after.value},
        )
        self._after_commit_status(uow, licence)
        return licence

    # -- reads --------------------------------------------------------------

    async def get(self, ref: str, scope: str | None = None) -> Licence:
        licence = await Licence.get_or_none(ref=ref)
        if licence is None or not _in_scope(scope, licence.issuer_division):
            # Outside its division a licence does not exist for the client: a 403
            # would tell it which references are real.
            raise NotFound("no licence with that reference")
        return licence

    def view(self, licence: Licence) -> LicenceOut:
        return licence_view(licence, get_kind(licence.kind), self.clock.now().date())

    async def version_view(self, licence: Licence, number: int) -> VersionOut:
        row = await LicenceVersion.get_or_none(licence_id=licence.id, version=number)
        if row is None:
            raise NotFound("no such version")
        document = self.vault.open(row.document_sealed, DOCUMENT_CONTEXT)
        return VersionOut(
            ref=licence.ref,
            version=row.version,
            identifier=row.identifier,
            change_type=row.change_type,
            reason=row.reason,
            authority=row.authority,
            issued_at=row.issued_at,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            seal_kid=row.seal_kid,
            seal=row.seal,
            document=document,
            face=orjson.loads(document)["face"],
        )

    async def find(
        self,
        query: SearchIn,
        *,
        status: str | None = None,
        division: str | None = None,
        scope: str | None = None,
    ) -> list[Licence]:
        """Licences matching ``query`` (identifiers by blind index), ordered by ref, one
        more than ``query.limit`` when there are more."""
        filters: dict[str, Any] = {}
        if query.kind:
            filters["kind"] = query.kind
        if status:
            filters["status"] = status
        if query.number:
            filters["number_index"] = self.number_index(query.number)
        if query.id_number:
            person = await Person.get_or_none(
                id_number_index=self.vault.blind_index(query.id_number, "resident_id")
            )
            filters["holder_person_id"] = person.id if person else uuid.UUID(int=0)
        if query.uscc:
            filters["holder_enterprise__uscc"] = query.uscc.upper()
        if query.plate_number:
            filters["vehicle__plate_number"] = identifiers.plate_number(query.plate_number)
        rows_q = Licence.filter(**filters)
        for prefix in (p for p in (scope, division_scope(division)) if p):
            rows_q = rows_q.filter(issuer_division__startswith=prefix)
        if query.cursor:
            rows_q = rows_q.filter(ref__gt=query.cursor)
        return list(await rows_q.order_by("ref").limit(query.limit + 1))

    async def search(
        self,
        query: SearchIn,
        *,
        status: str | None = None,
        division: str | None = None,
        scope: str | None = None,
    ) -> tuple[list[LicenceOut], str | None]:
        """Keyset-paginated search (ordered by ref); identifiers matched by blind index."""
        rows = await self.find(query, status=status, division=division, scope=scope)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        today = self.clock.now().date()
        items = [licence_view(r, get_kind(r.kind), today) for r in rows]
        return items, (rows[-1].ref if more and rows else None)

    # -- helpers ------------------------------------------------------------

    def content_digest(self, data: VersionIn, face: Mapping[str, Any]) -> str:
        """Blind digest of everything a version says: same digest = same version content."""
        content = orjson.dumps(
            {
                "face": face,
                "change": data.change_type,
                "reason": data.reason,
                "issuer": data.issuer.model_dump(),
                "holder": data.holder.uscc if data.holder else None,
                "serial": data.serial,
                "issued_at": data.issued_at.isoformat() if data.issued_at else None,
            },
            option=orjson.OPT_SORT_KEYS,
        )
        return self.vault.blind_index(content.decode(), "version_content")

    # -- builders shared with the bulk importer (no database access) -------

    def person_index(self, id_number: str) -> str:
        """Blind index of a resident ID number (the person's lookup key)."""
        return self.vault.blind_index(id_number, "resident_id")

    def new_person(self, ref: HolderRef, now: datetime) -> Person:
        """An unsaved person for a person holder (ID number and name sealed)."""
        return Person(
            id=uuid.uuid4(),
            id_number_index=self.person_index(ref.code),
            id_number_sealed=self.vault.seal(ref.code, "person.id_number"),
            name_sealed=self.vault.seal(ref.name, "person.name"),
            name_index=self.vault.blind_index(ref.name, "name"),
            created_at=now,
            updated_at=now,
        )

    def refresh_person(self, person: Person, ref: HolderRef, now: datetime) -> bool:
        """Take the name the version prints; True when the person changed."""
        name_index = self.vault.blind_index(ref.name, "name")
        if person.name_index == name_index:
            return False
        person.name_sealed = self.vault.seal(ref.name, "person.name")
        person.name_index = name_index
        person.updated_at = now
        return True

    @staticmethod
    def new_enterprise(ref: HolderRef, now: datetime) -> Enterprise:
        """An unsaved operator, registered in the division its USCC names."""
        return Enterprise(
            id=uuid.uuid4(),
            uscc=ref.code,
            name=ref.name,
            division=ref.code[2:8],
            created_at=now,
            updated_at=now,
        )

    @staticmethod
    def refresh_enterprise(enterprise: Enterprise, ref: HolderRef, now: datetime) -> bool:
        """Take the operator name the version prints (when it prints one); True when changed."""
        if not ref.name or enterprise.name == ref.name:
            return False
        enterprise.name, enterprise.updated_at = ref.name, now
        return True

    @staticmethod
    def new_vehicle(ref: HolderRef, enterprise: Enterprise, now: datetime) -> Vehicle:
        """An unsaved vehicle of ``enterprise``."""
        # By id, not by object: the enterprise may itself be new and not saved yet.
        return Vehicle(
            id=uuid.uuid4(),
            plate_number=ref.plate,
            plate_colour=ref.colour,
            enterprise_id=enterprise.id,
            created_at=now,
            updated_at=now,
        )

    @staticmethod
    def refresh_vehicle(vehicle: Vehicle, enterprise: Enterprise, now: datetime) -> bool:
        """Move the vehicle to ``enterprise`` (transferred to another operator); True if moved."""
        if vehicle.enterprise_id == enterprise.id:  # type: ignore[attr-defined]
            return False
        vehicle.enterprise = enterprise
        vehicle.updated_at = now
        return True

    def new_licence(self, item: PreparedVersion, issued_at: datetime, now: datetime) -> Licence:
        """An unsaved licence for the first version seen of a number."""
        data = item.data
        return Licence(
            id=uuid.uuid4(),
            ref=new_ref(),
            kind=item.kind.code,
            number_index=item.number_index,
            number_display=_display_number(item.kind, item.number),
            serial=data.serial or _default_serial(item.number_index, issued_at),
            issuer_uscc=data.issuer.uscc,
            issuer_division=data.issuer.division,
            issuer_name=data.issuer.name,
            status=RegistryStatus.VALID.value,
            version=data.version,
            created_at=now,
        )

    def new_version(
        self,
        licence: Licence,
        item: PreparedVersion,
        identifier: str,
        document: bytes,
        seal: str,
        seal_kid: str,
        *,
        issued_at: datetime,
        valid_from: date | None,
        valid_until: date | None,
        actor: str,
        now: datetime,
    ) -> LicenceVersion:
        """An unsaved version row: the document sealed by the vault, with its SM2 seal."""
        data = item.data
        return LicenceVersion(
            id=uuid.uuid4(),
            licence_id=licence.id,
            version=data.version,
            identifier=identifier,
            change_type=data.change_type,
            reason=data.reason,
            authority=actor,
            document_sealed=self.vault.seal(document.decode(), DOCUMENT_CONTEXT),
            content_digest=item.digest,
            issued_at=issued_at,
            valid_from=valid_from,
            valid_until=valid_until,
            seal=seal,
            seal_kid=seal_kid,
            created_at=now,
        )

    async def _resolve_holder(
        self, uow: UnitOfWork, item: PreparedVersion, now: datetime
    ) -> _Holder:
        conn = uow.conn
        ref = holder_ref(item)
        if ref.holder_type == "person":
            person = await Person.get_or_none(
                id_number_index=self.person_index(ref.code), using_db=conn
            )
            if person is None:
                person = self.new_person(ref, now)
                await person.save(using_db=conn, force_create=True)
            elif self.refresh_person(person, ref, now):
                await person.save(using_db=conn)
            return _Holder(person, None, None, ref)
        enterprise = await Enterprise.get_or_none(uscc=ref.code, using_db=conn)
        if enterprise is None:
            enterprise = self.new_enterprise(ref, now)
            await enterprise.save(using_db=conn, force_create=True)
        elif self.refresh_enterprise(enterprise, ref, now):
            await enterprise.save(using_db=conn)
        vehicle = None
        if ref.holder_type == "vehicle":
            vehicle = await Vehicle.get_or_none(
                plate_number=ref.plate, plate_colour=ref.colour, using_db=conn
            )
            if vehicle is None:
                vehicle = self.new_vehicle(ref, enterprise, now)
                await vehicle.save(using_db=conn, force_create=True)
            elif self.refresh_vehicle(vehicle, enterprise, now):
                await vehicle.save(using_db=conn)
        return _Holder(None, enterprise, vehicle, ref)

    async def _emit(
        self, uow: UnitOfWork, topic: str, licence: Licence, now: datetime, extra: Mapping[str, Any]
    ) -> None:
        await outbox_event(topic, licence, now, extra).save(using_db=uow.conn, force_create=True)

    def _after_commit_status(self, uow: UnitOfWork, licence: Licence) -> None:
        live = live_status(licence)
        ref, cache = licence.ref, self.cache

        async def write() -> None:
            await write_status(cache, ref, live)

        uow.after_commit(write)


def holder_ref(item: PreparedVersion) -> HolderRef:
    """The holder ``item`` names: a person by resident ID, an operator by USCC, a vehicle."""
    kind, face, data = item.kind, item.face, item.data
    if kind.holder_type == "person":
        id_field = kind.resident_id_field or kind.number_field
        return HolderRef(
            "person", str(face[id_field]), kind.holder_code_type, str(face.get("name", ""))
        )
    if kind.holder_type == "enterprise":
        return HolderRef(
            "enterprise",
            str(face["uscc"]),
            kind.holder_code_type,
            str(face.get("operator_name", "")),
        )
    assert data.holder is not None  # validate() requires it
    return HolderRef(
        "vehicle",
        data.holder.uscc.upper(),
        kind.holder_code_type,
        str(face.get("operator_name", "")),
        plate=str(face["plate_number"]),
        colour=str(face.get("plate_colour", "")),
    )


def check_same_content(existing_digest: str, digest: str) -> None:
    """A version number is sent again: it must say the same thing (else 409)."""
    if existing_digest != digest:
        raise Conflict(
            "this version already exists with different content; send a new version number"
        )


def check_new_version(licence: Licence, version: int) -> None:
    """A new version of an existing licence: not older than the current, not after the end."""
    if version < licence.version:
        raise Conflict(
            f"version {version} is older than the current version {licence.version}",
            current_version=licence.version,
        )
    if RegistryStatus(licence.status) in TERMINAL:
        raise Conflict(f"the licence is {licence.status}: no new version can be issued")


def version_validity(item: PreparedVersion) -> tuple[date | None, date | None]:
    """Validity start and end; the kind's default term when the face prints no end."""
    valid_from = _date(item.face.get("valid_from"))
    valid_until = _date(item.face.get("valid_until"))
    years = item.kind.default_validity_years
    if valid_until is None and years and valid_from is not None:
        valid_until = _add_years(valid_from, years)
    return valid_from, valid_until


def stamp_licence(
    licence: Licence,
    item: PreparedVersion,
    person: Person | None,
    enterprise: Enterprise | None,
    vehicle: Vehicle | None,
    valid_from: date | None,
    valid_until: date | None,
    now: datetime,
) -> str:
    """Make ``licence`` carry the version ``item`` (holder, issuer, validity); its identifier.

    A new current version is a status change for the cache: ``status_seq`` is incremented.
    """
    data = item.data
    licence.holder_person = person
    licence.holder_enterprise = enterprise
    licence.vehicle = vehicle
    licence.version = data.version
    licence.status_seq += 1
    licence.valid_from, licence.valid_until = valid_from, valid_until
    licence.issuer_uscc, licence.issuer_name = data.issuer.uscc, data.issuer.name
    licence.issuer_division = data.issuer.division
    licence.updated_at = now
    licence.identifier = identifiers.make_licence_identifier(
        item.kind.type_code, data.issuer.uscc, licence.serial, data.version
    )
    return licence.identifier


def version_document(
    item: PreparedVersion,
    holder: HolderRef,
    identifier: str,
    issued_at: datetime,
    valid_from: date | None,
    valid_until: date | None,
) -> bytes:
    """The canonical document (the bytes the seal signs) of the version ``item``."""
    data, kind = item.data, item.kind
    return canonical_document(
        identifier=identifier,
        type_code=kind.type_code,
        kind=kind.code,
        version=data.version,
        number=item.number,
        holder={"code": holder.code, "code_type": holder.code_type, "name": holder.name},
        issuer={
            "uscc": data.issuer.uscc,
            "division": data.issuer.division,
            "name": data.issuer.name,
        },
        issued_at=issued_at,
        valid_from=valid_from,
        valid_until=valid_until,
        change_type=data.change_type,
        face=item.face,
    )


def seal_horizon(valid_until: date | None, now: datetime) -> datetime | None:
    """Until when a seal over a version valid until ``valid_until`` must stay verifiable."""
    if valid_until is None:
        return None
    return datetime.combine(valid_until, datetime.max.time(), tzinfo=now.tzinfo)


def outbox_event(
    topic: str, licence: Licence, now: datetime, extra: Mapping[str, Any]
) -> OutboxEvent:
    """An unsaved outbox event about ``licence`` as it stands now.

    Refs only: the aggregation worker reads the licence itself at send time,
    so the outbox never holds personal data.
    """
    return OutboxEvent(
        topic=topic,
        licence_ref=licence.ref,
        created_at=now,
        next_attempt_at=now,
        payload={
            "ref": licence.ref,
            "kind": licence.kind,
            "version": licence.version,
            "status": licence.status,
            "division": licence.issuer_division,
            **extra,
        },
    )


def live_status(licence: Licence) -> LiveStatus:
    """What the status cache holds for ``licence``."""
    return LiveStatus(licence.status, licence.version, licence.valid_until, licence.status_seq)


def _date(value: object) -> date | None:
    if value in (None, ""):
        return None
    return date.fromisoformat(str(value))


def _add_years(start: date, years: int) -> date:
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28)
    return end.fromordinal(end.toordinal() - 1)


def _display_number(kind: LicenceKind, number: str) -> str:
    return mask_id_number(number) if kind.number_format == "resident_id" else number


def _default_serial(number_index: str, issued_at: datetime) -> str:
    # Year of first issue + 16 digits derived from the blind index: stable for the
    # licence, reveals nothing of the number.
    return f"{issued_at.year}{int(number_index[:16], 16) % 10**16:016d}"
