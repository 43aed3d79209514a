"""SM2 signing keys: province seal keys, the presentation key, the root key and the trust list."""

from wallet.keys.models import KeyStatus, KeyUse, SigningKey
from wallet.keys.service import ActiveKey, KeyStore, seal_province
from wallet.keys.trust_list import (
    InvalidTrustList,
    TrustedKey,
    TrustList,
    build_trust_list,
    verify_trust_list,
)

__all__ = [
    "ActiveKey",
    "InvalidTrustList",
    "KeyStatus",
    "KeyStore",
    "KeyUse",
    "SigningKey",
    "TrustList",
    "TrustedKey",
    "build_trust_list",
    "seal_province",
    "verify_trust_list",
]
