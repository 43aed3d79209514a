"""The SM2 recommended curve (GB/T 32918.5) and the checks every backend shares.

Owns the curve constants, the validation of private keys, public keys and raw
``r ‖ s`` signatures, the message digest ``e = SM3(Z_A ‖ M)`` with its
user-id hash ``Z_A``, and :func:`backend_errors`, which turns a backend's own
exceptions into :class:`~wallet.errors.CryptoError`.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

from cryptography.hazmat.primitives import hashes

from wallet.errors import CryptoError, MalformedKey, MalformedSignature, WalletError

__all__ = [
    "DEFAULT_UID",
    "GX",
    "GY",
    "A",
    "B",
    "N",
    "P",
    "Point",
    "backend_errors",
    "check_private_key",
    "check_public_key",
    "digest",
    "encode_point",
    "is_on_curve",
    "join_signature",
    "random_scalar",
    "split_signature",
    "z_value",
]

DEFAULT_UID = b"1234567812345678"

P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

Point = tuple[int, int]

_CURVE_BYTES = b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY))
# ENTL is the id length in bits as two bytes.
_MAX_UID_LENGTH = 0xFFFF // 8


def is_on_curve(x: int, y: int) -> bool:
    """Whether the affine point ``(x, y)`` lies on the SM2 curve."""
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


def encode_point(point: Point) -> bytes:
    """The uncompressed encoding ``04 ‖ x ‖ y`` (65 bytes)."""
    return b"\x04" + point[0].to_bytes(32, "big") + point[1].to_bytes(32, "big")


def random_scalar() -> int:
    """A uniform scalar in ``[1, n-2]`` from :mod:`secrets` (the private-key range)."""
    return secrets.randbelow(N - 2) + 1


def check_private_key(private_key: bytes) -> int:
    """The scalar of a 32-byte private key; :class:`MalformedKey` unless it is in ``[1, n-2]``."""
    if len(private_key) != 32:
        raise MalformedKey(f"an SM2 private key is 32 bytes, not {len(private_key)}")
    d = int.from_bytes(private_key, "big")
    # n-1 is excluded because signing divides by (1 + d) mod n.
    if not 1 <= d <= N - 2:
        raise MalformedKey("the SM2 private key is out of range [1, n-2]")
    return d


def check_public_key(public_key: bytes) -> Point:
    """The point of an uncompressed public key ``04 ‖ x ‖ y``.

    Raises :class:`MalformedKey` unless it is 65 bytes, starts with ``04`` and
    lies on the curve (the cofactor is 1, so that is the whole check).
    """
    if len(public_key) != 65 or public_key[0] != 0x04:
        raise MalformedKey("an SM2 public key is 65 bytes: 04 ‖ x ‖ y")
    x = int.from_bytes(public_key[1:33], "big")
    y = int.from_bytes(public_key[33:], "big")
    if not is_on_curve(x, y):
        raise MalformedKey("the SM2 public key is not a point on the curve")
    return x, y


def split_signature(signature: bytes) -> tuple[int, int]:
    """``(r, s)`` of a raw 64-byte signature.

    Raises :class:`MalformedSignature` unless it is 64 bytes with ``0 < r, s < n``.
    """
    if len(signature) != 64:
        raise MalformedSignature(f"an SM2 signature is 64 bytes r ‖ s, not {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < N and 0 < s < N):
        raise MalformedSignature("SM2 signature r or s is out of range [1, n-1]")
    return r, s


def join_signature(r: int, s: int) -> bytes:
    """The raw 64-byte ``r ‖ s``."""
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def z_value(public_key: bytes, uid: bytes = DEFAULT_UID) -> bytes:
    """``Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA)`` for a checked public key."""
    if len(uid) > _MAX_UID_LENGTH:
        raise CryptoError(f"an SM2 user id is at most {_MAX_UID_LENGTH} bytes")
    h = hashes.Hash(hashes.SM3())
    h.update((len(uid) * 8).to_bytes(2, "big"))
    h.update(uid)
    h.update(_CURVE_BYTES)
    h.update(public_key[1:])
    return h.finalize()


def digest(public_key: bytes, data: bytes, uid: bytes = DEFAULT_UID) -> bytes:
    """The signed digest ``e = SM3(Z_A ‖ M)`` of GB/T 32918.2."""
    h = hashes.Hash(hashes.SM3())
    h.update(z_value(public_key, uid))
    h.update(data)
    return h.finalize()


@contextlib.contextmanager
def backend_errors(backend: str, operation: str) -> Iterator[None]:
    """Translate any non-domain exception raised inside into :class:`CryptoError`."""
    try:
        yield
    except WalletError:
        raise
    except Exception as exc:
        raise CryptoError(f"SM2 {operation} failed in the {backend} backend") from exc
