"""Electronic seals (电子印章, electronic seal) of licence versions.

The canonical document of a version is its face and metadata serialised
deterministically (orjson, sorted keys, no whitespace, UTF-8). The issuing
province's SM2 seal key signs it; anyone holding the trust list checks the
seal offline with :func:`verify_seal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import orjson

from wallet.crypto import SM2Backend
from wallet.errors import CryptoError

__all__ = ["canonical_document", "seal_document", "verify_seal"]


def canonical_document(
    *,
    identifier: str,
    type_code: str,
    kind: str,
    version: int,
    number: str,
    holder: Mapping[str, str],
    issuer: Mapping[str, str],
    issued_at: datetime,
    valid_from: date | None,
    valid_until: date | None,
    change_type: str,
    face: Mapping[str, Any],
) -> bytes:
    """The bytes a seal signs (deterministic for the same content)."""
    return orjson.dumps(
        {
            "id": identifier,
            "type": type_code,
            "kind": kind,
            "ver": version,
            "no": number,
            "holder": dict(holder),
            "issuer": dict(issuer),
            "issued_at": issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "valid_from": valid_from.isoformat() if valid_from else None,
            "valid_until": valid_until.isoformat() if valid_until else None,
            "change": change_type,
            "face": dict(face),
        },
        option=orjson.OPT_SORT_KEYS,
    )


def seal_document(document: bytes, private_key: bytes, sm2: SM2Backend) -> str:
    """The seal: SM2 (SM3, default user id) over the document, as hex ``r‖s``."""
    return sm2.sign(private_key, document).hex()


def verify_seal(document: bytes, seal_hex: str, public_key: bytes, sm2: SM2Backend) -> bool:
    """True when ``seal_hex`` is a valid seal of ``document`` under ``public_key``."""
    try:
        signature = bytes.fromhex(seal_hex)
    except ValueError:
        raise CryptoError("seal is not hex") from None
    return sm2.verify(public_key, document, signature)
