"""The QR token contract of DESIGN §6, as pure functions over keys and ``now``.

Online QR: a JWS (``typ`` ``rtel-qr``) whose payload is ``lic`` (opaque
licence ref), ``knd`` (the kind's catalogue sequence, e.g. ``D071``), ``iss``
(issuing division), ``ver``, ``iat``, ``exp`` and ``jti``. Offline: a
credential (``typ`` ``rtel-cred``, the same claims plus ``idx``, its place in
the province's status list, lifetime up to 7 days) followed by ``~`` and the
8-digit TOTP code of the moment: ``<credential>~<code>``.

Every character of a presentation, and every digit and identifier in its
header and claims, is ASCII (DESIGN §7): a fullwidth or mathematical digit
would otherwise spell the same code, division or kind another way, and a
second spelling of a code is a second replay key.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from typing import Any, Final

from wallet import jws
from wallet.crypto import SM2Backend

__all__ = [
    "CREDENTIAL_TYPE",
    "MAX_CREDENTIAL_LIFETIME",
    "MAX_QR_LIFETIME",
    "QR_TYPE",
    "Claims",
    "ParsedPresentation",
    "mint_credential",
    "mint_qr",
    "parse_presentation",
]

QR_TYPE: Final = "rtel-qr"
CREDENTIAL_TYPE: Final = "rtel-cred"
MAX_QR_LIFETIME: Final = 300
MAX_CREDENTIAL_LIFETIME: Final = 7 * 86400
# Explicit ASCII classes, used with fullmatch only: ``\d`` matches any Unicode
# digit, and ``$`` matches before a trailing newline.
_CODE: Final = re.compile(r"[0-9]{8}")
_REF: Final = re.compile(r"L[A-Z2-7]{16}")
_DIVISION: Final = re.compile(r"[0-9]{6}")
_JTI: Final = re.compile(r"[A-Za-z0-9_-]{16,43}")
_KIND: Final = re.compile(r"D[0-9]{3}")
_KID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
# Scanners may add a line end; only ASCII blanks are taken off (str.strip()
# would also take U+3000 and other Unicode spaces).
_BLANKS: Final = " \t\r\n"


@dataclass(frozen=True, slots=True)
class Claims:
    """The verified-shape claims of a QR or credential."""

    lic: str
    knd: str
    iss: str
    ver: int
    iat: int
    exp: int
    jti: str
    idx: int | None = None

    def as_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "lic": self.lic,
            "knd": self.knd,
            "iss": self.iss,
            "ver": self.ver,
            "iat": self.iat,
            "exp": self.exp,
            "jti": self.jti,
        }
        if self.idx is not None:
            payload["idx"] = self.idx
        return payload


@dataclass(frozen=True, slots=True)
class ParsedPresentation:
    """A decoded presentation: the JWS, its claims, and the offline code if any."""

    token: jws.DecodedJWS
    claims: Claims
    code: str | None

    @property
    def offline(self) -> bool:
        return self.code is not None


def new_jti() -> str:
    """96 random bits, base64url (16 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(12)).decode()


def mint_qr(
    kid: str,
    private_key: bytes,
    sm2: SM2Backend,
    *,
    lic: str,
    knd: str,
    iss: str,
    ver: int,
    now: int,
    lifetime: int,
    jti: str | None = None,
) -> str:
    """An online QR string valid for ``lifetime`` seconds from ``now``.

    ``jti`` is a fresh random one unless given (the test vectors pin one).
    """
    if not 1 <= lifetime <= MAX_QR_LIFETIME:
        raise ValueError("QR lifetime must be 1..300 s")
    claims = Claims(lic, knd, iss, ver, now, now + lifetime, jti or new_jti())
    return jws.encode({"kid": kid, "typ": QR_TYPE}, claims.as_payload(), private_key, sm2)


def mint_credential(
    kid: str,
    private_key: bytes,
    sm2: SM2Backend,
    *,
    lic: str,
    knd: str,
    iss: str,
    ver: int,
    idx: int,
    now: int,
    lifetime: int,
    jti: str | None = None,
) -> str:
    """An offline credential (the part of the offline QR before ``~``).

    ``jti`` is a fresh random one unless given (the test vectors pin one).
    """
    if not 1 <= lifetime <= MAX_CREDENTIAL_LIFETIME:
        raise ValueError("credential lifetime must be at most 7 days")
    claims = Claims(lic, knd, iss, ver, now, now + lifetime, jti or new_jti(), idx)
    return jws.encode({"kid": kid, "typ": CREDENTIAL_TYPE}, claims.as_payload(), private_key, sm2)


def _int(payload: dict[str, Any], name: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise jws.MalformedToken(f"claim {name} must be a non-negative integer")
    return value


def _str(payload: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise jws.MalformedToken(f"claim {name} is missing or malformed")
    return value


def parse_presentation(text: str) -> ParsedPresentation:
    """Split, decode and shape-check a scanned string; :class:`jws.MalformedToken` otherwise.

    No signature or time check happens here: those belong to the verdict.
    """
    text = text.strip(_BLANKS)
    if not text.isascii():
        raise jws.MalformedToken("a presentation is ASCII only")
    token_text, sep, code = text.partition("~")
    if sep and not _CODE.fullmatch(code):
        raise jws.MalformedToken("the offline code must be 8 digits 0-9")
    token = jws.decode(token_text)
    if not _KID.fullmatch(token.kid):
        raise jws.MalformedToken("the header kid is not an ASCII key id")
    typ = token.header.get("typ")
    if typ != (CREDENTIAL_TYPE if sep else QR_TYPE):
        raise jws.MalformedToken("token type does not match the presentation mode")
    payload = token.payload
    idx = _int(payload, "idx") if sep else None
    claims = Claims(
        lic=_str(payload, "lic", _REF),
        knd=_str(payload, "knd", _KIND),
        iss=_str(payload, "iss", _DIVISION),
        ver=_int(payload, "ver"),
        iat=_int(payload, "iat"),
        exp=_int(payload, "exp"),
        jti=_str(payload, "jti", _JTI),
        idx=idx,
    )
    limit = MAX_CREDENTIAL_LIFETIME if sep else MAX_QR_LIFETIME
    if not 0 < claims.exp - claims.iat <= limit:
        raise jws.MalformedToken("lifetime outside the allowed range")
    return ParsedPresentation(token, claims, code if sep else None)
