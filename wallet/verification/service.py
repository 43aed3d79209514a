"""The online verifier: gathers the result of every check of DESIGN §7, then :func:`decide`.

Token checks are the pure ones of :mod:`wallet.verification.verdict`, run
against the trust list of :mod:`wallet.verification.trust`. Then, online
only: the offline code (TOTP with the activation's seed), replay (a token or
code seen from another officer inside its window), the live status — Redis
first, then the database — and the registry's record of the version (its
``knd`` and ``iss`` against the signed ones, and the face). The verdict is
:func:`~wallet.verification.verdict.decide`'s, from those results; each
verification is logged (:mod:`wallet.verification.log`) before it is
answered.

The scan path is built to cost little more than its signature check:

* one cache round trip per scan, after the token checks
  (:mod:`wallet.verification.probe`): rate limits, the replay mark and the
  status read, shared by the scans that wait together.
* the licence face of ``(ref, version)`` — a sealed version never changes —
  is kept decrypted in this process's memory for :data:`FACE_TTL` seconds
  from when it was read (at most :data:`FACE_CACHE_SIZE` of them), never in
  the cache or on disk. The status is read live for every scan regardless.
* log rows are written by group commit (:mod:`wallet.verification.log`).

A printable credential (``rtel-print``) and an annotated copy
(``rtel-copy``) go through the same token checks (a copy under a copy key)
and the same status and registry checks, without the replay check: a paper
is scanned many times by design. For a copy the answer adds whether its grant
is still live (:class:`GrantLiveness`, given by the sharing package) and
shows only the fields the copy carries.

Database reads on this path are bounded (:data:`~wallet.verification.trust.DB_TIMEOUT`)
and their outages, translated by :func:`wallet.db.map_storage_errors`, become
check results (``None``, unknown), never a 500.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import orjson
from redis.asyncio import Redis

from wallet.activation.repository import ActivationRepository
from wallet.claims.repository import ClaimRepository
from wallet.claims.service import photo_bytes
from wallet.clock import Clock
from wallet.db import map_storage_errors
from wallet.errors import Forbidden, NotFound, Unavailable
from wallet.licences.builders import DOCUMENT_CONTEXT
from wallet.licences.catalogue import get_kind
from wallet.licences.repository import LicenceRepository
from wallet.licences.schemas import SearchIn
from wallet.licences.service import Registry
from wallet.licences.status import LiveStatus, read_cached_status, refill_status, take_lease
from wallet.metrics import STATUS_CACHE_READS
from wallet.officers.service import OfficerSession
from wallet.presentation.service import kind_code
from wallet.presentation.tokens import Claims, CopyClaims, DocumentKind, ParsedPresentation
from wallet.totp import verify_offline_code
from wallet.uow import UnitOfWork
from wallet.vault import Vault, mask_id_number
from wallet.verification.log import VerificationLog
from wallet.verification.lookups import is_resident_id_number, minimal_face, numbered_by_resident_id
from wallet.verification.models import VerificationRecord
from wallet.verification.probe import CacheProbe
from wallet.verification.repository import VerificationRepository
from wallet.verification.trust import DB_TIMEOUT, TrustCache
from wallet.verification.verdict import (
    AUTHENTIC,
    CLOCK_SKEW,
    ClaimsCheck,
    CodeCheck,
    Decision,
    Replay,
    Verdict,
    decide,
    disagreeing_claims,
    status_verdict,
)

__all__ = ["GrantLiveness", "Outcome", "Verifier"]

log = logging.getLogger(__name__)

FACE_TTL: Final = 60.0
"""Seconds a decrypted licence face may stay in a verifier process's memory."""
FACE_CACHE_SIZE: Final = 1024
PHOTO_WINDOW: Final = 600
"""Seconds after a verification during which the officer may fetch the holder's photo."""
SEED_CONTEXT: Final = "activation.totp_seed"


class GrantLiveness(Protocol):
    """Whether the grant behind an annotated copy is still live (the sharing package's answer).

    Live: it exists for the licence, is not revoked and has not ended. ``None``
    when that cannot be read (an outage): the answer then says the grant
    could not be checked.
    """

    async def grant_live(self, uow: UnitOfWork, grant_id: str, ref: str) -> bool | None: ...


