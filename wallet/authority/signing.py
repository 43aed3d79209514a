"""Signed server-to-server requests.

A client signs ``METHOD \\n PATH[?QUERY] \\n TIMESTAMP \\n NONCE \\n hex(SM3(body))``
with HMAC-SM3 under its secret (``X-Signature-Alg: HMAC-SM3``, the default)
or with its registered SM2 key (``SM2``, raw ``r‖s``), and sends::

    X-Client-Id: ac_…
    X-Timestamp: 1764057600          (Unix seconds)
    X-Nonce: 16–64 of [A-Za-z0-9_-]  (fresh per request)
    X-Signature-Alg: HMAC-SM3 | SM2
    X-Signature: <hex>

The server rejects a missing header, a timestamp outside the allowed skew,
an unknown or disabled client or a bad signature (one answer for both, so
client ids cannot be probed), and a nonce it has already seen within twice
the skew, in that order (the nonce is recorded only for a request whose
signature holds, so nobody can burn another client's nonces). Nonces are
recorded in the database, not the cache: a replay is refused whatever state
the cache is in.

:func:`authenticate` checks a request of an authority client;
:func:`verify_signed` is the same check over any directory of signing
clients (relying parties use it with their own table and vault context).
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol, TypeVar

from wallet.authority.models import AuthorityClient
from wallet.authority.repository import AuthorityRepository
from wallet.crypto import SM2Backend, hmac_sm3, parse_public_key_hex, sm3
from wallet.errors import CryptoError, Unauthorized
from wallet.uow import UnitOfWork
from wallet.vault import Vault

__all__ = [
    "SECRET_CONTEXT",
    "AuthenticatedClient",
    "SigningClient",
    "authenticate",
    "create_client",
    "list_clients",
    "sign_request",
    "string_to_sign",
    "verify_signed",
]

SECRET_CONTEXT: Final = "authority_client.secret"  # noqa: S105 - a vault column name
_NONCE: Final = re.compile(r"[A-Za-z0-9_-]{16,64}")
_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}")  # ASCII only: str.isdigit() admits "²"
# The clients' queries hold no state: one repository serves every caller.
_repository: Final = AuthorityRepository()


class SignatureRequired(Unauthorized):
    type_code = "signature_required"
    title = "Signed request required"


class StaleRequest(Unauthorized):
    type_code = "stale_request"
    title = "Request timestamp outside the allowed window"


class BadSignature(Unauthorized):
    type_code = "bad_signature"
    title = "Request signature does not verify"


class ReplayedNonce(Unauthorized):
    type_code = "replayed_nonce"
    title = "Nonce already used"


class SigningClient(Protocol):
    """What :func:`verify_signed` reads of a registered client."""

    @property
    def client_id(self) -> str: ...

    @property
    def secret_sealed(self) -> str: ...

    @property
    def sm2_public_key(self) -> str | None: ...

    @property
    def enabled(self) -> bool: ...


C = TypeVar("C", bound=SigningClient)


@dataclass(frozen=True)
class AuthenticatedClient:
    client_id: str
    name: str
    division: str

    @property
    def actor(self) -> str:
        return f"authority:{self.client_id}"


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The exact bytes a client signs."""
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{sm3(body).hex()}".encode()


def sign_request(
    secret: str, method: str, path: str, body: bytes, *, timestamp: int, nonce: str | None = None
) -> dict[str, str]:
    """Headers of an HMAC-SM3-signed request (for clients, tests and tools)."""
    nonce = nonce or secrets.token_urlsafe(16)
    mac = hmac_sm3(secret.encode(), string_to_sign(method, path, str(timestamp), nonce, body))
    return {
        "X-Timestamp": str(timestamp),
        "X-Nonce": nonce,
        "X-Signature-Alg": "HMAC-SM3",
        "X-Signature": mac.hex(),
    }


async def create_client(
    uow: UnitOfWork,
    vault: Vault,
    *,
    name: str,
    division: str,
    now: datetime,
    sm2_public_key: str | None = None,
) -> tuple[AuthorityClient, str]:
    """A new client and its secret (shown once; stored sealed)."""
    secret = secrets.token_urlsafe(32)
    if sm2_public_key is not None:
        parse_public_key_hex(sm2_public_key)
    client = AuthorityClient(
        client_id="ac_" + secrets.token_hex(8),
        name=name,
        division=division,
        secret_sealed=vault.seal(secret, SECRET_CONTEXT),
        sm2_public_key=sm2_public_key,
        created_at=now,
    )
    return await _repository.add(uow, client), secret


async def list_clients(uow: UnitOfWork) -> list[AuthorityClient]:
    """Every client, oldest first."""
    return await _repository.all(uow)


