"""Identity providers: who confirms that a name and resident ID number are the caller's.

``registry`` (development) matches them against the registry's holders by
blind index: a person the registry knows, under that name. ``wechat_face``
(production) relies on WeChat face verification (人脸核身, face
verification): :meth:`WeChatFaceProvider.open` starts a session for the
claimed identity (getverifyid), the mini-program runs
``wx.requestFacialVerify``, and :meth:`WeChatFaceProvider.verify` asks
WeChat for the result (queryverifyinfo). Both raise
:class:`~wallet.accounts.errors.IdentityMismatch` without saying which part
failed, so the answer is no oracle for ID numbers.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Protocol

import orjson
from redis.asyncio import Redis

from wallet.accounts.errors import (
    FaceVerificationDisabled,
    FaceVerificationRequired,
    IdentityMismatch,
)
from wallet.accounts.models import Account
from wallet.accounts.transport_key import TransportKey
from wallet.crypto import sm3
from wallet.errors import ConfigurationError, FieldProblem, ValidationFailed
from wallet.holders.repository import HolderRepository
from wallet.identifiers import resident_id
from wallet.uow import UnitOfWork
from wallet.vault import Vault
from wallet.wechat import FACE_VERIFIED, FaceSession, WeChatGateway
from wallet.wechat.client import face_cert_hash

__all__ = [
    "OPENID_CONTEXT",
    "IdentityClaim",
    "IdentityProvider",
    "RegistryProvider",
    "WeChatFaceProvider",
    "identity_provider",
    "parse_claim",
]

OPENID_CONTEXT: Final = "account.openid"
_FACE_PREFIX: Final = "rtel:face:"
_NAME_MAX: Final = 64


@dataclass(frozen=True)
class IdentityClaim:
    """A name and a checked resident ID number, as the caller claims them."""

    name: str = field(repr=False)
    id_number: str = field(repr=False)


async def parse_claim(
    name: str,
    id_number: str,
    *,
    encrypted: bool,
    transport: TransportKey,
    today: date,
    prefix: str = "",
) -> IdentityClaim:
    """Decrypt (when ``encrypted``) and check a name and resident ID number.

    Every problem is listed (fields ``<prefix>name`` and ``<prefix>id_number``)
    without echoing the values.
    """
    if encrypted:
        name = await transport.decrypt_field(prefix + "name", name)
        id_number = await transport.decrypt_field(prefix + "id_number", id_number)
    problems: list[FieldProblem] = []
    clean = unicodedata.normalize("NFKC", name).strip()
    if not clean or len(clean) > _NAME_MAX or any(unicodedata.category(c)[0] == "C" for c in clean):
        problems.append(
            {"field": prefix + "name", "rule": "name", "message": "1-64 printable characters"}
        )
    try:
        id_number = resident_id(id_number, today=today)
    except ValidationFailed as exc:
        problems += [
            {"field": prefix + "id_number", "rule": p.get("rule", "invalid"), "message": exc.detail}
            for p in exc.errors
        ]
    if problems:
        raise ValidationFailed("the identity is not valid", errors=problems)
    return IdentityClaim(clean, id_number)


def _mismatch() -> IdentityMismatch:
    return IdentityMismatch(
        "the name and ID number could not be confirmed",
        errors=[
            {
                "field": "identity",
                "rule": "mismatch",
                "message": "name and ID number do not match a verified identity",
            }
        ],
    )


class IdentityProvider(Protocol):
    """Confirms an :class:`IdentityClaim` for an account, or raises IdentityMismatch."""

    name: str

    async def open(self, account: Account, claim: IdentityClaim) -> FaceSession:
        """Start an interactive verification (face providers only)."""
        ...

    async def verify(
        self, uow: UnitOfWork, account: Account, claim: IdentityClaim, verify_id: str | None
    ) -> None:
        """Raise :class:`IdentityMismatch` unless ``claim`` is the caller's identity."""
        ...


class RegistryProvider:
    """Development: the registry knows a person with this ID number and this name."""

    name = "registry"

    def __init__(self, vault: Vault, holders: HolderRepository) -> None:
        self.vault = vault
        self.holders = holders

    async def open(self, account: Account, claim: IdentityClaim) -> FaceSession:
        """Not used: the registry provider needs no interactive step."""
        raise FaceVerificationDisabled()

    async def verify(
        self, uow: UnitOfWork, account: Account, claim: IdentityClaim, verify_id: str | None
    ) -> None:
        """Match the blind indexes of ID number and name against a registry person."""
        person = await self.holders.person_by_id_number(
            uow, self.vault.blind_index(claim.id_number, "resident_id")
        )
        if person is None or person.name_index != self.vault.blind_index(claim.name, "name"):
            raise _mismatch()


class WeChatFaceProvider:
    """Production: WeChat face verification of the claimed name and ID number."""

    name = "wechat_face"

    def __init__(self, gateway: WeChatGateway, cache: Redis, vault: Vault) -> None:
        self.gateway = gateway
        self.cache = cache
        self.vault = vault

    @staticmethod
    def _key(verify_id: str) -> str:
        return _FACE_PREFIX + sm3(verify_id.encode()).hex()

    async def open(self, account: Account, claim: IdentityClaim) -> FaceSession:
        """getverifyid for the claim; remembers which account and identity it is for."""
        openid = self.vault.open(account.openid_sealed, OPENID_CONTEXT)
        out_seq_no = secrets.token_hex(16)
        session = await self.gateway.open_face_session(
            openid, out_seq_no, claim.name, claim.id_number
        )
        entry = {
            "a": str(account.id),
            "s": out_seq_no,
            "h": face_cert_hash(claim.name, claim.id_number),
        }
        await self.cache.set(
            self._key(session.verify_id), orjson.dumps(entry), ex=max(session.expires_in, 60)
        )
        return session

    async def verify(
        self, uow: UnitOfWork, account: Account, claim: IdentityClaim, verify_id: str | None
    ) -> None:
        """queryverifyinfo for ``verify_id``: the session must be this account's, for this claim."""
        if not verify_id:
            raise FaceVerificationRequired(
                errors=[
                    {
                        "field": "verify_id",
                        "rule": "required",
                        "message": "start with POST /api/v1/identity/face-verification",
                    }
                ]
            )
        key = self._key(verify_id)
        raw = await self.cache.get(key)
        if raw is None:
            raise FaceVerificationRequired(
                errors=[{"field": "verify_id", "rule": "unknown", "message": "unknown or expired"}]
            )
        entry = orjson.loads(raw)
        cert_hash = face_cert_hash(claim.name, claim.id_number)
        if entry["a"] != str(account.id) or entry["h"] != cert_hash:
            raise _mismatch()
        openid = self.vault.open(account.openid_sealed, OPENID_CONTEXT)
        result = await self.gateway.face_result(openid, verify_id, entry["s"], cert_hash)
        await self.cache.delete(key)  # one answer per session, success or not
        if result != FACE_VERIFIED:
            raise _mismatch()


def identity_provider(
    name: str, *, vault: Vault, cache: Redis, gateway: WeChatGateway, holders: HolderRepository
) -> IdentityProvider:
    """The provider called ``name``: ``registry`` or ``wechat_face``."""
    if name == "wechat_face":
        return WeChatFaceProvider(gateway, cache, vault)
    if name == "registry":
        return RegistryProvider(vault, holders)
    raise ConfigurationError("WALLET_IDENTITY_PROVIDER must be 'registry' or 'wechat_face'")
