"""Faces of current licence versions, as the holder side needs them: opened, masked, checked.

The registry keeps each version's canonical document sealed;
:class:`LicenceFaces` opens the current version's in one query for a page
of licences, :func:`mask_face` masks personal data for display and
:func:`needs_photo` tells whether the registry has a photo.
:class:`PermitPersonInCharge`, the development rule for who is an
enterprise's legal representative, reads the faces of its permits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Final

import orjson

from wallet.clock import Clock
from wallet.holders.models import Enterprise, Person
from wallet.licences.builders import DOCUMENT_CONTEXT
from wallet.licences.catalogue import CATALOGUE, LicenceKind
from wallet.licences.models import Licence
from wallet.licences.repository import LicenceRepository
from wallet.licences.status import RegistryStatus
from wallet.uow import UnitOfWork
from wallet.vault import Vault, mask_id_number, mask_name, mask_text

__all__ = ["LicenceFaces", "PermitPersonInCharge", "mask_face", "needs_photo"]

_NAME_FIELDS = frozenset({"name", "person_in_charge"})
_PERMIT_KINDS: Final = tuple(k.code for k in CATALOGUE.values() if k.holder_type == "enterprise")


class LicenceFaces:
    """Opens the faces of licences' current versions."""

    def __init__(self, licences: LicenceRepository, vault: Vault) -> None:
        self.licences = licences
        self.vault = vault

    async def current(
        self, uow: UnitOfWork, licences: Iterable[Licence]
    ) -> dict[uuid.UUID, dict[str, Any]]:
        """The face of each licence's current version, keyed by licence id."""
        sealed = await self.licences.current_documents(
            uow, {lic.id: lic.version for lic in licences}
        )
        faces: dict[uuid.UUID, dict[str, Any]] = {}
        for licence_id, document_sealed in sealed.items():
            document = orjson.loads(self.vault.open(document_sealed, DOCUMENT_CONTEXT))
            faces[licence_id] = dict(document.get("face") or {})
        return faces


class PermitPersonInCharge:
    """Development rule: the person in charge named on a current, valid permit.

    The registry feed names a permit's person in charge (负责人, person in
    charge) by name only: the bound person whose name (blind index) equals
    it on one of the enterprise's current, valid permits is its legal
    representative. A production deployment plugs in a check against the
    enterprise register instead.
    """

    def __init__(
        self, licences: LicenceRepository, faces: LicenceFaces, vault: Vault, clock: Clock
    ) -> None:
        self.licences = licences
        self.faces = faces
        self.vault = vault
        self.clock = clock

    async def confirms(self, uow: UnitOfWork, enterprise: Enterprise, person: Person) -> bool:
        """Compare the blind index of each valid permit's person in charge with the person's."""
        today = self.clock.now().date()
        permits = [
            p
            for p in await self.licences.of_enterprise(
                uow, enterprise.id, _PERMIT_KINDS, RegistryStatus.VALID.value
            )
            if p.valid_until is None or p.valid_until >= today
        ]
        faces = await self.faces.current(uow, permits)
        return any(
            self.vault.blind_index(str(face.get("person_in_charge", "")), "name")
            == person.name_index
            for face in faces.values()
        )


def needs_photo(kind: LicenceKind, face: Mapping[str, Any]) -> bool:
    """A person licence whose kind has a photo field and whose face has no photo."""
    return kind.holder_type == "person" and "photo" in kind.field_names and not face.get("photo")


def _mask(kind: LicenceKind, name: str, value: Any) -> Any:
    spec = kind.field(name)
    if not spec.pii:
        return value
    text = str(value)
    if spec.type == "resident_id":
        return mask_id_number(text)
    if spec.type == "date":
        return text[:4] + "-**-**"
    if name in _NAME_FIELDS:
        return mask_name(text)
    return mask_text(text, keep=3)


def mask_face(kind: LicenceKind, face: Mapping[str, Any]) -> dict[str, Any]:
    """The face with personal data masked and the photo reference left out."""
    return {
        name: _mask(kind, name, value)
        for name, value in face.items()
        if name in kind.field_names and kind.field(name).type != "photo_ref"
    }
