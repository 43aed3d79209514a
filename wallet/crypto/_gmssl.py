"""The pure-Python SM2 backend (gmssl), and SM2 encryption (C1C3C2).

gmssl supplies the curve arithmetic (its scalar multiplication) and the
signing equation. Around it this module draws every nonce from
:mod:`secrets` (gmssl's own come from :mod:`random`), computes ``Z_A``, the
digest and the KDF with OpenSSL's SM3, adds points itself (gmssl's verify
mishandles ``[s]G = [t]P`` and the point at infinity), and checks C3 on
decryption (gmssl's ``decrypt`` does not).
"""

from __future__ import annotations

import functools
import hmac
import secrets

from gmssl.sm2 import CryptSM2

from wallet.crypto._curve import (
    DEFAULT_UID,
    GX,
    GY,
    A,
    N,
    P,
    Point,
    backend_errors,
    check_private_key,
    check_public_key,
    digest,
    encode_point,
    is_on_curve,
    random_scalar,
    split_signature,
)
from wallet.crypto._symmetric import sm3
from wallet.errors import CryptoError

__all__ = ["GmsslBackend", "sm2_decrypt", "sm2_encrypt"]

_NAME = "gmssl"
_G: Point = (GX, GY)
_C1_SIZE = 64
_C3_SIZE = 32


@functools.cache
def _arithmetic() -> CryptSM2:
    # Keyless: only the curve arithmetic of this object is used.
    return CryptSM2(private_key="", public_key="")


def _nonce() -> int:
    return secrets.randbelow(N - 1) + 1


def _multiply(k: int, point: Point) -> Point:
    """``[k]point`` for ``0 < k < n`` and a point on the curve (never infinity then)."""
    result = _arithmetic()._kg(k, f"{point[0]:064x}{point[1]:064x}")
    return int(result[:64], 16), int(result[64:], 16)


def _add(p1: Point, p2: Point) -> Point | None:
    """``p1 + p2`` in affine coordinates; ``None`` for the point at infinity."""
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        slope = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (slope * slope - x1 - x2) % P
    return x3, (slope * (x1 - x3) - y1) % P


@functools.lru_cache(maxsize=256)
def _derive_public_key(private_key: bytes) -> bytes:
    d = check_private_key(private_key)
    with backend_errors(_NAME, "public key derivation"):
        return encode_point(_multiply(d, _G))


def _sign_digest(d: int, e: bytes, k: int) -> bytes | None:
    """gmssl's signing equation with nonce ``k``; ``None`` if ``k`` must be redrawn."""
    # The public key is not used by sign(); passing "" also dodges gmssl's
    # lstrip("04"), which would eat leading digits of a key written without 04.
    signer = CryptSM2(private_key=f"{d:064x}", public_key="")
    signature = signer.sign(e, f"{k:064x}")
    return None if signature is None else bytes.fromhex(signature)


class GmsslBackend:
    """SM2 through gmssl; see :class:`wallet.crypto.SM2Backend`. Any user id."""

    name = _NAME

    def generate_private_key(self) -> bytes:
        """A new 32-byte private key, uniform in ``[1, n-2]`` from :mod:`secrets`."""
        return random_scalar().to_bytes(32, "big")

    def public_key(self, private_key: bytes) -> bytes:
        """The 65-byte public key ``04 ‖ x ‖ y`` of ``private_key``."""
        return _derive_public_key(private_key)

    def sign(self, private_key: bytes, data: bytes, uid: bytes = DEFAULT_UID) -> bytes:
        """Sign ``data`` under ``uid``; returns 64-byte ``r ‖ s``."""
        d = check_private_key(private_key)
        e = digest(_derive_public_key(private_key), data, uid)
        with backend_errors(_NAME, "sign"):
            while True:
                signature = _sign_digest(d, e, _nonce())
                if signature is not None:
                    return signature

    def verify(
        self, public_key: bytes, data: bytes, signature: bytes, uid: bytes = DEFAULT_UID
    ) -> bool:
        """Whether ``signature`` (``r ‖ s``) is ``public_key``'s signature of ``data``."""
        point = check_public_key(public_key)
        r, s = split_signature(signature)
        e = int.from_bytes(digest(public_key, data, uid), "big")
        t = (r + s) % N
        if t == 0:
            return False
        with backend_errors(_NAME, "verify"):
            total = _add(_multiply(s, _G), _multiply(t, point))
        return total is not None and (e + total[0]) % N == r


