"""The trust list: every key a verifier may trust, signed by the root key.

It is a JWS (:mod:`wallet.jws`, ``typ`` ``rtel-trust-list``) signed by the
active root key, with the payload::

    {"iss": "rtel-wallet", "iat": <int>, "keys": [
        {"kid", "division", "use", "pub", "nbf", "exp", "status"}, ...]}

``pub`` is the ``04 ‖ x ‖ y`` hex public key; ``nbf``/``exp`` (seconds, ``exp``
null while the key is active) bound the ``iat`` of the tokens the key may
have signed (a retired key's ``exp`` is its retirement). A verifier trusts a
token only if its kid is listed, ``active`` or ``retired``, and
``nbf <= iat <= exp``.

Which keys are listed (the retention rule):

* every active key,
* a retired key while ``signed_until`` (the latest expiry of anything it
  signed) is in the future, and in any case for a floor after retirement:
  presentation keys 7 days (offline credentials live up to 7 days and are
  not each recorded), root keys 7 days (so clients see the rotation), seal
  keys none (a seal's licence expiry is always recorded),
* never a revoked key: it drops out, so verifiers answer ``unknown_key``.

Root keys are listed so clients can follow a rotation, but a client trusts a
list only if it verifies under the root public key it has pinned out of band.
:func:`verify_trust_list` is pure: bytes, keys and ``now`` in, a
:class:`TrustList` out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, TypeGuard

from wallet.crypto import SM2Backend, parse_public_key_hex
from wallet.errors import MalformedKey, WalletError
from wallet.jws import MalformedToken, decode, encode, verify_signature
from wallet.keys.models import KeyStatus, KeyUse, SigningKey
from wallet.keys.service import KeyStore
from wallet.uow import UnitOfWork

__all__ = [
    "ISSUER",
    "RETIRED_KEY_FLOOR",
    "TRUST_LIST_TYPE",
    "InvalidTrustList",
    "TrustList",
    "TrustedKey",
    "build_trust_list",
    "is_listed",
    "trust_list_of",
    "verify_trust_list",
]

TRUST_LIST_TYPE: Final = "rtel-trust-list"
ISSUER: Final = "rtel-wallet"
RETIRED_KEY_FLOOR: Final[Mapping[KeyUse, timedelta]] = {
    KeyUse.PRESENTATION: timedelta(days=7),
    KeyUse.COPY: timedelta(days=90),
    KeyUse.ROOT: timedelta(days=7),
    KeyUse.SEAL: timedelta(0),
}
"""How long a retired key stays listed after retirement even with no ``signed_until``."""

CLOCK_SKEW: Final = 300
"""Seconds a list's ``iat`` may lie ahead of the verifier's clock."""

_TRUSTED_STATUSES: Final = frozenset({KeyStatus.ACTIVE.value, KeyStatus.RETIRED.value})


class InvalidTrustList(WalletError):
    """A trust list that does not verify under the pinned root key, or is not well formed."""

    type_code = "invalid_trust_list"
    status = 400
    title = "Invalid trust list"


@dataclass(frozen=True, slots=True)
class TrustedKey:
    """One listed key: its public key and the window of ``iat`` it may have signed in."""

    kid: str
    use: KeyUse
    division: str | None
    public_key: bytes
    not_before: int
    not_after: int | None
    status: KeyStatus

    def covers(self, iat: int) -> bool:
        """Whether a token issued at ``iat`` may carry this key's signature."""
        return (
            self.status.value in _TRUSTED_STATUSES
            and self.not_before <= iat
            and (self.not_after is None or iat <= self.not_after)
        )


@dataclass(frozen=True, slots=True)
class TrustList:
    """A verified trust list: who issued it, when, and its keys by kid."""

    issued_at: int
    root_kid: str
    keys: Mapping[str, TrustedKey]

    def key_for(self, kid: str, iat: int, use: KeyUse | None = None) -> TrustedKey | None:
        """The key ``kid`` if it is trusted for a token issued at ``iat`` (and of ``use``)."""
        key = self.keys.get(kid)
        if key is None or not key.covers(iat) or (use is not None and key.use is not use):
            return None
        return key


def is_listed(key: SigningKey, now: datetime) -> bool:
    """Whether the retention rule (module docstring) puts ``key`` on the list at ``now``."""
    if key.status == KeyStatus.ACTIVE:
        return True
    if key.status != KeyStatus.RETIRED:
        return False
    if key.signed_until is not None and key.signed_until > now:
        return True
    floor = RETIRED_KEY_FLOOR[KeyUse(key.use)]
    return key.retired_at is not None and key.retired_at + floor > now


