"""The QR token contract (wallet.presentation.tokens): mint bounds and every refusal of a parse."""

from __future__ import annotations

import pytest

from wallet import jws
from wallet.crypto import sm2_backend
from wallet.presentation.tokens import (
    CREDENTIAL_TYPE,
    MAX_CREDENTIAL_LIFETIME,
    MAX_QR_LIFETIME,
    QR_TYPE,
    Claims,
    mint_credential,
    mint_qr,
    new_jti,
    parse_presentation,
)

SM2 = sm2_backend("tongsuo")
PRIVATE = SM2.generate_private_key()
NOW = 1_795_000_000
CLAIMS = {"lic": "LABCDEFGHIJKLMNOP", "knd": "D071", "iss": "210102", "ver": 2}
JTI = "abcdefghijklmnop"


def _payload(**changes) -> dict:
    payload = {**CLAIMS, "iat": NOW, "exp": NOW + 60, "jti": JTI}
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def _token(payload: dict, typ: str = QR_TYPE, kid: str = "pres-1") -> str:
    return jws.encode({"kid": kid, "typ": typ}, payload, PRIVATE, SM2)


def _credential(**changes) -> str:
    return _token(_payload(**{"idx": 7, "exp": NOW + 86400, **changes}), CREDENTIAL_TYPE)


def _malformed(text: str, detail: str) -> None:
    with pytest.raises(jws.MalformedToken) as caught:
        parse_presentation(text)
    assert caught.value.detail == detail


def test_the_limits():
    assert (MAX_QR_LIFETIME, MAX_CREDENTIAL_LIFETIME) == (300, 604800)
    assert (QR_TYPE, CREDENTIAL_TYPE) == ("rtel-qr", "rtel-cred")


@pytest.mark.parametrize("lifetime", [1, 300])
def test_a_qr_is_minted_for_a_lifetime_of_1_to_300_seconds(lifetime):
    qr = mint_qr("pres-1", PRIVATE, SM2, now=NOW, lifetime=lifetime, jti=JTI, **CLAIMS)
    decoded = jws.decode(qr)
    assert decoded.header == {"alg": "SM2", "kid": "pres-1", "typ": "rtel-qr"}
    assert decoded.payload == _payload(exp=NOW + lifetime)
    parsed = parse_presentation(qr)
    assert parsed.claims == Claims(**CLAIMS, iat=NOW, exp=NOW + lifetime, jti=JTI)
    assert parsed.code is None and parsed.offline is False


@pytest.mark.parametrize("lifetime", [0, 301, -1])
def test_a_qr_lifetime_outside_1_to_300_is_a_bug(lifetime):
    with pytest.raises(ValueError, match=r"QR lifetime must be 1\.\.300 s"):
        mint_qr("pres-1", PRIVATE, SM2, now=NOW, lifetime=lifetime, **CLAIMS)


@pytest.mark.parametrize("lifetime", [1, 604800])
def test_a_credential_is_minted_for_up_to_seven_days(lifetime):
    credential = mint_credential(
        "pres-1", PRIVATE, SM2, now=NOW, lifetime=lifetime, idx=0, jti=JTI, **CLAIMS
    )
    decoded = jws.decode(credential)
    assert decoded.header["typ"] == "rtel-cred"
    assert decoded.payload == _payload(exp=NOW + lifetime, idx=0)
    parsed = parse_presentation(f"{credential}~01234567")
    assert parsed.claims.idx == 0 and parsed.code == "01234567" and parsed.offline is True


@pytest.mark.parametrize("lifetime", [0, 604801])
def test_a_credential_lifetime_outside_seven_days_is_a_bug(lifetime):
    with pytest.raises(ValueError, match="credential lifetime must be at most 7 days"):
        mint_credential("pres-1", PRIVATE, SM2, now=NOW, lifetime=lifetime, idx=0, **CLAIMS)


def test_a_fresh_jti_is_random_unless_given():
    jtis = {new_jti() for _ in range(8)}
    assert len(jtis) == 8 and {len(j) for j in jtis} == {16}
    qr = mint_qr("pres-1", PRIVATE, SM2, now=NOW, lifetime=60, **CLAIMS)
    assert len(parse_presentation(qr).claims.jti) == 16
    credential = mint_credential("pres-1", PRIVATE, SM2, now=NOW, lifetime=60, idx=1, **CLAIMS)
    assert len(parse_presentation(credential + "~12345678").claims.jti) == 16


