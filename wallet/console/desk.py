"""The console's licence pages, read through the registry's, keys' and verifier's own code.

A reviewer sees faces masked (names, ID numbers, addresses, birth dates);
a supervisor sees them whole. Neither is shown the photo reference. Every
seal is checked again when the page is read, against the key it names.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from wallet.claims.faces import mask_face
from wallet.console.schemas import (
    LicenceDetail,
    LicenceFace,
    StatusChangeRow,
    VerificationRow,
    VersionRow,
)
from wallet.console.service import ConsoleUser
from wallet.crypto import SM2Backend
from wallet.errors import CryptoError
from wallet.keys.service import KeyStore
from wallet.licences.builders import DOCUMENT_CONTEXT
from wallet.licences.catalogue import get_kind
from wallet.licences.models import Licence, LicenceVersion
from wallet.licences.repository import LicenceRepository
from wallet.licences.seal import verify_seal
from wallet.licences.search import division_scope
from wallet.licences.service import Registry
from wallet.uow import UnitOfWork
from wallet.vault import Vault
from wallet.verification.service import Verifier
from wallet.verification.verdict import Verdict

__all__ = ["HISTORY_ROWS", "LicenceDesk"]

HISTORY_ROWS: Final = 50
"""Rows of status history and of the verification log a licence page shows (newest)."""


class LicenceDesk:
    """Licence pages for console users, inside their division."""

    def __init__(
        self,
        registry: Registry,
        licences: LicenceRepository,
        keys: KeyStore,
        verifier: Verifier,
        vault: Vault,
        sm2: SM2Backend,
    ) -> None:
        self.registry = registry
        self.licences = licences
        self.keys = keys
        self.verifier = verifier
        self.vault = vault
        self.sm2 = sm2

    async def face(self, uow: UnitOfWork, user: ConsoleUser, ref: str) -> LicenceFace:
        """The licence and its current face as ``user`` may see it (404 outside the scope)."""
        licence = await self.registry.get(uow, ref, division_scope(user.division))
        row = await self.licences.version(uow, licence.id, licence.version)
        face = self._face(user, licence, row)
        return LicenceFace(licence=self.registry.view(licence), face=face, masked=not user.unmasked)

    async def detail(self, uow: UnitOfWork, user: ConsoleUser, ref: str) -> LicenceDetail:
        """The licence page: face, versions (seals checked), status history, verifications."""
        licence = await self.registry.get(uow, ref, division_scope(user.division))
        versions = await self.licences.versions(uow, licence.id)
        current = next((v for v in versions if v.version == licence.version), None)
        changes = await self.licences.status_changes(uow, licence.id, HISTORY_ROWS)
        records, _ = await self.verifier.history(uow, licence.ref, None, HISTORY_ROWS)
        return LicenceDetail(
            licence=self.registry.view(licence),
            face=self._face(user, licence, current),
            masked=not user.unmasked,
            versions=[await self._version(uow, v) for v in versions],
            status_history=[
                StatusChangeRow(
                    action=c.action,
                    from_status=c.from_status,
                    to_status=c.to_status,
                    reason=c.reason,
                    authority=c.authority,
                    at=c.at,
                )
                for c in changes
            ],
            verifications=[
                VerificationRow(
                    at=r.at,
                    verdict=Verdict(r.verdict),
                    mode=r.mode,
                    officer_division=r.officer_division,
                    officer_badge=r.officer_badge,
                )
                for r in records
            ],
        )

    def _face(
        self, user: ConsoleUser, licence: Licence, row: LicenceVersion | None
    ) -> dict[str, Any]:
        if row is None:
            return {}
        kind = get_kind(licence.kind)
        face = orjson.loads(self.vault.open(row.document_sealed, DOCUMENT_CONTEXT))["face"]
        if not user.unmasked:
            return mask_face(kind, face)
        return {
            name: value
            for name, value in face.items()
            if name in kind.field_names and kind.field(name).type != "photo_ref"
        }

    async def _version(self, uow: UnitOfWork, row: LicenceVersion) -> VersionRow:
        key = await self.keys.verification_key(uow, row.seal_kid)
        seal = "unknown_key"
        if key is not None:
            document = self.vault.open(row.document_sealed, DOCUMENT_CONTEXT).encode()
            try:
                ok = verify_seal(document, row.seal, bytes.fromhex(key.public_key), self.sm2)
            except CryptoError:
                ok = False
            seal = "valid" if ok else "invalid"
        return VersionRow(
            version=row.version,
            change_type=row.change_type,
            reason=row.reason,
            authority=row.authority,
            issued_at=row.issued_at,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            seal_kid=row.seal_kid,
            seal=seal,  # type: ignore[arg-type]
        )
