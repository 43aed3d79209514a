"""SM2 encryption (C1C3C2): the standard's example, both C1 forms, tampering."""

from __future__ import annotations

import random

import pytest
from gmssl.sm2 import CryptSM2
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.crypto.helpers import (
    GB_CIPHERTEXT,
    GB_NONCE,
    GB_PLAINTEXT,
    GB_PRIVATE_KEY,
    GB_PUBLIC_KEY,
    N,
    flip_bit,
)
from wallet.crypto import _curve, _gmssl, sm2_decrypt, sm2_encrypt
from wallet.errors import CryptoError, MalformedKey

OTHER_PRIVATE_KEY = (12345).to_bytes(32, "big")


def test_standard_ciphertext_with_the_standard_nonce() -> None:
    point = _curve.check_public_key(GB_PUBLIC_KEY)
    assert _gmssl._encrypt_with_nonce(point, GB_PLAINTEXT, GB_NONCE) == GB_CIPHERTEXT


def test_standard_ciphertext_decrypts_with_and_without_the_04_prefix() -> None:
    # This C1's x itself begins with 04, so the prefixless form starts with 04 too.
    assert GB_CIPHERTEXT[1] == 0x04
    assert sm2_decrypt(GB_PRIVATE_KEY, GB_CIPHERTEXT) == GB_PLAINTEXT
    assert sm2_decrypt(GB_PRIVATE_KEY, GB_CIPHERTEXT[1:]) == GB_PLAINTEXT


@settings(max_examples=8, deadline=None, database=None)
@given(plaintext=st.binary(min_size=1, max_size=200))
def test_round_trip_in_both_forms(plaintext: bytes) -> None:
    ciphertext = sm2_encrypt(GB_PUBLIC_KEY, plaintext)
    assert ciphertext[0] == 0x04
    assert len(ciphertext) == 1 + 64 + 32 + len(plaintext)
    assert sm2_decrypt(GB_PRIVATE_KEY, ciphertext) == plaintext
    assert sm2_decrypt(GB_PRIVATE_KEY, ciphertext[1:]) == plaintext


def test_interoperates_with_gmssl_c1c3c2() -> None:
    reference = CryptSM2(private_key=GB_PRIVATE_KEY.hex(), public_key="", mode=1)
    reference.public_key = GB_PUBLIC_KEY[1:].hex()
    ours = sm2_encrypt(GB_PUBLIC_KEY, "绑定手机号 13800138000".encode())
    assert reference.decrypt(ours[1:]) == "绑定手机号 13800138000".encode()
    theirs = reference.encrypt(b"from the mini-program")
    assert sm2_decrypt(GB_PRIVATE_KEY, theirs) == b"from the mini-program"


def test_nonces_are_fresh_and_not_from_the_random_module() -> None:
    random.seed(7)
    first = sm2_encrypt(GB_PUBLIC_KEY, b"same")
    random.seed(7)
    second = sm2_encrypt(GB_PUBLIC_KEY, b"same")
    assert first[:65] != second[:65]


@pytest.mark.parametrize(
    ("part", "bit"),
    [("C3", 8 * (65 + 0)), ("C3", 8 * (65 + 31) + 7), ("C2", 8 * 97), ("C2", 8 * 115 + 7)],
)
def test_a_tampered_ciphertext_is_refused(part: str, bit: int) -> None:
    with pytest.raises(CryptoError, match="does not decrypt"):
        sm2_decrypt(GB_PRIVATE_KEY, flip_bit(GB_CIPHERTEXT, bit))


def test_a_tampered_c1_is_refused() -> None:
    with pytest.raises(CryptoError, match="does not decrypt"):
        sm2_decrypt(GB_PRIVATE_KEY, flip_bit(GB_CIPHERTEXT, 8 * 64 + 7))


def test_the_wrong_private_key_is_refused() -> None:
    with pytest.raises(CryptoError, match="does not decrypt"):
        sm2_decrypt(OTHER_PRIVATE_KEY, GB_CIPHERTEXT)


@pytest.mark.parametrize(
    "garbage", [b"", b"\x04", b"\x04" * 97, bytes(96), b"not a ciphertext at all" * 5]
)
def test_garbage_is_refused(garbage: bytes) -> None:
    with pytest.raises(CryptoError):
        sm2_decrypt(GB_PRIVATE_KEY, garbage)


def test_an_empty_plaintext_is_refused() -> None:
    with pytest.raises(CryptoError, match="empty"):
        sm2_encrypt(GB_PUBLIC_KEY, b"")


def test_malformed_keys_are_refused() -> None:
    with pytest.raises(MalformedKey):
        sm2_encrypt(GB_PUBLIC_KEY[1:], b"m")
    with pytest.raises(MalformedKey):
        sm2_encrypt(b"\x04" + bytes(64), b"m")
    with pytest.raises(MalformedKey):
        sm2_decrypt(bytes(32), GB_CIPHERTEXT)
    with pytest.raises(MalformedKey):
        sm2_decrypt(N.to_bytes(32, "big"), GB_CIPHERTEXT)
