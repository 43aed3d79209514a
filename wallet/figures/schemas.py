"""What crosses the boundary of the figures: the query and the rows per division."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from wallet.figures.periods import PERIOD_PATTERN
from wallet.schemas import StrictIn

__all__ = ["FigureRow", "FiguresOut", "FiguresQuery"]

Level = Literal["province", "city", "county"]


class FiguresQuery(StrictIn):
    """``division`` (default: the caller's own) and ``period`` (default: all time)."""

    division: str | None = Field(
        default=None, pattern=r"^[0-9]{6}$", description="a GB/T 2260 division code"
    )
    period: str | None = Field(
        default=None,
        pattern=PERIOD_PATTERN,
        description="licences (versions) first recorded in a year, quarter or month, "
        "China time: 2026, 2026-Q4, 2026-11",
    )


class FigureRow(BaseModel):
    """The four rates of one division with the counts behind them (rates 0..1, None for 0/0)."""

    level: Level
    division: str
    valid: int = Field(description="valid licences: status valid and not past valid_until")
    issued: int = Field(description="valid licences whose e-licence is issued to a holder")
    activated: int = Field(description="issued licences activated on a device")
    acknowledged: int = Field(
        description="issued licences whose latest event the ministry acknowledged"
    )
    versions: int = Field(description="licence versions recorded")
    compliant: int = Field(description="versions passing every compliance rule")
    failures: dict[str, int] = Field(description="versions failing each rule")
    issuance_rate: float | None = Field(description="制证率: issued / valid")
    activation_rate: float | None = Field(description="激活率: activated / issued")
    compliance_rate: float | None = Field(description="数据合规率: compliant / versions")
    aggregation_rate: float | None = Field(description="归集率: acknowledged / issued")


class FiguresOut(BaseModel):
    """Rows for the division asked for, its cities and counties (province first)."""

    division: str
    period: str | None
    as_of: str = Field(description="the day (China time) validity was judged on")
    rules: list[str] = Field(description="the compliance rules, in order")
    items: list[FigureRow]
