"""The figures over time for the console's charts, from the figures service itself.

For each of the last months (China time) the four rates of the licences
(versions) first recorded in that month, by :meth:`Figures.report` with that
month as its period; beside them the all-time report with every city and county.
"""

from __future__ import annotations

from wallet.console.schemas import FiguresSeries, MonthFigures
from wallet.figures.service import Figures
from wallet.uow import UnitOfWork

__all__ = ["last_months", "monthly_figures"]


def last_months(year: int, month: int, count: int) -> list[str]:
    """``count`` month names ending with ``year-month``, oldest first."""
    names = []
    for back in range(count - 1, -1, -1):
        total = year * 12 + (month - 1) - back
        names.append(f"{total // 12:04d}-{total % 12 + 1:02d}")
    return names


async def monthly_figures(
    figures: Figures, uow: UnitOfWork, *, division: str, scope: str | None, months: int
) -> FiguresSeries:
    """The all-time report of ``division`` and its row in each of the last ``months``."""
    overall = await figures.report(uow, division=division, scope=scope)
    today = figures.today()
    series = []
    for name in last_months(today.year, today.month, months):
        report = await figures.report(uow, division=division, period=name, scope=scope)
        row = next((r for r in report.items if r.division == division), None)
        series.append(MonthFigures(period=name, row=row))
    return FiguresSeries(overall=overall, months=series)