def test_as_payload_carries_idx_only_when_there_is_one():
    claims = Claims(**CLAIMS, iat=NOW, exp=NOW + 60, jti=JTI)
    assert claims.as_payload() == _payload()
    assert Claims(**CLAIMS, iat=NOW, exp=NOW + 60, jti=JTI, idx=0).as_payload() == _payload(idx=0)


def test_scanner_line_ends_are_taken_off_but_not_unicode_blanks():
    qr = _token(_payload())
    assert parse_presentation(f" \t{qr}\r\n").claims.jti == JTI
    _malformed(f"{qr}\u3000", "a presentation is ASCII only")


@pytest.mark.parametrize("code", ["1234567", "123456789", "1234567a", "", "1234 678"])
def test_an_offline_code_is_eight_ascii_digits(code):
    _malformed(f"{_credential()}~{code}", "the offline code must be 8 digits 0-9")


def test_a_fullwidth_code_is_not_ascii():
    _malformed(f"{_credential()}~１２３４５６７８", "a presentation is ASCII only")


def test_the_kid_is_an_ascii_key_id_of_at_most_64_characters():
    assert parse_presentation(_token(_payload(), kid="k" * 64)).token.kid == "k" * 64
    for kid in ("k" * 65, "a/b", "a b"):
        _malformed(_token(_payload(), kid=kid), "the header kid is not an ASCII key id")


def test_the_type_must_match_the_mode():
    problem = "token type does not match the presentation mode"
    _malformed(_token(_payload(idx=1)) + "~12345678", problem)
    _malformed(_credential(), problem)
    _malformed(_token(_payload(), typ="rtel-status-list"), problem)


def test_an_online_qr_ignores_idx_and_a_credential_needs_it():
    assert parse_presentation(_token(_payload(idx=3))).claims.idx is None
    _malformed(
        _token(_payload(exp=NOW + 60), CREDENTIAL_TYPE) + "~12345678",
        "claim idx must be a non-negative integer",
    )


@pytest.mark.parametrize("name", ["ver", "iat", "exp", "idx"])
@pytest.mark.parametrize("value", [None, "1", 1.0, True, False, -1, [1], {"a": 1}])
def test_a_wrong_typed_integer_claim_is_malformed(name, value):
    changes = {name: value}
    if name == "iat":
        changes["exp"] = NOW + 86400  # keep the lifetime in range for the integer cases
    token = _credential(**changes) + "~12345678"
    _malformed(token, f"claim {name} must be a non-negative integer")


def test_zero_is_a_valid_integer_claim():
    assert parse_presentation(_token(_payload(ver=0))).claims.ver == 0
    assert parse_presentation(_credential(idx=0) + "~12345678").claims.idx == 0


@pytest.mark.parametrize("name", ["lic", "knd", "iss", "jti"])
@pytest.mark.parametrize("value", [None, 1, 1.5, True, ["x"], {"a": "b"}])
def test_a_wrong_typed_string_claim_is_malformed(name, value):
    _malformed(_token(_payload(**{name: value})), f"claim {name} is missing or malformed")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("lic", "LABCDEFGHIJKLMNO"),
        ("lic", "XABCDEFGHIJKLMNOP"),
        ("knd", "D71"),
        ("knd", "X071"),
        ("iss", "21010"),
        ("iss", "21010a"),
        ("jti", "a" * 15),
        ("jti", "a" * 44),
        ("jti", "abcdefghijklmno="),
    ],
)
def test_a_string_claim_of_the_wrong_shape_is_malformed(name, value):
    _malformed(_token(_payload(**{name: value})), f"claim {name} is missing or malformed")


@pytest.mark.parametrize("jti", ["a" * 16, "a" * 43, "A-_z09aaaaaaaaaa"])
def test_jti_lengths_16_to_43(jti):
    assert parse_presentation(_token(_payload(jti=jti))).claims.jti == jti


@pytest.mark.parametrize(
    ("mode", "lifetime", "accepted"),
    [
        ("qr", 0, False),
        ("qr", -1, False),
        ("qr", 1, True),
        ("qr", 300, True),
        ("qr", 301, False),
        ("cred", 0, False),
        ("cred", 604800, True),
        ("cred", 604801, False),
    ],
)
def test_the_lifetime_bounds(mode, lifetime, accepted):
    if mode == "qr":
        text = _token(_payload(exp=NOW + lifetime))
    else:
        text = _token(_payload(idx=1, exp=NOW + lifetime), CREDENTIAL_TYPE) + "~12345678"
    if accepted:
        assert parse_presentation(text).claims.exp == NOW + lifetime
    else:
        _malformed(text, "lifetime outside the allowed range")
