"""The key store: creating, rotating, revoking and unwrapping the SM2 signing keys.

Keys live in ``signing_key``; each private scalar is wrapped with SM4-GCM
under ``derive_key(master_key, "key-wrap")`` with the kid as associated
data, so the database never holds a clear key and a wrapped key moved to
another row does not open. A *slot* is a use plus, for seal keys, a
province: each slot has at most one active key (a unique column holds the
slot while the key is active). Rotation retires the active key (it stays
verifiable) and makes a new one. Revocation takes a key out of trust for
good: :meth:`KeyStore.verification_key` no longer returns it and the trust
list drops it.

Every method runs in the caller's unit of work (the ``wallet keys`` command
opens one per change); changes are serialised on PostgreSQL by an advisory
lock and a row lock. Signing is per request, so unwrapped keys are kept in
memory by kid. The queries are :class:`~wallet.keys.repository.KeyRepository`'s.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.exceptions import IntegrityError

from wallet.clock import Clock
from wallet.crypto import SM2Backend, parse_public_key_hex, sm4_gcm_decrypt, sm4_gcm_encrypt
from wallet.errors import Conflict, CryptoError, InvalidIdentifier, NotFound, ValidationFailed
from wallet.identifiers import division_code, province_division
from wallet.keys.models import KeyStatus, KeyUse, SigningKey
from wallet.keys.repository import KeyRepository
from wallet.masterkey import derive_key
from wallet.uow import UnitOfWork

__all__ = ["ActiveKey", "KeyStore", "seal_province"]

_KID_PREFIX = {
    KeyUse.SEAL: "seal",
    KeyUse.PRESENTATION: "pres",
    KeyUse.COPY: "copy",
    KeyUse.ROOT: "root",
}
_MAX_CACHED = 256
_MAX_REASON = 200


@dataclass(frozen=True, slots=True)
class ActiveKey:
    """An unwrapped key ready to sign; the private scalar never appears in ``repr``."""

    kid: str
    use: KeyUse
    division: str | None
    public_key: bytes
    private_key: bytes = field(repr=False)


def seal_province(value: str) -> str:
    """Validate the division of a seal key: a province-level code (``xx0000``, e.g. ``210000``)."""
    code = division_code(value)
    if province_division(code) != code:
        raise InvalidIdentifier(
            "division",
            "province_level",
            f"seal keys belong to provinces: division {code} is not of the form xx0000",
        )
    return code


def _slot(use: str, division: str | None) -> tuple[KeyUse, str | None, str]:
    try:
        key_use = KeyUse(use)
    except ValueError:
        raise ValidationFailed(
            "use must be seal, presentation, copy or root",
            errors=[{"field": "use", "rule": "choice"}],
        ) from None
    if key_use is KeyUse.SEAL:
        if division is None:
            raise ValidationFailed(
                "a seal key needs the province's division code",
                errors=[{"field": "division", "rule": "required"}],
            )
        division = seal_province(division)
    elif division is not None:
        raise ValidationFailed(
            f"a {key_use} key has no division", errors=[{"field": "division", "rule": "absent"}]
        )
    return key_use, division, f"{key_use}:{division or ''}"


def _new_kid(use: KeyUse, division: str | None) -> str:
    parts = [_KID_PREFIX[use], *([division] if division else []), secrets.token_hex(4)]
    return "-".join(parts)


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


class KeyStore:
    """The platform's SM2 signing keys, wrapped under the master key.

    ``master_key`` is used only to derive the wrapping key and is not kept;
    ``sm2`` makes and checks key pairs; ``clock`` stamps every change;
    ``repository`` runs the queries.
    """

    def __init__(
        self,
        master_key: bytes,
        sm2: SM2Backend,
        clock: Clock,
        repository: KeyRepository | None = None,
    ) -> None:
        self.repository = repository or KeyRepository()
        self._wrap_key = derive_key(master_key, "key-wrap")
        self._sm2 = sm2
        self._clock = clock
        self._unwrapped: dict[str, ActiveKey] = {}

    def __repr__(self) -> str:
        return f"KeyStore(sm2={self._sm2.name!r}, cached={len(self._unwrapped)})"

    @property
    def sm2(self) -> SM2Backend:
        """The SM2 backend this store signs and checks with."""
        return self._sm2

    @property
    def clock(self) -> Clock:
        """The clock that stamps key changes."""
        return self._clock

    # --- wrapping -------------------------------------------------------------

    def _wrap(self, kid: str, private_key: bytes) -> str:
        blob = sm4_gcm_encrypt(self._wrap_key, private_key, kid.encode())
        return base64.b64encode(blob).decode("ascii")

    def _unwrap(self, row: SigningKey) -> ActiveKey:
        try:
            blob = base64.b64decode(row.private_wrapped, validate=True)
        except ValueError:
            raise CryptoError(f"the wrapped key of {row.kid} is not base64") from None
        try:
            private_key = sm4_gcm_decrypt(self._wrap_key, blob, row.kid.encode())
        except CryptoError:
            raise CryptoError(
                f"the wrapped key of {row.kid} does not open: another master key, "
                "another row, or altered data"
            ) from None
        public_key = parse_public_key_hex(row.public_key)
        if self._sm2.public_key(private_key) != public_key:
            raise CryptoError(f"the private key of {row.kid} does not match its public key")
        return ActiveKey(row.kid, KeyUse(row.use), row.division, public_key, private_key)

    # --- changes --------------------------------------------------------------

    async def _create(
        self, uow: UnitOfWork, use: KeyUse, division: str | None, slot: str
    ) -> SigningKey:
        now = self._clock.now()
        kid = _new_kid(use, division)
        private_key = self._sm2.generate_private_key()
        key = SigningKey(
            kid=kid,
            use=use.value,
            division=division,
            public_key=self._sm2.public_key(private_key).hex(),
            private_wrapped=self._wrap(kid, private_key),
            status=KeyStatus.ACTIVE.value,
            active_slot=slot,
            not_before=now,
            created_at=now,
        )
        return await self.repository.add(uow, key)

    async def init(self, uow: UnitOfWork, provinces: Sequence[str]) -> list[SigningKey]:
        """Ensure an active root key, presentation key, copy key and seal key per province.

        Idempotent: existing active keys are kept, missing ones created. Returns
        the active key of every slot asked for (root, presentation, copy, then the
        seal keys in the order given). Each province must be a province-level
        division code (``xx0000``).
        """
        slots = [
            _slot(KeyUse.ROOT, None),
            _slot(KeyUse.PRESENTATION, None),
            _slot(KeyUse.COPY, None),
        ]
        seen: set[str] = set()
        for province in provinces:
            slot = _slot(KeyUse.SEAL, province)
            if slot[2] not in seen:
                seen.add(slot[2])
                slots.append(slot)
        keys: list[SigningKey] = []
        try:
            await self.repository.lock(uow)
            for use, division, slot_name in slots:
                key = await self.repository.in_slot(uow, slot_name)
                if key is None:
                    key = await self._create(uow, use, division, slot_name)
                keys.append(key)
        except IntegrityError:
            raise Conflict("keys were changed concurrently: run init again") from None
        return keys

    async def rotate(self, uow: UnitOfWork, use: str, division: str | None = None) -> SigningKey:
        """Make a new active key for the slot; the old one, if any, becomes retired.

        The retired key keeps its public key and stays verifiable: its
        ``not_after`` and ``retired_at`` become now, so tokens it signs are
        those issued up to now. With no active key (first use, or after a
        revocation) this just creates one. Concurrent rotations of one slot run
        one after the other and both take effect.
        """
        key_use, division, slot_name = _slot(use, division)
        try:
            await self.repository.lock(uow)
            old = await self.repository.in_slot(uow, slot_name, lock=True)
            if old is not None:
                now = self._clock.now()
                old.status = KeyStatus.RETIRED.value
                old.active_slot = None
                old.retired_at = now
                old.not_after = now
                await self.repository.save(
                    uow, old, "status", "active_slot", "retired_at", "not_after"
                )
            return await self._create(uow, key_use, division, slot_name)
        except IntegrityError:
            raise Conflict("the key was rotated concurrently: try again") from None

    async def revoke(self, uow: UnitOfWork, kid: str, reason: str) -> SigningKey:
        """Revoke ``kid`` for good (idempotent); returns the revoked row.

        A revoked key is never trusted again: :meth:`verification_key` returns
        ``None`` for it and the trust list drops it, so verifiers answer
        ``unknown_key``. Revoking the active key leaves its slot empty until
        ``rotate`` (or ``init``) makes a new one; signing fails meanwhile.
        """
        reason = reason.strip()
        if not reason or len(reason) > _MAX_REASON:
            raise ValidationFailed(
                f"a revocation needs a reason of 1-{_MAX_REASON} characters",
                errors=[{"field": "reason", "rule": "length"}],
            )
        await self.repository.lock(uow)
        key = await self.repository.by_kid(uow, kid, lock=True)
        if key is None:
            raise NotFound(f"no signing key {kid!r}")
        if key.status != KeyStatus.REVOKED:
            key.status = KeyStatus.REVOKED.value
            key.active_slot = None
            key.revoked_at = self._clock.now()
            key.revocation_reason = reason
            await self.repository.save(
                uow, key, "status", "active_slot", "revoked_at", "revocation_reason"
            )
        # Forgotten now and again once committed (a request may unwrap it meanwhile);
        # a revocation that rolls back costs one unwrapping, nothing more.
        self._unwrapped.pop(kid, None)
        uow.after_commit(lambda: self._forget(kid))
        return key

    async def _forget(self, kid: str) -> None:
        self._unwrapped.pop(kid, None)

    async def note_signed(self, uow: UnitOfWork, kid: str, until: datetime) -> None:
        """Record that ``kid`` signed something valid until ``until`` (timezone-aware).

        Raises the key's ``signed_until`` if ``until`` is later, in one
        conditional UPDATE; an unknown kid changes nothing. The trust list keeps
        a retired key while its ``signed_until`` is in the future.
        """
        _aware(until, "until")
        await self.repository.raise_signed_until(uow, kid, until)

    # --- reading --------------------------------------------------------------

    async def active_key(self, uow: UnitOfWork, use: str, division: str | None = None) -> ActiveKey:
        """The active key of the slot, unwrapped, to sign with.

        One indexed lookup of the active kid per call (so a rotation by another
        process is seen at once); the unwrapping is done once per kid and kept.
        Raises :class:`~wallet.errors.NotFound` when the slot has no active key.
        """
        _, division, slot_name = _slot(use, division)
        kid = await self.repository.kid_in_slot(uow, slot_name)
        if kid is not None:
            cached = self._unwrapped.get(kid)
            if cached is not None:
                return cached
        row = await self.repository.in_slot(uow, slot_name)
        if row is None:
            where = f" for division {division}" if division else ""
            raise NotFound(
                f"no active {use} key{where}: run `wallet keys init` "
                "(or `wallet keys rotate` after a revocation)"
            )
        key = self._unwrap(row)
        if len(self._unwrapped) >= _MAX_CACHED:
            self._unwrapped.clear()
        self._unwrapped[row.kid] = key
        return key

    @staticmethod
    def slot(use: str, division: str | None = None) -> str:
        """The slot name (``use:division``) a caller's own query may read the active kid of."""
        return _slot(use, division)[2]

    async def active_key_read(
        self, uow: UnitOfWork, kid: str | None, use: str, division: str | None = None
    ) -> ActiveKey:
        """The active key of the slot, given its kid as the caller just read it (see :meth:`slot`).

        For callers that read the active kid in their own statement, so that
        the lookup of :meth:`active_key` costs no round trip of its own; the
        unwrapped key of a kid already seen comes from memory. A kid not seen
        yet is looked up afresh as :meth:`active_key` does. ``None`` (the slot
        is empty: revoked and not rotated yet) raises
        :class:`~wallet.errors.NotFound` as :meth:`active_key` does.
        """
        if kid is not None:
            cached = self._unwrapped.get(kid)
            if cached is not None:
                return cached
        return await self.active_key(uow, use, division)

    async def verification_key(self, uow: UnitOfWork, kid: str) -> SigningKey | None:
        """The key ``kid`` to verify with (active or retired), or ``None``.

        ``None`` for an unknown or revoked kid: a verifier that gets ``None``
        answers ``unknown_key``. Only the public part is meant to be used; the
        wrapped private key is not opened.
        """
        return await self.repository.trusted(uow, kid)

    async def list_keys(self, uow: UnitOfWork) -> list[SigningKey]:
        """Every key, revoked ones included, by use, division and age."""
        return await self.repository.all(uow)
