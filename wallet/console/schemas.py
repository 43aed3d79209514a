"""What crosses the boundary of the console: sign-in, the user, licence pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wallet.claims.schemas import ReviewItem
from wallet.figures.schemas import FigureRow, FiguresOut
from wallet.licences.schemas import LicenceOut
from wallet.schemas import StrictIn
from wallet.verification.verdict import Verdict

__all__ = [
    "ConsoleSessionOut",
    "ConsoleSignIn",
    "ConsoleUserOut",
    "FiguresSeries",
    "FiguresSeriesQuery",
    "LicenceDetail",
    "LicenceFace",
    "MonthFigures",
    "QueuePage",
    "StatusChangeRow",
    "VerificationRow",
    "VersionRow",
]


class ConsoleSignIn(StrictIn):
    """An authority user's sign-in."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"username": "reviewer.li", "password": "correct horse battery"}]
        }
    )
    username: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=256)


class ConsoleUserOut(BaseModel):
    username: str
    name: str
    division: str
    role: Literal["reviewer", "supervisor"]


class ConsoleSessionOut(BaseModel):
    """The signed-in user and the CSRF token to send as ``X-CSRF-Token``."""

    user: ConsoleUserOut
    csrf_token: str
    expires_in: int | None = Field(default=None, description="seconds, on sign-in")


class QueuePage(BaseModel):
    """Claims waiting for photo review, oldest first; photos under ``/console/api``."""

    items: list[ReviewItem]
    next_cursor: str | None


class LicenceFace(BaseModel):
    """A licence and its current face, masked for reviewers (no photo reference)."""

    licence: LicenceOut
    face: dict[str, Any]
    masked: bool


class VersionRow(BaseModel):
    version: int
    change_type: str
    reason: str
    authority: str
    issued_at: datetime
    valid_from: date | None
    valid_until: date | None
    seal_kid: str
    seal: Literal["valid", "invalid", "unknown_key"] = Field(
        description="the SM2 seal over the version's document, checked now against the key"
    )


class StatusChangeRow(BaseModel):
    action: str
    from_status: str
    to_status: str
    reason: str
    authority: str
    at: datetime


class VerificationRow(BaseModel):
    at: datetime
    verdict: Verdict
    mode: str
    officer_division: str
    officer_badge: str


class LicenceDetail(LicenceFace):
    """The licence page: versions with their seal check, status history, verifications."""

    versions: list[VersionRow]
    status_history: list[StatusChangeRow]
    verifications: list[VerificationRow]


class FiguresSeriesQuery(StrictIn):
    """``division`` (default: the user's own) and how many months the charts cover."""

    division: str | None = Field(default=None, pattern=r"^[0-9]{6}$")
    months: int = Field(default=12, ge=1, le=36)


class MonthFigures(BaseModel):
    """The rates of the licences (versions) first recorded in one month (China time)."""

    period: str
    row: FigureRow | None = Field(description="null when the division has no row that month")


class FiguresSeries(BaseModel):
    """The all-time report (the division, its cities and counties) and the months' rows."""

    overall: FiguresOut
    months: list[MonthFigures]
