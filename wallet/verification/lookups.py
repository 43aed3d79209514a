"""The lookup rule of DESIGN §7: what a check without a QR may ask and show.

A lookup reveals data without the holder's action. Inspectors get the
status and a minimal face: names masked, ID numbers masked, no address, no
birth date, no photo. The full face, and lookups by resident ID number, are
for supervisors; a licence number that is a resident ID number (a
qualification certificate's number is its holder's ID number) counts as one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wallet import identifiers
from wallet.errors import InvalidIdentifier
from wallet.licences.catalogue import LicenceKind
from wallet.vault import mask_id_number, mask_name
from wallet.vault.service import normalise

__all__ = ["is_resident_id_number", "minimal_face", "numbered_by_resident_id"]


def is_resident_id_number(value: str) -> bool:
    """Whether ``value``, in the form the registry indexes it, is a resident ID number."""
    try:
        identifiers.resident_id(normalise(value))
    except InvalidIdentifier:
        return False
    return True


def numbered_by_resident_id(kind: LicenceKind) -> bool:
    """Whether the kind's licence number is its holder's resident ID number."""
    return kind.number_format == "resident_id"


def minimal_face(kind: LicenceKind, face: Mapping[str, Any]) -> dict[str, Any]:
    """The face an inspector's lookup shows.

    Dropped: addresses, personal dates (the birth date) and photos. Masked:
    ID numbers and the remaining personal text (names). Kept: what is not
    personal (categories, validity, plate, issuer).
    """
    shown: dict[str, Any] = {}
    for spec in kind.fields:
        if spec.name not in face:
            continue
        value = face[spec.name]
        if spec.type == "photo_ref" or "address" in spec.name or (spec.pii and spec.type == "date"):
            continue
        if spec.type == "resident_id":
            shown[spec.name] = mask_id_number(str(value))
        elif spec.pii:
            shown[spec.name] = mask_name(str(value))
        else:
            shown[spec.name] = value
    return shown
