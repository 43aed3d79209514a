"""Builders: the rules that turn a validated version into rows, without the database.

Shared by the per-row feed (:class:`wallet.licences.service.Registry`) and
the bulk importer (:mod:`wallet.licences.importer`): the prepared version and
the holder it names, the licence, its GB/T 36904 identifier, the canonical
document the seal signs, the version row, the outbox event and what the
status cache holds. :class:`RecordBuilder` holds the builders that seal or
blind-index personal data with the vault; the rest are plain functions.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any, ClassVar

import orjson

from wallet import identifiers
from wallet.errors import Conflict
from wallet.holders.models import Enterprise, Person, Vehicle
from wallet.licences.catalogue import LicenceKind
from wallet.licences.models import Licence, OutboxEvent, StatusChange
from wallet.licences.schemas import VersionIn
from wallet.licences.seal import canonical_document
from wallet.licences.status import TERMINAL, LiveStatus, RegistryStatus
from wallet.vault import Vault, mask_id_number

__all__ = [
    "DOCUMENT_CONTEXT",
    "EnterpriseRow",
    "EventRow",
    "HolderRef",
    "LicenceRow",
    "PersonRow",
    "PreparedVersion",
    "RecordBuilder",
    "VehicleRow",
    "VersionRow",
    "check_new_version",
    "check_same_content",
    "event_row",
    "holder_ref",
    "live_status",
    "new_ref",
    "outbox_event",
    "seal_horizon",
    "stamp_current",
    "stamp_licence",
    "status_change",
    "version_document",
    "version_validity",
]

DOCUMENT_CONTEXT = "licence_version.document"
"""The vault context of a version's sealed canonical document."""


def new_ref() -> str:
    """An opaque public licence reference: ``L`` + 16 base32 characters (80 random bits)."""
    return "L" + base64.b32encode(secrets.token_bytes(10)).decode()


@dataclass(frozen=True, slots=True)
class PreparedVersion:
    """A validated version with its normalised face, licence number and derived keys."""

    data: VersionIn
    kind: LicenceKind
    face: dict[str, Any]
    number: str
    number_index: str
    digest: str

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # The importer's workers send thousands back: a plain tuple, not the
        # dataclass pickling that walks the fields of every instance.
        return PreparedVersion, (
            self.data,
            self.kind,
            self.face,
            self.number,
            self.number_index,
            self.digest,
        )


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


# --- plain rows: what a new record holds, column by column ----------------------------
#
# The bulk importer writes new records from these (PostgreSQL COPY takes tuples in
# column order); the per-row path turns the same rows into models. Attribute names are
# the models' field names (foreign keys by id), so one rule builds both.


class _Columns:
    """A new row of one table (a :class:`wallet.uow.NewRow`): ``COLUMNS`` in table
    order, read by :meth:`values`."""

    __slots__ = ()
    COLUMNS: ClassVar[tuple[str, ...]]
    _GET: ClassVar[attrgetter[Any]]

    def values(self) -> tuple[Any, ...]:
        """The row's values in ``COLUMNS`` order."""
        return self._GET(self)  # type: ignore[no-any-return]

    def copy_values(self) -> tuple[Any, ...]:
        """:meth:`values` as PostgreSQL's COPY takes them."""
        return self.values()

    def fields(self) -> dict[str, Any]:
        """The row as model keyword arguments."""
        return dict(zip(self.COLUMNS, self.values(), strict=True))


def _columns(*names: str) -> Any:
    def decorate(cls: Any) -> Any:
        cls.COLUMNS, cls._GET = names, attrgetter(*names)
        return cls

    return decorate


@_columns(
    "id",
    "id_number_index",
    "id_number_sealed",
    "name_sealed",
    "name_index",
    "created_at",
    "updated_at",
)
@dataclass(slots=True)
class PersonRow(_Columns):
    """A new person (ID number and name sealed, both blind-indexed)."""

    id: uuid.UUID
    id_number_index: str
    id_number_sealed: str
    name_sealed: str
    name_index: str
    created_at: datetime
    updated_at: datetime


@_columns("id", "uscc", "name", "division", "legal_rep_id", "created_at", "updated_at")
@dataclass(slots=True)
class EnterpriseRow(_Columns):
    """A new operator."""

    id: uuid.UUID
    uscc: str
    name: str
    division: str
    created_at: datetime
    updated_at: datetime
    legal_rep_id: uuid.UUID | None = None


@_columns("id", "plate_number", "plate_colour", "enterprise_id", "created_at", "updated_at")
@dataclass(slots=True)
class VehicleRow(_Columns):
    """A new vehicle of an operator."""

    id: uuid.UUID
    plate_number: str
    plate_colour: str
    enterprise_id: uuid.UUID
    created_at: datetime
    updated_at: datetime


