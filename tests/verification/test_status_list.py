"""Status lists: packing every status at every index, and every way a list is refused."""

from __future__ import annotations

import base64
import random
import zlib

import orjson
import pytest

from wallet import jws
from wallet.crypto import sm2_backend
from wallet.keys.models import KeyStatus, KeyUse
from wallet.keys.trust_list import TrustedKey, TrustList
from wallet.presentation.tokens import mint_credential
from wallet.verification.offline import verify_offline
from wallet.verification.status_list import (
    CODES,
    MAX_LIST_LENGTH,
    MAX_SLOTS,
    STATUS_LIST_TYPE,
    InvalidStatusList,
    StatusList,
    encode_statuses,
    sign_status_list,
    verify_status_list,
)
from wallet.verification.verdict import Verdict

SM2 = sm2_backend("tongsuo")
NOW = 1_795_000_000
SEAL_LN = SM2.generate_private_key()  # 210000's seal key
SEAL_BJ = SM2.generate_private_key()  # 110000's seal key
PRESENTATION = SM2.generate_private_key()
STRANGER = SM2.generate_private_key()  # in no trust list


def _key(kid: str, private: bytes, use: KeyUse, division: str | None) -> TrustedKey:
    return TrustedKey(
        kid, use, division, SM2.public_key(private), NOW - 86400, None, KeyStatus.ACTIVE
    )


TRUST = TrustList(
    NOW - 3600,
    "root-1",
    {
        "seal-ln": _key("seal-ln", SEAL_LN, KeyUse.SEAL, "210000"),
        "seal-bj": _key("seal-bj", SEAL_BJ, KeyUse.SEAL, "110000"),
        "pres-1": _key("pres-1", PRESENTATION, KeyUse.PRESENTATION, None),
    },
)
STATUSES = list(CODES)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _lst(packed: bytes) -> str:
    return _b64(zlib.compress(packed, 9))


def _signed(payload: dict, *, kid: str = "seal-ln", key: bytes = SEAL_LN, **header) -> str:
    return jws.encode(
        {"kid": kid, "typ": STATUS_LIST_TYPE, **header},
        payload,
        key,
        SM2,
        max_length=MAX_LIST_LENGTH,
    )


