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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from wallet.crypto import SM2Backend
from wallet.keys.trust_list import TrustList
from wallet.licences.status import LiveStatus
from wallet.presentation.tokens import Claims
from wallet.verification.status_list import StatusList
from wallet.verification.verdict import Verdict, check_token, status_verdict

__all__ = ["OfflineResult", "verify_offline"]


@dataclass(frozen=True, slots=True)
class OfflineResult:
    """The verdict, the claims if the token parsed, the checks not made, the list's age (s)."""

    verdict: Verdict
    claims: Claims | None
    unchecked: tuple[str, ...]
    status_list_age: int | None


def verify_offline(
    trust: TrustList, status_list: StatusList | None, qr: str, now: int, sm2: SM2Backend
) -> OfflineResult:
    """The verdict an offline verifier can stand behind, with what it could not check."""
    checked = check_token(qr, trust, now, sm2)
    claims = checked.presentation.claims if checked.presentation else None
    unchecked: list[str] = ["replay", "version", "claims"]
    if checked.presentation is not None and checked.presentation.offline:
        unchecked.insert(0, "totp")
    age = now - status_list.issued_at if status_list is not None else None
    if checked.verdict is not None:
        return OfflineResult(checked.verdict, claims, tuple(unchecked), age)
    assert claims is not None
    status = None
    if (
        status_list is not None
        and claims.idx is not None
        and status_list.division == claims.iss[:2] + "0000"
    ):
        status = status_list.status_at(claims.idx)
    if status is None:
        # Never "valid" without a status read, offline as online.
        unchecked.append("status")
        return OfflineResult(Verdict.STATUS_UNAVAILABLE, claims, tuple(unchecked), age)
    today = datetime.fromtimestamp(now, UTC).date()
    live = LiveStatus("valid" if status == "expired" else status, claims.ver, None)
    verdict = Verdict.EXPIRED if status == "expired" else status_verdict(claims.ver, live, today)
    return OfflineResult(verdict, claims, tuple(unchecked), age)
