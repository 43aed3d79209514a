"""``wallet doctor``: check a deployment before it opens, one line per check.

``wallet doctor [--province XX0000 ...] [--json]`` prints ``ok`` or ``FAIL``,
the check, what it found and, for a failure, what to fix
(:mod:`wallet.operating.doctor` lists the checks). Exit 0 when every check
passes, 1 when any fails (settings that do not load are one failed check),
2 on bad usage. It changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from wallet.cli._base import Subparsers
from wallet.cli._output import add_json_flag, emit
from wallet.errors import ConfigurationError
from wallet.identifiers import province_division
from wallet.operating.doctor import Check, examine
from wallet.settings import load_settings

__all__ = ["register", "render"]


def render(checks: list[Check]) -> str:
    """The checks as lines: ``ok``/``FAIL``, name, detail and ``→ fix``; then a verdict."""
    width = max((len(c.check) for c in checks), default=0)
    lines = []
    for c in checks:
        line = f"{'ok' if c.ok else 'FAIL':<4}  {c.check:<{width}}  {c.detail}"
        if not c.ok and c.fix:
            line += f"  → {c.fix}"
        lines.append(line)
    failed = sum(not c.ok for c in checks)
    lines.append(
        f"{failed} of {len(checks)} checks failed" if failed else f"all {len(checks)} checks ok"
    )
    return "\n".join(lines)


def _province(text: str) -> str:
    if not (len(text) == 6 and text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError("a province is six digits, e.g. 210000")
    if province_division(text) != text:
        raise argparse.ArgumentTypeError(f"{text} is not a province (xx0000)")
    return text


def _cmd_doctor(args: argparse.Namespace) -> int:
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        checks = [Check("settings", False, exc.detail, "correct the variables named")]
    else:
        checks = [Check("settings", True, "loaded")]
        checks += asyncio.run(examine(settings, provinces=args.province))
    if args.as_json:
        emit([c.as_row() for c in checks], ("check", "ok", "detail", "fix"), as_json=True)
    else:
        print(render(checks))
        sys.stdout.flush()
    return 0 if all(c.ok for c in checks) else 1


def register(subparsers: Subparsers) -> None:
    """Add ``doctor`` to the ``wallet`` command tree."""
    command = subparsers.add_parser(
        "doctor",
        help="check this deployment before it opens (exit 1 on any failure)",
        description="Check the data directory, master key, database, cache, keys, identity "
        "provider and WeChat; one line per check with what to fix. Exit 0 all ok, 1 any "
        "failure, 2 bad usage.",
    )
    command.add_argument(
        "--province",
        action="append",
        default=[],
        type=_province,
        metavar="XX0000",
        help="a province that must have a seal key (besides those the database names), repeatable",
    )
    add_json_flag(command)
    command.set_defaults(plain_handler=_cmd_doctor)
