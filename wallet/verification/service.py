"""The online verifier: every check of DESIGN §7, the live status, the log.

Token checks are the pure ones of :mod:`wallet.verification.verdict`, run
against the trust list built from the key table (refreshed every few
seconds). Then, online only: the offline code (TOTP with the activation's
seed; a wrong one is ``code_mismatch``), replay (a token or code seen from
another officer inside its window), the live status — Redis first, then the
database, and ``status_unavailable`` when neither answers — and the signed
``knd`` and ``iss`` against the registry's record of the version (no such
record: ``status_unavailable`` too). Each verification is logged.

The scan path is built to cost little more than its signature check:

* one cache round trip per scan, after the token checks: the officer and
  device rate-limit counters, the replay mark (``SET NX GET``) and the
  licence's status read go in one pipeline, and the scans of a process that
  wait together share that pipeline. A scan over the limit is answered 429
  and its replay mark is withdrawn, as if it had not been made; it has cost
  one signature check, which a signed-in officer on their own device can
  spend.
* the licence face of ``(ref, version)`` — a sealed version never changes —
  is kept decrypted in this process's memory for :data:`FACE_TTL` seconds
  from when it was read (at most :data:`FACE_CACHE_SIZE` of them), never in
  the cache or on disk. The status is read live for every scan regardless.
* log rows are written by group commit: every verification waits until its
  row is committed, but the verifications waiting together share one bulk
  insert. Nothing is answered before it is logged, so a crash loses no row
  of an answered verification. A batch the database refuses goes to the
  local spool (:mod:`wallet.verification.spool`), drained back in the
  background; when neither takes it, the verification answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final, Generic, TypeVar

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError
from tortoise import connections

from wallet.claims.service import licence_photo
from wallet.clock import Clock
from wallet.crypto import SM2Backend
from wallet.db import DATABASE_OUTAGES
from wallet.errors import Forbidden, NotFound, RateLimited, Unavailable
from wallet.keys.service import KeyStore
from wallet.keys.trust_list import TrustList, trust_list_of
from wallet.licences.catalogue import get_kind
from wallet.licences.models import Licence, LicenceVersion
from wallet.licences.schemas import SearchIn
from wallet.licences.service import DOCUMENT_CONTEXT, Registry
from wallet.licences.status import (
    LiveStatus,
    cache_key,
    parse_entry,
    read_cached_status,
    refill_status,
    take_lease,
)
from wallet.officers.service import OfficerSession
from wallet.presentation.service import kind_code
from wallet.presentation.tokens import Claims
from wallet.presentation.totp import verify_offline_code
from wallet.vault import Vault, mask_id_number
from wallet.verification.lookups import is_resident_id_number, minimal_face, numbered_by_resident_id
from wallet.verification.models import VerificationRecord
from wallet.verification.spool import SPOOL_COLUMNS, SpoolRow, VerificationSpool
from wallet.verification.verdict import (
    CLOCK_SKEW,
    TokenCheck,
    Verdict,
    check_token,
    disagreeing_claims,
    status_verdict,
)

__all__ = ["Outcome", "Verifier"]

log = logging.getLogger(__name__)

TRUST_REFRESH: Final = 10.0
TRUST_MAX_AGE: Final = 300.0
"""Seconds a trust list may be used after reloads started failing."""
DB_TIMEOUT: Final = 2.0
FORCED_REFRESH: Final = 1.0
FACE_TTL: Final = 60.0
PHOTO_WINDOW: Final = 600
"""Seconds after a verification during which the officer may fetch the holder's photo."""
"""Seconds a decrypted licence face may stay in a verifier process's memory."""
FACE_CACHE_SIZE: Final = 1024
_AUTHENTIC: Final = frozenset(
    {
        Verdict.VALID,
        Verdict.EXPIRED,
        Verdict.REVOKED,
        Verdict.SUSPENDED,
        Verdict.CANCELLED,
        Verdict.SUPERSEDED,
    }
)

SPOOL_RETRY: Final = 1.0
"""Seconds after a failed log insert during which new rows go straight to the spool."""
# PostgreSQL: a whole batch of log rows as one statement (one array per column).
# A record id already stored is skipped: that is what makes a spool drain idempotent.
_INSERT_ROWS: Final = (
    'INSERT INTO "verification_record" ("record_id", "at", "officer_id", "officer_badge", '
    '"officer_division", "device_id", "mode", "verdict", "licence_ref", "token_id") '
    "SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::varchar[], "
    "$5::varchar[], $6::varchar[], $7::varchar[], $8::varchar[], $9::varchar[], "
    '$10::varchar[]) ON CONFLICT ("record_id") DO NOTHING'
)