@dataclass(frozen=True)
class Outcome:
    """The answer to an officer: a verdict, and what the officer may see.

    ``document`` says what was checked (``None`` for a lookup); ``claims``
    are the token's once its signature held; ``copy`` and ``grant_live`` are
    set for an annotated copy (``grant_live`` ``None``: not checked).
    """

    verdict: Verdict
    licence_ref: str | None = None
    kind: str | None = None
    version: int | None = None
    face: dict[str, Any] = field(default_factory=dict)
    status_checked_at: datetime | None = None
    detail: str = ""
    document: DocumentKind | None = None
    claims: Claims | None = None
    copy: CopyClaims | None = None
    grant_live: bool | None = None


@dataclass(frozen=True, slots=True)
class _VersionRecord:
    """A sealed version as the verifier keeps it: kind, the claims a token carries, the face."""

    kind: str
    knd: str
    iss: str
    face: dict[str, Any]
    """Before masking: it never leaves this process unmasked for an inspector."""


@asynccontextmanager
async def _bounded() -> AsyncIterator[None]:
    """A database read of the scan path: bounded in time, outages as :class:`Unavailable`."""
    with map_storage_errors():
        async with asyncio.timeout(DB_TIMEOUT):
            yield


class Verifier:
    """Scans, lookups and photos for signed-in officers (one per process: it holds caches)."""

    def __init__(
        self,
        *,
        trust_list: TrustCache,
        probe: CacheProbe,
        log: VerificationLog,
        records: VerificationRepository,
        licences: LicenceRepository,
        activations: ActivationRepository,
        claims: ClaimRepository,
        registry: Registry,
        cache: Redis,
        clock: Clock,
        vault: Vault,
        grants: GrantLiveness | None = None,
        scans_per_minute: int = 120,
        lookups_per_hour: int = 20,
    ) -> None:
        self.trust_list, self.probe, self.log, self.records = trust_list, probe, log, records
        self.licences, self.activations, self.claims = licences, activations, claims
        self.registry, self.cache, self.clock, self.vault = registry, cache, clock, vault
        self.grants = grants
        self.scan_limit = (scans_per_minute, 60)
        # Lookups reveal data without the holder's action: limited much more tightly.
        self.lookup_limit = (lookups_per_hour, 3600)
        # (ref, version) -> (monotonic deadline, what its sealed document says)
        self._faces: OrderedDict[tuple[str, int], tuple[float, _VersionRecord]] = OrderedDict()

    async def verify(self, uow: UnitOfWork, qr: str, officer: OfficerSession) -> Outcome:
        """Verify a scanned string for ``officer``; the answer is always a verdict.

        The checks run in the order of DESIGN §7 and stop at the first that
        fails (a later check has costs: a query, a replay mark).
        Raises :class:`~wallet.errors.RateLimited` when the officer or the
        device is over its scan limit.
        """
        now = self.clock.timestamp()
        today = self.clock.now().date()
        checked = await self.trust_list.check(qr, now)
        presentation = checked.presentation
        if checked.verdict is not None or presentation is None:
            await self.probe.rate_limit(officer, "scan", self.scan_limit)
            decision = decide(
                checked.verdict or Verdict.MALFORMED, today=today, token_detail=checked.detail
            )
            document = presentation.document if presentation is not None else None
            mode: str = document if document in ("print", "copy") else "scan"
            outcome = await self._answer(officer, mode, None, decision)
            return replace(outcome, document=document)
        if presentation.document in ("print", "copy"):
            return await self._verify_paper(uow, presentation, officer)
        claims = presentation.claims
        code = CodeCheck.NOT_OFFLINE
        if presentation.code is not None:
            # The code is checked against the database before the replay mark:
            # limits first, so that a flood of codes costs no queries.
            await self.probe.rate_limit(officer, "scan", self.scan_limit)
            code = await self._code_check(uow, claims, presentation.code, now)
            if code is not CodeCheck.MATCH:
                decision = decide(None, today=today, code=code)
                return await self._answer(officer, "offline", claims.jti, decision, claims.lic)
        mode = "offline" if presentation.code else "scan"
        token_id = f"{claims.jti}:{presentation.code}" if presentation.code else claims.jti
        window = (3 * 30 if presentation.code else claims.exp - now) + CLOCK_SKEW
        probe = await self.probe.probe(
            officer,
            token_id,
            window,
            claims.lic,
            limit=None if presentation.code else self.scan_limit,
        )
        replay = await self._replay(uow, probe.replayed, token_id, officer, window)
        if replay is not Replay.NO:
            decision = decide(None, today=today, code=code, replay=replay)
            return await self._answer(officer, mode, token_id, decision, claims.lic)
        live = probe.status
        if live is None:
            live = await self._stored_status(uow, claims.lic)
        check, record = await self._registry_record(uow, claims.lic, claims.ver, live, claims)
        decision = decide(
            None,
            today=today,
            code=code,
            replay=replay,
            version=claims.ver,
            live=live,
            claims=check,
        )
        outcome = await self._answer(
            officer, mode, token_id, decision, claims.lic, claims.ver, record
        )
        return replace(outcome, document=presentation.document, claims=claims)

    async def _verify_paper(
        self, uow: UnitOfWork, presentation: ParsedPresentation, officer: OfficerSession
    ) -> Outcome:
        """A printable credential or an annotated copy whose token checks passed.

        No replay check (a paper is scanned again and again) and no TOTP: the
        live status and the registry's record decide, as for an online QR.
        For a copy, whether its grant is live is added, and the face is cut
        down to the fields the copy carries.
        """
        claims, copy = presentation.claims, presentation.copy
        document = presentation.document
        await self.probe.rate_limit(officer, "scan", self.scan_limit)
        live = await self.live_status(uow, claims.lic)
        check, record = await self._registry_record(uow, claims.lic, claims.ver, live, claims)
        decision = decide(
            None,
            today=self.clock.now().date(),
            replay=Replay.UNCHECKED,  # by design: the same paper is scanned many times
            version=claims.ver,
            live=live,
            claims=check,
        )
        grant_live: bool | None = None
        if copy is not None:
            grant_live = await self._grant_live(uow, copy.gid, claims.lic)
            if record is not None:
                face = {k: v for k, v in record.face.items() if k in copy.fld}
                record = replace(record, face=face)
        token_id = f"{'c' if copy else 'p'}:{claims.jti}"
        outcome = await self._answer(
            officer, document, token_id, decision, claims.lic, claims.ver, record
        )
        return replace(outcome, document=document, claims=claims, copy=copy, grant_live=grant_live)

    async def _grant_live(self, uow: UnitOfWork, grant_id: str, ref: str) -> bool | None:
        """The sharing package's answer; ``None`` without one or in an outage."""
        if self.grants is None:
            return None
        try:
            async with _bounded():
                return await self.grants.grant_live(uow, grant_id, ref)
        except Unavailable:
            log.warning("grant liveness unavailable (database unreachable)")
            return None

    def forget_trust(self) -> None:
        """Drop the cached trust list (the next verification reloads it)."""
        self.trust_list.forget()

    async def drain_spool(self) -> int:
        """Move every spooled log row into the database (see :class:`VerificationLog`)."""
        return await self.log.drain_spool()

    def draining(self) -> AbstractAsyncContextManager[None]:
        """Drain the log's spool in the background while the body runs."""
        return self.log.draining()

    async def lookup_by(
        self,
        uow: UnitOfWork,
        officer: OfficerSession,
        *,
        plate_number: str | None = None,
        number: str | None = None,
        id_number: str | None = None,
        kind: str | None = None,
    ) -> list[Outcome]:
        """Checks without a QR (the holder cannot show one): status and a minimal face.

        Lookups reveal data without the holder's action, so they are limited
        more tightly than scans and follow the lookup rule of
        :mod:`wallet.verification.lookups`: a lookup by resident ID number —
        given as ``id_number`` or as a licence ``number`` that is one — needs
        a supervisor, and inspectors see a minimal face.
        """
        supervisor = officer.role == "supervisor"
        if not supervisor and (id_number or (number and is_resident_id_number(number))):
            raise Forbidden("lookups by resident ID number need the supervisor role")
        await self.probe.rate_limit(officer, "lookup", self.lookup_limit)
        licences = await self.registry.find(
            uow,
            SearchIn(
                plate_number=plate_number, number=number, id_number=id_number, kind=kind, limit=20
            ),
        )
        if number and not supervisor:
            # Whatever form the number took, a kind numbered by the holder's ID number
            # is never found by an inspector: as if it did not exist (no oracle).
            licences = [lic for lic in licences if not numbered_by_resident_id(get_kind(lic.kind))]
        outcomes = []
        for licence in licences[:20]:
            live = await self.live_status(uow, licence.ref)
            check, record = await self._registry_record(uow, licence.ref, licence.version, live)
            decision = decide(
                None,
                today=self.clock.now().date(),
                replay=Replay.UNCHECKED,  # no token: nothing to replay
                version=licence.version,
                live=live,
                claims=check,
            )
            outcome = self._outcome(decision, officer, licence.ref, licence.version, record)
            if not supervisor and outcome.kind is not None:
                outcome = replace(outcome, face=minimal_face(get_kind(outcome.kind), outcome.face))
            await self.log.record(officer, "lookup", outcome.verdict, outcome.licence_ref, None)
            outcomes.append(outcome)
        return outcomes

    async def photo(self, uow: UnitOfWork, officer: OfficerSession, ref: str) -> bytes:
        """The holder's approved photo (JPEG) for an officer who just verified the licence.

        Only after a scan (or, for a supervisor, a lookup) by this officer with
        an authentic verdict in the last :data:`PHOTO_WINDOW` seconds: photos
        cannot be browsed by ref, and an inspector's lookup shows no photo.
        """
        since = datetime.fromtimestamp(self.clock.timestamp() - PHOTO_WINDOW, UTC)
        modes = ["scan", "offline", "print"] + (["lookup"] if officer.role == "supervisor" else [])
        async with _bounded():
            seen = await self.records.verified_by(
                uow, officer.officer_id, ref, since, [v.value for v in AUTHENTIC], modes
            )
            licence = await self.licences.by_ref(uow, ref) if seen else None
            photo = await self.claims.approved_photo(uow, licence.id) if licence else None
        if not seen:
            raise Forbidden("verify the licence first: its photo follows a scan or lookup")
        if photo is None:
            raise NotFound("no approved holder photo for this licence")
        return photo_bytes(self.vault, photo)

    async def history(
        self, uow: UnitOfWork, ref: str, cursor: int | None, limit: int
    ) -> tuple[list[VerificationRecord], str | None]:
        """One page of who verified the licence, newest first, and the next page's cursor.

        The caller has checked that the asking holder may see this licence.
        """
        rows = await self.records.history(uow, ref, cursor, limit + 1)
        more = len(rows) > limit
        return rows[:limit], str(rows[limit - 1].id) if more else None

    async def live_status(self, uow: UnitOfWork, ref: str) -> LiveStatus | None:
        """Redis, then the database (refilling Redis); ``None`` if neither answers."""
        try:
            with map_storage_errors("cache"):
                cached = await read_cached_status(self.cache, ref)
            STATUS_CACHE_READS.labels(result="miss" if cached is None else "hit").inc()
            if cached is not None:
                return cached
        except Unavailable:
            STATUS_CACHE_READS.labels(result="unavailable").inc()
            log.warning("status cache unavailable; reading the database")
        return await self._stored_status(uow, ref)

    # -- gathering the check results ----------------------------------------------------

    async def _code_check(self, uow: UnitOfWork, claims: Claims, code: str, now: int) -> CodeCheck:
        """The offline code against the seed of the licence's active activation."""
        try:
            async with _bounded():
                sealed = await self.activations.active_seed(uow, claims.lic)
        except Unavailable:  # database down: the code cannot be checked
            return CodeCheck.NOT_CHECKABLE
        if sealed is None:
            return CodeCheck.MISMATCH
        seed = self.vault.open(sealed, SEED_CONTEXT)
        return CodeCheck.MATCH if verify_offline_code(seed, code, now) else CodeCheck.MISMATCH

    async def _replay(
        self,
        uow: UnitOfWork,
        replayed: bool | None,
        token_id: str,
        officer: OfficerSession,
        window: int,
    ) -> Replay:
        """The probe's answer; with the cache down, the log's (``UNKNOWN`` if it cannot tell)."""
        if replayed is None:
            since = datetime.fromtimestamp(self.clock.timestamp() - window, UTC)
            try:
                async with _bounded():
                    replayed = await self.records.seen_elsewhere(
                        uow, token_id, officer.officer_id, officer.device_id, since
                    )
            except Unavailable:  # database down too: replay cannot be ruled out
                return Replay.UNKNOWN
        return Replay.YES if replayed else Replay.NO

    async def _stored_status(self, uow: UnitOfWork, ref: str) -> LiveStatus | None:
        """The status from the database (refilling Redis); ``None`` if it does not answer.

        The refill carries the row's ``status_seq`` and the lease taken before
        the read: the cache keeps it only if no newer change has been
        announced or written meanwhile (see :mod:`wallet.licences.status`).
        """
        lease: str | None = None
        refill = True
        try:
            with map_storage_errors("cache"):
                lease = await take_lease(self.cache, ref)
        except Unavailable:  # cache down: read the database, refill nothing
            refill = False
        try:
            async with _bounded():
                licence = await self.licences.by_ref(uow, ref)
        except Unavailable:
            log.warning("status unavailable: database unreachable")
            return None
        if licence is None:
            return None
        live = LiveStatus(licence.status, licence.version, licence.valid_until, licence.status_seq)
        if refill:
            try:
                with map_storage_errors("cache"):
                    await refill_status(self.cache, ref, live, lease)
            except Unavailable:
                log.warning("status cache not refilled: cache unavailable")
        return live

    async def _registry_record(
        self,
        uow: UnitOfWork,
        ref: str,
        version: int,
        live: LiveStatus | None,
        claims: Claims | None = None,
    ) -> tuple[ClaimsCheck, _VersionRecord | None]:
        """The registry's record of the version, and given a token's ``claims``, their check.

        Read only when the status lets a face be shown: otherwise the status
        decides and the record is not needed (nor read, in an outage).
        """
        if status_verdict(version, live, self.clock.now().date()) not in AUTHENTIC:
            return ClaimsCheck.UNREADABLE, None
        hit = self._faces.get((ref, version))
        if hit is not None and hit[0] > time.monotonic():
            record: _VersionRecord | None = hit[1]  # the scan path's usual case: no query
        else:
            try:
                async with _bounded():
                    record = await self._version_record(uow, ref, version)
            except Unavailable:  # database down: without the face the officer cannot finish
                log.warning("licence face unavailable (database unreachable)")
                return ClaimsCheck.UNREADABLE, None
        if claims is None:
            return ClaimsCheck.AGREE, record
        disagreeing = (
            ("ver",)
            if record is None
            else disagreeing_claims(claims, knd=record.knd, iss=record.iss)
        )
        if not disagreeing:
            return ClaimsCheck.AGREE, record
        # Our own key signed claims our registry does not hold for this version.
        # Not the holder's forgery as far as anyone can tell (bad_signature would
        # say so), but an operator must look.
        log.error(
            "signed claims %s of %s version %d disagree with the registry",
            ",".join(disagreeing),
            ref,
            version,
        )
        return ClaimsCheck.DISAGREE, None

    async def _version_record(
        self, uow: UnitOfWork, ref: str, version: int
    ) -> _VersionRecord | None:
        """What the sealed document of a version says, from memory or from the vault."""
        now = time.monotonic()
        key = (ref, version)
        hit = self._faces.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            with map_storage_errors():
                licence = await self.licences.by_ref(uow, ref)
                row = await self.licences.version(uow, licence.id, version) if licence else None
        except Unavailable:
            if hit is None:
                raise
            # A sealed version never changes: while the database is down, an entry
            # past its time is still right (and was in memory anyway).
            return hit[1]
        if row is None:
            return None
        document = orjson.loads(self.vault.open(row.document_sealed, DOCUMENT_CONTEXT))
        kind = get_kind(document["kind"])
        record = _VersionRecord(
            kind.code, kind_code(kind.code), str(document["issuer"]["division"]), document["face"]
        )
        self._faces[key] = (now + FACE_TTL, record)
        self._faces.move_to_end(key)
        while len(self._faces) > FACE_CACHE_SIZE:
            self._faces.popitem(last=False)
        return record

    # -- answering ------------------------------------------------------------------------

    def _outcome(
        self,
        decision: Decision,
        officer: OfficerSession,
        ref: str | None = None,
        version: int | None = None,
        record: _VersionRecord | None = None,
    ) -> Outcome:
        """The answer for ``decision``: the face ``officer`` may see when the verdict allows one.

        Inspectors get ID numbers masked.
        """
        checked_at = self.clock.now() if decision.status_read else None
        kind: str | None = None
        face: dict[str, Any] = {}
        if record is not None and decision.verdict in AUTHENTIC:
            kind, face = record.kind, dict(record.face)
            if officer.role != "supervisor":
                for spec in get_kind(kind).fields:
                    if spec.type == "resident_id" and spec.name in face:
                        face[spec.name] = mask_id_number(str(face[spec.name]))
        return Outcome(decision.verdict, ref, kind, version, face, checked_at, decision.detail)

    async def _answer(
        self,
        officer: OfficerSession,
        mode: str,
        token_id: str | None,
        decision: Decision,
        ref: str | None = None,
        version: int | None = None,
        record: _VersionRecord | None = None,
    ) -> Outcome:
        """Log the verification, then answer it (never an answer without a record)."""
        outcome = self._outcome(decision, officer, ref, version, record)
        await self.log.record(officer, mode, outcome.verdict, ref, token_id)
        return outcome
