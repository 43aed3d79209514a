"""The verdict: the closed set of answers and the pure rules that produce them.

The checks of DESIGN §7 run in order: parse → key in the trust list and
valid at ``iat`` → SM2 signature → time window → TOTP (offline mode) →
replay → status → the signed claims against the registry. This module holds
the pure parts shared by the online verifier and the offline function:
:func:`check_token` (parse, key, signature, time), :func:`disagreeing_claims`
(the signed ``knd`` and ``iss`` against the registry's record of the version
named) and :func:`decide`, the one rule that turns the results of every
check into the answer. The online service gathers those results (TOTP,
replay, the live status, the registry record) and the offline function its
own (the status list; the checks it cannot make are ``UNCHECKED``); both
answer what :func:`decide` says. ``tests/verification/vectors/verdicts.json``
pins it, row by row, for apps in other languages.
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
    "AUTHENTIC",
    "CLOCK_SKEW",
    "ClaimsCheck",
    "CodeCheck",
    "Decision",
    "Replay",
    "TokenCheck",
    "Verdict",
    "check_token",
    "decide",
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


AUTHENTIC: Final = frozenset(
    {
        Verdict.VALID,
        Verdict.EXPIRED,
        Verdict.REVOKED,
        Verdict.SUSPENDED,
        Verdict.CANCELLED,
        Verdict.SUPERSEDED,
    }
)
"""Verdicts about a licence the registry vouches for: its face (and photo) may be shown."""


class CodeCheck(StrEnum):
    """The offline code (TOTP) against the credential's seed."""

    MATCH = "match"
    MISMATCH = "mismatch"
    NOT_CHECKABLE = "not_checkable"
    """The seed could not be read (database down): the code cannot be vouched for."""
    NOT_OFFLINE = "not_offline"
    """An online QR, or a lookup: there is no code."""
    UNCHECKED = "unchecked"
    """Not checked by design: an offline verifier has no seed (it says so in its answer)."""


class Replay(StrEnum):
    """Whether the token (or offline code) was seen from another officer inside its window."""

    NO = "no"
    YES = "yes"
    UNKNOWN = "unknown"
    """Neither the cache nor the log could tell: replay cannot be ruled out."""
    UNCHECKED = "unchecked"
    """Not checked by design: an offline verifier, or a lookup (there is no token)."""


class ClaimsCheck(StrEnum):
    """The registry's record of the version named, against the token's signed claims.

    The same record gives the face an officer sees, so a lookup (no token)
    is ``AGREE`` once the record is read and ``UNREADABLE`` when it cannot be.
    """

    AGREE = "agree"
    DISAGREE = "disagree"
    """The signed ``knd``/``iss`` are not the record's, or the registry has no such version."""
    UNREADABLE = "unreadable"
    """The database did not answer: neither the claims nor the face can be vouched for."""
    UNCHECKED = "unchecked"
    """Not checked by design: an offline verifier has no registry."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What :func:`decide` answers: the verdict, its detail, and whether a live status was read.

    ``status_read`` is what lets an answer carry ``status_checked_at``.
    """

    verdict: Verdict
    detail: str = ""
    status_read: bool = False


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """The outcome of the token checks: a failing verdict, or ``None`` and the presentation."""

    verdict: Verdict | None
    presentation: ParsedPresentation | None = None
    detail: str = ""


def check_token(
    qr: str, trust: TrustList, now: int, sm2: SM2Backend, skew: int = CLOCK_SKEW
) -> TokenCheck:
    """Parse, find the key, check the signature and the time window.

    The same checks for every kind of string (online QR, offline QR,
    printable credential, annotated copy); only the key's use differs (a
    copy key for a copy) and the longest lifetime, which parsing enforces.
    Past ``exp`` the answer is ``qr_expired`` whatever the kind.
    """
    try:
        presentation = parse_presentation(qr)
    except jws.MalformedToken as exc:
        return TokenCheck(Verdict.MALFORMED, detail=exc.detail)
    claims = presentation.claims
    # A copy is sealed by a copy key, everything else by a presentation key: a
    # string signed by a key of the other use names no key trusted for it.
    use = KeyUse.COPY if presentation.document == "copy" else KeyUse.PRESENTATION
    key = trust.key_for(presentation.token.kid, claims.iat, use)
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
    # ``expired`` is the effective status a status list publishes for a valid
    # licence past its validity end (wallet.licences.status.effective_status).
    "expired": Verdict.EXPIRED,
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


def decide(
    token: Verdict | None,
    *,
    today: date,
    code: CodeCheck = CodeCheck.NOT_OFFLINE,
    replay: Replay = Replay.UNKNOWN,
    version: int | None = None,
    live: LiveStatus | None = None,
    claims: ClaimsCheck = ClaimsCheck.UNREADABLE,
    token_detail: str = "",
) -> Decision:
    """The answer, from the result of every check of DESIGN §7, taken in their order.

    ``token`` is :attr:`TokenCheck.verdict` (``None``: parse, key, signature
    and time passed; ``status_unavailable`` when the trust list cannot be
    loaded), ``code`` the offline code, ``replay`` the replay check,
    ``version`` the version the token (or lookup) names, ``live`` the
    licence's live status (``None``: it could not be read), ``claims`` the
    registry's record against the signed claims, ``today`` the verifier's
    date. The first check that fails decides; the inputs after it do not
    matter, so a caller may stop gathering there (each default fails closed:
    ``valid`` is never answered for an input not given).
    """
    if token is not None:
        return Decision(token, token_detail)
    if code is CodeCheck.MISMATCH:
        return Decision(Verdict.CODE_MISMATCH, "offline code does not match")
    if code is CodeCheck.NOT_CHECKABLE:
        return Decision(Verdict.STATUS_UNAVAILABLE, "code not checkable")
    if replay is Replay.YES:
        return Decision(Verdict.REPLAYED)
    if replay is Replay.UNKNOWN:
        return Decision(Verdict.STATUS_UNAVAILABLE)
    if version is None:
        return Decision(Verdict.STATUS_UNAVAILABLE, "no version named")
    verdict = status_verdict(version, live, today)
    if verdict not in AUTHENTIC:
        return Decision(verdict, status_read=live is not None)
    if claims is ClaimsCheck.DISAGREE:
        # Our own key signed claims our registry does not hold for this
        # version: no status can be read for the licence the token describes.
        return Decision(
            Verdict.STATUS_UNAVAILABLE,
            "the signed claims disagree with the registry",
            status_read=True,
        )
    if claims is ClaimsCheck.UNREADABLE:
        if verdict is Verdict.VALID:
            # Without the face the officer cannot finish: not a "valid" to act on.
            return Decision(Verdict.STATUS_UNAVAILABLE, "licence face unavailable")
        # A licence that is not valid is not valid whatever its face: say so.
        return Decision(verdict, "licence face unavailable", status_read=True)
    return Decision(verdict, status_read=True)