_REFUSED: Final = "unknown or disabled client, or the signature does not verify"
# The SM2 generator point, as an uncompressed public key: a real point to verify against.
_DECOY_SM2_KEY: Final = (
    "0432C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0"
)


def _decoy_secret(vault: Vault) -> str:
    """A secret nobody holds (for unknown clients), made by one SM4-GCM operation like
    the opening of a real client's secret, so both paths cost about the same."""
    return vault.seal(secrets.token_urlsafe(32), SECRET_CONTEXT)


async def authenticate(
    uow: UnitOfWork,
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    *,
    vault: Vault,
    sm2: SM2Backend,
    now: int,
    skew: int,
) -> AuthenticatedClient:
    """Check a signed request; return its client or raise an Unauthorized subclass.

    The nonce is recorded in ``uow``: the caller commits it before acting on
    the request, so a replay is refused even if the request then fails.
    """
    client = await verify_signed(
        uow,
        headers,
        method,
        path,
        body,
        lookup=_repository.by_client_id,
        secret_context=SECRET_CONTEXT,
        vault=vault,
        sm2=sm2,
        now=now,
        skew=skew,
    )
    return AuthenticatedClient(client.client_id, client.name, client.division)


async def verify_signed(
    uow: UnitOfWork,
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    *,
    lookup: Callable[[UnitOfWork, str], Awaitable[C | None]],
    secret_context: str,
    vault: Vault,
    sm2: SM2Backend,
    now: int,
    skew: int,
) -> C:
    """Check a signed request against the clients ``lookup`` finds; return the client.

    ``secret_context`` is the vault context the clients' secrets are sealed
    under. Raises an :class:`~wallet.errors.Unauthorized` subclass; records
    the nonce in ``uow`` (client ids of different directories never collide:
    each has its own prefix).
    """
    client_id = headers.get("x-client-id", "")
    timestamp = headers.get("x-timestamp", "")
    nonce = headers.get("x-nonce", "")
    signature = headers.get("x-signature", "")
    alg = headers.get("x-signature-alg", "HMAC-SM3").upper()
    if not (client_id and timestamp and nonce and signature):
        raise SignatureRequired(
            "send X-Client-Id, X-Timestamp, X-Nonce and X-Signature (see the README)"
        )
    if not _NONCE.fullmatch(nonce):
        raise SignatureRequired("X-Nonce must be 16-64 characters of A-Z a-z 0-9 _ -")
    # Everything checked before the client is looked up depends on the request
    # alone; everything after it answers the same for an unknown client and a
    # bad signature, in comparable time, so client ids cannot be probed.
    if alg not in ("HMAC-SM3", "SM2"):
        raise BadSignature("X-Signature-Alg must be HMAC-SM3 or SM2")
    if not _TIMESTAMP.fullmatch(timestamp) or abs(now - int(timestamp)) > skew:
        raise StaleRequest(f"X-Timestamp must be within {skew} s of the server clock")
    try:
        raw_signature = bytes.fromhex(signature)
    except ValueError:
        raise BadSignature("X-Signature is not hex") from None
    message = string_to_sign(method, path, timestamp, nonce, body)
    client = await lookup(uow, client_id)
    known = client is not None and client.enabled
    if alg == "HMAC-SM3":
        secret = (
            vault.open(client.secret_sealed, secret_context)
            if client is not None and known
            else _decoy_secret(vault)
        )
        good = hmac.compare_digest(hmac_sm3(secret.encode(), message), raw_signature)
    else:
        sm2_key = client.sm2_public_key if client is not None and known else None
        known = known and sm2_key is not None
        try:
            # The decoy key (the curve's generator) verifies signatures anyone can
            # make, so its answer is never used: ``known`` is already False.
            good = sm2.verify(bytes.fromhex(sm2_key or _DECOY_SM2_KEY), message, raw_signature)
        except CryptoError:
            good = False
    if client is None or not (known and good):
        raise BadSignature(_REFUSED)
    if not await _record_nonce(uow, client.client_id, nonce, now=now, keep=2 * skew):
        raise ReplayedNonce()
    return client


async def _record_nonce(
    uow: UnitOfWork, client_id: str, nonce: str, *, now: int, keep: int
) -> bool:
    """Record a client's nonce for ``keep`` seconds; False if it is already recorded.

    The database is the one record: authority requests need it anyway, so a
    cache outage neither opens a replay window nor stops the API, and no
    nonce lives only in a store that might come back without it.
    """
    at = datetime.fromtimestamp(now, UTC)
    return await _repository.record_nonce(
        uow, f"{client_id}:{nonce}", now=at, until=at + timedelta(seconds=keep)
    )
