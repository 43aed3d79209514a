"""``wallet audit verify``: check the SM3 chain of the audit log."""

from __future__ import annotations

import argparse
import sys

from wallet.audit.service import verify_chain
from wallet.cli._base import Subparsers
from wallet.db import close_database, open_database
from wallet.settings import Settings
from wallet.uow import read_only

__all__ = ["register"]


async def _cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    await open_database(settings)
    try:
        async with read_only() as uow:
            report = await verify_chain(uow)
    finally:
        await close_database()
    if report.ok:
        print(f"audit chain intact: {report.entries} entries")
        return 0
    print(
        f"audit chain BROKEN at entry {report.broken_at}: {report.reason} "
        f"({report.entries} entries verified before it)",
        file=sys.stderr,
    )
    return 1


def register(subparsers: Subparsers) -> None:
    """Add ``audit verify`` to the ``wallet`` command tree."""
    audit = subparsers.add_parser("audit", help="audit log tools")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = sub.add_parser("verify", help="check the SM3 chain of the audit log")
    verify.set_defaults(handler=_cmd_audit_verify)
