"""SM2 signatures: the standard's example, both backends against each other, bad input."""

from __future__ import annotations

import random
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.crypto.helpers import (
    BACKEND_PAIRS,
    BACKENDS,
    GB_E,
    GB_MESSAGE,
    GB_NONCE,
    GB_PRIVATE_KEY,
    GB_PUBLIC_KEY,
    GB_SIGNATURE,
    GB_Z,
    N,
    backend,
    flip_bit,
    on_curve,
)
from wallet.crypto import DEFAULT_UID, _curve, _gmssl, _sm2, available_backends, sm2_backend
from wallet.errors import ConfigurationError, CryptoError, MalformedKey, MalformedSignature

few = settings(max_examples=6, deadline=None, database=None)


def _signature(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


# --- GB/T 32918.5 example ----------------------------------------------------


def test_default_uid_is_the_standard_one() -> None:
    assert DEFAULT_UID == b"1234567812345678"


@pytest.mark.parametrize("name", BACKENDS)
def test_standard_public_key(name: str) -> None:
    assert backend(name).public_key(GB_PRIVATE_KEY) == GB_PUBLIC_KEY


@pytest.mark.parametrize("name", BACKENDS)
def test_standard_signature_verifies(name: str) -> None:
    assert backend(name).verify(GB_PUBLIC_KEY, GB_MESSAGE, GB_SIGNATURE) is True


def test_standard_z_and_digest() -> None:
    assert _curve.z_value(GB_PUBLIC_KEY) == GB_Z
    assert _curve.digest(GB_PUBLIC_KEY, GB_MESSAGE) == GB_E


def test_standard_signature_with_the_standard_nonce() -> None:
    d = int.from_bytes(GB_PRIVATE_KEY, "big")
    assert _gmssl._sign_digest(d, GB_E, GB_NONCE) == GB_SIGNATURE


# --- interoperation ------------------------------------------------------------


@pytest.mark.parametrize(("signer", "verifier"), BACKEND_PAIRS)
@few
@given(data=st.binary(max_size=300))
def test_each_backend_verifies_the_others_signatures(
    signer: str, verifier: str, data: bytes
) -> None:
    sign_with, verify_with = backend(signer), backend(verifier)
    private_key = sign_with.generate_private_key()
    public_key = verify_with.public_key(private_key)
    assert public_key == sign_with.public_key(private_key)
    signature = sign_with.sign(private_key, data)
    assert len(signature) == 64
    assert verify_with.verify(public_key, data, signature) is True
    assert verify_with.verify(public_key, data + b"\x00", signature) is False


@pytest.mark.parametrize("name", BACKENDS)
def test_signatures_use_fresh_nonces_not_the_random_module(name: str) -> None:
    sm2 = backend(name)
    random.seed(7)
    first = sm2.sign(GB_PRIVATE_KEY, b"same message")
    random.seed(7)
    second = sm2.sign(GB_PRIVATE_KEY, b"same message")
    assert first != second
    assert sm2.verify(GB_PUBLIC_KEY, b"same message", first)
    assert sm2.verify(GB_PUBLIC_KEY, b"same message", second)


@pytest.mark.parametrize("name", BACKENDS)
def test_generated_keys_are_in_range_and_on_the_curve(name: str) -> None:
    sm2 = backend(name)
    for _ in range(3):
        private_key = sm2.generate_private_key()
        assert len(private_key) == 32
        assert 1 <= int.from_bytes(private_key, "big") <= N - 2
        assert on_curve(sm2.public_key(private_key))


def test_gmssl_supports_another_user_id() -> None:
    gmssl = backend("gmssl")
    signature = gmssl.sign(GB_PRIVATE_KEY, b"m", uid=b"alice@example.cn")
    assert gmssl.verify(GB_PUBLIC_KEY, b"m", signature, uid=b"alice@example.cn") is True
    assert gmssl.verify(GB_PUBLIC_KEY, b"m", signature) is False


def test_a_signature_under_another_user_id_fails_on_tongsuo() -> None:
    signature = backend("gmssl").sign(GB_PRIVATE_KEY, b"m", uid=b"alice@example.cn")
    assert backend("tongsuo").verify(GB_PUBLIC_KEY, b"m", signature) is False


def test_tongsuo_refuses_another_user_id() -> None:
    tongsuo = backend("tongsuo")
    with pytest.raises(CryptoError, match="default user id"):
        tongsuo.sign(GB_PRIVATE_KEY, b"m", uid=b"alice@example.cn")
    with pytest.raises(CryptoError, match="default user id"):
        tongsuo.verify(GB_PUBLIC_KEY, b"m", GB_SIGNATURE, uid=b"alice@example.cn")


def test_an_over_long_user_id_is_refused() -> None:
    with pytest.raises(CryptoError, match="user id"):
        backend("gmssl").sign(GB_PRIVATE_KEY, b"m", uid=b"u" * 8192)


# --- tampering -------------------------------------------------------------------


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("bit", [0, 7, 50, 111])
def test_a_flipped_message_bit_fails(name: str, bit: int) -> None:
    assert backend(name).verify(GB_PUBLIC_KEY, flip_bit(GB_MESSAGE, bit), GB_SIGNATURE) is False


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("bit", [0, 1, 7, 8, 130, 255, 256, 257, 300, 511])
def test_a_flipped_signature_bit_fails(name: str, bit: int) -> None:
    flipped = flip_bit(GB_SIGNATURE, bit)
    r, s = int.from_bytes(flipped[:32], "big"), int.from_bytes(flipped[32:], "big")
    if 0 < r < N and 0 < s < N:
        assert backend(name).verify(GB_PUBLIC_KEY, GB_MESSAGE, flipped) is False
    else:
        with pytest.raises(MalformedSignature):
            backend(name).verify(GB_PUBLIC_KEY, GB_MESSAGE, flipped)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("bit", [5, 6, 8, 15, 100, 263, 264, 400, 519])
def test_a_flipped_public_key_bit_fails(name: str, bit: int) -> None:
    flipped = flip_bit(GB_PUBLIC_KEY, bit)
    if on_curve(flipped):
        assert backend(name).verify(flipped, GB_MESSAGE, GB_SIGNATURE) is False
    else:
        with pytest.raises(MalformedKey):
            backend(name).verify(flipped, GB_MESSAGE, GB_SIGNATURE)


@pytest.mark.parametrize("name", BACKENDS)
def test_the_negated_public_key_is_on_the_curve_but_fails(name: str) -> None:
    y = int.from_bytes(GB_PUBLIC_KEY[33:], "big")
    negated = GB_PUBLIC_KEY[:33] + ((-y) % _curve.P).to_bytes(32, "big")
    assert on_curve(negated)
    assert backend(name).verify(negated, GB_MESSAGE, GB_SIGNATURE) is False


@pytest.mark.parametrize("name", BACKENDS)
def test_r_plus_s_equal_to_n_is_well_formed_but_fails(name: str) -> None:
    assert backend(name).verify(GB_PUBLIC_KEY, GB_MESSAGE, _signature(1, N - 1)) is False


@pytest.mark.parametrize("name", BACKENDS)
@settings(max_examples=15, deadline=None, database=None)
@given(signature=st.binary(min_size=64, max_size=64))
def test_random_signatures_fail_cleanly(name: str, signature: bytes) -> None:
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if 0 < r < N and 0 < s < N:
        assert backend(name).verify(GB_PUBLIC_KEY, GB_MESSAGE, signature) is False
    else:
        with pytest.raises(MalformedSignature):
            backend(name).verify(GB_PUBLIC_KEY, GB_MESSAGE, signature)


# --- malformed input ---------------------------------------------------------------


BAD_PRIVATE_KEYS = {
    "empty": b"",
    "31 bytes": b"\x01" * 31,
    "33 bytes": b"\x01" * 33,
    "zero": bytes(32),
    "n-1": (N - 1).to_bytes(32, "big"),
    "n": N.to_bytes(32, "big"),
    "all ones": b"\xff" * 32,
}


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("key", BAD_PRIVATE_KEYS.values(), ids=BAD_PRIVATE_KEYS.keys())
def test_a_malformed_private_key_is_refused(name: str, key: bytes) -> None:
    with pytest.raises(MalformedKey):
        backend(name).sign(key, b"m")
    with pytest.raises(MalformedKey):
        backend(name).public_key(key)


def test_the_largest_private_key_is_accepted() -> None:
    largest = (N - 2).to_bytes(32, "big")
    public_keys = {backend(name).public_key(largest) for name in BACKENDS}
    assert len(public_keys) == 1


BAD_PUBLIC_KEYS = {
    "empty": b"",
    "64 bytes, no prefix": GB_PUBLIC_KEY[1:],
    "66 bytes": GB_PUBLIC_KEY + b"\x00",
    "compressed prefix": b"\x03" + GB_PUBLIC_KEY[1:],
    "compressed form": b"\x03" + GB_PUBLIC_KEY[1:33],
    "off the curve": GB_PUBLIC_KEY[:-1] + bytes([GB_PUBLIC_KEY[-1] ^ 1]),
    "all zeros": b"\x04" + bytes(64),
    "x beyond p": b"\x04" + b"\xff" * 64,
}


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("key", BAD_PUBLIC_KEYS.values(), ids=BAD_PUBLIC_KEYS.keys())
def test_a_malformed_public_key_is_refused(name: str, key: bytes) -> None:
    with pytest.raises(MalformedKey):
        backend(name).verify(key, GB_MESSAGE, GB_SIGNATURE)


BAD_SIGNATURES = {
    "empty": b"",
    "63 bytes": GB_SIGNATURE[:-1],
    "65 bytes": GB_SIGNATURE + b"\x00",
    "DER": encode_dss_signature(
        int.from_bytes(GB_SIGNATURE[:32], "big"), int.from_bytes(GB_SIGNATURE[32:], "big")
    ),
    "r = 0": _signature(0, 1),
    "s = 0": _signature(1, 0),
    "r = n": _signature(N, 1),
    "s = n": _signature(1, N),
    "s > n": _signature(1, 2**256 - 1),
}


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("signature", BAD_SIGNATURES.values(), ids=BAD_SIGNATURES.keys())
def test_a_malformed_signature_is_refused(name: str, signature: bytes) -> None:
    with pytest.raises(MalformedSignature):
        backend(name).verify(GB_PUBLIC_KEY, GB_MESSAGE, signature)


# --- choosing a backend ---------------------------------------------------------------


def test_tongsuo_is_available() -> None:
    assert backend("tongsuo").name == "tongsuo"


def test_auto_prefers_tongsuo() -> None:
    expected = "tongsuo" if "tongsuo" in available_backends() else "gmssl"
    if expected == "gmssl":
        backend("tongsuo")  # fails or skips, as that helper decides
    assert sm2_backend().name == expected
    assert sm2_backend("auto") is sm2_backend()


@pytest.mark.parametrize("name", BACKENDS)
def test_forced_backends_are_cached(name: str) -> None:
    assert backend(name).name == name
    assert sm2_backend(name) is sm2_backend(name)


def test_an_unknown_backend_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown SM2 backend 'openssl'"):
        sm2_backend("openssl")


def test_without_tongsuopy_auto_falls_back_and_forcing_it_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "wallet.crypto._tongsuo", None)
    _sm2._probe.cache_clear()
    try:
        assert available_backends() == ["gmssl"]
        assert sm2_backend().name == "gmssl"
        with pytest.raises(ConfigurationError, match="'tongsuo' is not usable here"):
            sm2_backend("tongsuo")
    finally:
        monkeypatch.undo()
        _sm2._probe.cache_clear()