@dataclass(frozen=True)
class Outcome:
    """The answer to an officer: a verdict, and what the officer may see."""

    verdict: Verdict
    licence_ref: str | None = None
    kind: str | None = None
    version: int | None = None
    face: dict[str, Any] = field(default_factory=dict)
    status_checked_at: datetime | None = None
    detail: str = ""


class Verifier:
    def __init__(
        self,
        keys: KeyStore,
        cache: Redis,
        sm2: SM2Backend,
        clock: Clock,
        vault: Vault,
        scans_per_minute: int = 120,
        lookups_per_hour: int = 20,
        spool: VerificationSpool | None = None,
    ) -> None:
        self.keys, self.cache, self.sm2, self.clock, self.vault = keys, cache, sm2, clock, vault
        self.spool = spool
        self._spool_only_until = 0.0  # monotonic: the database refused the last log insert
        self.scan_limit = (scans_per_minute, 60)
        # Lookups reveal data without the holder's action: limited much more tightly.
        self.lookup_limit = (lookups_per_hour, 3600)
        self._trust: TrustList | None = None
        self._trust_loaded = 0.0  # last successful load
        self._trust_tried = 0.0  # last attempt: a failing database is retried, not hammered
        # (ref, version) -> (monotonic deadline, what its sealed document says)
        self._faces: OrderedDict[tuple[str, int], tuple[float, _VersionRecord]] = OrderedDict()
        self._probes = _Coalescer(self._probe_batch)
        self._log_rows = _Coalescer(self._insert_batch)

    def forget_trust(self) -> None:
        """Drop the cached trust list (the next verification reloads it)."""
        self._trust = None

    async def _check(self, qr: str, now: int) -> TokenCheck:
        checked = check_token(qr, await self.trust(), now, self.sm2)
        if (
            checked.verdict is Verdict.UNKNOWN_KEY
            and checked.presentation is not None
            and time.monotonic() - self._trust_tried > FORCED_REFRESH
        ):
            # A key rotated in by another process minutes ago is not "unknown":
            # look again before saying so (at most once a second).
            self._trust_tried = 0.0
            checked = check_token(qr, await self.trust(), now, self.sm2)
        return checked

    async def trust(self) -> TrustList:
        """The current trust list (reloaded from the key table every few seconds).

        If the reload fails the last list stays in use for at most
        :data:`TRUST_MAX_AGE` seconds (a key revoked meanwhile must not stay
        trusted for the length of an outage); beyond that, or with none at all,
        the caller gets :class:`Unavailable`.
        """
        if self._trust is None or time.monotonic() - self._trust_tried > TRUST_REFRESH:
            self._trust_tried = time.monotonic()
            try:
                async with asyncio.timeout(DB_TIMEOUT):
                    keys = await self.keys.list_keys()
            except Exception:  # database down: keep the list we have, for a while
                log.warning("trust list reload failed; keeping the previous one")
            else:
                self._trust = trust_list_of(keys, self.clock.now())
                self._trust_loaded = time.monotonic()
        if self._trust is None or time.monotonic() - self._trust_loaded > TRUST_MAX_AGE:
            raise Unavailable("trust list cannot be loaded")
        return self._trust

    async def _rate_limit(self, officer: OfficerSession, mode: str, limit: tuple[int, int]) -> None:
        count, window = limit
        keys = (f"rtel:rl:{mode}:o:{officer.officer_id}", f"rtel:rl:{mode}:d:{officer.device_id}")
        try:
            async with self.cache.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.incr(key)
                    pipe.expire(key, window, nx=True)
                results = await pipe.execute()
        except (RedisError, OSError):
            # Enforcement must go on while the cache is down: limits lapse, loudly.
            log.warning("rate limits not applied: cache unavailable")
            return
        if max(results[0], results[2]) > count:
            raise RateLimited(f"at most {count} {mode}s per {window} s", retry_after=window)

    async def _probe(
        self,
        officer: OfficerSession,
        token_id: str,
        window: int,
        ref: str,
        limit: tuple[int, int] | None,
    ) -> _Probe:
        """One cache round trip: scan limits (unless ``limit`` is None), replay mark, status.

        Over the limit, the replay mark this scan made is withdrawn and
        :class:`RateLimited` raised. With the cache down, limits lapse (as in
        :meth:`_rate_limit`) and the probe knows neither replay nor status.
        """
        marker = f"{officer.officer_id}:{officer.device_id}".encode()
        mark_key = f"rtel:seen:{token_id}"
        rate_keys = (
            ()
            if limit is None
            else (f"rtel:rl:scan:o:{officer.officer_id}", f"rtel:rl:scan:d:{officer.device_id}")
        )
        results = await self._probes.submit(
            _ProbeRequest(
                rate_keys,
                limit[1] if limit else 0,
                mark_key,
                marker,
                max(window, 1),
                cache_key(ref),
            )
        )
        if results is None:
            return _Probe(None, None)
        *counts, previous, raw_status = results
        if limit is not None and max(counts[0], counts[2]) > limit[0]:
            if previous is None:
                try:
                    await self.cache.delete(mark_key)
                except (RedisError, OSError):
                    log.warning("replay mark of a rate-limited scan not withdrawn")
            raise RateLimited(f"at most {limit[0]} scans per {limit[1]} s", retry_after=limit[1])
        # A pending marker (a change being committed) reads as a miss: the database answers.
        status = parse_entry(raw_status)
        return _Probe(previous is not None and previous != marker, status)

    async def _probe_batch(self, batch: list[_ProbeRequest]) -> list[list[Any] | None]:
        """The probes of ``batch`` in one pipeline; ``None`` for each if the cache fails."""
        try:
            async with self.cache.pipeline(transaction=False) as pipe:
                for probe in batch:
                    for key in probe.rate_keys:
                        pipe.incr(key)
                        pipe.expire(key, probe.rate_window, nx=True)
                    # SET NX GET: the previous marker, or None when this scan set it.
                    pipe.set(probe.mark_key, probe.marker, nx=True, ex=probe.mark_ttl, get=True)
                    pipe.get(probe.status_key)
                results = await pipe.execute()
        except (RedisError, OSError):
            log.warning(
                "cache unavailable: rate limits not applied; replay and status from the database"
            )
            return [None] * len(batch)
        answers: list[list[Any] | None] = []
        start = 0
        for probe in batch:
            end = start + 2 * len(probe.rate_keys) + 2
            answers.append(results[start:end])
            start = end
        return answers

    async def verify(self, qr: str, officer: OfficerSession) -> Outcome:
        """Verify a scanned string for ``officer``; the answer is always a verdict.

        Raises :class:`~wallet.errors.RateLimited` when the officer or the
        device is over its scan limit.
        """
        now = self.clock.timestamp()
        try:
            checked = await self._check(qr, now)
        except Unavailable:
            await self._rate_limit(officer, "scan", self.scan_limit)
            outcome = Outcome(Verdict.STATUS_UNAVAILABLE, detail="trust list unavailable")
            await self._log(officer, "scan", outcome, None)
            return outcome
        presentation = checked.presentation
        if checked.verdict is not None or presentation is None:
            await self._rate_limit(officer, "scan", self.scan_limit)
            outcome = Outcome(checked.verdict or Verdict.MALFORMED, detail=checked.detail)
            await self._log(officer, "scan", outcome, None)
            return outcome
        claims = presentation.claims
        if presentation.code is not None:
            # The code is checked against the database before the replay mark:
            # limits first, so that a flood of codes costs no queries.
            await self._rate_limit(officer, "scan", self.scan_limit)
            matches = await self._code_matches(claims, presentation.code, now)
            if not matches:
                outcome = (
                    Outcome(Verdict.STATUS_UNAVAILABLE, claims.lic, detail="code not checkable")
                    if matches is None
                    else Outcome(
                        Verdict.CODE_MISMATCH, claims.lic, detail="offline code does not match"
                    )
                )
                await self._log(officer, "offline", outcome, claims.jti)
                return outcome
        mode = "offline" if presentation.code else "scan"
        token_id = f"{claims.jti}:{presentation.code}" if presentation.code else claims.jti
        window = (3 * 30 if presentation.code else claims.exp - now) + CLOCK_SKEW
        probe = await self._probe(
            officer,
            token_id,
            window,
            claims.lic,
            limit=None if presentation.code else self.scan_limit,
        )
        replayed = probe.replayed
        if replayed is None:
            replayed = await self._replayed_in_log(token_id, officer, window)
        if replayed is None or replayed:
            outcome = Outcome(
                Verdict.STATUS_UNAVAILABLE if replayed is None else Verdict.REPLAYED, claims.lic
            )
        else:
            live = (
                probe.status if probe.status is not None else await self._stored_status(claims.lic)
            )
            outcome = await self._outcome(claims.lic, claims.ver, live, officer, claims)
        await self._log(officer, mode, outcome, token_id)
        return outcome

    async def lookup_by(
        self,
        officer: OfficerSession,
        *,
        registry: Registry,
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
        await self._rate_limit(officer, "lookup", self.lookup_limit)
        licences = await registry.find(
            SearchIn(
                plate_number=plate_number, number=number, id_number=id_number, kind=kind, limit=20
            )
        )
        if number and not supervisor:
            # Whatever form the number took, a kind numbered by the holder's ID number
            # is never found by an inspector: as if it did not exist (no oracle).
            licences = [lic for lic in licences if not numbered_by_resident_id(get_kind(lic.kind))]
        outcomes = []
        for licence in licences[:20]:
            outcome = await self._status_outcome(licence.ref, licence.version, officer)
            if not supervisor and outcome.kind is not None:
                outcome = replace(outcome, face=minimal_face(get_kind(outcome.kind), outcome.face))
            await self._log(officer, "lookup", outcome, None)
            outcomes.append(outcome)
        return outcomes

    async def _code_matches(self, claims: Claims, code: str, now: int) -> bool | None:
        """Whether the code is the activation's of the moment; ``None``: cannot tell."""
        from wallet.activation.models import Activation

        try:
            async with asyncio.timeout(DB_TIMEOUT):
                activation = await Activation.filter(
                    licence__ref=claims.lic, status="active"
                ).first()
        except Exception:  # database down: the code cannot be checked
            return None
        if activation is None:
            return False
        seed = self.vault.open(activation.totp_seed_sealed, "activation.totp_seed")
        return verify_offline_code(seed, code, now)

    async def _replayed_in_log(
        self, token_id: str, officer: OfficerSession, window: int
    ) -> bool | None:
        """With the cache down: seen from another officer in the log? ``None``: cannot tell."""
        try:
            since = datetime.fromtimestamp(self.clock.timestamp() - window, UTC)
            async with asyncio.timeout(DB_TIMEOUT):
                return await (
                    VerificationRecord.filter(token_id=token_id, at__gte=since)
                    .exclude(officer_id=officer.officer_id, device_id=officer.device_id)
                    .exists()
                )
        except Exception:  # database down too: replay cannot be ruled out
            return None

    async def live_status(self, ref: str) -> LiveStatus | None:
        """Redis, then the database (refilling Redis); ``None`` if neither answers."""
        try:
            cached = await read_cached_status(self.cache, ref)
            if cached is not None:
                return cached
        except (RedisError, OSError):
            log.warning("status cache unavailable; reading the database")
        return await self._stored_status(ref)

    async def _stored_status(self, ref: str) -> LiveStatus | None:
        """The status from the database (refilling Redis); ``None`` if it does not answer.

        The refill carries the row's ``status_seq`` and the lease taken before
        the read: the cache keeps it only if no newer change has been
        announced or written meanwhile (see :mod:`wallet.licences.status`).
        """
        lease: str | None = None
        refill = True
        try:
            lease = await take_lease(self.cache, ref)
        except (RedisError, OSError):  # cache down: read the database, refill nothing
            refill = False
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                licence = await Licence.get_or_none(ref=ref).only(
                    "id", "status", "version", "valid_until", "status_seq"
                )
        except Exception:  # any database failure means the status cannot be read
            log.warning("status unavailable: database unreachable")
            return None
        if licence is None:
            return None
        live = LiveStatus(licence.status, licence.version, licence.valid_until, licence.status_seq)
        if refill:
            with contextlib.suppress(RedisError, OSError):
                await refill_status(self.cache, ref, live, lease)
        return live

    async def photo(self, officer: OfficerSession, ref: str) -> bytes:
        """The holder's approved photo (JPEG) for an officer who just verified the licence.

        Only after a scan (or, for a supervisor, a lookup) by this officer with
        an authentic verdict in the last :data:`PHOTO_WINDOW` seconds: photos
        cannot be browsed by ref, and an inspector's lookup shows no photo.
        """
        since = datetime.fromtimestamp(self.clock.timestamp() - PHOTO_WINDOW, UTC)
        modes = ["scan", "offline"] + (["lookup"] if officer.role == "supervisor" else [])
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                seen = await VerificationRecord.exists(
                    officer_id=officer.officer_id,
                    licence_ref=ref,
                    at__gte=since,
                    verdict__in=[v.value for v in _AUTHENTIC],
                    mode__in=modes,
                )
                licence = await Licence.get_or_none(ref=ref).only("id") if seen else None
                image = await licence_photo(self.vault, licence.id) if licence else None
        except Exception as exc:  # database down
            raise Unavailable(
                "database: the photo cannot be read now", dependency="database"
            ) from exc
        if not seen:
            raise Forbidden("verify the licence first: its photo follows a scan or lookup")
        if image is None:
            raise NotFound("no approved holder photo for this licence")
        return image

    async def _status_outcome(self, ref: str, version: int, officer: OfficerSession) -> Outcome:
        return await self._outcome(ref, version, await self.live_status(ref), officer)

    async def _outcome(
        self,
        ref: str,
        version: int,
        live: LiveStatus | None,
        officer: OfficerSession,
        claims: Claims | None = None,
    ) -> Outcome:
        """The verdict from ``live``; given a token's ``claims``, only if the registry agrees."""
        now = self.clock.now()
        verdict = status_verdict(version, live, now.date())
        if verdict not in _AUTHENTIC:
            return Outcome(verdict, ref, version=version, status_checked_at=now if live else None)
        disagreeing: tuple[str, ...] = ()
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                if claims is not None:
                    disagreeing = await self._disagreeing_claims(claims)
                if not disagreeing:
                    kind, face = await self._face(ref, version, officer)
        except Exception:  # database down: without the face the officer cannot finish
            log.warning("licence face unavailable (database unreachable)")
            if verdict is not Verdict.VALID:
                # A licence that is not valid is not valid whatever its face: say so.
                return Outcome(
                    verdict,
                    ref,
                    version=version,
                    status_checked_at=now,
                    detail="licence face unavailable",
                )
            return Outcome(
                Verdict.STATUS_UNAVAILABLE, ref, version=version, detail="licence face unavailable"
            )
        if disagreeing:
            # Our own key signed claims our registry does not hold for this
            # version: no status can be read for the licence the token
            # describes. Not the holder's forgery as far as anyone can tell
            # (bad_signature would say so), but an operator must look.
            log.error(
                "signed claims %s of %s version %d disagree with the registry",
                ",".join(disagreeing),
                ref,
                version,
            )
            return Outcome(
                Verdict.STATUS_UNAVAILABLE,
                ref,
                version=version,
                status_checked_at=now,
                detail="the signed claims disagree with the registry",
            )
        return Outcome(verdict, ref, kind, version, face, now)

    async def _disagreeing_claims(self, claims: Claims) -> tuple[str, ...]:
        """The token's claims that the registry's record of its version does not hold."""
        record = await self._version_record(claims.lic, claims.ver)
        if record is None:
            return ("ver",)
        return disagreeing_claims(claims, knd=record.knd, iss=record.iss)

    async def _face(
        self, ref: str, version: int, officer: OfficerSession
    ) -> tuple[str | None, dict[str, Any]]:
        """The kind and the face ``officer`` may see (inspectors get ID numbers masked)."""
        found = await self._document(ref, version)
        if found is None:
            return None, {}
        kind_code, stored = found
        face = dict(stored)
        if officer.role != "supervisor":
            for spec in get_kind(kind_code).fields:
                if spec.type == "resident_id" and spec.name in face:
                    face[spec.name] = mask_id_number(str(face[spec.name]))
        return kind_code, face

    async def _document(self, ref: str, version: int) -> tuple[str, dict[str, Any]] | None:
        """The kind and unmasked face of a version, from memory or from the vault."""
        record = await self._version_record(ref, version)
        return None if record is None else (record.kind, record.face)

    async def _version_record(self, ref: str, version: int) -> _VersionRecord | None:
        """What the sealed document of a version says, from memory or from the vault."""
        now = time.monotonic()
        key = (ref, version)
        hit = self._faces.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            row = await LicenceVersion.filter(licence__ref=ref, version=version).first()
        except DATABASE_OUTAGES:
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

    async def _log(
        self, officer: OfficerSession, mode: str, outcome: Outcome, token_id: str | None
    ) -> None:
        """Record the verification durably (database or spool) or raise :class:`Unavailable`.

        The caller answers only after this returns: a verdict nobody can
        account for is never given.
        """
        row = (
            uuid.uuid4(),
            self.clock.now(),
            officer.officer_id,
            officer.badge,
            officer.division,
            officer.device_id,
            mode,
            outcome.verdict.value,
            outcome.licence_ref,
            token_id,
        )
        if not await self._log_rows.submit(row):
            raise Unavailable(
                "database: the verification cannot be recorded (the local spool failed too)",
                dependency="database",
            )

    async def _insert_batch(self, batch: list[SpoolRow]) -> list[bool]:
        """Store the rows of ``batch``: one insert, else the spool; whether they are durable."""
        if time.monotonic() >= self._spool_only_until:
            try:
                await self._insert_rows(batch)
            except Exception:  # any database failure: the rows go to the spool instead
                log.warning("verification log insert failed; spooling %d rows", len(batch))
                self._spool_only_until = time.monotonic() + SPOOL_RETRY
            else:
                return [True] * len(batch)
        if self.spool is None:
            return [False] * len(batch)
        try:
            await asyncio.to_thread(self.spool.append, batch)
        except OSError:
            log.exception("verification spool write failed: %d verdicts refused", len(batch))
            return [False] * len(batch)
        return [True] * len(batch)

    async def _insert_rows(self, rows: list[SpoolRow]) -> None:
        """Insert ``rows`` in one statement, skipping record ids already stored."""
        async with asyncio.timeout(DB_TIMEOUT):
            conn = connections.get("default")
            if conn.capabilities.dialect == "postgres":
                # One statement, one round trip, whatever the batch size
                # (the ORM's bulk insert takes a transaction and a row each).
                columns = [list(column) for column in zip(*rows, strict=True)]
                await conn.execute_query(_INSERT_ROWS, columns)
            else:
                await VerificationRecord.bulk_create(
                    [
                        VerificationRecord(**dict(zip(SPOOL_COLUMNS, row, strict=True)))
                        for row in rows
                    ],
                    ignore_conflicts=True,
                )

    async def drain_spool(self) -> int:
        """Move every spooled log row into the database; how many were moved.

        Raises whatever the database raises (the rows stay spooled).
        """
        if self.spool is None:
            return 0
        drained = await self.spool.drain(self._insert_rows)
        self._spool_only_until = 0.0
        return drained

    @contextlib.asynccontextmanager
    async def draining(self, interval: float = SPOOL_RETRY) -> AsyncIterator[None]:
        """Drain the spool now and then every ``interval`` seconds while the body runs."""

        async def drain_forever() -> None:
            while True:
                if self.spool is not None and self.spool.pending():
                    try:
                        await self.drain_spool()
                    except Exception:  # still down: the rows wait for the next round
                        log.warning("verification spool not drained: database unavailable")
                await asyncio.sleep(interval)

        task = asyncio.create_task(drain_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@dataclass(frozen=True, slots=True)
class _VersionRecord:
    """A sealed version as the verifier keeps it: kind, the claims a token carries, the face."""

    kind: str
    knd: str
    iss: str
    face: dict[str, Any]
    """Before masking: it never leaves this process unmasked for an inspector."""


@dataclass(frozen=True, slots=True)
class _ProbeRequest:
    """The cache commands of one scan (rate-limit keys may be empty)."""

    rate_keys: tuple[str, ...]
    rate_window: int
    mark_key: str
    marker: bytes
    mark_ttl: int
    status_key: str


@dataclass(frozen=True, slots=True)
class _Probe:
    """What one cache round trip told: replayed (``None``: unknown) and the cached status."""

    replayed: bool | None
    status: LiveStatus | None


T = TypeVar("T")
R = TypeVar("R")


class _Coalescer(Generic[T, R]):
    """Runs ``flush`` once for all the items submitted while the previous flush ran.

    Each :meth:`submit` waits for its own item's result. With one caller at a
    time a flush holds one item; under load it holds what arrived during the
    previous flush, so its fixed cost (a round trip, a statement) is shared.
    ``flush`` answers one result per item, in order, and must not raise.
    """

    def __init__(self, flush: Callable[[list[T]], Awaitable[list[R]]]) -> None:
        self._flush = flush
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        result: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, result))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        # A cancelled caller cancels only its own future: the flush goes on.
        return await result

    async def _run(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                results = await self._flush([item for item, _ in batch])
            except asyncio.CancelledError:  # the loop is closing: nobody will be answered
                for _, result in [*batch, *self._waiting]:
                    result.cancel()
                self._waiting = []
                raise
            except Exception as exc:  # a bug in flush: every caller of the batch sees it
                for _, result in batch:
                    if not result.done():
                        result.set_exception(exc)
                continue
            for (_, result), value in zip(batch, results, strict=True):
                if not result.done():
                    result.set_result(value)
