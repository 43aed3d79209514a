"""What crosses the boundary of accounts: sign-in, sessions and real-name binding."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wallet.schemas import StrictIn

__all__ = [
    "FaceVerificationIn",
    "FaceVerificationOut",
    "IdentityIn",
    "IdentityOut",
    "RebindIn",
    "SessionIn",
    "SessionOut",
    "TransportKeyOut",
]


class SessionIn(StrictIn):
    """A ``wx.login()`` code."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"code": "0c3Tk7Ga1LQ2dB0Xh9Ia1"}]},
    )

    code: str = Field(min_length=1, max_length=128)


class SessionOut(BaseModel):
    """Our own session: send ``Authorization: Bearer <token>``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "token": "Xq3l9yO2mJ4dHk8cQpW1sVb7nRt0uEa6fGi5zKx2LcY",
                    "expires_in": 7200,
                    "bound": False,
                }
            ]
        }
    )

    token: str = Field(description="256 random bits, base64url; keep it secret")
    expires_in: int = Field(description="seconds; renew with POST /api/v1/session/renew")
    bound: bool = Field(description="whether a real-name identity is bound to this account")


class TransportKeyOut(BaseModel):
    """The SM2 key under which the mini-program may encrypt binding fields."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "public_key": "04" + "ab" * 64,
                    "algorithm": "SM2",
                    "layout": "C1C3C2",
                    "encoding": "hex",
                    "identity_provider": "wechat_face",
                }
            ]
        }
    )

    public_key: str = Field(description="uncompressed 04‖x‖y, hex")
    algorithm: Literal["SM2"] = "SM2"
    layout: Literal["C1C3C2"] = "C1C3C2"
    encoding: Literal["hex"] = "hex"
    identity_provider: str = Field(
        description="how a binding is confirmed: `wechat_face`: run face verification "
        "first, `registry`: send the fields. A rebind always needs face verification"
    )


class FaceVerificationIn(StrictIn):
    """The identity to verify by face (fields clear, or SM2-encrypted when ``encrypted``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "王伟", "id_number": "210102199003071233", "encrypted": False}]
        },
    )

    name: str = Field(min_length=1, max_length=2048)
    id_number: str = Field(min_length=1, max_length=2048)
    encrypted: bool = False


class FaceVerificationOut(BaseModel):
    """Pass ``verify_id`` to ``wx.requestFacialVerify``, then to POST /api/v1/identity."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"verify_id": "vid_5f0c1d2e3a4b5c6d7e8f", "expires_in": 3600}]
        }
    )

    verify_id: str
    expires_in: int


class IdentityIn(StrictIn):
    """Real-name binding: name and resident ID number, optional phone code and face session.

    With ``encrypted`` true, ``name`` and ``id_number`` are SM2 C1C3C2
    ciphertexts in hex under the transport key (miniprogram-sm-crypto's
    ``sm2.doEncrypt(text, key, 1)``).
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "王伟",
                    "id_number": "210102199003071233",
                    "phone_code": "e31968a7f94cc5ee25fafc2aef2773f0bb8c3937",
                },
                {
                    "name": "8f1c…",
                    "id_number": "b27a…",
                    "encrypted": True,
                    "verify_id": "vid_5f0c1d2e3a4b5c6d7e8f",
                },
            ]
        },
    )

    name: str = Field(min_length=1, max_length=2048)
    id_number: str = Field(min_length=1, max_length=2048)
    encrypted: bool = False
    verify_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="required when the provider is `wechat_face`",
    )
    phone_code: str | None = Field(
        default=None, min_length=1, max_length=128, description="code from a getPhoneNumber button"
    )


class RebindIn(IdentityIn):
    """Taking an identity over: always through WeChat face verification (``verify_id``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "8f1c…",
                    "id_number": "b27a…",
                    "encrypted": True,
                    "verify_id": "vid_5f0c1d2e3a4b5c6d7e8f",
                }
            ]
        },
    )


class IdentityOut(BaseModel):
    """The identity bound to the account, masked."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "bound": True,
                    "name": "王*",
                    "id_number": "2101**********1234",
                    "phone": "138****5678",
                    "bound_at": "2026-11-25T02:40:00Z",
                }
            ]
        }
    )

    bound: bool
    name: str | None = None
    id_number: str | None = None
    phone: str | None = None
    bound_at: datetime | None = None
