"""JWS compact serialisation (RFC 7515) signed with SM2: the token format.

A token is ``base64url(header) "." base64url(payload) "." base64url(r ‖ s)``,
base64url without padding; the signature covers the ASCII signing input
(the first two segments and the dot between them), with SM3 and the default
user id. The header is ``{"alg":"SM2","kid":...,"typ":...}``.

This module owns encoding, strict decoding and signature checking, as pure
functions over bytes and keys: no I/O, no clock. What a token's claims mean
(expiry, kinds, replay) belongs to the callers. :func:`decode` rejects
anything that is not exactly such a token with :class:`MalformedToken`;
:func:`verify_signature` answers a plain ``bool``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from wallet.crypto import SM2Backend
from wallet.errors import MalformedSignature, WalletError

__all__ = [
    "ALG",
    "MAX_TOKEN_LENGTH",
    "DecodedJWS",
    "MalformedToken",
    "decode",
    "encode",
    "verify_signature",
]

ALG: Final = "SM2"
MAX_TOKEN_LENGTH: Final = 4096
"""Longest token :func:`decode` accepts, in characters (a QR holds far less)."""

SIGNATURE_SIZE: Final = 64

_SEGMENTS: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Unpadded base64url leaves 4 (length % 4 == 2) or 2 (== 3) unused low bits in
# the last character; the canonical encoding has them zero. Rejecting the other
# spellings keeps one token string per token, so a signature segment cannot be
# re-spelt into a "new" token that still verifies.
_CANONICAL_LAST: Final = {2: frozenset(_ALPHABET[::16]), 3: frozenset(_ALPHABET[::4])}
_PADDING: Final = ("", "", "==", "=")


class MalformedToken(WalletError):
    """The string is not an SM2 JWS compact token this platform could have made."""

    type_code = "malformed_token"
    status = 400
    title = "Malformed token"


@dataclass(frozen=True, slots=True)
class DecodedJWS:
    """A parsed token: its JSON objects, the bytes signed, and the 64-byte ``r ‖ s``."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def kid(self) -> str:
        """The key id from the header (checked to be a non-empty string)."""
        kid: str = self.header["kid"]
        return kid


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def encode(
    header: Mapping[str, Any],
    payload: Mapping[str, Any],
    private_key: bytes,
    backend: SM2Backend,
    *,
    max_length: int = MAX_TOKEN_LENGTH,
) -> str:
    """Sign ``payload`` and return the compact token.

    ``header`` must hold ``kid`` (a non-empty string) and usually ``typ``; its
    ``alg``, if given, must be ``"SM2"``. The header is written as compact JSON
    with ``alg``, ``kid``, ``typ`` first, then any other members in the given
    order; the payload as compact JSON in its own order (orjson). A header the
    decoder would refuse, or a token longer than ``max_length`` (default
    :data:`MAX_TOKEN_LENGTH`; status lists have a bound of their own), raises
    :class:`ValueError`: that is a bug in the caller, not bad input.
    """
    if header.get("alg", ALG) != ALG:
        raise ValueError(f"alg must be {ALG!r}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ValueError("the header needs a non-empty string kid")
    if "crit" in header:
        raise ValueError("crit is not supported")
    ordered: dict[str, Any] = {"alg": ALG, "kid": kid}
    if "typ" in header:
        ordered["typ"] = header["typ"]
    for name, value in header.items():
        if name not in ordered:
            ordered[name] = value
    body = payload if isinstance(payload, dict) else dict(payload)
    signing_input = _b64(orjson.dumps(ordered)) + b"." + _b64(orjson.dumps(body))
    signature = backend.sign(private_key, signing_input)
    token = (signing_input + b"." + _b64(signature)).decode("ascii")
    if len(token) > max_length:
        raise ValueError(f"the token is longer than {max_length} characters")
    return token


def _b64decode(segment: str, what: str) -> bytes:
    tail = len(segment) % 4
    if tail == 1 or (tail and segment[-1] not in _CANONICAL_LAST[tail]):
        raise MalformedToken(f"the {what} is not canonical base64url")
    try:
        # validate=True: a character outside the alphabet is an error, not skipped.
        return base64.b64decode(segment + _PADDING[tail], altchars=b"-_", validate=True)
    except binascii.Error:  # unreachable after the checks above; kept as a guard
        raise MalformedToken(f"the {what} is not base64url") from None


def _json_object(segment: str, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(_b64decode(segment, what))
    except orjson.JSONDecodeError:
        raise MalformedToken(f"the {what} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedToken(f"the {what} is not a JSON object")
    return value


def decode(token: str, *, max_length: int = MAX_TOKEN_LENGTH) -> DecodedJWS:
    """Parse a compact token without checking its signature.

    Raises :class:`MalformedToken` unless ``token`` is at most ``max_length``
    (default :data:`MAX_TOKEN_LENGTH`) characters of three non-empty unpadded,
    canonical base64url segments; the header and payload are JSON objects;
    the header has ``alg`` ``"SM2"``, a non-empty string ``kid``, a string
    ``typ`` if any and no ``crit``; and the signature is 64 bytes. Duplicate
    JSON member names keep the last one (RFC 7515 §4 allows it). The error
    message never echoes the token.
    """
    if not isinstance(token, str):
        raise MalformedToken("a token is a string")
    if len(token) > max_length:
        raise MalformedToken(f"the token is longer than {max_length} characters")
    if token.count(".") != 2:
        raise MalformedToken("a token has three dot-separated parts")
    if _SEGMENTS.fullmatch(token) is None:
        raise MalformedToken("a part is empty or not unpadded base64url")
    signed, _, signature_segment = token.rpartition(".")
    header_segment, _, payload_segment = signed.partition(".")
    header = _json_object(header_segment, "header")
    if header.get("alg") != ALG:
        raise MalformedToken(f"the header alg is not {ALG}")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedToken("the header kid is missing or not a string")
    if not isinstance(header.get("typ", ""), str):
        raise MalformedToken("the header typ is not a string")
    if "crit" in header:
        raise MalformedToken("the header has crit, which is not supported")
    payload = _json_object(payload_segment, "payload")
    signature = _b64decode(signature_segment, "signature")
    if len(signature) != SIGNATURE_SIZE:
        raise MalformedToken(f"the signature is not {SIGNATURE_SIZE} bytes")
    return DecodedJWS(header, payload, signed.encode("ascii"), signature)


def verify_signature(decoded: DecodedJWS, public_key: bytes, backend: SM2Backend) -> bool:
    """Whether ``decoded`` carries ``public_key``'s SM2 signature over its signing input.

    An ``r`` or ``s`` outside the curve order is a signature that does not
    match (``False``). A malformed ``public_key`` raises
    :class:`~wallet.errors.MalformedKey`: the key comes from the caller's trust
    store, not from the token.
    """
    try:
        return backend.verify(public_key, decoded.signing_input, decoded.signature)
    except MalformedSignature:
        return False
