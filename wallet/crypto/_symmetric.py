"""SM3, HMAC-SM3 and SM4-GCM, all through ``cryptography`` (OpenSSL).

SM4-GCM blobs are self-contained: ``nonce (12) ‖ ciphertext ‖ tag (16)``.
"""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wallet.errors import CryptoError, MalformedKey

__all__ = [
    "GCM_NONCE_SIZE",
    "GCM_TAG_SIZE",
    "SM4_KEY_SIZE",
    "KeyedHmacSM3",
    "hmac_sm3",
    "sm3",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
]

SM4_KEY_SIZE = 16
GCM_NONCE_SIZE = 12
GCM_TAG_SIZE = 16


def sm3(data: bytes) -> bytes:
    """The 32-byte SM3 digest of ``data`` (GB/T 32905)."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """The 32-byte HMAC (RFC 2104) of ``data`` under ``key``, with SM3 as the hash."""
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()


class KeyedHmacSM3:
    """HMAC-SM3 under one key, keyed once: each MAC starts from a copy of the keyed
    state (the same MAC as :func:`hmac_sm3`, without hashing the key pads every time)."""

    __slots__ = ("_keyed",)

    def __init__(self, key: bytes) -> None:
        self._keyed = hmac.HMAC(key, hashes.SM3())

    def __repr__(self) -> str:
        return "KeyedHmacSM3(...)"

    def mac(self, data: bytes) -> bytes:
        """The 32-byte HMAC-SM3 of ``data``."""
        mac = self._keyed.copy()
        mac.update(data)
        return mac.finalize()


def _check_key(key: bytes) -> None:
    if len(key) != SM4_KEY_SIZE:
        raise MalformedKey(f"an SM4 key is {SM4_KEY_SIZE} bytes, not {len(key)}")


def sm4_gcm_encrypt(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt and authenticate ``plaintext`` (and ``aad``) with SM4-GCM.

    Returns ``nonce ‖ ciphertext ‖ tag``; the 12-byte nonce is fresh from
    :mod:`secrets` on every call. ``aad`` is authenticated but not stored: pass
    the same bytes to :func:`sm4_gcm_decrypt`. Raises :class:`MalformedKey`
    unless ``key`` is 16 bytes.
    """
    _check_key(key)
    nonce = secrets.token_bytes(GCM_NONCE_SIZE)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return nonce + ciphertext + encryptor.tag


def sm4_gcm_decrypt(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    """Check and decrypt a blob made by :func:`sm4_gcm_encrypt`.

    Raises :class:`CryptoError` if the blob is too short, was altered, or was
    made with another key or another ``aad``; :class:`MalformedKey` unless
    ``key`` is 16 bytes.
    """
    _check_key(key)
    if len(blob) < GCM_NONCE_SIZE + GCM_TAG_SIZE:
        raise CryptoError("SM4-GCM blob is too short to hold a nonce and a tag")
    nonce, ciphertext, tag = (
        blob[:GCM_NONCE_SIZE],
        blob[GCM_NONCE_SIZE:-GCM_TAG_SIZE],
        blob[-GCM_TAG_SIZE:],
    )
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag:
        raise CryptoError(
            "SM4-GCM authentication failed: wrong key or context, or altered data"
        ) from None
