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
from dataclasses import dataclass, field

from wallet.crypto import KeyedHmacSM3, sm4_gcm_decrypt, sm4_gcm_encrypt
from wallet.errors import ConfigurationError, CryptoError
from wallet.masterkey import derive_key

__all__ = ["ColumnSealer", "Vault", "VaultKeys", "normalise"]


def normalise(value: str) -> str:
    """The form a blind index is computed over: NFKC, stripped, upper-case, no inner spaces."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def _seal(kid: str, key: bytes, value: str, context: str) -> str:
    blob = sm4_gcm_encrypt(key, value.encode(), context.encode())
    return f"{kid}.{base64.urlsafe_b64encode(blob).decode().rstrip('=')}"


@dataclass(frozen=True)
class ColumnSealer:
    """Seals values of one column (``context``) as :meth:`Vault.seal` does, under the key
    current when it was made. Plain data, so it can travel to a worker process; the key
    never appears in its ``repr``."""

    kid: str
    key: bytes = field(repr=False)
    context: str

    def seal(self, value: str) -> str:
        """``value`` sealed for the column, as :meth:`Vault.seal` seals it."""
        return _seal(self.kid, self.key, value, self.context)


@dataclass(frozen=True)
class VaultKeys:
    """A vault's keys as plain data, so a worker process can make the same vault
    (:meth:`Vault.keys_for_worker`); no key appears in its ``repr``."""

    keys: Mapping[str, bytes] = field(repr=False)
    current_kid: str
    index_key: bytes = field(repr=False)

    def vault(self) -> Vault:
        """The vault these keys make."""
        return Vault(self.keys, self.current_kid, self.index_key)


class Vault:
    """Seals and opens personal data; computes blind indexes."""

    def __init__(self, keys: Mapping[str, bytes], current_kid: str, index_key: bytes) -> None:
        if current_kid not in keys:
            raise ConfigurationError(f"vault key id {current_kid!r} has no key")
        self._keys = dict(keys)
        self._kid = current_kid
        self._index_key = index_key
        self._index = KeyedHmacSM3(index_key)

    def __repr__(self) -> str:
        return f"Vault(current_kid={self._kid!r})"

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
        return _seal(self._kid, self._keys[self._kid], value, context)

    def column_sealer(self, context: str) -> ColumnSealer:
        """A sealer for the column ``context`` under the current key (for worker processes)."""
        return ColumnSealer(self._kid, self._keys[self._kid], context)

    def keys_for_worker(self) -> VaultKeys:
        """The keys of this vault as plain data, for a worker process to make the same one."""
        return VaultKeys(dict(self._keys), self._kid, self._index_key)

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
        return self._index.mac(f"{kind}:{normalise(value)}".encode()).hex()
