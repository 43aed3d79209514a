"""The four operating figures per county, rolled up to cities and provinces.

Definitions (the README's "Figures" section says the same):

- a licence is **valid** when its registry status is ``valid`` and its
  validity has not ended (``valid_until`` absent or today or later, China
  time);
- a valid licence is **issued** (its e-licence is in a holder's wallet)
  when its claim holds: claimed without review, or approved after photo
  review;
- an issued licence is **activated** while an activation binds it to a
  device;
- an issued licence is **acknowledged** when the ministry acknowledged its
  latest outbox event (``sent_at`` set);
- a version is **compliant** when it passes every rule of
  :mod:`wallet.figures.rules`.

制证率 (issuance rate) = issued / valid; 激活率 (activation rate) =
activated / issued; 数据合规率 (data-compliance rate) = compliant versions /
versions; 归集率 (aggregation rate) = acknowledged / issued. A period
restricts the licences to those first recorded in it (the versions to those
recorded in it); states are counted as they stand now. Counties are the
issuing divisions as recorded; a licence issued by a city or provincial
office counts in that office's own row and in the roll-ups.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from wallet import identifiers
from wallet.clock import Clock, SystemClock
from wallet.figures.periods import CHINA, parse_period
from wallet.figures.repository import DivisionCounts, FiguresRepository, Window
from wallet.figures.rules import RULES
from wallet.figures.schemas import FigureRow, FiguresOut, Level
from wallet.licences.search import check_scope, division_scope
from wallet.uow import UnitOfWork

__all__ = ["Figures", "province_rates", "rate"]


def rate(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator`` to four decimals; None when nothing is counted."""
    return round(numerator / denominator, 4) if denominator else None


def _row(level: Level, division: str, counts: DivisionCounts) -> FigureRow:
    return FigureRow(
        level=level,
        division=division,
        valid=counts.valid,
        issued=counts.issued,
        activated=counts.activated,
        acknowledged=counts.acknowledged,
        versions=counts.versions,
        compliant=counts.compliant,
        failures={rule.name: counts.failures.get(rule.name, 0) for rule in RULES},
        issuance_rate=rate(counts.issued, counts.valid),
        activation_rate=rate(counts.activated, counts.issued),
        compliance_rate=rate(counts.compliant, counts.versions),
        aggregation_rate=rate(counts.acknowledged, counts.issued),
    )


def _level(division: str) -> Level:
    if division.endswith("0000"):
        return "province"
    return "city" if division.endswith("00") else "county"


_DEPTH: dict[Level, int] = {"province": 2, "city": 4, "county": 6}


def roll_up(per_division: Mapping[str, DivisionCounts], prefix: str) -> list[FigureRow]:
    """County rows with their cities and provinces added up; each province, then its
    cities, each followed by its counties.

    A licence issued by a city's or province's own office counts at that
    level and above. Levels broader than ``prefix`` (the province of a city
    asked for) are left out: they would count only part of their area.
    """
    totals: dict[tuple[Level, str], DivisionCounts] = {}
    for division, counts in per_division.items():
        level = _level(division)
        keys: list[tuple[Level, str]] = [("province", identifiers.province_division(division))]
        if level != "province":
            keys.append(("city", division[:4] + "00"))
        if level == "county":
            keys.append(("county", division))
        for key in keys:
            totals.setdefault(key, DivisionCounts()).add(counts)
    rows = [
        _row(level, code, counts)
        for (level, code), counts in totals.items()
        if _DEPTH[level] >= len(prefix)
    ]
    return sorted(
        rows,
        key=lambda r: (
            r.division[:2],
            r.level != "province",
            r.division[:4],
            r.level == "county",
            r.division,
        ),
    )


class Figures:
    """Computes the figures for a division and period (authority scope applied)."""

    def __init__(self, repository: FiguresRepository, clock: Clock) -> None:
        self.repository = repository
        self.clock = clock

    def today(self) -> date:
        """Today in China time."""
        return self.clock.now().astimezone(CHINA).date()

    async def report(
        self,
        uow: UnitOfWork,
        *,
        division: str | None = None,
        period: str | None = None,
        scope: str | None = None,
    ) -> FiguresOut:
        """The rows for ``division`` (default: the scope's, else the whole country).

        ``scope`` is an authority client's division prefix: a division outside
        it is :class:`~wallet.errors.Forbidden`.
        """
        if division and division != "000000":
            identifiers.division_code(division)
        prefix = division_scope(division) if division else scope
        prefix = prefix or ""
        if division:
            check_scope(scope, division)
        window_period = parse_period(period) if period else None
        window = Window(
            prefix=prefix,
            start=window_period.start if window_period else None,
            end=window_period.end if window_period else None,
            today=self.today(),
        )
        per_division = await self.counts(uow, window)
        return FiguresOut(
            division=division or (prefix.ljust(6, "0") if prefix else "000000"),
            period=period,
            as_of=window.today.isoformat(),
            rules=[rule.name for rule in RULES],
            items=roll_up(per_division, prefix),
        )

    async def counts(self, uow: UnitOfWork, window: Window) -> dict[str, DivisionCounts]:
        """The counts per issuing division inside ``window`` (two aggregate queries)."""
        per_division = await self.repository.licence_counts(uow, window)
        for division, (versions, compliant, failures) in (
            await self.repository.version_counts(uow, window)
        ).items():
            counts = per_division.setdefault(division, DivisionCounts())
            counts.versions, counts.compliant, counts.failures = versions, compliant, failures
        return per_division

    async def province_rates(self, uow: UnitOfWork) -> list[FigureRow]:
        """One row per province, all time: what the metrics gauges show."""
        window = Window(prefix="", start=None, end=None, today=self.today())
        rows = roll_up(await self.counts(uow, window), "")
        return [row for row in rows if row.level == "province"]


async def province_rates(uow: UnitOfWork, clock: Clock | None = None) -> list[FigureRow]:
    """The four rates (with their counts) of every province, all time, as of today.

    For the metrics gauges: ``row.division`` is the province's code, the
    ``*_rate`` fields the gauges' values (None when nothing is counted).
    """
    return await Figures(FiguresRepository(), clock or SystemClock()).province_rates(uow)
