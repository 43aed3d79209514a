"""JSON Schemas of the signed documents: the QR, the offline credential, the printable
credential, the annotated copy, the trust list and the status lists (compact JWS,
``application/jose``), for the OpenAPI documents.

A JWS string cannot carry a JSON Schema of its payload (the payload is
base64url inside the string), so each string schema names its payload
schema in ``x-jws-payload`` and its description; the payload schemas are
components of their own. The shapes are those of :mod:`wallet.presentation.tokens`,
:mod:`wallet.keys.trust_list` and :mod:`wallet.verification.status_list`.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["COMPACT_JWS", "JWS_SCHEMAS", "jws_string"]

_REF: Final = "#/components/schemas/{name}"
#: header.payload.signature, each base64url without padding
COMPACT_JWS: Final = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"

_PRESENTATION_CLAIMS: Final[dict[str, Any]] = {
    "lic": {"type": "string", "pattern": "^L[A-Z2-7]{16}$", "description": "licence ref"},
    "knd": {
        "type": "string",
        "pattern": "^D[0-9]{3}$",
        "description": "the kind's catalogue sequence (last 4 of its type code), e.g. D071",
    },
    "iss": {"type": "string", "pattern": "^[0-9]{6}$", "description": "issuing province"},
    "ver": {"type": "integer", "minimum": 1, "description": "licence version"},
    "iat": {"type": "integer", "description": "issued at, Unix seconds"},
    "exp": {"type": "integer", "description": "expires at, Unix seconds"},
    "jti": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,43}$", "description": "unique id"},
}


def jws_string(typ: str, payload: str, description: str) -> dict[str, Any]:
    """The schema of a compact JWS of header ``typ`` whose payload is component ``payload``."""
    return {
        "type": "string",
        "pattern": COMPACT_JWS,
        "description": f"{description} Compact JWS, header "
        f'`{{"alg": "SM2", "kid": …, "typ": "{typ}"}}`, payload `{payload}`; '
        "the signature is SM2 (SM3, default user id) r‖s, 64 bytes.",
        "x-jws-payload": {"$ref": _REF.format(name=payload)},
    }


JWS_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "QrPayload": {
        "type": "object",
        "description": "Payload of an online QR (`typ` `rtel-qr`), signed by a presentation key; "
        "lives at most 300 s.",
        "required": list(_PRESENTATION_CLAIMS),
        "properties": _PRESENTATION_CLAIMS,
        "additionalProperties": False,
    },
    "CredentialPayload": {
        "type": "object",
        "description": "Payload of an offline credential (`typ` `rtel-cred`), signed by a "
        "presentation key; lives at most 7 days. `idx` is the licence's place in its "
        "province's status list.",
        "required": [*_PRESENTATION_CLAIMS, "idx"],
        "properties": {
            **_PRESENTATION_CLAIMS,
            "idx": {"type": "integer", "minimum": 0, "description": "status list index"},
        },
        "additionalProperties": False,
    },
    "TrustListPayload": {
        "type": "object",
        "description": "Payload of the trust list (`typ` `rtel-trust-list`), signed by the "
        "active root key; verify it under the root key pinned out of band.",
        "required": ["iss", "iat", "keys"],
        "properties": {
            "iss": {"const": "rtel-wallet"},
            "iat": {"type": "integer", "description": "issued at, Unix seconds"},
            "keys": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kid", "division", "use", "pub", "nbf", "exp", "status"],
                    "properties": {
                        "kid": {"type": "string"},
                        "division": {
                            "type": ["string", "null"],
                            "pattern": "^[0-9]{6}$",
                            "description": "a seal key's province; null for platform keys",
                        },
                        "use": {"enum": ["root", "seal", "presentation", "copy"]},
                        "pub": {
                            "type": "string",
                            "pattern": "^04[0-9a-f]{128}$",
                            "description": "SM2 public key 04‖x‖y, hex",
                        },
                        "nbf": {
                            "type": "integer",
                            "description": "earliest `iat` of a token this key signed",
                        },
                        "exp": {
                            "type": ["integer", "null"],
                            "description": "latest such `iat` (its retirement); null if active",
                        },
                        "status": {"enum": ["active", "retired"]},
                    },
                },
            },
        },
    },
    "PrintPayload": {
        "type": "object",
        "description": "Payload of a printable credential's QR (`typ` `rtel-print`), signed by "
        "a presentation key; lives up to 731 days (default 365, never past the day after the "
        "licence's validity ends). Verified online like a QR, without the replay check: the "
        "live status decides.",
        "required": list(_PRESENTATION_CLAIMS),
        "properties": {
            **_PRESENTATION_CLAIMS,
            "jti": {"type": "string", "pattern": "^[A-Za-z0-9_-]{22}$", "description": "print id"},
        },
        "additionalProperties": False,
    },
    "CopyPayload": {
        "type": "object",
        "description": "Payload of an annotated copy (加注件, `typ` `rtel-copy`), signed by a "
        "copy key; lives until its grant ends (at most 92 days). Verified like a printable "
        "credential, plus whether the grant `gid` is still live.",
        "required": [
            "cid",
            "gid",
            "lic",
            "knd",
            "iss",
            "ver",
            "aud",
            "pur",
            "sta",
            "fld",
            "iat",
            "exp",
        ],
        "properties": {
            "cid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{22}$", "description": "copy id"},
            "gid": {
                "type": "string",
                "pattern": "^G[A-Z2-7]{16}$",
                "description": "the grant's public id",
            },
            "lic": _PRESENTATION_CLAIMS["lic"],
            "knd": _PRESENTATION_CLAIMS["knd"],
            "iss": _PRESENTATION_CLAIMS["iss"],
            "ver": _PRESENTATION_CLAIMS["ver"],
            "aud": {
                "type": "string",
                "pattern": "^[0-9A-HJ-NPQRTUWXY]{18}$",
                "description": "the relying party's USCC",
            },
            "pur": {
                "type": "string",
                "pattern": "^[A-Za-z0-9_.-]{1,32}$",
                "description": "purpose code",
            },
            "sta": {
                "type": "string",
                "pattern": "^[a-z_]{1,16}$",
                "description": "the licence's status when the copy was issued",
            },
            "fld": {
                "type": "object",
                "maxProperties": 64,
                "propertyNames": {"pattern": "^[a-z][a-z0-9_]{0,63}$"},
                "additionalProperties": {"type": "string", "maxLength": 1024},
                "description": "granted face field name -> value as printed",
            },
            "iat": _PRESENTATION_CLAIMS["iat"],
            "exp": {"type": "integer", "description": "the grant's end, Unix seconds"},
        },
        "additionalProperties": False,
    },
    "StatusListPayload": {
        "type": "object",
        "description": "Payload of a province's status list (`typ` `rtel-status-list`), "
        "signed by that province's seal key. `lst` is base64url (no padding) of the zlib "
        "stream of 4-bit slots: licence `idx` is in byte `idx // 2`, the low nibble for an "
        "even `idx`, the high nibble for an odd one; 0 valid, 1 revoked, 2 suspended, "
        "3 cancelled, 4 expired.",
        "required": ["iss", "iat", "exp", "bits", "lst"],
        "properties": {
            "iss": {"type": "string", "pattern": "^[0-9]{6}$", "description": "province"},
            "iat": {"type": "integer"},
            "exp": {"type": "integer", "description": "refresh the list before this"},
            "bits": {"const": 4},
            "lst": {"type": "string", "pattern": "^[A-Za-z0-9_-]*$"},
        },
    },
    "QrJws": jws_string("rtel-qr", "QrPayload", "An online QR string."),
    "CredentialJws": jws_string(
        "rtel-cred", "CredentialPayload", "An offline credential, issued at activation."
    ),
    "OfflinePresentation": {
        "type": "string",
        "pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+~[0-9]{8}$",
        "description": "An offline QR: a `CredentialJws`, `~`, and the 8-digit TOTP code "
        "(RFC 6238, HMAC-SM3, 30 s) of the moment.",
    },
    "PrintJws": jws_string(
        "rtel-print", "PrintPayload", "The QR of a printable credential (a PDF page)."
    ),
    "CopyJws": jws_string("rtel-copy", "CopyPayload", "An annotated copy (加注件)."),
    "TrustListJws": jws_string("rtel-trust-list", "TrustListPayload", "The trust list."),
    "StatusListJws": jws_string("rtel-status-list", "StatusListPayload", "A status list."),
}
