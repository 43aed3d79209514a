"""Shared test data and backend lookup for the crypto tests."""

from __future__ import annotations

import os

import pytest

from wallet.crypto import SM2Backend, available_backends, sm2_backend

BACKENDS = ("tongsuo", "gmssl")
BACKEND_PAIRS = [(signer, verifier) for signer in BACKENDS for verifier in BACKENDS]

# The recommended-curve curve order and field prime, written out here so the
# tests do not trust the module under test for them.
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = P - 3
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93

# GB/T 32918.5-2017 (= GM/T 0003.5-2012) example on the recommended curve.
GB_PRIVATE_KEY = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
GB_PUBLIC_KEY = bytes.fromhex(
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
GB_NONCE = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
GB_MESSAGE = b"message digest"
GB_Z = bytes.fromhex("B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3")
GB_E = bytes.fromhex("F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640")
GB_SIGNATURE = bytes.fromhex(
    "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
    "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
)
GB_PLAINTEXT = b"encryption standard"
GB_CIPHERTEXT = bytes.fromhex(  # C1C3C2, same key pair and nonce
    "04"
    "04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73"
    "E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0"
    "59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766"
    "21886CA989CA9C7D58087307CA93092D651EFA"
)


def on_curve(public_key: bytes) -> bool:
    """An independent check that a 65-byte ``04 ‖ x ‖ y`` lies on the curve."""
    if len(public_key) != 65 or public_key[0] != 4:
        return False
    x = int.from_bytes(public_key[1:33], "big")
    y = int.from_bytes(public_key[33:], "big")
    return x < P and y < P and (y * y - x**3 - A * x - B) % P == 0


def flip_bit(data: bytes, bit: int) -> bytes:
    """``data`` with bit number ``bit`` (0 = most significant of byte 0) inverted."""
    flipped = bytearray(data)
    flipped[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(flipped)


def backend(name: str) -> SM2Backend:
    """The backend ``name``; a missing tongsuo fails unless WALLET_ALLOW_NO_TONGSUO=1."""
    if name in available_backends():
        return sm2_backend(name)
    if name == "tongsuo" and os.environ.get("WALLET_ALLOW_NO_TONGSUO") == "1":
        pytest.skip("tongsuopy is not usable here and WALLET_ALLOW_NO_TONGSUO=1")
    pytest.fail(
        f"SM2 backend {name!r} is not usable here; "
        "set WALLET_ALLOW_NO_TONGSUO=1 to skip the tongsuo tests on such a platform"
    )
