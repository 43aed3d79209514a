"""What crosses the boundary of sharing: parties, grants, share codes, copies, accesses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field

from wallet.jws_payloads import COMPACT_JWS
from wallet.schemas import REF_PATTERN, USCC_PATTERN, StrictIn
from wallet.sharing.purposes import PURPOSES

__all__ = [
    "GRANT_ID_PATTERN",
    "MAX_GRANT_DAYS",
    "AccessOut",
    "AccessPage",
    "AuthorityGrantIn",
    "CodeRedeemIn",
    "CopyOut",
    "GrantIn",
    "GrantOut",
    "GrantPage",
    "PartyCreated",
    "PartyIn",
    "PartyOut",
    "PartyPage",
    "PartyRef",
    "RedeemIn",
    "ShareCodeIn",
    "ShareCodeOut",
]

GRANT_ID_PATTERN = r"^G[A-Z2-7]{16}$"
"""A grant's public id: ``G`` and 16 base32 characters (80 random bits)."""
MAX_GRANT_DAYS = 90
FIELD_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
GrantStatus = Literal["live", "expired", "revoked", "used_up"]
GrantSource = Literal["holder", "authority", "share_code"]


def _purpose(code: str) -> str:
    if code not in PURPOSES:
        raise ValueError("unknown purpose code")
    return code


Purpose = Annotated[
    str,
    Field(
        max_length=32,
        description="a purpose code: "
        + ", ".join(f"`{code}` {label}" for code, label in PURPOSES.items()),
        json_schema_extra={"enum": list(PURPOSES)},
    ),
    AfterValidator(_purpose),
]
FieldName = Annotated[str, Field(pattern=FIELD_PATTERN)]
Ref = Annotated[str, Field(pattern=REF_PATTERN)]


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("values must not repeat")
    return values


class PartyIn(StrictIn):
    """Register a relying party."""

    name: str = Field(min_length=1, max_length=128)
    uscc: str = Field(pattern=USCC_PATTERN)
    purposes: Annotated[list[Purpose], AfterValidator(_unique)] = Field(
        json_schema_extra={"uniqueItems": True}, min_length=1, max_length=len(PURPOSES)
    )
    sm2_public_key: str | None = Field(
        default=None, pattern=r"^04[0-9a-fA-F]{128}$", description="to accept SM2 signatures"
    )


class PartyRef(BaseModel):
    name: str
    uscc: str


class PartyOut(BaseModel):
    party_id: str = Field(description="its `X-Client-Id` for signed requests")
    name: str
    uscc: str
    purposes: list[str]
    status: Literal["active", "disabled"]
    sm2: bool = Field(description="whether SM2-signed requests are accepted")
    created_at: datetime
    disabled_at: datetime | None


class PartyCreated(PartyOut):
    secret: str = Field(description="the HMAC-SM3 secret, shown once")


class PartyPage(BaseModel):
    items: list[PartyOut]
    next_cursor: int | None


class GrantIn(StrictIn):
    """Grant a party named fields of one or more of your licences."""

    party: str = Field(pattern=USCC_PATTERN, description="the relying party's USCC")
    licences: Annotated[list[Ref], AfterValidator(_unique)] = Field(
        json_schema_extra={"uniqueItems": True}, min_length=1, max_length=50
    )
    fields: Annotated[list[FieldName], AfterValidator(_unique)] = Field(
        json_schema_extra={"uniqueItems": True},
        min_length=1,
        max_length=40,
        description="face fields of the licences' kind",
    )
    purpose: Purpose
    until: datetime = Field(description=f"end of the grant, at most {MAX_GRANT_DAYS} days ahead")
    max_uses: int | None = Field(
        default=1, ge=1, le=1000, description="redemptions allowed; null: any until `until`"
    )


class AuthorityGrantIn(GrantIn):
    """Grant a party (another department) named fields of licences in the client's division."""


class GrantOut(BaseModel):
    id: str = Field(pattern=GRANT_ID_PATTERN)
    source: GrantSource = Field(description="`authority` grants were made by the authority")
    party: PartyRef
    licences: list[str]
    fields: list[str]
    purpose: str
    purpose_label: str
    expires_at: datetime
    max_uses: int | None
    uses: int
    status: GrantStatus
    created_at: datetime
    revoked_at: datetime | None


class GrantPage(BaseModel):
    items: list[GrantOut]
    next_cursor: str | None


class ShareCodeIn(StrictIn):
    """A one-time code to show a party face to face."""

    licence: Ref
    fields: Annotated[list[FieldName], AfterValidator(_unique)] = Field(
        json_schema_extra={"uniqueItems": True}, min_length=1, max_length=40
    )
    purpose: Purpose
    form: Literal["qr", "short"] = Field(
        default="qr", description="`qr`: 128 random bits; `short`: 8 characters to read aloud"
    )
    lifetime: int = Field(default=300, ge=60, le=900, description="seconds the code lives")
    grant_days: int = Field(
        default=30, ge=1, le=MAX_GRANT_DAYS, description="how long the redeemed copy is valid"
    )


class ShareCodeOut(BaseModel):
    code: str = Field(description="the QR string, or the short code as `XXXX-XXXX`")
    form: Literal["qr", "short"]
    expires_at: datetime


class RedeemIn(StrictIn):
    grant: str = Field(pattern=GRANT_ID_PATTERN)
    licence: Ref


class CodeRedeemIn(StrictIn):
    code: str = Field(min_length=1, max_length=64, description="as scanned or typed")


class CopyOut(BaseModel):
    copy_token: str = Field(
        alias="copy",
        pattern=COMPACT_JWS,
        description="the annotated copy: a compact JWS of `typ` `rtel-copy`, signed with the "
        "platform copy key listed in the trust list",
    )
    copy_id: str
    grant: str
    licence: str
    kind: str
    version: int
    party: PartyRef
    purpose: str
    purpose_label: str
    status: str = Field(description="the licence's live status when the copy was issued")
    fields: dict[str, str] = Field(description="the granted fields only, as printed")
    issued_at: datetime
    expires_at: datetime

    model_config = {"populate_by_name": True}


class AccessOut(BaseModel):
    at: datetime
    party: PartyRef
    licence: str
    fields: list[str]
    purpose: str
    purpose_label: str
    form: Literal["grant", "qr", "short"]


class AccessPage(BaseModel):
    items: list[AccessOut]
    next_cursor: int | None
