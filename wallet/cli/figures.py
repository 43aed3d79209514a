"""``wallet figures``: the four operating rates per county, city and province."""

from __future__ import annotations

import argparse
import csv
import re
import sys
from typing import Any

from wallet.cli._base import Subparsers
from wallet.cli._output import add_json_flag, emit
from wallet.errors import ValidationFailed
from wallet.figures.periods import parse_period
from wallet.figures.rules import RULES
from wallet.figures.schemas import FigureRow
from wallet.runtime import open_runtime
from wallet.settings import Settings
from wallet.uow import read_only

__all__ = ["register"]

_DIVISION = re.compile(r"[0-9]{6}")
_COUNTS = ["valid", "issued", "activated", "acknowledged", "versions", "compliant"]
_RATES = ["issuance_rate", "activation_rate", "compliance_rate", "aggregation_rate"]


def _division(text: str) -> str:
    if not _DIVISION.fullmatch(text):
        raise argparse.ArgumentTypeError("a six-digit division code, e.g. 210000")
    return text


def _period(text: str) -> str:
    try:
        parse_period(text)
    except ValidationFailed:
        raise argparse.ArgumentTypeError(
            "a year (2026), quarter (2026-Q4) or month (2026-11)"
        ) from None
    return text


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _table_row(row: FigureRow) -> dict[str, Any]:
    out: dict[str, Any] = row.model_dump(include={"level", "division", *_COUNTS})
    out.update({name.removesuffix("_rate"): _percent(getattr(row, name)) for name in _RATES})
    return out


async def _cmd_figures(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, read_only() as uow:
        report = await rt.figures.report(uow, division=args.division, period=args.period)
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        rules = [rule.name for rule in RULES]
        writer.writerow(["level", "division", *_COUNTS, *_RATES, *(f"fail_{r}" for r in rules)])
        for row in report.items:
            rates = ["" if getattr(row, n) is None else getattr(row, n) for n in _RATES]
            writer.writerow(
                [
                    row.level,
                    row.division,
                    *(getattr(row, n) for n in _COUNTS),
                    *rates,
                    *(row.failures.get(r, 0) for r in rules),
                ]
            )
        return 0
    if args.as_json:
        emit([row.model_dump() for row in report.items], [], as_json=True)
        return 0
    print(
        f"as of {report.as_of}" + (f", licences recorded in {args.period}" if args.period else "")
    )
    emit(
        [_table_row(row) for row in report.items],
        ["level", "division", *_COUNTS, *(n.removesuffix("_rate") for n in _RATES)],
        as_json=False,
    )
    return 0


def register(subparsers: Subparsers) -> None:
    """Add ``figures`` to the ``wallet`` command tree."""
    figures = subparsers.add_parser(
        "figures",
        help="issuance, activation, data-compliance and aggregation rates per division",
        description="制证率 issued/valid, 激活率 activated/issued, 数据合规率 compliant "
        "versions/versions, 归集率 acknowledged/issued; see the README's Figures section.",
    )
    figures.add_argument("--division", type=_division, help="e.g. 210000 (default: all)")
    figures.add_argument(
        "--period", type=_period, help="licences recorded in 2026, 2026-Q4 or 2026-11"
    )
    output = figures.add_mutually_exclusive_group()
    output.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    add_json_flag(output)  # type: ignore[arg-type]
    figures.set_defaults(handler=_cmd_figures)
