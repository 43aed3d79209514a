"""Encryption at rest of personal data, with key ids so keys rotate.

A sealed value is ``<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>``; the
additional data binds it to its column (``context``), so a ciphertext copied
into another column fails to open. The blind index is HMAC-SM3 over the
normalised value under its own key, for exact-match lookup without
decrypting.
"""

from __future__ import annotations

import base64
import unicodedata
from collections.abc import Mapping

from wallet.crypto import hmac_sm3, sm4_gcm_decrypt, sm4_gcm_encrypt
from wallet.errors import ConfigurationError, CryptoError
from wallet.masterkey import derive_key

__all__ = ["Vault", "normalise"]


def normalise(value: str) -> str:
    """The form a blind index is computed over: NFKC, stripped, upper-case, no inner spaces."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


class Vault:
    """Seals and opens personal data; computes blind indexes."""

    def __init__(self, keys: Mapping[str, bytes], current_kid: str, index_key: bytes) -> None:
        if current_kid not in keys:
            raise ConfigurationError(f"vault key id {current_kid!r} has no key")
        self._keys = dict(keys)
        self._kid = current_kid
        self._index_key = index_key

    @classmethod
    def from_master_key(
        cls, master_key: bytes, current_kid: str = "v1", kids: tuple[str, ...] = ()
    ) -> Vault:
        """Derive vault keys for ``current_kid`` and older ``kids`` from the master key."""
        all_kids = {current_kid, *kids}
        keys = {kid: derive_key(master_key, f"vault:{kid}") for kid in all_kids}
        return cls(keys, current_kid, derive_key(master_key, "blind-index", 32))

    @property
    def current_kid(self) -> str:
        return self._kid

    def seal(self, value: str, context: str) -> str:
        """Encrypt ``value`` for the column named by ``context``."""
        blob = sm4_gcm_encrypt(self._keys[self._kid], value.encode(), context.encode())
        return f"{self._kid}.{base64.urlsafe_b64encode(blob).decode().rstrip('=')}"

    def open(self, sealed: str, context: str) -> str:
        """Decrypt a value sealed by :meth:`seal` under any known key id."""
        kid, _, body = sealed.partition(".")
        key = self._keys.get(kid)
        if key is None or not body:
            raise CryptoError("sealed value has an unknown key id or no body")
        try:
            blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            raise CryptoError("sealed value is not base64url") from None
        return sm4_gcm_decrypt(key, blob, context.encode()).decode()

    def needs_reseal(self, sealed: str) -> bool:
        """True when ``sealed`` was made under an older key id (re-encrypt on rotation)."""
        return not sealed.startswith(self._kid + ".")

    def blind_index(self, value: str, kind: str) -> str:
        """Hex HMAC-SM3 of ``kind`` and the normalised value, for exact lookup."""
        return hmac_sm3(self._index_key, f"{kind}:{normalise(value)}".encode()).hex()
