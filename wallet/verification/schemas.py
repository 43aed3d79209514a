"""What crosses the boundary for verification: scans, lookups and their answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from wallet.licences.face_schema import face_by_kind
from wallet.schemas import KIND_PATTERN
from wallet.verification.service import Outcome
from wallet.verification.verdict import Verdict

__all__ = [
    "CopySeen",
    "LicenceSeen",
    "LookupIn",
    "LookupOut",
    "VerificationIn",
    "VerificationOut",
]


class VerificationIn(BaseModel):
    """A scanned string."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"qr": "eyJhbGciOiJTTTIiLCJraWQiOiJwcmVzLTAxMjM0NTY3IiwidHlwIjoicnRlbC1xciJ9.eyJ…"}
            ]
        },
    )
    qr: str = Field(min_length=1, max_length=4096)


class LicenceSeen(BaseModel):
    """The licence a verdict is about, with the face the officer's role may see."""

    model_config = ConfigDict(json_schema_extra=face_by_kind("ShownFace", nullable_kind=True))

    ref: str | None
    kind: str | None
    version: int | None
    face: dict[str, Any]
    photo_url: str | None = Field(
        default=None,
        description="the holder's approved photo (JPEG) when the registry has none; "
        "fetchable by this officer for 10 minutes after the verification",
    )


class CopySeen(BaseModel):
    """What an annotated copy says of itself, once its seal held, and whether its grant lives."""

    copy_id: str = Field(description="`cid`")
    grant_id: str = Field(description="`gid`, the grant's public id")
    grant_live: bool | None = Field(
        description="whether the grant is still live (not revoked, not ended); null when it "
        "could not be checked (the offline function never can)"
    )
    party_uscc: str = Field(description="`aud`, the relying party's USCC")
    purpose: str = Field(description="`pur`, the purpose code")
    status_at_issue: str = Field(description="`sta`, the licence's status when the copy was made")
    fields: dict[str, str] = Field(description="`fld`, the granted fields as the copy states them")
    issued_at: datetime
    expires_at: datetime


class VerificationOut(BaseModel):
    """The verdict; for an authentic licence, the face the role may see and where its photo is."""

    verdict: Verdict = Field(description="one verdict of the closed set (DESIGN §7)")
    document: Literal["qr", "offline", "print", "copy"] | None = Field(
        default=None,
        description="what was checked: an online QR (`rtel-qr`), an offline QR (`rtel-cred~code`), "
        "a printable credential (`rtel-print`) or an annotated copy (`rtel-copy`); null for a "
        "lookup or a string that did not parse",
    )
    licence: LicenceSeen | None
    status_checked_at: datetime | None
    detail: str = ""
    copy_: CopySeen | None = Field(
        default=None,
        alias="copy",
        description="for an annotated copy whose seal held: its claims and `grant_live`",
    )

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    @classmethod
    def of(cls, outcome: Outcome, *, photo: bool = True) -> VerificationOut:
        """The answer for ``outcome``; ``photo=False`` withholds the photo (inspectors' lookups)."""
        licence = None
        if outcome.licence_ref is not None:
            licence = LicenceSeen(
                ref=outcome.licence_ref,
                kind=outcome.kind,
                version=outcome.version,
                face=outcome.face,
                # A face is shown only for an authentic licence; its photo goes with it.
                photo_url=f"/verifier/v1/licences/{outcome.licence_ref}/photo"
                if outcome.face and photo
                else None,
            )
        copy = None
        if outcome.copy is not None and outcome.claims is not None:
            copy = CopySeen(
                copy_id=outcome.copy.cid,
                grant_id=outcome.copy.gid,
                grant_live=outcome.grant_live,
                party_uscc=outcome.copy.aud,
                purpose=outcome.copy.pur,
                status_at_issue=outcome.copy.sta,
                fields=dict(outcome.copy.fld),
                issued_at=datetime.fromtimestamp(outcome.claims.iat, UTC),
                expires_at=datetime.fromtimestamp(outcome.claims.exp, UTC),
            )
        return cls(
            verdict=outcome.verdict,
            document=outcome.document,
            licence=licence,
            status_checked_at=outcome.status_checked_at,
            detail=outcome.detail,
            copy=copy,
        )


class LookupIn(BaseModel):
    """Exactly one of plate number, licence number or ID number."""

    model_config = ConfigDict(
        extra="forbid",
        # "Exactly one", for the document: one branch per identifier, given and non-empty.
        json_schema_extra={
            "oneOf": [
                {
                    "required": [name],
                    "properties": {name: {"type": "string", "minLength": 1, "maxLength": most}},
                }
                for name, most in (("plate_number", 16), ("number", 32), ("id_number", 18))
            ]
        },
    )
    plate_number: str | None = Field(default=None, max_length=16)
    number: str | None = Field(
        default=None,
        max_length=32,
        description="licence number; one that is a resident ID number (a qualification "
        "certificate's) is a lookup by ID number: supervisors only",
    )
    id_number: str | None = Field(
        default=None, max_length=18, description="resident ID number: supervisors only"
    )
    kind: str | None = Field(default=None, pattern=KIND_PATTERN)

    @model_validator(mode="after")
    def _one(self) -> LookupIn:
        given = [v for v in (self.plate_number, self.number, self.id_number) if v]
        if len(given) != 1:
            raise ValueError("give exactly one of plate_number, number, id_number")
        return self


class LookupOut(BaseModel):
    """The licences a lookup found, one verdict each."""

    results: list[VerificationOut]
