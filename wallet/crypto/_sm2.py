"""The SM2 signature interface, key hex codecs, and the choice of backend.

Callers hold an :class:`SM2Backend` and never import a backend module: the
fast one (tongsuopy, C) is chosen when it imports and passes a known-answer
check, else the pure-Python one (gmssl). Both sign per GB/T 32918.2 with SM3
and the user id's ``Z_A``, and take keys and signatures as raw bytes.
"""

from __future__ import annotations

import binascii
import functools
from typing import Protocol

from wallet.crypto._curve import (
    DEFAULT_UID,
    backend_errors,
    check_private_key,
    check_public_key,
)
from wallet.errors import ConfigurationError, CryptoError, MalformedKey, WalletError

__all__ = [
    "DEFAULT_UID",
    "SM2Backend",
    "available_backends",
    "backend_errors",
    "parse_private_key_hex",
    "parse_public_key_hex",
    "public_key_hex",
    "sm2_backend",
]

BACKEND_NAMES = ("tongsuo", "gmssl")

# GB/T 32918.5 (GM/T 0003.5) example on the recommended curve: key pair, message
# "message digest", ID 1234567812345678. A backend must accept it to be chosen.
_KNOWN_PUBLIC_KEY = bytes.fromhex(
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
_KNOWN_MESSAGE = b"message digest"
_KNOWN_SIGNATURE = bytes.fromhex(
    "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
    "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
)


class SM2Backend(Protocol):
    """SM2 signatures (GB/T 32918.2, SM3, ``Z_A`` of the user id) over raw bytes.

    Keys: private 32 bytes in ``[1, n-2]``; public 65 bytes ``04 ‖ x ‖ y`` on
    the curve. Signatures: 64 bytes ``r ‖ s``. A malformed key raises
    :class:`~wallet.errors.MalformedKey`, a malformed signature
    :class:`~wallet.errors.MalformedSignature`; a well-formed signature that
    does not match makes :meth:`verify` return ``False``. No backend exception
    escapes: anything else surfaces as :class:`~wallet.errors.CryptoError`.
    """

    name: str
    """``"tongsuo"`` or ``"gmssl"``."""

    def generate_private_key(self) -> bytes:
        """A new 32-byte private key, uniform in ``[1, n-2]`` from :mod:`secrets`."""
        ...

    def public_key(self, private_key: bytes) -> bytes:
        """The 65-byte public key ``04 ‖ x ‖ y`` of ``private_key``."""
        ...

    def sign(self, private_key: bytes, data: bytes, uid: bytes = DEFAULT_UID) -> bytes:
        """Sign ``data`` (hashed with SM3 after ``Z_A`` of ``uid``); returns 64-byte ``r ‖ s``."""
        ...

    def verify(
        self, public_key: bytes, data: bytes, signature: bytes, uid: bytes = DEFAULT_UID
    ) -> bool:
        """Whether ``signature`` is ``public_key``'s signature of ``data`` under ``uid``."""
        ...


def parse_public_key_hex(text: str) -> bytes:
    """The 65-byte public key written as hex ``04 ‖ x ‖ y`` (130 hex digits, any case).

    Raises :class:`MalformedKey` if it is not hex, has the wrong length or
    prefix, or is not a point on the SM2 curve.
    """
    if len(text) != 130:
        raise MalformedKey("an SM2 public key is 130 hex digits: 04 ‖ x ‖ y")
    try:
        public_key = binascii.unhexlify(text)
    except (ValueError, TypeError):
        raise MalformedKey("the SM2 public key is not hex") from None
    check_public_key(public_key)
    return public_key


def parse_private_key_hex(text: str) -> bytes:
    """The 32-byte private key written as 64 hex digits; :class:`MalformedKey` otherwise.

    The key must also lie in ``[1, n-2]``. Error messages never echo the text.
    """
    if len(text) != 64:
        raise MalformedKey("an SM2 private key is 64 hex digits")
    try:
        private_key = binascii.unhexlify(text)
    except (ValueError, TypeError):
        raise MalformedKey("the SM2 private key is not hex") from None
    check_private_key(private_key)
    return private_key


def public_key_hex(pub: bytes) -> str:
    """The lower-case hex ``04 ‖ x ‖ y`` of a checked 65-byte public key."""
    check_public_key(pub)
    return pub.hex()


def _self_test(backend: SM2Backend) -> None:
    if not backend.verify(_KNOWN_PUBLIC_KEY, _KNOWN_MESSAGE, _KNOWN_SIGNATURE):
        raise CryptoError("rejects the GB/T 32918 example signature")
    private_key = backend.generate_private_key()
    public_key = backend.public_key(private_key)
    signature = backend.sign(private_key, _KNOWN_MESSAGE)
    if not backend.verify(public_key, _KNOWN_MESSAGE, signature):
        raise CryptoError("cannot verify its own signature")


@functools.cache
def _probe(name: str) -> SM2Backend | str:
    """The working backend called ``name``, or why it cannot be used here."""
    backend: SM2Backend
    try:
        if name == "tongsuo":
            from wallet.crypto._tongsuo import TongsuoBackend

            backend = TongsuoBackend()
        else:
            from wallet.crypto._gmssl import GmsslBackend

            backend = GmsslBackend()
    except (ImportError, OSError) as exc:
        return f"it does not import ({exc})"
    try:
        _self_test(backend)
    except WalletError as exc:
        return f"its self-test failed: {exc.detail}"
    return backend


def available_backends() -> list[str]:
    """Names of the SM2 backends that import and pass their self-test, fastest first."""
    return [name for name in BACKEND_NAMES if not isinstance(_probe(name), str)]


def sm2_backend(name: str = "auto") -> SM2Backend:
    """The SM2 backend called ``name``: ``"tongsuo"``, ``"gmssl"`` or ``"auto"``.

    ``"auto"`` picks tongsuo when it imports and passes a known-answer check,
    else gmssl. A forced name that is unknown or unusable here raises
    :class:`~wallet.errors.ConfigurationError` saying why. Instances are cached,
    so repeated calls return the same object.
    """
    if name == "auto":
        for candidate in BACKEND_NAMES:
            found = _probe(candidate)
            if not isinstance(found, str):
                return found
        reasons = "; ".join(f"{n}: {_probe(n)}" for n in BACKEND_NAMES)
        raise ConfigurationError(f"no SM2 backend is usable ({reasons})")
    if name not in BACKEND_NAMES:
        raise ConfigurationError(
            f"unknown SM2 backend {name!r}; choose 'auto', 'tongsuo' or 'gmssl'"
        )
    found = _probe(name)
    if isinstance(found, str):
        raise ConfigurationError(f"SM2 backend {name!r} is not usable here: {found}")
    return found
