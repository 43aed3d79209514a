"""Status lists for offline verification, in the manner of the IETF Token Status List.

A province's list holds 4 bits per licence at the licence's ``status_idx``
(0 valid, 1 revoked, 2 suspended, 3 cancelled, 4 expired), zlib-compressed
and base64url-encoded, inside a JWS (``typ`` ``rtel-status-list``) signed by
the province's seal key: ``{"iss": "210000", "iat", "exp", "bits": 4,
"lst": "..."}``. Enforcement apps download it while online and check
offline credentials (which carry ``idx``) against it.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from wallet import jws
from wallet.crypto import SM2Backend
from wallet.errors import WalletError
from wallet.keys.models import KeyUse
from wallet.keys.trust_list import TrustList

__all__ = [
    "CODES",
    "MAX_LIST_LENGTH",
    "MAX_SLOTS",
    "STATUS_LIST_TYPE",
    "InvalidStatusList",
    "StatusList",
    "encode_statuses",
    "sign_status_list",
    "verify_status_list",
]

STATUS_LIST_TYPE: Final = "rtel-status-list"
BITS: Final = 4
CODES: Final = {"valid": 0, "revoked": 1, "suspended": 2, "cancelled": 3, "expired": 4}
_NAMES: Final = {code: name for name, code in CODES.items()}
MAX_SLOTS: Final = 64_000_000
"""Licences a province's list may place (32 MB unpacked): a bound on decompression."""
MAX_LIST_LENGTH: Final = 48 * 1024 * 1024
"""Characters of a signed list: the worst case of :data:`MAX_SLOTS` slots that do not
compress, base64url-encoded (a QR token's bound, 4096, is far too small for a list)."""


class InvalidStatusList(WalletError):
    type_code = "invalid_status_list"
    status = 400
    title = "Invalid status list"


def encode_statuses(entries: Iterable[tuple[int, str]], size: int) -> bytes:
    """Pack ``(idx, status)`` pairs into ``size`` 4-bit slots (two per byte, low nibble first)."""
    packed = bytearray((size + 1) // 2)
    for idx, status in entries:
        code = CODES[status]
        packed[idx // 2] |= code << (4 * (idx % 2))
    return bytes(packed)


@dataclass(frozen=True, slots=True)
class StatusList:
    division: str
    issued_at: int
    expires_at: int
    packed: bytes

    def status_at(self, idx: int) -> str | None:
        """The status at ``idx``, or ``None`` when the list does not reach it."""
        if idx < 0 or idx // 2 >= len(self.packed):
            return None
        code = (self.packed[idx // 2] >> (4 * (idx % 2))) & 0x0F
        return _NAMES.get(code)

    def expired(self, now: int) -> bool:
        """Whether the list is past its ``exp`` at ``now``: an expired list tells no status."""
        return now > self.expires_at


def sign_status_list(
    division: str,
    packed: bytes,
    *,
    kid: str,
    private_key: bytes,
    sm2: SM2Backend,
    now: int,
    lifetime: int = 86400,
) -> str:
    """The signed list token for ``division``."""
    lst = base64.urlsafe_b64encode(zlib.compress(packed, 9)).decode().rstrip("=")
    payload = {"iss": division, "iat": now, "exp": now + lifetime, "bits": BITS, "lst": lst}
    return jws.encode(
        {"kid": kid, "typ": STATUS_LIST_TYPE},
        payload,
        private_key,
        sm2,
        max_length=MAX_LIST_LENGTH,
    )


def verify_status_list(token: str, trust: TrustList, sm2: SM2Backend) -> StatusList:
    """Check the list's seal against the trust list and unpack it."""
    try:
        decoded = jws.decode(token, max_length=MAX_LIST_LENGTH)
    except jws.MalformedToken as exc:
        raise InvalidStatusList(exc.detail) from None
    payload = decoded.payload
    iat, exp, lst, division = (payload.get(k) for k in ("iat", "exp", "lst", "iss"))
    if (
        decoded.header.get("typ") != STATUS_LIST_TYPE
        or not isinstance(iat, int)
        or not isinstance(exp, int)
        or not isinstance(lst, str)
        or not isinstance(division, str)
        or payload.get("bits") != BITS
    ):
        raise InvalidStatusList("not a status list")
    key = trust.key_for(decoded.kid, iat, KeyUse.SEAL)
    if key is None or key.division != division:
        raise InvalidStatusList("not signed by a trusted seal key of that province")
    if not jws.verify_signature(decoded, key.public_key, sm2):
        raise InvalidStatusList("the signature does not verify")
    try:
        padded = lst + "=" * (-len(lst) % 4)
        inflater = zlib.decompressobj()
        packed = inflater.decompress(
            base64.b64decode(padded, altchars=b"-_", validate=True), MAX_SLOTS // 2
        )
    except (ValueError, zlib.error):
        raise InvalidStatusList("the list does not decompress") from None
    if inflater.unconsumed_tail:
        raise InvalidStatusList("the list is larger than a list may be")
    if not inflater.eof:
        raise InvalidStatusList("the list does not decompress")
    return StatusList(division, iat, exp, packed)