def _payload(**changes) -> dict:
    payload = {
        "iss": "210000",
        "iat": NOW,
        "exp": NOW + 86400,
        "bits": 4,
        "lst": _lst(encode_statuses([(0, "revoked")], 2)),
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def _refused(token: str, detail: str) -> None:
    with pytest.raises(InvalidStatusList) as caught:
        verify_status_list(token, TRUST, SM2)
    assert caught.value.detail == detail
    assert (caught.value.type_code, caught.value.status) == ("invalid_status_list", 400)


def test_the_codes_are_the_published_ones():
    assert CODES == {"valid": 0, "revoked": 1, "suspended": 2, "cancelled": 3, "expired": 4}


@pytest.mark.parametrize("size", [1, 2, 9, 10])
def test_every_status_at_every_index_including_the_last(size):
    for shift in range(len(STATUSES)):
        entries = [(i, STATUSES[(i + shift) % len(STATUSES)]) for i in range(size)]
        packed = encode_statuses(entries, size)
        token = sign_status_list(
            "210000", packed, kid="seal-ln", private_key=SEAL_LN, sm2=SM2, now=NOW
        )
        status_list = verify_status_list(token, TRUST, SM2)
        assert [status_list.status_at(i) for i in range(size)] == [s for _, s in entries]
        assert len(status_list.packed) == (size + 1) // 2
        # Past the last byte the list does not reach; below 0 it never does.
        assert status_list.status_at((size + 1) // 2 * 2) is None
        assert status_list.status_at(-1) is None


def test_one_status_among_valid_neighbours_stays_in_its_slot():
    for idx in range(6):
        packed = encode_statuses([(idx, "cancelled")], 6)
        expected = bytearray(3)
        expected[idx // 2] = 3 << (4 * (idx % 2))
        assert packed == bytes(expected)
        listed = StatusList("210000", NOW, NOW + 1, packed)
        assert [listed.status_at(i) for i in range(6)] == [
            "cancelled" if i == idx else "valid" for i in range(6)
        ]


def test_an_unknown_code_reads_as_no_status():
    listed = StatusList("210000", NOW, NOW + 1, bytes([0x5F]))
    assert listed.status_at(0) is None and listed.status_at(1) is None


def test_a_signed_list_carries_its_division_times_and_bits():
    token = sign_status_list(
        "210000", b"\x21", kid="seal-ln", private_key=SEAL_LN, sm2=SM2, now=NOW, lifetime=600
    )
    decoded = jws.decode(token)
    assert decoded.header == {"alg": "SM2", "kid": "seal-ln", "typ": "rtel-status-list"}
    assert decoded.payload == {
        "iss": "210000",
        "iat": NOW,
        "exp": NOW + 600,
        "bits": 4,
        "lst": _lst(b"\x21"),
    }
    assert verify_status_list(token, TRUST, SM2) == StatusList("210000", NOW, NOW + 600, b"\x21")
    default = sign_status_list("210000", b"", kid="k", private_key=SEAL_LN, sm2=SM2, now=NOW)
    assert jws.decode(default).payload["exp"] == NOW + 86400


def test_list_expiry_is_exact():
    listed = StatusList("210000", NOW, NOW + 600, b"")
    assert listed.expired(NOW + 600) is False
    assert listed.expired(NOW + 601) is True
    assert listed.expired(NOW) is False


def test_a_forged_list_is_refused():
    """Signed by a key nobody trusts, under a trusted kid."""
    _refused(_signed(_payload(), key=STRANGER), "the signature does not verify")


def test_a_re_signed_list_is_refused():
    """A genuine signature over another payload (a revoked licence turned valid)."""
    genuine = _signed(_payload())
    header, _, signature = genuine.split(".")
    edited = _b64(orjson.dumps(_payload(lst=_lst(encode_statuses([], 2)))))
    _refused(f"{header}.{edited}.{signature}", "the signature does not verify")


def test_a_truncated_list_is_refused():
    genuine = _signed(_payload())
    for cut in (genuine[:-1], genuine[:-2], genuine.rpartition(".")[0]):
        with pytest.raises(InvalidStatusList) as caught:
            verify_status_list(cut, TRUST, SM2)
        assert caught.value.type_code == "invalid_status_list"


def test_another_provinces_list_is_refused():
    # 110000's seal key signing a list that claims to be 210000's.
    _refused(
        _signed(_payload(), kid="seal-bj", key=SEAL_BJ),
        "not signed by a trusted seal key of that province",
    )
    # 210000's key signing a list for 110000.
    _refused(_signed(_payload(iss="110000")), "not signed by a trusted seal key of that province")
    # 110000's own list passes.
    own = _signed(_payload(iss="110000"), kid="seal-bj", key=SEAL_BJ)
    assert verify_status_list(own, TRUST, SM2).division == "110000"


def test_a_key_not_trusted_as_a_seal_key_is_refused():
    problem = "not signed by a trusted seal key of that province"
    _refused(_signed(_payload(), kid="pres-1", key=PRESENTATION), problem)
    _refused(_signed(_payload(), kid="nobody", key=STRANGER), problem)
    # The key must cover the list's iat.
    _refused(_signed(_payload(iat=NOW - 86401)), problem)


@pytest.mark.parametrize(
    "changes",
    [
        {"iat": None},
        {"iat": "1795000000"},
        {"exp": None},
        {"exp": 1.5},
        {"lst": None},
        {"lst": 7},
        {"iss": None},
        {"iss": 210000},
        {"bits": None},
        {"bits": 1},
        {"bits": 5},
    ],
    ids=repr,
)
def test_a_payload_of_the_wrong_shape_is_refused(changes):
    _refused(_signed(_payload(**changes)), "not a status list")


def test_a_token_of_another_type_is_refused():
    _refused(_signed(_payload(), typ="rtel-qr"), "not a status list")
    _refused(jws.encode({"kid": "seal-ln"}, _payload(), SEAL_LN, SM2), "not a status list")


def test_a_list_that_does_not_decompress_is_refused():
    _refused(_signed(_payload(lst=_b64(b"not zlib"))), "the list does not decompress")
    _refused(_signed(_payload(lst="!!!")), "the list does not decompress")


def test_a_malformed_token_is_refused_with_the_jws_reason():
    _refused("a.b", "a token has three dot-separated parts")


def test_a_list_with_characters_outside_base64url_is_refused():
    good = _lst(encode_statuses([(0, "revoked")], 2))
    for bad in (good + "~", good[:2] + "+" + good[3:], good[:-1]):
        _refused(_signed(_payload(lst=bad)), "the list does not decompress")


def test_random_lists_round_trip():
    """Lists of every length up to 200, with random statuses: whatever their encoding ends with."""
    rng = random.Random(7)
    for size in range(1, 201):
        entries = [(i, rng.choice(STATUSES)) for i in range(size)]
        token = sign_status_list(
            "210000",
            encode_statuses(entries, size),
            kid="seal-ln",
            private_key=SEAL_LN,
            sm2=SM2,
            now=NOW,
        )
        status_list = verify_status_list(token, TRUST, SM2)
        assert [status_list.status_at(i) for i in range(size)] == [s for _, s in entries], size


def test_only_padding_is_taken_off_the_encoding():
    """A list whose base64url ends in ``X``: nothing but ``=`` may be stripped from it."""
    rng = random.Random(99)
    entries = [(i, rng.choice(STATUSES)) for i in range(50)]
    packed = encode_statuses(entries, 50)
    token = sign_status_list("210000", packed, kid="seal-ln", private_key=SEAL_LN, sm2=SM2, now=NOW)
    lst = jws.decode(token).payload["lst"]
    assert lst == "eNozdhQUVHBmMTF0URQ2dGRiUWZ2MlBkcXZkBgAwfgOX"
    assert verify_status_list(token, TRUST, SM2).packed == packed


def test_an_offline_verifier_reads_no_status_from_an_expired_list():
    credential = mint_credential(
        "pres-1",
        PRESENTATION,
        SM2,
        lic="LABCDEFGHIJKLMNOP",
        knd="D071",
        iss="210102",
        ver=1,
        idx=0,
        now=NOW,
        lifetime=86400,
        jti="j" * 16,
    )
    listed = StatusList("210000", NOW, NOW + 600, encode_statuses([(0, "revoked")], 1))
    qr = f"{credential}~12345678"
    assert verify_offline(TRUST, listed, qr, NOW + 600, SM2).verdict is Verdict.REVOKED
    late = verify_offline(TRUST, listed, qr, NOW + 601, SM2)
    assert late.verdict is Verdict.STATUS_UNAVAILABLE and "status" in late.unchecked


def test_a_province_sized_list_is_longer_than_a_qr_token_and_still_verifies() -> None:
    # 200,000 licences with statuses that do not compress away: far past the
    # 4,096 characters a QR token may have, within what a list may have.
    rng = random.Random(7)
    entries = [(idx, rng.choice(STATUSES)) for idx in range(200_000)]
    token = sign_status_list(
        "210000",
        encode_statuses(entries, 200_000),
        kid="seal-ln",
        private_key=SEAL_LN,
        sm2=SM2,
        now=NOW,
    )
    assert len(token) > 20 * jws.MAX_TOKEN_LENGTH
    listed = verify_status_list(token, TRUST, SM2)
    assert [listed.status_at(idx) for idx in (0, 99_999, 199_999)] == [
        entries[0][1],
        entries[99_999][1],
        entries[199_999][1],
    ]


def test_a_list_that_inflates_past_the_bound_is_refused() -> None:
    # A few kilobytes that would inflate to more than a list may hold (a zip bomb).
    bomb = _lst(bytes(MAX_SLOTS // 2 + 1))
    assert len(bomb) < 64 * 1024
    _refused(_signed(_payload(lst=bomb)), "the list is larger than a list may be")
