"""The fast SM2 backend: tongsuopy (Tongsuo, C).

tongsuopy hashes with SM3 after ``Z_A`` of the default user id
``1234567812345678`` and speaks DER signatures; this module converts them to
raw ``r ‖ s``. It cannot set another user id, so this backend supports only
the default one. Loaded key objects are cached by their bytes, so the verify
hot path parses each public key once.
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InvalidSignature

from wallet.crypto._curve import (
    DEFAULT_UID,
    backend_errors,
    check_private_key,
    check_public_key,
    join_signature,
    random_scalar,
    split_signature,
)
from wallet.errors import CryptoError

__all__ = ["TongsuoBackend"]

_NAME = "tongsuo"
_SM2_WITH_SM3 = ec.ECDSA(hashes.SM3())
_KEY_CACHE_SIZE = 1024


@functools.lru_cache(maxsize=_KEY_CACHE_SIZE)
def _load_private_key(private_key: bytes) -> Any:
    d = check_private_key(private_key)
    with backend_errors(_NAME, "private key load"):
        return ec.derive_private_key(d, ec.SM2())


@functools.lru_cache(maxsize=_KEY_CACHE_SIZE)
def _load_public_key(public_key: bytes) -> Any:
    check_public_key(public_key)
    with backend_errors(_NAME, "public key load"):
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), public_key)


def _check_uid(uid: bytes) -> None:
    if uid != DEFAULT_UID:
        raise CryptoError(
            "the tongsuo SM2 backend supports only the default user id "
            "1234567812345678; use the gmssl backend for another"
        )


class TongsuoBackend:
    """SM2 through tongsuopy; see :class:`wallet.crypto.SM2Backend`."""

    name = _NAME

    def generate_private_key(self) -> bytes:
        """A new 32-byte private key, uniform in ``[1, n-2]`` from :mod:`secrets`."""
        return random_scalar().to_bytes(32, "big")

    def public_key(self, private_key: bytes) -> bytes:
        """The 65-byte public key ``04 ‖ x ‖ y`` of ``private_key``."""
        key = _load_private_key(private_key)
        with backend_errors(_NAME, "public key derivation"):
            encoded: bytes = key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        return encoded

    def sign(self, private_key: bytes, data: bytes, uid: bytes = DEFAULT_UID) -> bytes:
        """Sign ``data``; returns 64-byte ``r ‖ s``. Only the default ``uid`` is supported."""
        _check_uid(uid)
        key = _load_private_key(private_key)
        with backend_errors(_NAME, "sign"):
            r, s = decode_dss_signature(key.sign(data, _SM2_WITH_SM3))
        return join_signature(r, s)

    def verify(
        self, public_key: bytes, data: bytes, signature: bytes, uid: bytes = DEFAULT_UID
    ) -> bool:
        """Whether ``signature`` (``r ‖ s``) signs ``data``; only the default ``uid``."""
        _check_uid(uid)
        key = _load_public_key(public_key)
        r, s = split_signature(signature)
        with backend_errors(_NAME, "verify"):
            try:
                key.verify(encode_dss_signature(r, s), data, _SM2_WITH_SM3)
            except InvalidSignature:
                return False
        return True
