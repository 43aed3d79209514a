"""The QR token contract of DESIGN §6, as pure functions over keys and ``now``.

Online QR: a JWS (``typ`` ``rtel-qr``) whose payload is ``lic`` (opaque
licence ref), ``knd`` (the kind's catalogue sequence, e.g. ``D071``), ``iss``
(issuing division), ``ver``, ``iat``, ``exp`` and ``jti``. Offline: a
credential (``typ`` ``rtel-cred``, the same claims plus ``idx``, its place in
the province's status list, lifetime up to 7 days) followed by ``~`` and the
8-digit TOTP code of the moment: ``<credential>~<code>``.

Two documents carry a signed string in a printed QR too. The printable
credential (``typ`` ``rtel-print``, signed by the presentation key) has the
online QR's claims and lives up to :data:`MAX_PRINT_LIFETIME`: the paper
names the licence, the scan reads its live status. The annotated copy
(加注件, ``typ`` ``rtel-copy``, signed by a copy key) is minted by the sharing
package; it names the licence the same way and adds ``cid`` (its id, read
here as ``jti``), ``gid`` (the grant's public id), ``aud`` (the relying
party's USCC), ``pur`` (purpose code), ``sta`` (the licence status when
issued) and ``fld`` (granted field name → value), see :class:`CopyClaims`.
:func:`parse_presentation` reads all four kinds.

Every character of a presentation, and every digit and identifier in its
header and claims, is ASCII (DESIGN §7): a fullwidth or mathematical digit
would otherwise spell the same code, division or kind another way, and a
second spelling of a code is a second replay key.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

from wallet import jws
from wallet.crypto import SM2Backend

__all__ = [
    "COPY_TYPE",
    "CREDENTIAL_TYPE",
    "MAX_COPY_LIFETIME",
    "MAX_CREDENTIAL_LIFETIME",
    "MAX_PRINT_LIFETIME",
    "MAX_QR_LIFETIME",
    "PRINT_TYPE",
    "QR_TYPE",
    "Claims",
    "CopyClaims",
    "DocumentKind",
    "ParsedPresentation",
    "mint_credential",
    "mint_print",
    "mint_qr",
    "new_print_id",
    "parse_presentation",
]

QR_TYPE: Final = "rtel-qr"
CREDENTIAL_TYPE: Final = "rtel-cred"
MAX_QR_LIFETIME: Final = 300
MAX_CREDENTIAL_LIFETIME: Final = 7 * 86400
PRINT_TYPE: Final = "rtel-print"
COPY_TYPE: Final = "rtel-copy"
MAX_PRINT_LIFETIME: Final = 731 * 86400
"""A printable credential lives at most two years (default one, see the settings)."""
MAX_COPY_LIFETIME: Final = 92 * 86400
"""A copy lives until its grant ends: grants last at most 90 days, with room for rounding."""
# Explicit ASCII classes, used with fullmatch only: ``\d`` matches any Unicode
# digit, and ``$`` matches before a trailing newline.
_CODE: Final = re.compile(r"[0-9]{8}")
_REF: Final = re.compile(r"L[A-Z2-7]{16}")
_DIVISION: Final = re.compile(r"[0-9]{6}")
_JTI: Final = re.compile(r"[A-Za-z0-9_-]{16,43}")
_KIND: Final = re.compile(r"D[0-9]{3}")
_KID: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_COPY_ID: Final = re.compile(r"[A-Za-z0-9_-]{22}")
_GRANT_ID: Final = re.compile(r"G[A-Z2-7]{16}")
_USCC: Final = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")
_PURPOSE: Final = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_STATUS: Final = re.compile(r"[a-z_]{1,16}")
_FIELD: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
_MAX_FIELDS: Final = 64
_MAX_VALUE: Final = 1024
_TYPES: Final = {QR_TYPE: "qr", PRINT_TYPE: "print", COPY_TYPE: "copy"}
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


DocumentKind = Literal["qr", "offline", "print", "copy"]
"""What a scanned string is: an online QR, an offline QR, a printable credential, a copy."""


@dataclass(frozen=True, slots=True)
class CopyClaims:
    """The claims an annotated copy adds to the licence's: grant, party, purpose, fields."""

    cid: str
    gid: str
    aud: str
    pur: str
    sta: str
    fld: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class ParsedPresentation:
    """A decoded presentation: the JWS, its claims, the offline code, a copy's own claims."""

    token: jws.DecodedJWS
    claims: Claims
    code: str | None
    copy: CopyClaims | None = None

    @property
    def offline(self) -> bool:
        return self.code is not None

    @property
    def document(self) -> DocumentKind:
        """Which kind of string this is (from the header ``typ``)."""
        if self.code is not None:
            return "offline"
        return cast(DocumentKind, _TYPES[self.token.header["typ"]])


