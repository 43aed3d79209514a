"""Bulk import (批量导入, bulk import) of registry versions: the batch path.

Rows arrive as :class:`SourceRow` values, each carrying what one body of the
registry feed carries (:class:`~wallet.licences.schemas.VersionIn`); the
file formats that produce them (JSON Lines, CSV) live in
:mod:`wallet.licences.import_files`, the ``wallet import`` command in
:mod:`wallet.cli.imports`. Every row is checked by
the feed's own rules (:func:`~wallet.licences.service.prepare_version`, in
worker processes when there are some) before anything is written.

Valid rows are applied idempotently by kind + number + version: a version
already recorded with the same content is *unchanged*, so a rerun changes
nothing. Rows go in batches, one transaction each: what exists is
prefetched with ``IN`` queries, the new versions are planned in memory with
the same builders as the per-row path (holder records, licence, GB/T 36904
identifier, canonical document, outbox event), sealed with SM2 and
encrypted at rest (both in worker processes when there are some, while this
process writes) and written in bulk: new rows as plain tuples with COPY on
the unit of work's own connection on PostgreSQL (models and ``bulk_create``
on SQLite), changed rows through the models, with one audit entry per batch
(``licence.import``) and the status cache kept in step as by the per-row path
(pending markers before the commit, entries after; see
:mod:`wallet.licences.status`). A row that cannot be applied (a
version already recorded with other content, an older version, a revoked or
cancelled licence, no seal key for its province) is rejected and the rest
of its batch applies. A batch whose transaction fails as a whole is applied
again row by row through :meth:`Registry.upsert_version
<wallet.licences.service.Registry.upsert_version>`, each row in its own
unit of work, so a batch never half-applies.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date, datetime
from multiprocessing import get_context
from typing import Any, Protocol, TypeAlias, TypeVar

from pydantic import ValidationError
from tortoise.exceptions import IntegrityError

from wallet.audit.service import append as audit
from wallet.crypto import SM2Backend, sm2_backend
from wallet.errors import (
    Conflict,
    FieldProblem,
    Forbidden,
    NotFound,
    ValidationFailed,
    WalletError,
)
from wallet.holders.models import Enterprise, Person, Vehicle
from wallet.identifiers import province_division
from wallet.keys.service import ActiveKey
from wallet.licences.builders import (
    DOCUMENT_CONTEXT,
    AnyLicence,
    EnterpriseRow,
    EventRow,
    HolderRef,
    LicenceRow,
    PersonRow,
    PreparedVersion,
    RecordBuilder,
    VehicleRow,
    check_new_version,
    check_same_content,
    event_row,
    holder_ref,
    live_status,
    seal_horizon,
    stamp_current,
    version_document,
    version_validity,
)
from wallet.licences.models import Licence, LicenceVersion, OutboxEvent
from wallet.licences.schemas import VersionIn
from wallet.licences.seal import seal_document
from wallet.licences.service import Registry, prepare_version
from wallet.licences.status import mark_pending, write_statuses
from wallet.uow import UnitOfWork, unit_of_work
from wallet.vault.service import ColumnSealer, VaultKeys

__all__ = [
    "DEFAULT_BATCH",
    "ImportStats",
    "RejectSink",
    "SourceRow",
    "WorkerPool",
    "default_workers",
    "import_rows",
]

log = logging.getLogger(__name__)

DEFAULT_BATCH = 1000
_YIELD_EVERY = 32
_LICENCE_FIELDS = (
    "holder_person_id",
    "holder_enterprise_id",
    "vehicle_id",
    "version",
    "valid_from",
    "valid_until",
    "issuer_uscc",
    "issuer_name",
    "issuer_division",
    "updated_at",
    "identifier",
    "status_seq",
)


# A rejected row: its line, its problems and the body it carried (for the masked values).
_Rejected: TypeAlias = tuple[int, list[FieldProblem], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One row of an import file: its line number, the feed body it carries, or why not."""

    line: int
    body: Mapping[str, Any] | None
    problems: tuple[FieldProblem, ...] = ()

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Sent to the worker processes by the thousand: a plain tuple is pickled fastest.
        return SourceRow, (self.line, self.body, self.problems)


