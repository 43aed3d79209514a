"""The binding transport key: SM2, for fields the mini-program encrypts at binding.

Its private scalar is derived from the master key
(``derive_key(master_key, "binding-transport", 32)`` reduced into
``[1, n-2]``), so every process has the same key without storing one; the
public key is served at ``GET /api/v1/identity/transport-key``. Ciphertexts
are C1C3C2 in hex, with or without the ``04`` prefix of C1 (as
miniprogram-sm-crypto makes them). Rotating it means rotating the master key.
"""

from __future__ import annotations

import asyncio
import binascii
from dataclasses import dataclass, field
from typing import Final

from wallet.crypto import SM2Backend, public_key_hex, sm2_decrypt
from wallet.crypto._curve import N
from wallet.errors import CryptoError, ValidationFailed
from wallet.masterkey import derive_key

__all__ = ["TransportKey"]

_MAX_CIPHERTEXT_HEX: Final = 2048


@dataclass(frozen=True)
class TransportKey:
    """The SM2 key pair that decrypts binding fields."""

    public_key: bytes
    private_key: bytes = field(repr=False)

    @classmethod
    def from_master_key(cls, master_key: bytes, sm2: SM2Backend) -> TransportKey:
        """Derive the key pair from the master key."""
        scalar = int.from_bytes(derive_key(master_key, "binding-transport", 32), "big")
        private_key = (scalar % (N - 2) + 1).to_bytes(32, "big")
        return cls(sm2.public_key(private_key), private_key)

    @property
    def public_key_hex(self) -> str:
        """``04 ‖ x ‖ y`` in lower-case hex."""
        return public_key_hex(self.public_key)

    async def decrypt_field(self, name: str, text: str) -> str:
        """Decrypt the hex ciphertext of field ``name`` to text; 422 naming the field otherwise."""

        def problem(rule: str, message: str) -> ValidationFailed:
            return ValidationFailed(errors=[{"field": name, "rule": rule, "message": message}])

        if len(text) > _MAX_CIPHERTEXT_HEX:
            raise problem("max_length", "ciphertext too long")
        try:
            raw = binascii.unhexlify(text)
        except (ValueError, binascii.Error):
            raise problem("sm2_ciphertext", "not hex") from None
        try:
            # gmssl is pure Python (about 20 ms): keep it off the event loop.
            plain = await asyncio.to_thread(sm2_decrypt, self.private_key, raw)
            return plain.decode("utf-8")
        except (CryptoError, UnicodeDecodeError):
            raise problem(
                "sm2_ciphertext", "does not decrypt with the transport key (C1C3C2, hex)"
            ) from None
