"""What crosses the boundary of operators: enterprise binding and agents."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from wallet.schemas import USCC_PATTERN, StrictIn

__all__ = [
    "AgentIn",
    "AgentList",
    "AgentOut",
    "EnterpriseBindIn",
    "EnterpriseList",
    "EnterpriseOut",
]


class EnterpriseBindIn(StrictIn):
    """Bind an operator, by its unified social credit code, to its legal representative."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"uscc": "91210102MA00000070"}]},
    )

    uscc: str = Field(pattern=USCC_PATTERN)


class EnterpriseOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "uscc": "91210102MA00000070",
                    "name": "沈阳示例运输有限公司",
                    "division": "210102",
                    "role": "legal_representative",
                }
            ]
        }
    )

    uscc: str
    name: str
    division: str
    role: Literal["legal_representative", "agent"]


class EnterpriseList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "uscc": "91210102MA00000070",
                            "name": "沈阳示例运输有限公司",
                            "division": "210102",
                            "role": "agent",
                        }
                    ]
                }
            ]
        }
    )

    items: list[EnterpriseOut]


class AgentIn(StrictIn):
    """The person to authorise: they must have signed in and bound their real name."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "李娜", "id_number": "210102198805061243"}]},
    )

    name: str = Field(min_length=1, max_length=2048)
    id_number: str = Field(min_length=1, max_length=2048)
    encrypted: bool = Field(
        default=False, description="SM2 C1C3C2 hex under the transport key, as at binding"
    )


class AgentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f9d7a10-2b4c-4e8f-9a1b-6c5d4e3f2a10",
                    "name": "李*",
                    "id_number": "2101**********1246",
                    "status": "active",
                    "granted_at": "2026-11-25T02:40:00Z",
                    "revoked_at": None,
                }
            ]
        }
    )

    id: uuid.UUID
    name: str = Field(description="masked")
    id_number: str = Field(description="masked")
    status: Literal["active", "revoked"]
    granted_at: datetime
    revoked_at: datetime | None = None


class AgentList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "id": "3f9d7a10-2b4c-4e8f-9a1b-6c5d4e3f2a10",
                            "name": "李*",
                            "id_number": "2101**********1246",
                            "status": "revoked",
                            "granted_at": "2026-11-25T02:40:00Z",
                            "revoked_at": "2026-11-26T08:00:00Z",
                        }
                    ]
                }
            ]
        }
    )

    items: list[AgentOut]
