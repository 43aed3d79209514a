"""``wallet officer``: add, enable, disable and list enforcement officers."""

from __future__ import annotations

import argparse
import getpass
import os

from wallet.cli._base import Subparsers
from wallet.cli._output import add_json_flag, emit
from wallet.runtime import open_runtime
from wallet.settings import Settings
from wallet.uow import read_only, unit_of_work

__all__ = ["register"]


async def _cmd_officer_add(args: argparse.Namespace, settings: Settings) -> int:
    password = os.environ.get("WALLET_OFFICER_PASSWORD") or getpass.getpass("password: ")
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        officer = await rt.officers.add(
            uow,
            badge=args.badge,
            name=args.name,
            division=args.division,
            role=args.role,
            password=password,
            device_id=args.device,
            now=rt.clock.now(),
        )
    print(
        f"officer {officer.badge} ({officer.role}, {officer.division}) "
        f"on device {officer.device_id}"
    )
    return 0


async def _cmd_officer_enable(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        officer = await rt.officers.set_enabled(uow, args.badge, args.enable)
    print(f"officer {officer.badge} {'enabled' if officer.enabled else 'disabled'}")
    return 0


async def _cmd_officer_list(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, read_only() as uow:
        rows = await rt.officers.all(uow)
    # No name: the table is for telling accounts apart, and names are personal data.
    emit(
        [
            {
                "badge": row.badge,
                "division": row.division,
                "role": row.role,
                "enabled": row.enabled,
                "device": row.device_id,
                "created_at": row.created_at,
            }
            for row in rows
        ],
        ("badge", "division", "role", "enabled", "device", "created_at"),
        as_json=args.as_json,
    )
    return 0


def register(subparsers: Subparsers) -> None:
    """Add ``officer add|enable|disable|list`` to the ``wallet`` command tree."""
    officer = subparsers.add_parser("officer", help="enforcement officer accounts")
    sub = officer.add_subparsers(dest="officer_command", required=True)
    add = sub.add_parser(
        "add", help="add an officer (password from WALLET_OFFICER_PASSWORD or a prompt)"
    )
    add.add_argument("--badge", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--division", required=True)
    add.add_argument("--role", choices=["inspector", "supervisor"], default="inspector")
    add.add_argument("--device", required=True, help="the enforcement device id it signs in from")
    add.set_defaults(handler=_cmd_officer_add)
    for name, enable in (("disable", False), ("enable", True)):
        command = sub.add_parser(name)
        command.add_argument("badge")
        command.set_defaults(handler=_cmd_officer_enable, enable=enable)
    listing = sub.add_parser("list", help="list officers: badge, division, role, device")
    add_json_flag(listing)
    listing.set_defaults(handler=_cmd_officer_list)
