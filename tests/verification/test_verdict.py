"""The pure token checks and the status rule, at every boundary (wallet.verification.verdict)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from wallet.crypto import sm2_backend
from wallet.keys.models import KeyStatus, KeyUse
from wallet.keys.trust_list import TrustedKey, TrustList
from wallet.licences.status import LiveStatus
from wallet.presentation.tokens import mint_credential, mint_qr
from wallet.verification.verdict import (
    CLOCK_SKEW,
    ClaimsCheck,
    CodeCheck,
    Replay,
    Verdict,
    check_token,
    decide,
    status_verdict,
)

SM2 = sm2_backend("tongsuo")
IAT = 1_795_000_000
LIFETIME = 60
PRIVATE = SM2.generate_private_key()
STRANGER = SM2.generate_private_key()
CLAIMS = {"lic": "LABCDEFGHIJKLMNOP", "knd": "D071", "iss": "210102", "ver": 2}
TODAY = date(2026, 11, 26)


def _trust(
    public_key: bytes, use: KeyUse = KeyUse.PRESENTATION, not_before: int = IAT
) -> TrustList:
    key = TrustedKey("pres-1", use, None, public_key, not_before, None, KeyStatus.ACTIVE)
    return TrustList(IAT - 3600, "root-1", {"pres-1": key})


TRUST = _trust(SM2.public_key(PRIVATE))


def _qr(private: bytes = PRIVATE, kid: str = "pres-1") -> str:
    return mint_qr(kid, private, SM2, now=IAT, lifetime=LIFETIME, jti="j" * 16, **CLAIMS)


def test_the_tolerated_clock_skew_is_thirty_seconds():
    assert CLOCK_SKEW == 30


@pytest.mark.parametrize(
    ("now", "verdict"),
    [
        (IAT - CLOCK_SKEW - 1, Verdict.NOT_YET_VALID),
        (IAT - CLOCK_SKEW, None),
        (IAT, None),
        (IAT + LIFETIME, None),
        (IAT + LIFETIME + CLOCK_SKEW, None),
        (IAT + LIFETIME + CLOCK_SKEW + 1, Verdict.QR_EXPIRED),
    ],
)
def test_the_time_window_is_exact_at_now_plus_and_minus_skew(now, verdict):
    checked = check_token(_qr(), TRUST, now, SM2)
    assert checked.verdict is verdict
    assert checked.presentation is not None
    assert checked.presentation.claims.ver == 2


def test_the_default_skew_is_the_clock_skew():
    assert check_token(_qr(), TRUST, IAT - 31, SM2).verdict is Verdict.NOT_YET_VALID
    assert check_token(_qr(), TRUST, IAT - 30, SM2).verdict is None
    assert check_token(_qr(), TRUST, IAT - 1, SM2, skew=0).verdict is Verdict.NOT_YET_VALID


def test_a_forged_token_is_a_bad_signature():
    checked = check_token(_qr(STRANGER), TRUST, IAT, SM2)
    assert checked.verdict is Verdict.BAD_SIGNATURE
    assert checked.presentation is not None and checked.detail == ""


def test_a_listed_key_that_is_not_a_key_fails_closed():
    """The signature check raising (a malformed listed key) is a bad signature, not valid."""
    checked = check_token(_qr(), _trust(b"\x04" + b"\x01" * 64), IAT, SM2)
    assert checked.verdict is Verdict.BAD_SIGNATURE


def test_a_key_not_trusted_is_an_unknown_key():
    for trust in (
        _trust(SM2.public_key(PRIVATE), use=KeyUse.SEAL),
        _trust(SM2.public_key(PRIVATE), not_before=IAT + 1),
    ):
        checked = check_token(_qr(), trust, IAT, SM2)
        assert checked.verdict is Verdict.UNKNOWN_KEY
        assert checked.detail == "kid not trusted for this iat"
        assert checked.presentation is not None
    assert check_token(_qr(kid="pres-2"), TRUST, IAT, SM2).verdict is Verdict.UNKNOWN_KEY


def test_a_malformed_token_is_malformed_with_its_reason():
    checked = check_token("a.b", TRUST, IAT, SM2)
    assert checked.verdict is Verdict.MALFORMED
    assert checked.detail == "a token has three dot-separated parts"
    assert checked.presentation is None


def test_a_credential_passes_the_same_checks():
    credential = mint_credential(
        "pres-1", PRIVATE, SM2, now=IAT, lifetime=86400, idx=5, jti="j" * 16, **CLAIMS
    )
    checked = check_token(f"{credential}~12345678", TRUST, IAT, SM2)
    assert checked.verdict is None
    assert checked.presentation is not None and checked.presentation.claims.idx == 5


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        ("expired", Verdict.EXPIRED),
        ("revoked", Verdict.REVOKED),
        ("suspended", Verdict.SUSPENDED),
        ("cancelled", Verdict.CANCELLED),
        ("valid", Verdict.VALID),
        ("unheard-of", Verdict.STATUS_UNAVAILABLE),
        ("", Verdict.STATUS_UNAVAILABLE),
    ],
)
def test_each_live_status_gives_its_verdict(status, verdict):
    assert status_verdict(2, LiveStatus(status, 2, None), TODAY) is verdict


def test_no_live_status_is_never_valid():
    assert status_verdict(2, None, TODAY) is Verdict.STATUS_UNAVAILABLE


def test_versions_older_equal_and_newer_than_the_registry():
    live = LiveStatus("valid", 2, None)
    assert status_verdict(1, live, TODAY) is Verdict.SUPERSEDED
    assert status_verdict(2, live, TODAY) is Verdict.VALID
    # A token naming a version the registry has not got: nothing can be vouched for.
    assert status_verdict(3, live, TODAY) is Verdict.STATUS_UNAVAILABLE


def test_the_registry_validity_end_is_exact():
    def at(valid_until: date | None) -> Verdict:
        return status_verdict(2, LiveStatus("valid", 2, valid_until), TODAY)

    assert at(TODAY + timedelta(days=1)) is Verdict.VALID
    assert at(TODAY) is Verdict.VALID  # valid through its last day
    assert at(TODAY - timedelta(days=1)) is Verdict.EXPIRED
    assert at(None) is Verdict.VALID


def test_decide_passes_a_higher_version_through_as_unavailable():
    decision = decide(
        None,
        today=TODAY,
        code=CodeCheck.NOT_OFFLINE,
        replay=Replay.NO,
        version=3,
        live=LiveStatus("valid", 2, None),
        claims=ClaimsCheck.AGREE,
    )
    assert decision.verdict is Verdict.STATUS_UNAVAILABLE
    assert decision.status_read is True
    assert decision.detail == ""


def test_decide_past_the_registry_validity_end_is_expired():
    decision = decide(
        None,
        today=TODAY,
        replay=Replay.NO,
        version=2,
        live=LiveStatus("valid", 2, TODAY - timedelta(days=1)),
        claims=ClaimsCheck.AGREE,
    )
    assert decision.verdict is Verdict.EXPIRED
    assert decision.status_read is True


def test_decide_without_a_live_status_has_not_read_one():
    decision = decide(None, today=TODAY, replay=Replay.NO, version=2, live=None)
    assert decision.verdict is Verdict.STATUS_UNAVAILABLE
    assert decision.status_read is False
    assert decision.detail == ""


def test_a_failing_token_verdict_decides_with_its_detail():
    assert decide(Verdict.MALFORMED, today=TODAY).detail == ""
    decision = decide(Verdict.MALFORMED, today=TODAY, token_detail="why")
    assert (decision.verdict, decision.detail, decision.status_read) == (
        Verdict.MALFORMED,
        "why",
        False,
    )
