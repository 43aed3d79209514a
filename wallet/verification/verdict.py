"""The verdict: the closed set of answers and the checks that produce them.

The checks of DESIGN §7 run in order: parse → key in the trust list and
valid at ``iat`` → SM2 signature → time window → TOTP (offline mode) →
replay → status. This module holds the pure parts shared by the online
verifier and the offline function: :func:`check_token` (parse, key,
signature, time), :func:`status_verdict` (status) and
:func:`disagreeing_claims` (the signed ``knd`` and ``iss`` against the
registry's record of the version named). The online service adds TOTP,
replay, the live status read and the registry record; the offline function
adds the status list and reports the checks it could not make.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from wallet import jws
from wallet.crypto import SM2Backend
from wallet.errors import CryptoError
from wallet.keys.models import KeyUse
from wallet.keys.trust_list import TrustList
from wallet.licences.status import LiveStatus
from wallet.presentation.tokens import Claims, ParsedPresentation, parse_presentation

__all__ = [
    "CLOCK_SKEW",
    "TokenCheck",
    "Verdict",
    "check_token",
    "disagreeing_claims",
    "status_verdict",
]

CLOCK_SKEW: Final = 30
"""Seconds of clock difference between phone and verifier that are tolerated."""


class Verdict(StrEnum):
    """The answer to a verification: one of a closed set (DESIGN §7)."""

    VALID = "valid"
    EXPIRED = "expired"
    """The licence's validity has ended."""
    NOT_YET_VALID = "not_yet_valid"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"
    QR_EXPIRED = "qr_expired"
    """The code's own time window (``exp``) has passed: the holder refreshes it."""
    CODE_MISMATCH = "code_mismatch"
    """The offline code is not the credential's code of the moment."""
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    REPLAYED = "replayed"
    MALFORMED = "malformed"
    STATUS_UNAVAILABLE = "status_unavailable"


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """The outcome of the token checks: a failing verdict, or ``None`` and the presentation."""

    verdict: Verdict | None
    presentation: ParsedPresentation | None = None
    detail: str = ""


def check_token(
    qr: str, trust: TrustList, now: int, sm2: SM2Backend, skew: int = CLOCK_SKEW
) -> TokenCheck:
    """Parse, find the key, check the signature and the time window."""
    try:
        presentation = parse_presentation(qr)
    except jws.MalformedToken as exc:
        return TokenCheck(Verdict.MALFORMED, detail=exc.detail)
    claims = presentation.claims
    key = trust.key_for(presentation.token.kid, claims.iat, KeyUse.PRESENTATION)
    if key is None:
        return TokenCheck(Verdict.UNKNOWN_KEY, presentation, "kid not trusted for this iat")
    try:
        good = jws.verify_signature(presentation.token, key.public_key, sm2)
    except CryptoError:
        good = False
    if not good:
        return TokenCheck(Verdict.BAD_SIGNATURE, presentation)
    if now + skew < claims.iat:
        return TokenCheck(Verdict.NOT_YET_VALID, presentation)
    if now - skew > claims.exp:
        return TokenCheck(Verdict.QR_EXPIRED, presentation)
    return TokenCheck(None, presentation)


_BY_STATUS: Final = {
    "revoked": Verdict.REVOKED,
    "suspended": Verdict.SUSPENDED,
    "cancelled": Verdict.CANCELLED,
}


def status_verdict(version: int, live: LiveStatus | None, today: date) -> Verdict:
    """The verdict from the licence's live status; never ``valid`` without one."""
    if live is None:
        return Verdict.STATUS_UNAVAILABLE
    if live.status in _BY_STATUS:
        return _BY_STATUS[live.status]
    if live.status != "valid":
        return Verdict.STATUS_UNAVAILABLE
    if version < live.version:
        return Verdict.SUPERSEDED
    if version > live.version:
        # A signed token naming a version the registry has not got: our records
        # disagree with our own signature, so nothing can be vouched for.
        return Verdict.STATUS_UNAVAILABLE
    if live.valid_until is not None and live.valid_until < today:
        return Verdict.EXPIRED
    return Verdict.VALID


def disagreeing_claims(claims: Claims, *, knd: str, iss: str) -> tuple[str, ...]:
    """The signed claims that disagree with the registry's record of version ``claims.ver``.

    ``knd`` and ``iss`` are what a token minted for that version carries: the
    kind's catalogue sequence and the issuing division. ``ver`` itself is
    compared by :func:`status_verdict`.
    """
    return tuple(
        name
        for name, signed, stored in (("knd", claims.knd, knd), ("iss", claims.iss, iss))
        if signed != stored
    )
