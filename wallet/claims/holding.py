"""Whose a licence is: its holder columns, and whether a claim still stands for them."""

from __future__ import annotations

from wallet.claims.models import Claim
from wallet.holders.principal import HolderIds
from wallet.licences.models import Licence

__all__ = ["claim_holds", "holder_of"]


def holder_of(licence: Licence) -> HolderIds:
    """The licence's holder columns: (person id, enterprise id)."""
    return licence.holder_person_id, licence.holder_enterprise_id  # type: ignore[attr-defined]


def claim_holds(claim: Claim, licence: Licence) -> bool:
    """Whether ``claim`` was made for the licence's current holder (vehicles change hands)."""
    return (claim.person_id, claim.enterprise_id) == holder_of(licence)
