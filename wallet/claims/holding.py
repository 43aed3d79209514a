"""Whose a licence is: its holder columns, and whether a claim still stands for them."""

from __future__ import annotations

from wallet.claims.errors import ClaimPendingReview, ClaimRejected, LicenceEnded, NotClaimed
from wallet.claims.models import Claim
from wallet.holders.principal import HolderIds
from wallet.licences.models import Licence
from wallet.licences.status import TERMINAL, RegistryStatus

__all__ = ["claim_holds", "holder_of", "require_in_use"]


def holder_of(licence: Licence) -> HolderIds:
    """The licence's holder columns: (person id, enterprise id)."""
    return licence.holder_person_id, licence.holder_enterprise_id  # type: ignore[attr-defined]


def claim_holds(claim: Claim, licence: Licence) -> bool:
    """Whether ``claim`` was made for the licence's current holder (vehicles change hands)."""
    return (claim.person_id, claim.enterprise_id) == holder_of(licence)


def require_in_use(claim: Claim | None, licence: Licence) -> None:
    """Refuse a licence its holder cannot use yet or any more (activate, show, print):
    not claimed by its current holder, a claim in review or rejected, the licence ended."""
    if claim is None or not claim_holds(claim, licence):
        raise NotClaimed()
    if claim.status == "pending_review":
        raise ClaimPendingReview()
    if claim.status == "rejected":
        raise ClaimRejected(claim.reason or None)
    if RegistryStatus(licence.status) in TERMINAL:
        raise LicenceEnded(f"the licence is {licence.status}")
