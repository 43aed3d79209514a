"""SM3, HMAC-SM3 and SM4-GCM: published vectors, round trips, tampering."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.crypto.helpers import flip_bit
from wallet.crypto import hmac_sm3, sm3, sm4_gcm_decrypt, sm4_gcm_encrypt
from wallet.errors import CryptoError, MalformedKey

KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")


# --- SM3 (GB/T 32905-2016, appendix A) --------------------------------------------


def test_sm3_of_abc() -> None:
    assert sm3(b"abc") == bytes.fromhex(
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_sm3_of_abcd_sixteen_times() -> None:
    assert sm3(b"abcd" * 16) == bytes.fromhex(
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    )


@pytest.mark.parametrize("key", [b"", b"k", b"k" * 64, b"k" * 65])
def test_hmac_sm3_is_rfc2104_over_sm3(key: bytes) -> None:
    block = sm3(key) if len(key) > 64 else key
    block = block.ljust(64, b"\x00")
    inner = sm3(bytes(b ^ 0x36 for b in block) + b"data")
    expected = sm3(bytes(b ^ 0x5C for b in block) + inner)
    assert hmac_sm3(key, b"data") == expected


def test_hmac_sm3_depends_on_key_and_data() -> None:
    assert len(hmac_sm3(b"key", b"data")) == 32
    assert hmac_sm3(b"key", b"data") != hmac_sm3(b"key2", b"data")
    assert hmac_sm3(b"key", b"data") != hmac_sm3(b"key", b"data2")


# --- SM4 --------------------------------------------------------------------------


def test_sm4_block_example_of_gbt_32907() -> None:
    encryptor = Cipher(algorithms.SM4(KEY), modes.ECB()).encryptor()
    assert encryptor.update(KEY) + encryptor.finalize() == bytes.fromhex(
        "681edf34d206965e86b3e94f536e4246"
    )


def test_sm4_gcm_example_of_rfc_8998() -> None:
    nonce = bytes.fromhex("00001234567800000000ABCD")
    aad = bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2")
    plaintext = bytes.fromhex(
        "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
        "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
    )
    ciphertext_and_tag = bytes.fromhex(
        "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
        "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
        "83DE3541E4C2B58177E065A9BF7B62EC"
    )
    assert sm4_gcm_decrypt(KEY, nonce + ciphertext_and_tag, aad) == plaintext


@settings(max_examples=50, deadline=None, database=None)
@given(plaintext=st.binary(max_size=1000), aad=st.binary(max_size=50))
def test_sm4_gcm_round_trip(plaintext: bytes, aad: bytes) -> None:
    blob = sm4_gcm_encrypt(KEY, plaintext, aad)
    assert len(blob) == 12 + len(plaintext) + 16
    assert sm4_gcm_decrypt(KEY, blob, aad) == plaintext


def test_sm4_gcm_nonces_are_fresh() -> None:
    first, second = sm4_gcm_encrypt(KEY, b"same"), sm4_gcm_encrypt(KEY, b"same")
    assert first[:12] != second[:12]
    assert first != second


@pytest.mark.parametrize("bit", [0, 95, 96, 8 * 12 + 40, 8 * 22, 8 * 37 + 7])
def test_sm4_gcm_detects_tampering(bit: int) -> None:
    blob = sm4_gcm_encrypt(KEY, b"licence holder", b"ctx")  # nonce 12, text 14, tag 16
    with pytest.raises(CryptoError, match="authentication failed"):
        sm4_gcm_decrypt(KEY, flip_bit(blob, bit), b"ctx")


def test_sm4_gcm_detects_another_aad_or_key() -> None:
    blob = sm4_gcm_encrypt(KEY, b"licence holder", b"ctx")
    with pytest.raises(CryptoError, match="authentication failed"):
        sm4_gcm_decrypt(KEY, blob, b"other ctx")
    with pytest.raises(CryptoError, match="authentication failed"):
        sm4_gcm_decrypt(KEY, blob)
    with pytest.raises(CryptoError, match="authentication failed"):
        sm4_gcm_decrypt(bytes(16), blob, b"ctx")


@pytest.mark.parametrize("size", [0, 12, 27])
def test_sm4_gcm_refuses_a_short_blob(size: int) -> None:
    with pytest.raises(CryptoError, match="too short"):
        sm4_gcm_decrypt(KEY, bytes(size))


@pytest.mark.parametrize("key", [b"", bytes(15), bytes(17), bytes(32)])
def test_sm4_gcm_refuses_a_wrong_size_key(key: bytes) -> None:
    with pytest.raises(MalformedKey):
        sm4_gcm_encrypt(key, b"m")
    with pytest.raises(MalformedKey):
        sm4_gcm_decrypt(key, bytes(40))


def test_keyed_hmac_sm3_is_hmac_sm3_each_time():
    from wallet.crypto import KeyedHmacSM3

    key = bytes(range(32))
    keyed = KeyedHmacSM3(key)
    for data in (b"", b"abc", b"resident_id:110101199003070038" * 5, b"abc"):
        assert keyed.mac(data) == hmac_sm3(key, data)
    assert keyed.mac(b"abc") != KeyedHmacSM3(bytes(32)).mac(b"abc")
    assert "0001" not in repr(keyed)