def _kdf(z: bytes, length: int) -> bytes:
    """The KDF of GB/T 32918.4: SM3(z ‖ counter) blocks, counter from 1."""
    blocks = (length + 31) // 32
    return b"".join(sm3(z + i.to_bytes(4, "big")) for i in range(1, blocks + 1))[:length]


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def _shared_secret(k: int, point: Point, length: int) -> tuple[bytes, bytes, bytes] | None:
    """``(x2, y2, t)`` for ``[k]point = (x2, y2)``; ``None`` when ``t`` is all zeros."""
    x2, y2 = _multiply(k, point)
    x2b, y2b = x2.to_bytes(32, "big"), y2.to_bytes(32, "big")
    t = _kdf(x2b + y2b, length)
    return None if int.from_bytes(t, "big") == 0 else (x2b, y2b, t)


def _encrypt_with_nonce(point: Point, plaintext: bytes, k: int) -> bytes | None:
    """C1C3C2 with C1 = [k]G; ``None`` if ``k`` must be redrawn."""
    shared = _shared_secret(k, point, len(plaintext))
    if shared is None:
        return None
    x2, y2, t = shared
    c1 = encode_point(_multiply(k, _G))
    return c1 + sm3(x2 + plaintext + y2) + _xor(plaintext, t)


def sm2_encrypt(public_key: bytes, plaintext: bytes) -> bytes:
    """Encrypt ``plaintext`` to ``public_key`` with SM2 (GB/T 32918.4), layout C1C3C2.

    Returns ``04 ‖ x1 ‖ y1 ‖ C3 (32) ‖ C2 (len(plaintext))``; the nonce is from
    :mod:`secrets`. Raises :class:`MalformedKey` for a bad key and
    :class:`CryptoError` for an empty plaintext (SM2 cannot encrypt one).
    Pure Python: about 20 ms a call.
    """
    point = check_public_key(public_key)
    if not plaintext:
        raise CryptoError("SM2 cannot encrypt an empty plaintext")
    with backend_errors(_NAME, "encrypt"):
        while True:
            ciphertext = _encrypt_with_nonce(point, plaintext, _nonce())
            if ciphertext is not None:
                return ciphertext


def _decrypt_body(d: int, body: bytes) -> bytes | None:
    """Decrypt ``x1 ‖ y1 ‖ C3 ‖ C2``; ``None`` if C1 is off the curve or C3 does not match."""
    x1 = int.from_bytes(body[:32], "big")
    y1 = int.from_bytes(body[32:_C1_SIZE], "big")
    if not is_on_curve(x1, y1):
        return None
    c3 = body[_C1_SIZE : _C1_SIZE + _C3_SIZE]
    c2 = body[_C1_SIZE + _C3_SIZE :]
    shared = _shared_secret(d, (x1, y1), len(c2))
    if shared is None:
        return None
    x2, y2, t = shared
    plaintext = _xor(c2, t)
    return plaintext if hmac.compare_digest(sm3(x2 + plaintext + y2), c3) else None


def sm2_decrypt(private_key: bytes, ciphertext: bytes) -> bytes:
    """Decrypt an SM2 C1C3C2 ciphertext made for ``private_key``'s public key.

    C1 may come with or without its leading ``04`` (miniprogram-sm-crypto
    leaves it out). Raises :class:`MalformedKey` for a bad key and
    :class:`CryptoError` if the ciphertext is too short, C1 is not a curve
    point, or the C3 check fails (wrong key or altered ciphertext).
    """
    d = check_private_key(private_key)
    minimum = _C1_SIZE + _C3_SIZE + 1
    if len(ciphertext) < minimum:
        raise CryptoError("SM2 ciphertext is too short for C1C3C2")
    # Without the prefix, x1 itself may start with 04; try both readings.
    bodies = [ciphertext]
    if ciphertext[0] == 0x04 and len(ciphertext) > minimum:
        bodies.insert(0, ciphertext[1:])
    with backend_errors(_NAME, "decrypt"):
        for body in bodies:
            plaintext = _decrypt_body(d, body)
            if plaintext is not None:
                return plaintext
    raise CryptoError("SM2 ciphertext does not decrypt with this key (altered or misaddressed)")