def _entry(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "division": key.division,
        "use": key.use,
        "pub": key.public_key,
        "nbf": int(key.not_before.timestamp()),
        "exp": int(key.not_after.timestamp()) if key.not_after is not None else None,
        "status": key.status,
    }


async def build_trust_list(uow: UnitOfWork, store: KeyStore) -> str:
    """The current trust list as a JWS signed by the active root key.

    Raises :class:`~wallet.errors.NotFound` when there is no active root key.
    """
    root = await store.active_key(uow, KeyUse.ROOT)
    now = store.clock.now()
    keys: Iterable[SigningKey] = await store.list_keys(uow)
    payload = {
        "iss": ISSUER,
        "iat": int(now.timestamp()),
        "keys": [_entry(key) for key in keys if is_listed(key, now)],
    }
    header = {"alg": "SM2", "kid": root.kid, "typ": TRUST_LIST_TYPE}
    return encode(header, payload, root.private_key, store.sm2)


def trust_list_of(keys: Iterable[SigningKey], now: datetime) -> TrustList:
    """The trust list as a verifier next to the key table holds it, unsigned.

    The same keys, mapped the same way, as :func:`build_trust_list` publishes.
    """
    listed = [_trusted_key(_entry(key)) for key in keys if is_listed(key, now)]
    return TrustList(int(now.timestamp()), "", {key.kid: key for key in listed})


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _trusted_key(entry: object) -> TrustedKey:
    if not isinstance(entry, dict):
        raise InvalidTrustList("a key entry is not an object")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidTrustList("a key entry has no kid")
    use_text, status_text = entry.get("use"), entry.get("status")
    if not isinstance(use_text, str) or not isinstance(status_text, str):
        raise InvalidTrustList(f"key {kid}: use and status are strings")
    try:
        use, status = KeyUse(use_text), KeyStatus(status_text)
    except ValueError:
        raise InvalidTrustList(f"key {kid}: unknown use or status") from None
    division, pub = entry.get("division"), entry.get("pub")
    nbf, exp = entry.get("nbf"), entry.get("exp")
    if division is not None and not isinstance(division, str):
        raise InvalidTrustList(f"key {kid}: division is not a string")
    if not _is_int(nbf) or not (exp is None or _is_int(exp)):
        raise InvalidTrustList(f"key {kid}: nbf and exp are not integers")
    if not isinstance(pub, str):
        raise InvalidTrustList(f"key {kid}: pub is not a string")
    try:
        public_key = parse_public_key_hex(pub)
    except MalformedKey as exc:
        raise InvalidTrustList(f"key {kid}: {exc.detail}") from None
    return TrustedKey(kid, use, division, public_key, nbf, exp, status)


def verify_trust_list(
    token: str,
    root_public_key: bytes,
    backend: SM2Backend,
    now: int,
    max_age: int | None = None,
) -> TrustList:
    """Check a trust list against the pinned root public key and return its keys.

    Raises :class:`InvalidTrustList` if the token is malformed, is not a
    trust list, is not signed by ``root_public_key``, was issued more than
    :data:`CLOCK_SKEW` seconds after ``now`` (or, with ``max_age``, more than
    ``max_age`` seconds before it), or lists a key badly or twice. The signing
    root must itself be listed as a root key with the pinned public key.
    """
    try:
        decoded = decode(token)
    except MalformedToken as exc:
        raise InvalidTrustList(f"malformed: {exc.detail}") from None
    if decoded.header.get("typ") != TRUST_LIST_TYPE:
        raise InvalidTrustList(f"the token is not a {TRUST_LIST_TYPE}")
    if not verify_signature(decoded, root_public_key, backend):
        raise InvalidTrustList("the signature does not verify under the pinned root key")
    payload = decoded.payload
    iat, entries = payload.get("iat"), payload.get("keys")
    if payload.get("iss") != ISSUER or not _is_int(iat) or not isinstance(entries, list):
        raise InvalidTrustList("the payload needs iss, an integer iat and a keys list")
    if iat > now + CLOCK_SKEW:
        raise InvalidTrustList("the list was issued in the future")
    if max_age is not None and iat < now - max_age:
        raise InvalidTrustList("the list is older than allowed")
    keys: dict[str, TrustedKey] = {}
    for entry in entries:
        key = _trusted_key(entry)
        if key.kid in keys:
            raise InvalidTrustList(f"key {key.kid} is listed twice")
        keys[key.kid] = key
    root = keys.get(decoded.kid)
    if root is None or root.use is not KeyUse.ROOT or root.public_key != root_public_key:
        raise InvalidTrustList("the signing root key is not listed with the pinned public key")
    return TrustList(issued_at=iat, root_kid=decoded.kid, keys=keys)
