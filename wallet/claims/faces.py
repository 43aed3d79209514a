"""Faces of current licence versions, as the holder side needs them: opened, masked, checked.

The registry keeps each version's canonical document sealed; these helpers
open the current version's in one query for a page of licences, mask
personal data for display and tell whether the registry has a photo.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from wallet.licences.catalogue import LicenceKind
from wallet.licences.models import Licence, LicenceVersion
from wallet.licences.service import DOCUMENT_CONTEXT
from wallet.vault import Vault, mask_id_number, mask_name, mask_text

__all__ = ["current_faces", "mask_face", "needs_photo"]

_NAME_FIELDS = frozenset({"name", "person_in_charge"})


async def current_faces(
    vault: Vault, licences: Iterable[Licence], conn: BaseDBAsyncClient | None = None
) -> dict[uuid.UUID, dict[str, Any]]:
    """The face of each licence's current version, keyed by licence id."""
    wanted = {lic.id: lic.version for lic in licences}
    if not wanted:
        return {}
    query = LicenceVersion.filter(licence_id__in=list(wanted))
    if conn is not None:
        query = query.using_db(conn)
    rows = await query.values_list("licence_id", "version", "document_sealed")
    faces: dict[uuid.UUID, dict[str, Any]] = {}
    for licence_id, version, sealed in rows:
        key = uuid.UUID(str(licence_id))
        if wanted.get(key) == version:
            document = orjson.loads(vault.open(str(sealed), DOCUMENT_CONTEXT))
            faces[key] = dict(document.get("face") or {})
    return faces


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
