"""The registry (运政系统, provincial registry) feed: versions, seals and status.

``upsert_version`` validates a version against the catalogue, resolves its
holder, seals it with the issuing province's key and records it, idempotent
by kind + number + version. ``change_status`` applies the lifecycle rules.
Both write an outbox event and an audit entry in the caller's unit of work,
increment the licence's ``status_seq`` and keep the live-status cache in
step (a pending marker before commit, the entry after: see
:mod:`wallet.licences.status`). The rows themselves are made by the
builders of :mod:`wallet.licences.builders` (shared with the bulk
importer), holder records by :mod:`wallet.licences.holder_records`; search
is :mod:`wallet.licences.search`, the views :mod:`wallet.licences.views`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from redis.asyncio import Redis
from tortoise.exceptions import IntegrityError

from wallet import identifiers
from wallet.audit.service import append as audit
from wallet.clock import Clock
from wallet.crypto import SM2Backend
from wallet.errors import Conflict, FieldProblem, InvalidIdentifier, NotFound, ValidationFailed
from wallet.holders.repository import HolderRepository
from wallet.keys.service import KeyStore
from wallet.licences.builders import (
    PreparedVersion,
    RecordBuilder,
    check_new_version,
    check_same_content,
    holder_ref,
    live_status,
    outbox_event,
    seal_horizon,
    stamp_licence,
    status_change,
    version_document,
    version_validity,
)
from wallet.licences.catalogue import LicenceKind, get_kind, validate_face
from wallet.licences.holder_records import HolderRecords
from wallet.licences.models import Licence, LicenceVersion
from wallet.licences.repository import LicenceRepository
from wallet.licences.schemas import LicenceOut, SearchIn, StatusIn, VersionIn, VersionOut
from wallet.licences.seal import seal_document
from wallet.licences.search import LicenceSearch, check_scope, in_scope
from wallet.licences.status import (
    RegistryStatus,
    StatusAction,
    mark_pending,
    next_status,
    write_status,
)
from wallet.licences.views import licence_view, version_view
from wallet.uow import UnitOfWork
from wallet.vault import Vault

__all__ = ["Registry", "UpsertResult", "prepare_version", "validate_version"]


def _identifier_problem(field: str, exc: InvalidIdentifier) -> FieldProblem:
    # The same entry as a face identifier's (catalogue): the rule names the identifier.
    return {"field": field, "rule": f"{exc.kind}.{exc.rule}", "message": exc.detail}


def validate_version(data: VersionIn, today: date) -> tuple[LicenceKind, dict[str, Any]]:
    """Catalogue and identifier checks of one version as of ``today``; ValidationFailed
    lists every problem. No I/O: the bulk importer runs it in worker processes."""
    try:
        kind = get_kind(data.kind)
    except NotFound:
        raise ValidationFailed(
            errors=[{"field": "kind", "rule": "enum", "message": "unknown licence kind"}]
        ) from None
    problems: list[dict[str, Any]] = []
    face: dict[str, Any] = {}
    try:
        face = validate_face(kind, data.face, today=today)
    except ValidationFailed as exc:
        problems += [{**p, "field": f"face.{p['field']}"} for p in exc.errors]
    for field, check in (
        ("issuer.uscc", identifiers.uscc),
        ("issuer.division", identifiers.division_code),
    ):
        value = data.issuer.uscc if field == "issuer.uscc" else data.issuer.division
        try:
            check(value)
        except InvalidIdentifier as exc:
            problems.append(_identifier_problem(field, exc))
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
            except InvalidIdentifier as exc:
                problems.append(_identifier_problem("holder.uscc", exc))
    if problems:
        raise ValidationFailed(errors=problems)
    return kind, face


def prepare_version(builder: RecordBuilder, data: VersionIn, today: date) -> PreparedVersion:
    """:func:`validate_version` plus the licence number, its blind index and the content
    digest (``builder`` holds the vault's index key). No I/O."""
    kind, face = validate_version(data, today)
    number = str(face[kind.number_field])
    return PreparedVersion(
        data,
        kind,
        face,
        number,
        builder.number_index(number),
        builder.content_digest(data, face),
    )


@dataclass(frozen=True)
class UpsertResult:
    """The licence and version a feed request recorded; ``created`` False when it was known."""

    licence: Licence
    version: LicenceVersion
    created: bool


class Registry:
    """The registry feed over its repositories, the vault, keys, cache and clock."""

    def __init__(
        self,
        vault: Vault,
        keys: KeyStore,
        sm2: SM2Backend,
        cache: Redis,
        clock: Clock,
        licences: LicenceRepository,
        holders: HolderRepository,
    ) -> None:
        self.vault = vault
        self.keys = keys
        self.sm2 = sm2
        self.cache = cache
        self.clock = clock
        self.licences = licences
        self.builder = RecordBuilder(vault)
        self.holder_records = HolderRecords(holders, self.builder)
        self.lookup = LicenceSearch(licences, holders, self.builder, clock)

    # -- feed ---------------------------------------------------------------

    def validate(self, data: VersionIn) -> tuple[LicenceKind, dict[str, Any]]:
        """Catalogue and identifier checks of one version (:func:`validate_version`, today)."""
        return validate_version(data, self.clock.now().date())

    def prepare(self, data: VersionIn) -> PreparedVersion:
        """:meth:`validate` plus the licence number, its blind index and the content digest."""
        return prepare_version(self.builder, data, self.clock.now().date())

    async def upsert_version(
        self, uow: UnitOfWork, data: VersionIn, *, actor: str, scope: str | None = None
    ) -> UpsertResult:
        """Record one version (idempotent by kind + number + version) and seal it."""
        item = self.prepare(data)
        check_scope(scope, data.issuer.division)
        kind, digest = item.kind, item.digest
        licence = await self.licences.by_number(uow, kind.code, item.number_index, lock=True)
        now = self.clock.now()
        if licence is not None:
            # Scope first: a client learns nothing of licences outside its division.
            check_scope(scope, licence.issuer_division)
            existing = await self.licences.version(uow, licence.id, data.version)
            if existing is not None:
                check_same_content(existing.content_digest, digest)
                return UpsertResult(licence, existing, created=False)
            check_new_version(licence, data.version)
        holder = await self.holder_records.resolve(uow, holder_ref(item), now)
        issued_at = data.issued_at or now
        valid_from, valid_until = version_validity(item)
        if licence is None:
            licence = self.builder.new_licence(item, issued_at, now)
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
        seal_key = await self.keys.active_key(
            uow, "seal", identifiers.province_division(data.issuer.division)
        )
        document = version_document(
            item, holder.ref, identifier, issued_at, valid_from, valid_until
        )
        row = self.builder.version_row(
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
        version = LicenceVersion(**row.fields())
        try:
            await self.licences.save(uow, licence)
            await self.licences.add_version(uow, version)
        except IntegrityError:
            raise Conflict("a concurrent update touched this licence; retry") from None
        signed_until = seal_horizon(valid_until, now)
        if signed_until is not None:
            await self.keys.note_signed(uow, seal_key.kid, signed_until)
        event = {"identifier": identifier, "change_type": data.change_type}
        await self.licences.add_event(uow, outbox_event("licence.version", licence, now, event))
        await audit(
            uow,
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
        licence = await self.licences.by_ref(uow, ref, lock=True)
        if licence is None or not in_scope(scope, licence.issuer_division):
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
        await self.licences.save(uow, licence, fields=["status", "status_seq", "updated_at"])
        await self.licences.add_status_change(
            uow,
            status_change(
                licence, action.value, before.value, after.value, change.reason, actor, now
            ),
        )
        moved = {"action": action.value, "from": before.value, "to": after.value}
        await self.licences.add_event(uow, outbox_event("licence.status", licence, now, moved))
        await audit(
            uow,
            at=now,
            actor=actor,
            action=f"licence.{action.value}",
            subject=licence.ref,
            detail={"from": before.value, "to": after.value},
        )
        self._after_commit_status(uow, licence)
        return licence

    # -- reads --------------------------------------------------------------

    async def get(self, uow: UnitOfWork, ref: str, scope: str | None = None) -> Licence:
        """The licence ``ref`` inside ``scope``; :class:`NotFound` for one outside it too."""
        licence = await self.licences.by_ref(uow, ref)
        if licence is None or not in_scope(scope, licence.issuer_division):
            # Outside its division a licence does not exist for the client: a 403
            # would tell it which references are real.
            raise NotFound("no licence with that reference")
        return licence

    def view(self, licence: Licence) -> LicenceOut:
        """The authority's view of ``licence`` today."""
        return licence_view(licence, get_kind(licence.kind), self.clock.now().date())

    async def version_view(self, uow: UnitOfWork, licence: Licence, number: int) -> VersionOut:
        """Version ``number`` of ``licence`` with its face, document and seal."""
        row = await self.licences.version(uow, licence.id, number)
        if row is None:
            raise NotFound("no such version")
        return version_view(licence, row, self.vault)

    async def search(
        self,
        uow: UnitOfWork,
        query: SearchIn,
        *,
        status: str | None = None,
        division: str | None = None,
        scope: str | None = None,
    ) -> tuple[list[LicenceOut], str | None]:
        """Keyset-paginated search (ordered by ref); identifiers matched by blind index."""
        return await self.lookup.search(uow, query, status=status, division=division, scope=scope)

    async def find(self, uow: UnitOfWork, query: SearchIn) -> list[Licence]:
        """Licences matching ``query`` (the verifier's lookups); see :meth:`LicenceSearch.find`."""
        return await self.lookup.find(uow, query)

    # -- helpers ------------------------------------------------------------

    def _after_commit_status(self, uow: UnitOfWork, licence: Licence) -> None:
        live = live_status(licence)
        ref, cache = licence.ref, self.cache

        async def write() -> None:
            await write_status(cache, ref, live)

        uow.after_commit(write)
