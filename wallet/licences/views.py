"""Views: what the authority API shows of a licence and of one of its versions."""

from __future__ import annotations

from datetime import date

import orjson

from wallet.licences.builders import DOCUMENT_CONTEXT
from wallet.licences.catalogue import LicenceKind
from wallet.licences.models import Licence, LicenceVersion
from wallet.licences.schemas import LicenceOut, VersionOut
from wallet.licences.status import effective_status
from wallet.vault import Vault

__all__ = ["licence_view", "version_view"]


def licence_view(licence: Licence, kind: LicenceKind, today: date) -> LicenceOut:
    """The authority's view of a licence (number masked when it is a personal identifier)."""
    return LicenceOut(
        ref=licence.ref,
        kind=licence.kind,
        kind_name=kind.name,
        number=licence.number_display,
        status=effective_status(licence.status, licence.valid_until, today),
        registry_status=licence.status,
        version=licence.version,
        identifier=licence.identifier,
        valid_from=licence.valid_from,
        valid_until=licence.valid_until,
        issuer_division=licence.issuer_division,
        issuer_name=licence.issuer_name,
        updated_at=licence.updated_at,
    )


def version_view(licence: Licence, row: LicenceVersion, vault: Vault) -> VersionOut:
    """One version with its face, canonical document (opened by the vault) and seal."""
    document = vault.open(row.document_sealed, DOCUMENT_CONTEXT)
    return VersionOut(
        ref=licence.ref,
        kind=licence.kind,
        version=row.version,
        identifier=row.identifier,
        change_type=row.change_type,
        reason=row.reason,
        authority=row.authority,
        issued_at=row.issued_at,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        seal_kid=row.seal_kid,
        seal=row.seal,
        document=document,
        face=orjson.loads(document)["face"],
    )