def new_jti() -> str:
    """96 random bits, base64url (16 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(12)).decode()


def new_print_id() -> str:
    """128 random bits, base64url without padding (22 characters): a print's ``jti``."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


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


def mint_print(
    kid: str,
    private_key: bytes,
    sm2: SM2Backend,
    *,
    lic: str,
    knd: str,
    iss: str,
    ver: int,
    now: int,
    exp: int,
    jti: str | None = None,
) -> str:
    """A printable credential's string, valid from ``now`` until ``exp``.

    ``jti`` is a fresh random one (22 characters) unless given.
    """
    if not 0 < exp - now <= MAX_PRINT_LIFETIME:
        raise ValueError("a printable credential lives at most 731 days")
    jti = jti or new_print_id()
    claims = Claims(lic, knd, iss, ver, now, exp, jti)
    return jws.encode({"kid": kid, "typ": PRINT_TYPE}, claims.as_payload(), private_key, sm2)


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


def _copy_claims(payload: dict[str, Any]) -> CopyClaims:
    fld = payload.get("fld")
    if not isinstance(fld, dict) or len(fld) > _MAX_FIELDS:
        raise jws.MalformedToken("claim fld must be an object of at most 64 fields")
    for name, value in fld.items():
        if not _FIELD.fullmatch(name) or not isinstance(value, str) or len(value) > _MAX_VALUE:
            raise jws.MalformedToken("claim fld must map ASCII field names to strings")
    return CopyClaims(
        cid=_str(payload, "cid", _COPY_ID),
        gid=_str(payload, "gid", _GRANT_ID),
        aud=_str(payload, "aud", _USCC),
        pur=_str(payload, "pur", _PURPOSE),
        sta=_str(payload, "sta", _STATUS),
        fld=dict(fld),
    )


def parse_presentation(text: str) -> ParsedPresentation:
    """Split, decode and shape-check a scanned string; :class:`jws.MalformedToken` otherwise.

    The header ``typ`` says which kind it is: ``rtel-cred`` (with ``~code``),
    ``rtel-qr``, ``rtel-print`` or ``rtel-copy``; each has its own longest
    lifetime. No signature or time check happens here: those belong to the
    verdict.
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
    if (typ != CREDENTIAL_TYPE) if sep else (typ not in _TYPES):
        raise jws.MalformedToken("token type does not match the presentation mode")
    payload = token.payload
    idx = _int(payload, "idx") if sep else None
    copy = _copy_claims(payload) if typ == COPY_TYPE else None
    claims = Claims(
        lic=_str(payload, "lic", _REF),
        knd=_str(payload, "knd", _KIND),
        iss=_str(payload, "iss", _DIVISION),
        ver=_int(payload, "ver"),
        iat=_int(payload, "iat"),
        exp=_int(payload, "exp"),
        # A copy's id plays the part of the nonce.
        jti=copy.cid if copy is not None else _str(payload, "jti", _JTI),
        idx=idx,
    )
    limit = {
        CREDENTIAL_TYPE: MAX_CREDENTIAL_LIFETIME,
        QR_TYPE: MAX_QR_LIFETIME,
        PRINT_TYPE: MAX_PRINT_LIFETIME,
        COPY_TYPE: MAX_COPY_LIFETIME,
    }[str(typ)]
    if not 0 < claims.exp - claims.iat <= limit:
        raise jws.MalformedToken("lifetime outside the allowed range")
    return ParsedPresentation(token, claims, code if sep else None, copy)