class RejectSink(Protocol):
    """Where rejected rows go (the reject report of :mod:`wallet.licences.import_files`)."""

    def add(
        self, line: int, problems: Sequence[FieldProblem], body: Mapping[str, Any] | None
    ) -> None:
        """Report one rejected row: its line, every problem, the body it carried (if any)."""
        ...


def _problems_of(exc: WalletError) -> list[FieldProblem]:
    if isinstance(exc, ValidationFailed) and exc.errors:
        return [dict(p) for p in exc.errors]
    if isinstance(exc, Conflict):
        field_path = "version"
    elif isinstance(exc, NotFound | Forbidden):
        field_path = "issuer.division"
    else:
        field_path = ""
    return [{"field": field_path, "rule": exc.type_code, "message": exc.detail}]


def _schema_problems(exc: ValidationError) -> list[FieldProblem]:
    # pydantic's messages name the expectation, never the input value.
    return [
        {"field": ".".join(str(p) for p in err["loc"]), "rule": err["type"], "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


# --- worker processes -----------------------------------------------------------------


@dataclass(frozen=True)
class _CheckJob:
    vault: VaultKeys
    """The vault's keys: the blind indexes of the licence number and the content digest."""
    today: date
    rows: list[SourceRow] = field(repr=False)


@dataclass(frozen=True)
class _SealJob:
    backend: str
    private_key: bytes = field(repr=False)
    documents: list[bytes] = field(repr=False)
    column: ColumnSealer | None = None
    """Also vault-seal each document for its column (the key stays out of the ``repr``)."""


# A checked row: the prepared version, or every problem that rejects it.
_Check: TypeAlias = PreparedVersion | list[FieldProblem]


def _check_all(builder: RecordBuilder, today: date, rows: Sequence[SourceRow]) -> list[_Check]:
    """Parse and validate each row by the feed's rules (no I/O)."""
    checks: list[_Check] = []
    for row in rows:
        try:
            if row.problems or row.body is None:
                raise ValidationFailed(errors=list(row.problems))
            try:
                data = VersionIn.model_validate(row.body)
            except ValidationError as exc:
                raise ValidationFailed(errors=_schema_problems(exc)) from None
            checks.append(prepare_version(builder, data, today))
        except ValidationFailed as exc:
            checks.append(_problems_of(exc))
    return checks


def _seal_all(
    sm2: SM2Backend, private_key: bytes, documents: Sequence[bytes], column: ColumnSealer | None
) -> list[tuple[str, str]]:
    """``(SM2 seal, vault-sealed document or "")`` of each document."""
    return [
        (
            seal_document(document, private_key, sm2),
            column.seal(document.decode()) if column is not None else "",
        )
        for document in documents
    ]


# The cyclic garbage collector's thresholds while importing (Python's default: 700,
# 10, 10). A batch makes and drops about a hundred thousand small objects, nearly none
# of them in cycles: at the default, collections over the process's long-lived objects
# (modules, models, the catalogue) took about half of the importer's CPU (measured:
# unpickling a checked batch 41 -> 10 us a row, checking it 71 -> 37 us a row), and
# full collections, rarer, over what a long import keeps (100,000 rows: 143 -> 116 us
# a row with the last two thresholds raised). RSS growth stays as it was (15 MiB).
_GC_THRESHOLDS = (100_000, 50, 1000)


@contextlib.contextmanager
def _batch_gc() -> Iterator[None]:
    """Collect less often while importing: the objects alive at the start are frozen
    (never scanned again) and the thresholds are :data:`_GC_THRESHOLDS`."""
    before = gc.get_threshold()
    gc.collect()  # what is garbage now is not frozen with the rest
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _start_worker() -> None:
    """Worker-process start: Ctrl-C reaches the whole process group, but only the
    importing process decides what it means (stop after the current batch); the
    imports done, the worker collects as the importer does (:func:`_batch_gc`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)


_worker_builder: tuple[VaultKeys, RecordBuilder] | None = None


def _check_chunk(job: _CheckJob) -> list[_Check]:
    """Worker-process side: check the job's rows (the vault is made once per process)."""
    global _worker_builder
    if _worker_builder is None or _worker_builder[0] != job.vault:
        _worker_builder = (job.vault, RecordBuilder(job.vault.vault()))
    return _check_all(_worker_builder[1], job.today, job.rows)


def _seal_chunk(job: _SealJob) -> list[tuple[str, str]]:
    """Worker-process side: seal each document with the job's key (and for its column)."""
    return _seal_all(sm2_backend(job.backend), job.private_key, job.documents, job.column)


def default_workers() -> int:
    """Worker processes by default: two when there are two cores or more, else none.

    The importing process plans and writes more rows per second than one
    core signs, so two workers keep it busy on two cores; more add nothing.
    """
    return 2 if (os.cpu_count() or 1) >= 2 else 0


_T = TypeVar("_T")
_R = TypeVar("_R")

POOL_MIN_ITEMS = 64
"""Fewer rows or documents than this are worked here: two worker processes take about
a second of CPU to start, the work of 64 rows about 20 ms."""


class WorkerPool:
    """Runs the import's CPU work in ``workers`` worker processes, or in this one.

    The work is checking rows (parsing, the catalogue's rules, the blind
    indexes) and sealing documents (SM2, and the vault's encryption of each
    document): together most of an import's CPU, spread over the cores while
    this process plans and writes. The pool starts with the first work of
    :data:`POOL_MIN_ITEMS` items or more (a small file never starts it) and
    stops when the ``with`` block ends. Each job carries its keys and items
    and nothing else; the keys never appear in a ``repr`` or a log line. A
    pool that breaks is dropped and the work goes on in this process.
    """

    def __init__(self, sm2: SM2Backend, workers: int = 0) -> None:
        self.sm2 = sm2
        self.workers = max(0, workers)
        self._pool: Executor | None = None

    def __repr__(self) -> str:
        return f"WorkerPool(sm2={self.sm2.name!r}, workers={self.workers})"

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    async def _map(
        self,
        items: Sequence[_T],
        job: Callable[[list[_T]], Any],
        remote: Callable[[Any], list[_R]],
        local: Callable[[Sequence[_T]], list[_R]],
    ) -> list[_R] | None:
        """``remote(job(part))`` over ``workers`` parts of ``items``, results in order;
        ``local(items)`` when the pool breaks; None without workers (the caller works
        here)."""
        if not self.workers or len(items) < POOL_MIN_ITEMS:
            return None
        if self._pool is None:
            # spawn, not fork: this process runs an event loop and database connections.
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=get_context("spawn"), initializer=_start_worker
            )
        size = -(-len(items) // min(self.workers, len(items)))
        pool = self._pool
        try:
            parts = await asyncio.gather(
                *(
                    asyncio.wrap_future(pool.submit(remote, job(list(items[i : i + size]))))
                    for i in range(0, len(items), size)
                )
            )
        except BrokenProcessPool:
            log.warning("the import's worker pool broke; working in this process from now on")
            pool.shutdown(wait=False, cancel_futures=True)
            if self._pool is pool:
                self._pool, self.workers = None, 0
            return local(items)
        return [result for part in parts for result in part]

    async def check(
        self, builder: RecordBuilder, today: date, rows: Sequence[SourceRow]
    ) -> list[_Check] | None:
        """Each row checked (:func:`_check_all`) in the workers; None without workers."""
        return await self._map(
            rows,
            lambda part: _CheckJob(builder.vault.keys_for_worker(), today, part),
            _check_chunk,
            lambda items: _check_all(builder, today, items),
        )

    async def seal(
        self, key: ActiveKey, documents: Sequence[bytes], column: ColumnSealer | None = None
    ) -> list[tuple[str, str]]:
        """The seals (hex ``r‖s``) of ``documents`` under ``key``, in order, each with the
        document sealed by ``column`` (the vault's encryption at rest; "" without one)."""

        def here(items: Sequence[bytes]) -> list[tuple[str, str]]:
            return _seal_all(self.sm2, key.private_key, items, column)

        sealed = await self._map(
            documents,
            lambda part: _SealJob(self.sm2.name, key.private_key, part, column),
            _seal_chunk,
            here,
        )
        return here(documents) if sealed is None else sealed


# --- statistics -------------------------------------------------------------------------


@dataclass
class ImportStats:
    """Counts of one import run; ``rate`` is rows read per second."""

    source: str = ""
    read: int = 0
    created: int = 0
    unchanged: int = 0
    rejected: int = 0
    batches: int = 0
    row_by_row: int = 0
    seconds: float = 0.0
    last_line: int = 0
    """The last line of the source applied (the end of the last batch)."""
    interrupted: bool = False
    """The run stopped early, between two batches, when asked to (``stop``)."""

    @property
    def rate(self) -> float:
        """Rows read per second of wall time."""
        return self.read / self.seconds if self.seconds > 0 else 0.0


# --- the batch path ---------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    line: int
    body: Mapping[str, Any] | None
    item: PreparedVersion

    @property
    def licence_key(self) -> tuple[str, str]:
        return self.item.kind.code, self.item.number_index

    @property
    def version_key(self) -> tuple[str, str, int]:
        return self.item.kind.code, self.item.number_index, self.item.data.version


@dataclass(frozen=True, slots=True)
class _Holder:
    """The holder a row names, with the blind index of a person's ID number (once per row)."""

    ref: HolderRef
    index: str


@dataclass(slots=True)
class _Checked:
    """A batch after the row checks: its valid rows and the rows already rejected."""

    first: int
    last: int
    read: int
    valid: list[_Row] = field(default_factory=list)
    rejects: list[_Rejected] = field(default_factory=list)


@dataclass(slots=True)
class _NewVersion:
    licence: AnyLicence
    item: PreparedVersion
    identifier: str
    document: bytes
    key: ActiveKey
    issued_at: datetime
    valid_from: date | None
    valid_until: date | None


@dataclass
class _Plan:
    """What one batch will write, built in memory from the prefetched rows."""

    now: datetime
    created: int = 0
    unchanged: int = 0
    rejects: list[tuple[_Row, list[FieldProblem]]] = field(default_factory=list)
    persons: dict[str, Person | PersonRow] = field(default_factory=dict)
    enterprises: dict[str, Enterprise | EnterpriseRow] = field(default_factory=dict)
    vehicles: dict[tuple[str, str], Vehicle | VehicleRow] = field(default_factory=dict)
    licences: dict[tuple[str, str], AnyLicence] = field(default_factory=dict)
    # New records as plain rows (written with COPY on PostgreSQL), stored ones as models.
    new_persons: list[PersonRow] = field(default_factory=list)
    new_enterprises: list[EnterpriseRow] = field(default_factory=list)
    new_vehicles: list[VehicleRow] = field(default_factory=list)
    new_licences: list[LicenceRow] = field(default_factory=list)
    dirty: dict[type[Any], dict[Any, Any]] = field(default_factory=dict)
    versions: list[_NewVersion] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    touched: dict[str, AnyLicence] = field(default_factory=dict)
    horizons: dict[str, datetime] = field(default_factory=dict)

    def mark_dirty(self, obj: Any) -> None:
        """Note a change of a stored record (a new one is written whole anyway)."""
        if isinstance(obj, Licence | Person | Enterprise | Vehicle):
            self.dirty.setdefault(type(obj), {})[obj.id] = obj

    def reject(self, row: _Row, exc: WalletError) -> None:
        self.rejects.append((row, _problems_of(exc)))


class _Importer:
    """Applies batches of validated rows; counts into ``stats``, reports into ``rejects``."""

    def __init__(
        self,
        registry: Registry,
        *,
        actor: str,
        source: str,
        workers: WorkerPool,
        rejects: RejectSink,
        stats: ImportStats,
    ) -> None:
        self.registry = registry
        self.actor = actor
        self.source = source
        self.workers = workers
        self.rejects = rejects
        self.stats = stats

    async def check(self, rows: Sequence[SourceRow]) -> _Checked:
        """Parse and validate one batch of source rows (no database access).

        Pure CPU work: in the worker processes when there are some, else here,
        yielding to the event loop every few rows; either way the batch before
        it keeps writing meanwhile.
        """
        builder = self.registry.builder
        today = self.registry.clock.now().date()
        checks = await self.workers.check(builder, today, rows)
        if checks is None:
            checks = []
            for start in range(0, len(rows), _YIELD_EVERY):
                checks += _check_all(builder, today, rows[start : start + _YIELD_EVERY])
                await asyncio.sleep(0)
        checked = _Checked(rows[0].line, rows[-1].line, len(rows))
        for row, check in zip(rows, checks, strict=True):
            if isinstance(check, PreparedVersion):
                checked.valid.append(_Row(row.line, row.body, check))
            else:
                checked.rejects.append((row.line, check, row.body))
        return checked

    async def apply(self, checked: _Checked) -> None:
        """Apply one checked batch, then count it and report its rejected rows in row order."""
        rejects = list(checked.rejects)
        if checked.valid:
            rejects += await self._apply(checked)
        self.stats.read += checked.read
        self.stats.last_line = checked.last
        self.stats.batches += 1
        self.stats.rejected += len(rejects)
        for line, problems, body in sorted(rejects, key=lambda r: r[0]):
            self.rejects.add(line, problems, body)

    async def _apply(self, checked: _Checked) -> list[_Rejected]:
        rows = checked.valid
        try:
            async with unit_of_work() as uow:
                plan = await self._plan(uow, rows)
                if plan.created:
                    await self._write(uow, plan, checked)
        except Exception as exc:  # any failure of the batch: its rows go again one by one
            log.warning(
                "import batch of rows %d-%d failed (%s): re-applying row by row",
                checked.first,
                checked.last,
                type(exc).__name__,
            )
            return await self._apply_rows(rows)
        self.stats.created += plan.created
        self.stats.unchanged += plan.unchanged
        return [(row.line, problems, row.body) for row, problems in plan.rejects]

    async def _apply_rows(self, rows: Sequence[_Row]) -> list[_Rejected]:
        self.stats.row_by_row += 1
        rejects: list[_Rejected] = []
        for row in rows:
            try:
                async with unit_of_work() as uow:
                    result = await self.registry.upsert_version(
                        uow, row.item.data, actor=self.actor
                    )
            except WalletError as exc:
                rejects.append((row.line, _problems_of(exc), row.body))
            except IntegrityError:
                conflict = Conflict("a concurrent update touched this licence; retry")
                rejects.append((row.line, _problems_of(conflict), row.body))
            else:
                if result.created:
                    self.stats.created += 1
                else:
                    self.stats.unchanged += 1
        return rejects

    # -- planning ------------------------------------------------------------------

    async def _plan(self, uow: UnitOfWork, rows: Sequence[_Row]) -> _Plan:
        licences = self.registry.licences
        # The prefetch queries carry a batch of keys in IN lists.
        await licences.plan_each_batch(uow)
        plan = _Plan(now=self.registry.clock.now())
        kinds = {row.item.kind.code for row in rows}
        numbers = {row.item.number_index for row in rows}
        licence_ids = await licences.ids_by_number(uow, kinds, numbers)
        known: dict[tuple[str, str, int], str] = {}
        if licence_ids:
            keys_of = {licence_id: key for key, licence_id in licence_ids.items()}
            versions = await licences.version_digests(
                uow, list(keys_of), {row.item.data.version for row in rows}
            )
            known = {
                (*keys_of[licence_id], version): digest for licence_id, version, digest in versions
            }
        fresh = [row for row in rows if row.version_key not in known]
        person_index = self.registry.builder.person_index
        holders: dict[int, _Holder] = {}
        for row in fresh:
            ref = holder_ref(row.item)
            index = person_index(ref.code) if ref.holder_type == "person" else ""
            holders[id(row)] = _Holder(ref, index)
        if fresh:
            await self._prefetch(uow, plan, fresh, list(holders.values()), licence_ids)
        seal_keys = await self._seal_keys(uow, fresh)
        for row in rows:
            digest = known.get(row.version_key)
            if digest is not None:
                try:
                    check_same_content(digest, row.item.digest)
                except Conflict as exc:
                    plan.reject(row, exc)
                else:
                    plan.unchanged += 1
                continue
            licence = plan.licences.get(row.licence_key)
            if licence is not None:
                try:
                    check_new_version(licence, row.item.data.version)
                except Conflict as exc:
                    plan.reject(row, exc)
                    continue
            key = seal_keys[province_division(row.item.data.issuer.division)]
            if isinstance(key, WalletError):  # no seal key for the province
                plan.reject(row, key)
                continue
            self._plan_version(plan, row, licence, holders[id(row)], key)
            known[row.version_key] = row.item.digest
        return plan

    async def _prefetch(
        self,
        uow: UnitOfWork,
        plan: _Plan,
        rows: Sequence[_Row],
        named: Sequence[_Holder],
        licence_ids: Mapping[tuple[str, str], Any],
    ) -> None:
        registry = self.registry
        holders = registry.holder_records.holders
        existing = {licence_ids[row.licence_key] for row in rows if row.licence_key in licence_ids}
        if existing:
            for licence in await registry.licences.lock_many(uow, existing):
                plan.licences[(licence.kind, licence.number_index)] = licence
        person_indexes = {h.index for h in named if h.ref.holder_type == "person"}
        for person in await holders.persons_by_id_numbers(uow, person_indexes):
            plan.persons[person.id_number_index] = person
        refs = [h.ref for h in named]
        usccs = {r.code for r in refs if r.holder_type != "person"}
        for enterprise in await holders.enterprises_by_usccs(uow, usccs):
            plan.enterprises[enterprise.uscc] = enterprise
        plates = {r.plate for r in refs if r.holder_type == "vehicle"}
        for vehicle in await holders.vehicles_by_plates(uow, plates):
            plan.vehicles[(vehicle.plate_number, vehicle.plate_colour)] = vehicle

    async def _seal_keys(
        self, uow: UnitOfWork, rows: Sequence[_Row]
    ) -> dict[str, ActiveKey | WalletError]:
        keys: dict[str, ActiveKey | WalletError] = {}
        for division in sorted({province_division(r.item.data.issuer.division) for r in rows}):
            try:
                keys[division] = await self.registry.keys.active_key(uow, "seal", division)
            except WalletError as exc:  # no key for this province: its rows are rejected
                keys[division] = exc
        return keys

    def _plan_version(
        self, plan: _Plan, row: _Row, licence: AnyLicence | None, named: _Holder, key: ActiveKey
    ) -> None:
        builder, item, now, ref = self.registry.builder, row.item, plan.now, named.ref
        person, enterprise, vehicle = self._holder(plan, named)
        issued_at = item.data.issued_at or now
        valid_from, valid_until = version_validity(item)
        if licence is None:
            licence = builder.licence_row(item, issued_at, now)
            plan.licences[row.licence_key] = licence
            plan.new_licences.append(licence)
        else:
            plan.mark_dirty(licence)
        # By id, as stored: the holder records may be new rows not written yet.
        licence.holder_person_id = person.id if person is not None else None
        licence.holder_enterprise_id = enterprise.id if enterprise is not None else None
        licence.vehicle_id = vehicle.id if vehicle is not None else None
        identifier = stamp_current(licence, item, valid_from, valid_until, now)
        document = version_document(item, ref, identifier, issued_at, valid_from, valid_until)
        plan.versions.append(
            _NewVersion(
                licence, item, identifier, document, key, issued_at, valid_from, valid_until
            )
        )
        plan.events.append(
            event_row(
                "licence.version",
                licence,
                now,
                {"identifier": identifier, "change_type": item.data.change_type},
            )
        )
        plan.touched[licence.ref] = licence
        horizon = seal_horizon(valid_until, now)
        latest = plan.horizons.get(key.kid)
        if horizon is not None and (latest is None or horizon > latest):
            plan.horizons[key.kid] = horizon
        plan.created += 1

    def _holder(
        self, plan: _Plan, named: _Holder
    ) -> tuple[
        Person | PersonRow | None, Enterprise | EnterpriseRow | None, Vehicle | VehicleRow | None
    ]:
        builder, now, ref = self.registry.builder, plan.now, named.ref
        if ref.holder_type == "person":
            person = plan.persons.get(named.index)
            if person is None:
                new_person = builder.person_row(ref, now, named.index)
                person = plan.persons[named.index] = new_person
                plan.new_persons.append(new_person)
            elif builder.refresh_person(person, ref, now):
                plan.mark_dirty(person)
            return person, None, None
        enterprise = plan.enterprises.get(ref.code)
        if enterprise is None:
            new_enterprise = builder.enterprise_row(ref, now)
            enterprise = plan.enterprises[ref.code] = new_enterprise
            plan.new_enterprises.append(new_enterprise)
        elif builder.refresh_enterprise(enterprise, ref, now):
            plan.mark_dirty(enterprise)
        if ref.holder_type != "vehicle":
            return None, enterprise, None
        vehicle = plan.vehicles.get((ref.plate, ref.colour))
        if vehicle is None:
            new_vehicle = builder.vehicle_row(ref, enterprise.id, now)
            vehicle = plan.vehicles[(ref.plate, ref.colour)] = new_vehicle
            plan.new_vehicles.append(new_vehicle)
        elif builder.refresh_vehicle(vehicle, enterprise, now):
            plan.mark_dirty(vehicle)
        return None, enterprise, vehicle

    # -- writing -------------------------------------------------------------------

    async def _write(self, uow: UnitOfWork, plan: _Plan, checked: _Checked) -> None:
        registry = self.registry
        licences, holders = registry.licences, registry.holder_records.holders
        # Workers sign while this process writes the rows that do not need the seals.
        sealing = asyncio.ensure_future(self._seal(plan.versions))
        try:
            # Pending markers for the existing licences the batch changes (locked, with
            # their new status_seq); with the cache down the batch, then each row, is refused.
            changed = plan.dirty.get(Licence, {}).values()
            await mark_pending(registry.cache, {lic.ref: lic.status_seq for lic in changed})
            await uow.add_rows(Person, plan.new_persons)
            await uow.add_rows(Enterprise, plan.new_enterprises)
            await uow.add_rows(Vehicle, plan.new_vehicles)
            for model, fields in (
                (Person, ("name_sealed", "name_index", "updated_at")),
                (Enterprise, ("name", "updated_at")),
                (Vehicle, ("enterprise_id", "updated_at")),
            ):
                await holders.update_records(uow, list(plan.dirty.get(model, {}).values()), fields)
            await uow.add_rows(Licence, plan.new_licences)
            await licences.update_many(
                uow, list(plan.dirty.get(Licence, {}).values()), _LICENCE_FIELDS
            )
            version_row = registry.builder.version_row
            rows = [
                version_row(
                    v.licence,
                    v.item,
                    v.identifier,
                    v.document,
                    seal,
                    v.key.kid,
                    issued_at=v.issued_at,
                    valid_from=v.valid_from,
                    valid_until=v.valid_until,
                    actor=self.actor,
                    now=plan.now,
                    document_sealed=document_sealed,
                )
                for v, (seal, document_sealed) in zip(plan.versions, await sealing, strict=True)
            ]
        finally:
            if not sealing.done():
                sealing.cancel()
            elif not sealing.cancelled():
                sealing.exception()  # retrieved: the error (if any) is already on its way up
        await uow.add_rows(LicenceVersion, rows)
        await uow.add_rows(OutboxEvent, plan.events)
        for kid, until in plan.horizons.items():
            await registry.keys.note_signed(uow, kid, until)
        await audit(
            uow,
            at=plan.now,
            actor=self.actor,
            action="licence.import",
            subject=self.source,
            detail={
                "file": self.source,
                "first_row": checked.first,
                "last_row": checked.last,
                "read": checked.read,
                "created": plan.created,
                "unchanged": plan.unchanged,
                "rejected": checked.read - plan.created - plan.unchanged,
            },
        )
        statuses = {ref: live_status(licence) for ref, licence in plan.touched.items()}
        cache = registry.cache
        uow.after_commit(lambda: write_statuses(cache, statuses))

    async def _seal(self, versions: Sequence[_NewVersion]) -> list[tuple[str, str]]:
        """Each version's SM2 seal and its document sealed by the vault (both CPU work,
        done in the worker processes when there are some)."""
        groups: dict[str, list[int]] = {}
        for i, version in enumerate(versions):
            groups.setdefault(version.key.kid, []).append(i)
        seals = [("", "")] * len(versions)
        column = self.registry.builder.vault.column_sealer(DOCUMENT_CONTEXT)
        for positions in groups.values():
            key = versions[positions[0]].key
            documents = [versions[i].document for i in positions]
            sealed = await self.workers.seal(key, documents, column)
            for i, seal in zip(positions, sealed, strict=True):
                seals[i] = seal
        return seals


# --- entry point ----------------------------------------------------------------------


async def import_rows(
    registry: Registry,
    rows: Iterable[SourceRow],
    *,
    source: str,
    rejects: RejectSink,
    actor: str = "import",
    batch_size: int = DEFAULT_BATCH,
    workers: int = 0,
    progress: Callable[[ImportStats], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> ImportStats:
    """Import ``rows`` through ``registry`` in batches of ``batch_size``; the run's counts.

    ``source`` names the file in audit entries; ``workers`` check rows and
    seal in that many worker processes (0: in this process); ``progress`` is called after
    every batch. ``stop`` is asked after every batch: when it answers true
    the run ends there, with ``interrupted`` set and ``last_line`` the last
    line applied (a rerun of the same rows finds those unchanged and goes on).
    Rows are read lazily: the next batch is read and checked while the
    current one is written, so at most two batches are in memory.
    Errors of ``rows`` itself (an unreadable file) propagate; the batches
    before them stay applied.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    stats = ImportStats(source=source)
    started = time.perf_counter()
    with _batch_gc(), WorkerPool(registry.sm2, workers) as pool:
        importer = _Importer(
            registry, actor=actor, source=source, workers=pool, rejects=rejects, stats=stats
        )
        queue: asyncio.Queue[_Checked | BaseException | None] = asyncio.Queue(maxsize=1)

        async def produce() -> None:
            try:
                batch: list[SourceRow] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) >= batch_size:
                        await queue.put(await importer.check(batch))
                        batch = []
                if batch:
                    await queue.put(await importer.check(batch))
            except Exception as exc:  # handed to the consumer, which raises it
                await queue.put(exc)
            else:
                await queue.put(None)

        producer = asyncio.create_task(produce())
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                await importer.apply(item)
                stats.seconds = time.perf_counter() - started
                if progress is not None:
                    progress(stats)
                if stop is not None and stop():
                    stats.interrupted = True
                    break
        finally:
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
    stats.seconds = time.perf_counter() - started
    return stats
