"""The online verifier: every check of DESIGN §7, the live status, the log.

Token checks are the pure ones of :mod:`wallet.verification.verdict`, run
against the trust list built from the key table (refreshed every few
seconds). Then, online only: the offline code (TOTP with the activation's
seed), replay (a token or code seen from another officer inside its window),
and the live status — Redis first, then the database, and
``status_unavailable`` when neither answers. Each verification is logged.

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
  of an answered verification.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Generic, TypeVar

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError
from tortoise import connections

from wallet.claims.service import licence_photo
from wallet.clock import Clock
from wallet.crypto import SM2Backend
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
    read_cached_status,
    write_status,
)
from wallet.officers.service import OfficerSession
from wallet.presentation.tokens import Claims
from wallet.presentation.totp import verify_offline_code
from wallet.vault import Vault, mask_id_number
from wallet.verification.models import VerificationRecord
from wallet.verification.verdict import (
    CLOCK_SKEW,
    TokenCheck,
    Verdict,
    check_token,
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

_LogRow = tuple[datetime, int, str, str, str, str, str, str | None, str | None]
_LOG_COLUMNS: Final = (
    "at",
    "officer_id",
    "officer_badge",
    "officer_division",
    "device_id",
    "mode",
    "verdict",
    "licence_ref",
    "token_id",
)
# PostgreSQL: a whole batch of log rows as one statement (one array per column).
_INSERT_ROWS: Final = (
    'INSERT INTO "verification_record" ("at", "officer_id", "officer_badge", '
    '"officer_division", "device_id", "mode", "verdict", "licence_ref", "token_id") '
    "SELECT * FROM unnest($1::timestamptz[], $2::int[], $3::varchar[], $4::varchar[], "
    "$5::varchar[], $6::varchar[], $7::varchar[], $8::varchar[], $9::varchar[])"
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
    ) -> None:
        self.keys, self.cache, self.sm2, self.clock, self.vault = keys, cache, sm2, clock, vault
        self.scan_limit = (scans_per_minute, 60)
        # Lookups reveal data without the holder's action: limited much more tightly.
        self.lookup_limit = (lookups_per_hour, 3600)
        self._trust: TrustList | None = None
        self._trust_loaded = 0.0  # last successful load
        self._trust_tried = 0.0  # last attempt: a failing database is retried, not hammered
        # (ref, version) -> (monotonic deadline, kind code, face before masking)
        self._faces: OrderedDict[tuple[str, int], tuple[float, str, dict[str, Any]]] = OrderedDict()
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
        status = LiveStatus.decode(raw_status) if raw_status is not None else None
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
                        Verdict.BAD_SIGNATURE, claims.lic, detail="offline code does not match"
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
            outcome = await self._outcome(claims.lic, claims.ver, live, officer)
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
        """Checks without a QR (the holder cannot show one): status checks only.

        Lookups reveal data without the holder's action, so they are limited
        more tightly than scans, and a lookup by ID number needs a supervisor.
        """
        if id_number and officer.role != "supervisor":
            raise Forbidden("lookups by ID number need the supervisor role")
        await self._rate_limit(officer, "lookup", self.lookup_limit)
        licences = await registry.find(
            SearchIn(
                plate_number=plate_number, number=number, id_number=id_number, kind=kind, limit=20
            )
        )
        outcomes = []
        for licence in licences[:20]:
            outcome = await self._status_outcome(licence.ref, licence.version, officer)
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
        """The status from the database (refilling Redis); ``None`` if it does not answer."""
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                licence = await Licence.get_or_none(ref=ref).only(
                    "id", "status", "version", "valid_until"
                )
        except Exception:  # any database failure means the status cannot be read
            log.warning("status unavailable: database unreachable")
            return None
        if licence is None:
            return None
        live = LiveStatus(licence.status, licence.version, licence.valid_until)
        with contextlib.suppress(RedisError, OSError):
            await write_status(self.cache, ref, live)
        return live

    async def photo(self, officer: OfficerSession, ref: str) -> bytes:
        """The holder's approved photo (JPEG) for an officer who just verified the licence.

        Only after a scan or lookup by this officer with an authentic verdict in
        the last :data:`PHOTO_WINDOW` seconds: photos cannot be browsed by ref.
        """
        since = datetime.fromtimestamp(self.clock.timestamp() - PHOTO_WINDOW, UTC)
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                seen = await VerificationRecord.exists(
                    officer_id=officer.officer_id,
                    licence_ref=ref,
                    at__gte=since,
                    verdict__in=[v.value for v in _AUTHENTIC],
                )
                licence = await Licence.get_or_none(ref=ref).only("id") if seen else None
                image = await licence_photo(self.vault, licence.id) if licence else None
        except Exception as exc:  # database down
            raise Unavailable("the photo cannot be read now") from exc
        if not seen:
            raise Forbidden("verify the licence first: its photo follows a scan or lookup")
        if image is None:
            raise NotFound("no approved holder photo for this licence")
        return image

    async def _status_outcome(self, ref: str, version: int, officer: OfficerSession) -> Outcome:
        return await self._outcome(ref, version, await self.live_status(ref), officer)

    async def _outcome(
        self, ref: str, version: int, live: LiveStatus | None, officer: OfficerSession
    ) -> Outcome:
        now = self.clock.now()
        verdict = status_verdict(version, live, now.date())
        if verdict not in _AUTHENTIC:
            return Outcome(verdict, ref, version=version, status_checked_at=now if live else None)
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                kind, face = await self._face(ref, version, officer)
        except Exception:  # database down: without the face the officer cannot finish
            log.warning("licence face unavailable (database unreachable)")
            return Outcome(
                Verdict.STATUS_UNAVAILABLE, ref, version=version, detail="licence face unavailable"
            )
        return Outcome(verdict, ref, kind, version, face, now)

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
        now = time.monotonic()
        key = (ref, version)
        hit = self._faces.get(key)
        if hit is not None and hit[0] > now:
            return hit[1], hit[2]
        row = await LicenceVersion.filter(licence__ref=ref, version=version).first()
        if row is None:
            return None
        document = orjson.loads(self.vault.open(row.document_sealed, DOCUMENT_CONTEXT))
        kind_code: str = get_kind(document["kind"]).code
        face: dict[str, Any] = document["face"]
        self._faces[key] = (now + FACE_TTL, kind_code, face)
        self._faces.move_to_end(key)
        while len(self._faces) > FACE_CACHE_SIZE:
            self._faces.popitem(last=False)
        return kind_code, face

    async def _log(
        self, officer: OfficerSession, mode: str, outcome: Outcome, token_id: str | None
    ) -> None:
        row = (
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
            # The verdict still stands; the operator must see the gap.
            log.error(
                "verification not logged (database unavailable): officer %s verdict %s",
                officer.badge,
                outcome.verdict.value,
            )

    async def _insert_batch(self, batch: list[_LogRow]) -> list[bool]:
        """Insert the rows of ``batch`` in one statement; whether they were committed."""
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                conn = connections.get("default")
                if conn.capabilities.dialect == "postgres":
                    # One statement, one round trip, whatever the batch size
                    # (the ORM's bulk insert takes a transaction and a row each).
                    columns = [list(column) for column in zip(*batch, strict=True)]
                    await conn.execute_query(_INSERT_ROWS, columns)
                else:
                    await VerificationRecord.bulk_create(
                        [
                            VerificationRecord(**dict(zip(_LOG_COLUMNS, row, strict=True)))
                            for row in batch
                        ]
                    )
        except Exception:  # reported by each waiting verification: its verdict stands
            return [False] * len(batch)
        return [True] * len(batch)


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
