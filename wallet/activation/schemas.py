"""What crosses the boundary of activation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wallet.schemas import StrictIn

__all__ = [
    "ActivationIn",
    "ActivationOut",
    "DeactivationOut",
    "ReactivationIn",
    "ReactivationOut",
    "TotpOut",
]


class ActivationIn(StrictIn):
    """The device to bind; its SM2 public key lets it sign later (optional)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "device_id": "dev_8f3a1c2b9e7d4f60",
                    # A point on the curve (the SM2 base point), so the example is accepted.
                    "device_public_key": "04"
                    "32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7"
                    "BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0",
                }
            ]
        },
    )

    device_id: str = Field(pattern=r"^[A-Za-z0-9_-]{16,64}$")
    device_public_key: str | None = Field(
        default=None,
        pattern=r"^04[0-9a-fA-F]{128}$",
        description="uncompressed SM2 key 04‖x‖y, hex",
    )


class TotpOut(BaseModel):
    """The offline TOTP parameters (RFC 6238 with HMAC-SM3)."""

    seed: str = Field(description="base32; store it in the device's secure storage")
    digits: Literal[8] = 8
    period: Literal[30] = 30
    algorithm: Literal["SM3"] = "SM3"


class ActivationOut(BaseModel):
    """A new activation. The seed is shown once: it is stored sealed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "activation_id": "9b1f3c70-4a2e-4c55-9a39-0c8f3d6e2b11",
                    "device_id": "dev_8f3a1c2b9e7d4f60",
                    "totp": {
                        "seed": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                        "digits": 8,
                        "period": 30,
                        "algorithm": "SM3",
                    },
                    "offline_credential": "eyJhbGciOiJTTTIiLCJraWQiOiJwcmVzLTAxMjM0NTY3Iiwi"
                    "dHlwIjoicnRlbC1jcmVkIn0"
                    ".eyJsaWMiOiJMSjZVM1pLUTJUNFhXN041QSJ9.MEUCIQ",
                }
            ]
        }
    )

    activation_id: uuid.UUID
    device_id: str
    totp: TotpOut
    offline_credential: str | None = Field(
        description="The offline credential, minted with every activation: a "
        "`CredentialJws` (`typ` `rtel-cred`, payload `CredentialPayload`), valid up to 7 days "
        "(`WALLET_OFFLINE_CREDENTIAL_LIFETIME`). Shown offline as `<credential>~<TOTP code>` "
        "(`OfflinePresentation`); activate again for a fresh one.",
        json_schema_extra={"x-jws-payload": {"x-component": "CredentialPayload"}},
    )


class DeactivationOut(BaseModel):
    """The activation that ended."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "activation_id": "9b1f3c70-4a2e-4c55-9a39-0c8f3d6e2b11",
                    "device_id": "dev_8f3a1c2b9e7d4f60",
                    "status": "deactivated",
                    "ended_at": "2026-11-25T03:00:00Z",
                }
            ]
        }
    )

    activation_id: uuid.UUID
    device_id: str
    status: str
    ended_at: datetime


class ReactivationIn(StrictIn):
    """Why the authority makes the holder activate the licence again."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "持证人报告设备被盗用"}]})

    reason: str = Field(min_length=1, max_length=256)


class ReactivationOut(BaseModel):
    """How many activations the reset ended (0 when none was active)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"ref": "LAAAAAAAAAAAAAAAA", "ended": 1}]}
    )

    ref: str
    ended: int = Field(ge=0)
