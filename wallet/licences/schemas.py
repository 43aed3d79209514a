"""What crosses the boundary of the licence registry: feed input and licence views."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wallet.licences.face_schema import face_by_kind
from wallet.schemas import KIND_PATTERN, REF_PATTERN, StrictIn

__all__ = [
    "ChangeType",
    "HolderIn",
    "IssuerIn",
    "LicenceOut",
    "LicencePage",
    "SearchIn",
    "StatusIn",
    "VersionIn",
    "VersionOut",
]

ChangeType = Literal["issue", "change", "renewal", "replacement", "annual_review"]


class IssuerIn(StrictIn):
    """The issuing department (签发部门, issuing authority)."""

    uscc: str = Field(min_length=18, max_length=18, examples=["11210000MB0000000J"])
    division: str = Field(min_length=6, max_length=6, examples=["210102"])
    name: str = Field(min_length=1, max_length=128, examples=["沈阳市和平区交通运输局"])


class HolderIn(StrictIn):
    """The operator owning a vehicle (required for vehicle kinds)."""

    uscc: str = Field(min_length=18, max_length=18)


class VersionIn(StrictIn):
    """One licence version from the registry; idempotent by kind + number + version."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "business_permit",
                    "version": 1,
                    "change_type": "issue",
                    "issuer": {
                        "uscc": "11210000MB0000000J",
                        "division": "210102",
                        "name": "沈阳市和平区交通运输局",
                    },
                    "face": {
                        "operator_name": "沈阳示例运输有限公司",
                        "address": "沈阳市和平区示例路1号",
                        "person_in_charge": "王伟",
                        "uscc": "91210102MA00000070",
                        "economic_type": "有限责任公司",
                        "business_scope": "道路普通货物运输",
                        "permit_number": "210102000123",
                        "valid_from": "2026-01-01",
                        "valid_until": "2029-12-31",
                        "issuing_authority": "沈阳市和平区交通运输局",
                        "issue_date": "2026-01-01",
                    },
                }
            ]
        },
    )

    kind: str = Field(min_length=1, max_length=32)
    version: int = Field(ge=1, le=999)
    change_type: ChangeType = "issue"
    reason: str = Field(default="", max_length=256)
    issuer: IssuerIn
    holder: HolderIn | None = None
    serial: str | None = Field(default=None, pattern=r"^[0-9A-Z]{1,64}$")
    issued_at: datetime | None = None
    face: dict[str, Any]


class StatusIn(StrictIn):
    action: Literal["suspend", "revoke", "cancel", "reinstate"]
    reason: str = Field(min_length=1, max_length=256)


class SearchIn(StrictIn):
    """Exact lookups by identifier; personal values travel in the body, never in a URL."""

    number: str | None = Field(default=None, max_length=32)
    id_number: str | None = Field(default=None, max_length=18)
    uscc: str | None = Field(default=None, max_length=18)
    plate_number: str | None = Field(default=None, max_length=16)
    kind: str | None = Field(default=None, pattern=KIND_PATTERN)
    cursor: str | None = Field(default=None, pattern=REF_PATTERN, description="a `next_cursor`")
    limit: int = Field(default=50, ge=1, le=500)


class LicenceOut(BaseModel):
    ref: str
    kind: str
    kind_name: str
    number: str = Field(description="masked when it is a personal identifier")
    status: str = Field(description="registry status, or `expired` past the validity end")
    registry_status: str
    version: int
    identifier: str
    valid_from: date | None
    valid_until: date | None
    issuer_division: str
    issuer_name: str
    updated_at: datetime


class VersionOut(BaseModel):
    """One recorded version: its face (the schema of its ``kind``), document and seal."""

    model_config = ConfigDict(json_schema_extra=face_by_kind("Face"))

    ref: str
    kind: str
    version: int
    identifier: str
    change_type: str
    reason: str
    authority: str
    issued_at: datetime
    valid_from: date | None
    valid_until: date | None
    seal_kid: str
    seal: str = Field(description="SM2 r‖s hex over `document`")
    document: str = Field(description="the canonical document the seal signs (UTF-8 JSON)")
    face: dict[str, Any]


class LicencePage(BaseModel):
    items: list[LicenceOut]
    next_cursor: str | None
