"""Errors of claiming, review and activation (each a :class:`~wallet.errors.WalletError`).

Tree::

    LicenceNotFound (404 licence_not_found)     unknown, or not the caller's
    NotClaimed (409 not_claimed)                claim it first
    ClaimPendingReview (409 claim_pending_review)
    ClaimRejected (409 claim_rejected)          claim again with a new photo
    AlreadyClaimed (409 already_claimed)
    ClaimNotPending (409 claim_not_pending)     review of a claim not waiting for it
    LicenceEnded (409 licence_ended)            revoked or cancelled
    PhotoRequired (422 photo_required)          the registry has no photo
    PhotoNotNeeded (422 photo_not_needed)       the registry has one (minimal collection)
    InvalidPhoto (422 invalid_photo)            not a JPEG or PNG, or unreadable
    PhotoTooLarge (413 photo_too_large)
"""

from __future__ import annotations

from wallet.errors import Conflict, NotFound, ValidationFailed, WalletError

__all__ = [
    "AlreadyClaimed",
    "ClaimNotPending",
    "ClaimPendingReview",
    "ClaimRejected",
    "InvalidPhoto",
    "LicenceEnded",
    "LicenceNotFound",
    "NotClaimed",
    "PhotoNotNeeded",
    "PhotoRequired",
    "PhotoTooLarge",
]


class LicenceNotFound(NotFound):
    type_code = "licence_not_found"
    title = "No licence with that reference among yours"


class NotClaimed(Conflict):
    type_code = "not_claimed"
    title = "Claim the licence first"


class ClaimPendingReview(Conflict):
    type_code = "claim_pending_review"
    title = "The claim waits for the authority's review"


class ClaimRejected(Conflict):
    type_code = "claim_rejected"
    title = "The claim was rejected: claim again with a new photo"


class AlreadyClaimed(Conflict):
    type_code = "already_claimed"
    title = "The licence is already claimed"


class ClaimNotPending(Conflict):
    type_code = "claim_not_pending"
    title = "The claim is not waiting for review"


class LicenceEnded(Conflict):
    type_code = "licence_ended"
    title = "The licence is revoked or cancelled"


class PhotoRequired(ValidationFailed):
    type_code = "photo_required"
    title = "The registry has no photo for this licence: send one"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(
            detail,
            errors=[{"field": "photo", "rule": "required", "message": "JPEG or PNG, at most 2 MB"}],
        )


class PhotoNotNeeded(ValidationFailed):
    type_code = "photo_not_needed"
    title = "The registry already has the photo: do not send one"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(
            detail, errors=[{"field": "photo", "rule": "not_needed", "message": "omit the photo"}]
        )


class InvalidPhoto(ValidationFailed):
    type_code = "invalid_photo"
    title = "The photo is not a readable JPEG or PNG image"

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(errors=[{"field": "photo", "rule": rule, "message": message}])


class PhotoTooLarge(WalletError):
    type_code = "photo_too_large"
    status = 413
    title = "The photo is larger than 2 MB"
