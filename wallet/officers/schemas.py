"""What crosses the boundary for officers: sign-in request and the session answer."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEVICE_PATTERN", "OfficerOut", "SessionIn", "SessionOut"]

DEVICE_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
"""An enforcement device id (also the ``X-Device-Id`` header)."""


class SessionIn(BaseModel):
    """An officer's sign-in on an enforcement device."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "badge": "21010001",
                    "password": "correct horse battery",
                    "device_id": "ENF-DEVICE-0001",
                }
            ]
        },
    )
    badge: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=256)
    device_id: str = Field(pattern=DEVICE_PATTERN)


class OfficerOut(BaseModel):
    """The signed-in officer, as the enforcement app shows it."""

    badge: str
    division: str
    role: str


class SessionOut(BaseModel):
    """A new officer session: the bearer token, its lifetime and whose it is."""

    token: str
    expires_in: int
    officer: OfficerOut
