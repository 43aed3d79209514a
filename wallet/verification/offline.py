"""The offline verifier, for enforcement-app vendors: (trust list, status list, QR, now) → verdict.

It runs the same token checks as the online verifier
(:func:`wallet.verification.verdict.check_token`) and answers from the same
:class:`~wallet.verification.verdict.Verdict` enum. It cannot check the TOTP
code (the seed stays on the server, so it never answers ``code_mismatch``),
replay (it sees no other officer's scans), a newer version, nor whether the
signed ``knd`` and ``iss`` agree with the registry (``claims``); live status
comes only from the last status list, and only for offline credentials (they
carry ``idx``). The result names the checks it could not make and the age of
its status list.

A printable credential (``rtel-print``) or an annotated copy (``rtel-copy``)
gets the same token checks (a copy under a copy key); neither carries a
status list index, so offline their status is never read and the verdict of
an authentic one is ``status_unavailable`` (a valid verdict needs a live
status). For a copy the grant cannot be checked either: ``grant_live`` is
``None`` and ``grant`` is listed among the checks not made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from wallet.crypto import SM2Backend
from wallet.identifiers import province_division
from wallet.keys.trust_list import TrustList
from wallet.licences.status import LiveStatus
from wallet.presentation.tokens import Claims, CopyClaims, DocumentKind
from wallet.verification.status_list import StatusList
from wallet.verification.verdict import (
    ClaimsCheck,
    CodeCheck,
    Replay,
    Verdict,
    check_token,
    decide,
)

__all__ = ["OfflineResult", "verify_offline"]


@dataclass(frozen=True, slots=True)
class OfflineResult:
    """The verdict, the claims if the token parsed, the checks not made, the list's age (s)."""

    verdict: Verdict
    claims: Claims | None
    unchecked: tuple[str, ...]
    status_list_age: int | None
    document: DocumentKind | None = None
    copy: CopyClaims | None = None
    grant_live: None = None
    """Never known offline (``grant`` is then among ``unchecked``)."""


def verify_offline(
    trust: TrustList, status_list: StatusList | None, qr: str, now: int, sm2: SM2Backend
) -> OfflineResult:
    """The verdict an offline verifier can stand behind, with what it could not check.

    The verdict is :func:`~wallet.verification.verdict.decide`'s, as online:
    the checks an offline verifier cannot make are ``UNCHECKED`` (and listed),
    and the live status is the status list's entry (``None`` without one).
    """
    checked = check_token(qr, trust, now, sm2)
    claims = checked.presentation.claims if checked.presentation else None
    document = checked.presentation.document if checked.presentation else None
    offline = checked.presentation is not None and checked.presentation.offline
    paper = document in ("print", "copy")
    unchecked: list[str] = ["totp"] if offline else []
    # A paper is scanned many times by design: replay is no check for it.
    unchecked += ["version", "claims"] if paper else ["replay", "version", "claims"]
    if document == "copy":
        unchecked.append("grant")
    live = None
    if (
        claims is not None
        and status_list is not None
        and not status_list.expired(now)
        and claims.idx is not None
        and status_list.division == province_division(claims.iss)
    ):
        status = status_list.status_at(claims.idx)
        if status is not None:
            # A status list holds effective statuses (``expired`` included) and
            # no versions: the version named is taken as the live one.
            live = LiveStatus(status, claims.ver, None)
    if checked.verdict is None and live is None:
        # Never "valid" without a status read, offline as online.
        unchecked.append("status")
    decision = decide(
        checked.verdict,
        today=datetime.fromtimestamp(now, UTC).date(),
        code=CodeCheck.UNCHECKED if offline else CodeCheck.NOT_OFFLINE,
        replay=Replay.UNCHECKED,
        version=claims.ver if claims else None,
        live=live,
        claims=ClaimsCheck.UNCHECKED,
    )
    age = now - status_list.issued_at if status_list is not None else None
    copy = checked.presentation.copy if checked.presentation and checked.verdict is None else None
    return OfflineResult(decision.verdict, claims, tuple(unchecked), age, document, copy)