@_columns(
    "id",
    "ref",
    "kind",
    "number_index",
    "number_display",
    "serial",
    "holder_person_id",
    "holder_enterprise_id",
    "vehicle_id",
    "issuer_uscc",
    "issuer_division",
    "issuer_name",
    "status",
    "version",
    "identifier",
    "status_idx",
    "status_seq",
    "valid_from",
    "valid_until",
    "created_at",
    "updated_at",
)
@dataclass(slots=True)
class LicenceRow(_Columns):
    """A new licence; :func:`stamp_current` makes it carry its first version."""

    id: uuid.UUID
    ref: str
    kind: str
    number_index: str
    number_display: str
    serial: str
    issuer_uscc: str
    issuer_division: str
    issuer_name: str
    status: str
    version: int
    created_at: datetime
    updated_at: datetime | None = None
    holder_person_id: uuid.UUID | None = None
    holder_enterprise_id: uuid.UUID | None = None
    vehicle_id: uuid.UUID | None = None
    identifier: str = ""
    status_idx: int | None = None
    status_seq: int = 0
    valid_from: date | None = None
    valid_until: date | None = None


@_columns(
    "id",
    "licence_id",
    "version",
    "identifier",
    "change_type",
    "reason",
    "authority",
    "document_sealed",
    "content_digest",
    "issued_at",
    "valid_from",
    "valid_until",
    "seal",
    "seal_kid",
    "created_at",
)
@dataclass(slots=True)
class VersionRow(_Columns):
    """A new version: its vault-sealed canonical document and its SM2 seal."""

    id: uuid.UUID
    licence_id: uuid.UUID
    version: int
    identifier: str
    change_type: str
    reason: str
    authority: str
    document_sealed: str
    content_digest: str
    issued_at: datetime
    valid_from: date | None
    valid_until: date | None
    seal: str
    seal_kid: str
    created_at: datetime


@_columns(
    "topic",
    "licence_ref",
    "payload",
    "created_at",
    "attempts",
    "next_attempt_at",
    "sent_at",
    "last_error",
    "batch_id",
    "failure_reason",
)
@dataclass(slots=True)
class EventRow(_Columns):
    """A new outbox event (its id comes from the table's sequence)."""

    topic: str
    licence_ref: str
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str = ""
    batch_id: uuid.UUID | None = None
    failure_reason: str = ""

    def copy_values(self) -> tuple[Any, ...]:
        """:meth:`values` with the payload as the text COPY takes for ``jsonb``."""
        at = self.COLUMNS.index("payload")
        values = self.values()
        return (*values[:at], orjson.dumps(values[at]).decode(), *values[at + 1 :])


AnyLicence = Licence | LicenceRow
"""A stored licence (model) or a new one (row): what the stamping rules accept."""


