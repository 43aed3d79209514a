"""JSON Schemas of the signed documents: the QR, the offline credential, the trust list
and the status lists (compact JWS, ``application/jose``), for the OpenAPI documents.

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
                        "use": {"enum": ["root", "seal", "presentation"]},
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
    "TrustListJws": jws_string("rtel-trust-list", "TrustListPayload", "The trust list."),
    "StatusListJws": jws_string("rtel-status-list", "StatusListPayload", "A status list."),
}
