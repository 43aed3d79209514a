"""What crosses the boundary of claims: the holder's listing, claims and the review queue."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wallet.licences.face_schema import face_by_kind
from wallet.schemas import CURSOR_PATTERN, KIND_PATTERN, REF_PATTERN, USCC_PATTERN, StrictIn

__all__ = [
    "ActivationState",
    "BulkClaimIn",
    "BulkClaimItem",
    "BulkClaimOut",
    "ClaimIn",
    "ClaimOut",
    "ClaimState",
    "HolderLicenceOut",
    "HolderLicencePage",
    "ListingQuery",
    "RejectIn",
    "ReviewItem",
    "ReviewOut",
    "ReviewPage",
    "ReviewQuery",
    "WalletState",
]

WalletState = Literal["claimable", "claimed", "pending_review", "approved", "rejected", "active"]


class ListingQuery(StrictIn):
    """Filters and keyset pagination (by ``ref``) of the holder's licences."""

    cursor: str | None = Field(default=None, pattern=REF_PATTERN)
    limit: int = Field(default=50, ge=1, le=500)
    kind: str | None = Field(default=None, pattern=KIND_PATTERN)
    state: WalletState | None = None
    holder: Literal["person", "enterprise"] | None = None
    uscc: str | None = Field(
        default=None, pattern=USCC_PATTERN, description="only this enterprise's licences and fleet"
    )


class ClaimState(BaseModel):
    id: uuid.UUID
    status: Literal["claimed", "pending_review", "approved", "rejected"]
    reason: str | None = Field(default=None, description="why the authority rejected it")
    updated_at: datetime


class ActivationState(BaseModel):
    id: uuid.UUID
    device_id: str
    activated_at: datetime


class HolderLicenceOut(BaseModel):
    """A licence as its holder sees it: masked face, registry status and wallet state."""

    model_config = ConfigDict(json_schema_extra=face_by_kind("ShownFace"))

    ref: str
    kind: str
    kind_name: str
    holder_type: Literal["person", "enterprise", "vehicle"]
    holder_name: str = Field(description="masked for persons")
    holder_uscc: str | None = None
    number: str = Field(description="masked when it is a personal identifier")
    status: str = Field(description="registry status, or `expired` past the validity end")
    state: WalletState
    version: int
    valid_from: date | None
    valid_until: date | None
    issuer_name: str
    needs_photo: bool = Field(description="the registry has no photo: the claim needs one")
    face: dict[str, Any] = Field(description="face fields, personal data masked, no photo")
    claim: ClaimState | None = None
    activation: ActivationState | None = None


class HolderLicencePage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "ref": "LJ6U3ZKQ2T4XW7N5A",
                            "kind": "qualification",
                            "kind_name": "道路运输从业人员从业资格证",
                            "holder_type": "person",
                            "holder_name": "王*",
                            "holder_uscc": None,
                            "number": "2101**********1234",
                            "status": "valid",
                            "state": "claimable",
                            "version": 1,
                            "valid_from": "2024-03-01",
                            "valid_until": "2030-02-28",
                            "issuer_name": "示例交通运输局",
                            "needs_photo": True,
                            "face": {
                                "name": "王*",
                                "sex": "M",
                                "certificate_number": "2101**********1234",
                            },
                            "claim": None,
                            "activation": None,
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[HolderLicenceOut]
    next_cursor: str | None


class ClaimIn(StrictIn):
    """A claim; ``photo`` (base64 JPEG or PNG, at most 2 MB) only when the registry has none."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{}, {"photo": "/9j/4AAQSkZJRgABAQAAAQABAAD..."}]},
    )

    photo: str | None = Field(
        default=None,
        min_length=1,
        max_length=2_800_000,  # 2 MB in base64, and a data: URL prefix
        description="base64 (a data: URL prefix is allowed)",
    )


class ClaimOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ref": "LJ6U3ZKQ2T4XW7N5A",
                    "claim_id": "0e6b9a52-1f0c-4c7e-a3f4-5d8c9b2a7e10",
                    "status": "pending_review",
                    "reason": None,
                    "created": True,
                }
            ]
        }
    )

    ref: str
    claim_id: uuid.UUID
    status: Literal["claimed", "pending_review", "approved", "rejected"]
    reason: str | None = None
    created: bool = Field(description="false when the same claim already stood (idempotent)")


class BulkClaimIn(StrictIn):
    """Up to 1000 licence references (vehicle certificates of a fleet, typically)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"refs": ["LJ6U3ZKQ2T4XW7N5A", "LQ7M2C4R5V6B3N8KD"]}]},
    )

    refs: list[Annotated[str, Field(pattern=REF_PATTERN)]] = Field(min_length=1, max_length=1000)


class BulkClaimItem(BaseModel):
    ref: str
    outcome: Literal["claimed", "unchanged", "failed"]
    status: str | None = Field(default=None, description="the claim's status after the request")
    code: str | None = Field(default=None, description="problem code when it failed")
    detail: str | None = None


class BulkClaimOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {"ref": "LJ6U3ZKQ2T4XW7N5A", "outcome": "claimed", "status": "claimed"},
                        {
                            "ref": "LAAAAAAAAAAAAAAAA",
                            "outcome": "failed",
                            "code": "licence_not_found",
                            "detail": "No licence with that reference among yours",
                        },
                    ],
                    "claimed": 1,
                    "unchanged": 0,
                    "failed": 1,
                }
            ]
        }
    )

    results: list[BulkClaimItem]
    claimed: int
    unchanged: int
    failed: int


class ReviewQuery(StrictIn):
    cursor: str | None = Field(default=None, pattern=CURSOR_PATTERN)
    limit: int = Field(default=50, ge=1, le=200)


class ReviewItem(BaseModel):
    id: uuid.UUID
    licence_ref: str
    kind: str
    kind_name: str
    issuer_division: str
    holder_name: str = Field(description="masked")
    holder_id_number: str = Field(description="masked")
    submitted_at: datetime
    photo_url: str
    photo_width: int
    photo_height: int
    photo_size: int


class ReviewPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "0e6b9a52-1f0c-4c7e-a3f4-5d8c9b2a7e10",
                            "licence_ref": "LJ6U3ZKQ2T4XW7N5A",
                            "kind": "qualification",
                            "kind_name": "道路运输从业人员从业资格证",
                            "issuer_division": "210102",
                            "holder_name": "王*",
                            "holder_id_number": "2101**********1234",
                            "submitted_at": "2026-11-25T02:40:00Z",
                            "photo_url": "/authority/v1/claims/"
                            "0e6b9a52-1f0c-4c7e-a3f4-5d8c9b2a7e10/photo",
                            "photo_width": 358,
                            "photo_height": 441,
                            "photo_size": 40211,
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[ReviewItem]
    next_cursor: str | None


class RejectIn(StrictIn):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "照片不清晰，请上传白底正面免冠照片"}]},
    )

    reason: str = Field(min_length=1, max_length=256)


class ReviewOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0e6b9a52-1f0c-4c7e-a3f4-5d8c9b2a7e10",
                    "licence_ref": "LJ6U3ZKQ2T4XW7N5A",
                    "status": "approved",
                    "reason": None,
                    "reviewed_at": "2026-11-25T03:00:00Z",
                }
            ]
        }
    )

    id: uuid.UUID
    licence_ref: str
    status: Literal["approved", "rejected"]
    reason: str | None = None
    reviewed_at: datetime
