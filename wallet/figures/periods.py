"""Reporting periods: a year, a quarter or a month, in China time (UTC+8)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

from wallet.errors import ValidationFailed

__all__ = ["PERIOD_PATTERN", "Period", "parse_period"]

CHINA: Final = timezone(timedelta(hours=8))
PERIOD_PATTERN: Final = r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"
"""``2026``, ``2026-Q4`` or ``2026-11`` (ASCII digits only)."""
_PERIOD: Final = re.compile(PERIOD_PATTERN[1:-1])


@dataclass(frozen=True)
class Period:
    """A named period and its bounds: ``start`` ≤ t < ``end``, both aware."""

    name: str
    start: datetime
    end: datetime


def _month_start(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=CHINA)


def parse_period(value: str) -> Period:
    """The period ``value`` names; :class:`ValidationFailed` for anything else."""
    if not _PERIOD.fullmatch(value):
        raise ValidationFailed(
            errors=[
                {
                    "field": "period",
                    "rule": "pattern",
                    "message": "a year (2026), quarter (2026-Q4) or month (2026-11)",
                }
            ]
        )
    year = int(value[:4])
    if year < 1990:
        raise ValidationFailed(
            errors=[{"field": "period", "rule": "minimum", "message": "no earlier than 1990"}]
        )
    if len(value) == 4:
        first, months = 1, 12
    elif value[5] == "Q":
        first, months = 3 * (int(value[6]) - 1) + 1, 3
    else:
        first, months = int(value[5:7]), 1
    return Period(value, _month_start(year, first), _month_start(year, first + months))
