"""Chinese commercial cryptography (SM2, SM3, SM4) behind one small surface.

SM2 signatures go through an :class:`SM2Backend` from :func:`sm2_backend`
(tongsuopy when it works, else gmssl); callers never import a backend. SM2
encryption is gmssl-only. SM3, HMAC-SM3 and SM4-GCM run in OpenSSL through
``cryptography``. Keys, signatures and ciphertexts are raw bytes; the hex
helpers parse and print the ``04 ‖ x ‖ y`` public keys that travel.
Infrastructure, not a domain: pure functions, no tables, no repository.
"""

from wallet.crypto._gmssl import sm2_decrypt, sm2_encrypt
from wallet.crypto._sm2 import (
    DEFAULT_UID,
    SM2Backend,
    available_backends,
    parse_private_key_hex,
    parse_public_key_hex,
    public_key_hex,
    sm2_backend,
)
from wallet.crypto._symmetric import (
    KeyedHmacSM3,
    hmac_sm3,
    sm3,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)

__all__ = [
    "DEFAULT_UID",
    "KeyedHmacSM3",
    "SM2Backend",
    "available_backends",
    "hmac_sm3",
    "parse_private_key_hex",
    "parse_public_key_hex",
    "public_key_hex",
    "sm2_backend",
    "sm2_decrypt",
    "sm2_encrypt",
    "sm3",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
]