class RecordBuilder:
    """The builders that seal or blind-index with the vault (no database access)."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def number_index(self, number: str) -> str:
        """Blind index of a licence number (the licence's lookup key)."""
        return self.vault.blind_index(number, "licence_number")

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

    def person_index(self, id_number: str) -> str:
        """Blind index of a resident ID number (the person's lookup key)."""
        return self.vault.blind_index(id_number, "resident_id")

    def person_row(self, ref: HolderRef, now: datetime, index: str | None = None) -> PersonRow:
        """A new person for a person holder (ID number and name sealed); ``index`` is
        :meth:`person_index` of ``ref.code`` when the caller has it already."""
        vault = self.vault
        return PersonRow(
            uuid.uuid4(),
            self.person_index(ref.code) if index is None else index,
            vault.seal(ref.code, "person.id_number"),
            vault.seal(ref.name, "person.name"),
            vault.blind_index(ref.name, "name"),
            now,
            now,
        )

    def new_person(self, ref: HolderRef, now: datetime) -> Person:
        """An unsaved person for a person holder (ID number and name sealed)."""
        return Person(**self.person_row(ref, now).fields())

    def refresh_person(self, person: Person | PersonRow, ref: HolderRef, now: datetime) -> bool:
        """Take the name the version prints; True when the person changed."""
        name_index = self.vault.blind_index(ref.name, "name")
        if person.name_index == name_index:
            return False
        person.name_sealed = self.vault.seal(ref.name, "person.name")
        person.name_index = name_index
        person.updated_at = now
        return True

    @staticmethod
    def enterprise_row(ref: HolderRef, now: datetime) -> EnterpriseRow:
        """A new operator, registered in the division its USCC names."""
        return EnterpriseRow(uuid.uuid4(), ref.code, ref.name, ref.code[2:8], now, now)

    @staticmethod
    def new_enterprise(ref: HolderRef, now: datetime) -> Enterprise:
        """An unsaved operator, registered in the division its USCC names."""
        return Enterprise(**RecordBuilder.enterprise_row(ref, now).fields())

    @staticmethod
    def refresh_enterprise(
        enterprise: Enterprise | EnterpriseRow, ref: HolderRef, now: datetime
    ) -> bool:
        """Take the operator name the version prints (when it prints one); True when changed."""
        if not ref.name or enterprise.name == ref.name:
            return False
        enterprise.name, enterprise.updated_at = ref.name, now
        return True

    @staticmethod
    def vehicle_row(ref: HolderRef, enterprise_id: uuid.UUID, now: datetime) -> VehicleRow:
        """A new vehicle of the operator ``enterprise_id``."""
        return VehicleRow(uuid.uuid4(), ref.plate, ref.colour, enterprise_id, now, now)

    @staticmethod
    def new_vehicle(ref: HolderRef, enterprise: Enterprise, now: datetime) -> Vehicle:
        """An unsaved vehicle of ``enterprise``."""
        # By id, not by object: the enterprise may itself be new and not saved yet.
        return Vehicle(**RecordBuilder.vehicle_row(ref, enterprise.id, now).fields())

    @staticmethod
    def refresh_vehicle(
        vehicle: Vehicle | VehicleRow, enterprise: Enterprise | EnterpriseRow, now: datetime
    ) -> bool:
        """Move the vehicle to ``enterprise`` (transferred to another operator); True if moved."""
        if vehicle.enterprise_id == enterprise.id:  # type: ignore[union-attr]
            return False
        if isinstance(vehicle, Vehicle) and isinstance(enterprise, Enterprise):
            vehicle.enterprise = enterprise
        else:
            vehicle.enterprise_id = enterprise.id
        vehicle.updated_at = now
        return True

    def licence_row(self, item: PreparedVersion, issued_at: datetime, now: datetime) -> LicenceRow:
        """A new licence for the first version seen of a number."""
        data = item.data
        issuer = data.issuer
        return LicenceRow(
            uuid.uuid4(),
            new_ref(),
            item.kind.code,
            item.number_index,
            _display_number(item.kind, item.number),
            data.serial or _default_serial(item.number_index, issued_at),
            issuer.uscc,
            issuer.division,
            issuer.name,
            RegistryStatus.VALID.value,
            data.version,
            now,
        )

    def new_licence(self, item: PreparedVersion, issued_at: datetime, now: datetime) -> Licence:
        """An unsaved licence for the first version seen of a number."""
        fields = self.licence_row(item, issued_at, now).fields()
        del fields["updated_at"]  # set when the licence is stamped with its first version
        return Licence(**fields)

    def version_row(
        self,
        licence: AnyLicence,
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
        document_sealed: str | None = None,
    ) -> VersionRow:
        """A new version row: the document sealed by the vault, with its SM2 seal.

        ``document_sealed`` is the document already sealed for :data:`DOCUMENT_CONTEXT`
        (by a seal worker); else the vault seals it here.
        """
        data = item.data
        return VersionRow(
            uuid.uuid4(),
            licence.id,
            data.version,
            identifier,
            data.change_type,
            data.reason,
            actor,
            self.vault.seal(document.decode(), DOCUMENT_CONTEXT)
            if document_sealed is None
            else document_sealed,
            item.digest,
            issued_at,
            valid_from,
            valid_until,
            seal,
            seal_kid,
            now,
        )


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


def check_new_version(licence: AnyLicence, version: int) -> None:
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
    licence.holder_person = person
    licence.holder_enterprise = enterprise
    licence.vehicle = vehicle
    return stamp_current(licence, item, valid_from, valid_until, now)


def stamp_current(
    licence: AnyLicence,
    item: PreparedVersion,
    valid_from: date | None,
    valid_until: date | None,
    now: datetime,
) -> str:
    """:func:`stamp_licence` but the holder: version, issuer, validity, ``status_seq``."""
    data = item.data
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


def event_row(topic: str, licence: AnyLicence, now: datetime, extra: Mapping[str, Any]) -> EventRow:
    """A new outbox event about ``licence`` as it stands now.

    Refs only: the aggregation worker reads the licence itself at send time,
    so the outbox never holds personal data.
    """
    payload = {
        "ref": licence.ref,
        "kind": licence.kind,
        "version": licence.version,
        "status": licence.status,
        "division": licence.issuer_division,
        **extra,
    }
    return EventRow(topic, licence.ref, payload, now, now)


def outbox_event(
    topic: str, licence: Licence, now: datetime, extra: Mapping[str, Any]
) -> OutboxEvent:
    """An unsaved outbox event about ``licence`` as it stands now (see :func:`event_row`)."""
    return OutboxEvent(**event_row(topic, licence, now, extra).fields())


def status_change(
    licence: Licence,
    action: str,
    before: str,
    after: str,
    reason: str,
    actor: str,
    now: datetime,
) -> StatusChange:
    """An unsaved row of ``licence``'s status history."""
    return StatusChange(
        licence=licence,
        action=action,
        from_status=before,
        to_status=after,
        reason=reason,
        authority=actor,
        at=now,
    )


def live_status(licence: AnyLicence) -> LiveStatus:
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
