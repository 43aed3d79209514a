"""The online verifier: every check of DESIGN §7, the live status, the log.

Token checks are the pure ones of :mod:`wallet.verification.verdict`, run
against the trust list built from the key table (refreshed every few
seconds). Then, online only: the offline code (TOTP with the activation's
seed), replay (a token or code seen from another officer inside its window),
and the live status — Redis first, then the database, and
``status_unavailable`` when neither answers. Each verification is logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from wallet.clock import Clock
from wallet.crypto import SM2Backend
from wallet.errors import Forbidden, RateLimited, Unavailable
from wallet.keys.models import KeyStatus, KeyUse, SigningKey
from wallet.keys.service import KeyStore
from wallet.keys.trust_list import TrustedKey, TrustList, is_listed
from wallet.licences.catalogue import get_kind
from wallet.licences.models import Licence, LicenceVersion
from wallet.licences.schemas import SearchIn
from wallet.licences.service import DOCUMENT_CONTEXT, Registry
from wallet.licences.status import LiveStatus, read_cached_status, write_status
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

__all__ = ["Outcome", "Verifier", "trust_list_from_keys"]

log = logging.getLogger(__name__)

TRUST_REFRESH: Final = 10.0
DB_TIMEOUT: Final = 2.0
FORCED_REFRESH: Final = 1.0
_AUTHENTIC: Final = frozenset({Verdict.VALID, Verdict.EXPIRED, Verdict.REVOKED,
                               Verdict.SUSPENDED, Verdict.CANCELLED, Verdict.SUPERSEDED})


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


def trust_list_from_keys(keys: list[SigningKey], now: datetime) -> TrustList:
    """The trust list as the verifier holds it, straight from the key table."""
    listed = {
        k.kid: TrustedKey(k.kid, KeyUse(k.use), k.division, bytes.fromhex(k.public_key),
                          int(k.not_before.timestamp()),
                          int(k.not_after.timestamp()) if k.not_after else None,
                          KeyStatus(k.status))
        for k in keys if is_listed(k, now)
    }
    return TrustList(int(now.timestamp()), "", listed)


class Verifier:
    def __init__(self, keys: KeyStore, cache: Redis, sm2: SM2Backend, clock: Clock,
                 vault: Vault, scans_per_minute: int = 120, lookups_per_hour: int = 20) -> None:
        self.keys, self.cache, self.sm2, self.clock, self.vault = keys, cache, sm2, clock, vault
        self.scan_limit = (scans_per_minute, 60)
        # Lookups reveal data without the holder's action: limited much more tightly.
        self.lookup_limit = (lookups_per_hour, 3600)
        self._trust: TrustList | None = None
        self._trust_loaded = 0.0

    def forget_trust(self) -> None:
        """Drop the cached trust list (the next verification reloads it)."""
        self._trust = None

    async def _check(self, qr: str, now: int) -> TokenCheck:
        checked = check_token(qr, await self.trust(), now, self.sm2)
        if (checked.verdict is Verdict.UNKNOWN_KEY and checked.presentation is not None
                and time.monotonic() - self._trust_loaded > FORCED_REFRESH):
            # A key rotated in by another process minutes ago is not "unknown":
            # look again before saying so (at most once a second).
            self._trust_loaded = 0.0
            checked = check_token(qr, await self.trust(), now, self.sm2)
        return checked

    async def trust(self) -> TrustList:
        """The current trust list (reloaded from the key table every few seconds).

        If the reload fails the last list stays in use; with none at all the
        caller gets :class:`Unavailable`.
        """
        if self._trust is None or time.monotonic() - self._trust_loaded > TRUST_REFRESH:
            try:
                async with asyncio.timeout(DB_TIMEOUT):
                    keys = await self.keys.list_keys()
            except Exception as exc:  # database down: keep the list we have
                if self._trust is None:
                    raise Unavailable("trust list cannot be loaded") from exc
                log.warning("trust list reload failed; using the previous one")
                return self._trust
            self._trust = trust_list_from_keys(keys, self.clock.now())
            self._trust_loaded = time.monotonic()
        return self._trust

    async def _rate_limit(self, officer: OfficerSession, mode: str,
                          limit: tuple[int, int]) -> None:
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

    async def verify(self, qr: str, officer: OfficerSession) -> Outcome:
        """Verify a scanned string for ``officer``; the answer is always a verdict."""
        await self._rate_limit(officer, "scan", self.scan_limit)
        now = self.clock.timestamp()
        try:
            checked = await self._check(qr, now)
        except Unavailable:
            outcome = Outcome(Verdict.STATUS_UNAVAILABLE, detail="trust list unavailable")
            await self._log(officer, "scan", outcome, None)
            return outcome
        presentation = checked.presentation
        if checked.verdict is not None or presentation is None:
            outcome = Outcome(checked.verdict or Verdict.MALFORMED, detail=checked.detail)
            await self._log(officer, "scan", outcome, None)
            return outcome
        claims = presentation.claims
        if presentation.code is not None and not await self._code_matches(claims, presentation.code, now):
            outcome = Outcome(Verdict.BAD_SIGNATURE, claims.lic, detail="offline code does not match")
            await self._log(officer, "offline", outcome, claims.jti)
            return outcome
        mode = "offline" if presentation.code else "scan"
        token_id = f"{claims.jti}:{presentation.code}" if presentation.code else claims.jti
        window = (3 * 30 if presentation.code else claims.exp - now) + CLOCK_SKEW
        replayed = await self._replayed(token_id, officer, window)
        if replayed is None or replayed:
            outcome = Outcome(Verdict.STATUS_UNAVAILABLE if replayed is None else Verdict.REPLAYED,
                              claims.lic)
        else:
            outcome = await self._status_outcome(claims.lic, claims.ver, officer)
        await self._log(officer, mode, outcome, token_id)
        return outcome

    async def lookup_by(self, officer: OfficerSession, *, registry: Registry,
                        plate_number: str | None = None, number: str | None = None,
                        id_number: str | None = None, kind: str | None = None) -> list[Outcome]:
        """Checks without a QR (the holder cannot show one): status checks only.

        Lookups reveal data without the holder's action, so they are limited
        more tightly than scans, and a lookup by ID number needs a supervisor.
        """
        if id_number and officer.role != "supervisor":
            raise Forbidden("lookups by ID number need the supervisor role")
        await self._rate_limit(officer, "lookup", self.lookup_limit)
        licences = await registry.find(SearchIn(plate_number=plate_number, number=number,
                                                id_number=id_number, kind=kind, limit=20))
        outcomes = []
        for licence in licences[:20]:
            outcome = await self._status_outcome(licence.ref, licence.version, officer)
            await self._log(officer, "lookup", outcome, None)
            outcomes.append(outcome)
        return outcomes

    async def _code_matches(self, claims: Claims, code: str, now: int) -> bool:
        from wallet.activation.models import Activation

        activation = await Activation.filter(licence__ref=claims.lic, status="active").first()
        if activation is None:
            return False
        seed = self.vault.open(activation.totp_seed_sealed, "activation.totp_seed")
        return verify_offline_code(seed, code, now)

    async def _replayed(self, token_id: str, officer: OfficerSession, window: int) -> bool | None:
        """Seen from another officer or device inside ``window``? ``None``: cannot tell."""
        marker = f"{officer.officer_id}:{officer.device_id}".encode()
        key = f"rtel:seen:{token_id}"
        try:
            if await self.cache.set(key, marker, nx=True, ex=max(window, 1)):
                return False
            return bool(await self.cache.get(key) != marker)
        except (RedisError, OSError):
            log.warning("replay cache unavailable; checking the verification log")
        try:
            since = datetime.fromtimestamp(self.clock.timestamp() - window, UTC)
            async with asyncio.timeout(DB_TIMEOUT):
                return await (VerificationRecord.filter(token_id=token_id, at__gte=since)
                          .exclude(officer_id=officer.officer_id).exists())
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
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                licence = await Licence.get_or_none(ref=ref).only(
                    "id", "status", "version", "valid_until")
        except Exception:  # any database failure means the status cannot be read
            log.warning("status unavailable: database unreachable")
            return None
        if licence is None:
            return None
        live = LiveStatus(licence.status, licence.version, licence.valid_until)
        try:
            await write_status(self.cache, ref, live)
        except (RedisError, OSError):
            pass
        return live

    async def _status_outcome(self, ref: str, version: int, officer: OfficerSession) -> Outcome:
        live = await self.live_status(ref)
        now = self.clock.now()
        verdict = status_verdict(version, live, now.date())
        if verdict not in _AUTHENTIC:
            return Outcome(verdict, ref, version=version,
                           status_checked_at=now if live else None)
        kind, face = await self._face(ref, version, officer)
        return Outcome(verdict, ref, kind, version, face, now)

    async def _face(self, ref: str, version: int, officer: OfficerSession
                    ) -> tuple[str | None, dict[str, Any]]:
        row = await LicenceVersion.filter(licence__ref=ref, version=version).first()
        if row is None:
            return None, {}
        document = orjson.loads(self.vault.open(row.document_sealed, DOCUMENT_CONTEXT))
        kind = get_kind(document["kind"])
        face: dict[str, Any] = document["face"]
        if officer.role != "supervisor":
            for spec in kind.fields:
                if spec.type == "resident_id" and spec.name in face:
                    face[spec.name] = mask_id_number(str(face[spec.name]))
        return kind.code, face

    async def _log(self, officer: OfficerSession, mode: str, outcome: Outcome,
                   token_id: str | None) -> None:
        try:
            async with asyncio.timeout(DB_TIMEOUT):
                await VerificationRecord.create(
                    at=self.clock.now(), officer_id=officer.officer_id,
                    officer_badge=officer.badge, officer_division=officer.division,
                    device_id=officer.device_id, mode=mode, verdict=outcome.verdict.value,
                    licence_ref=outcome.licence_ref, token_id=token_id,
                )
        except Exception:  # the verdict still stands; the operator must see the gap
            log.error("verification not logged (database unavailable): officer %s verdict %s",
                      officer.badge, outcome.verdict.value)
