"""``wallet authority``: the authority API's clients and the console's users."""

from __future__ import annotations

import argparse
import getpass
import os

from wallet import identifiers
from wallet.authority.signing import create_client, list_clients
from wallet.cli._base import Subparsers
from wallet.cli._output import add_json_flag, emit
from wallet.db import close_database, open_database
from wallet.runtime import open_runtime
from wallet.settings import Settings
from wallet.uow import read_only, unit_of_work

__all__ = ["register"]


async def _cmd_authority_add(args: argparse.Namespace, settings: Settings) -> int:
    if args.division != "000000":
        identifiers.division_code(args.division)
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        client, secret = await create_client(
            uow,
            rt.vault,
            name=args.name,
            division=args.division,
            now=rt.clock.now(),
            sm2_public_key=args.sm2_public_key,
        )
    print(f"client_id: {client.client_id}")
    print(f"secret:    {secret}")
    print("the secret is shown once: store it in the client system now")
    return 0


async def _cmd_authority_list(args: argparse.Namespace, settings: Settings) -> int:
    await open_database(settings)
    try:
        async with read_only() as uow:
            rows = await list_clients(uow)
    finally:
        await close_database()
    emit(
        [
            {
                "client_id": row.client_id,
                "division": row.division,
                "enabled": row.enabled,
                "sm2": row.sm2_public_key is not None,
                "name": row.name,
                "created_at": row.created_at,
            }
            for row in rows
        ],
        ("client_id", "division", "enabled", "sm2", "created_at", "name"),
        as_json=args.as_json,
    )
    return 0


def _console_password() -> str:
    return os.environ.get("WALLET_CONSOLE_PASSWORD") or getpass.getpass("password: ")


async def _cmd_user_add(args: argparse.Namespace, settings: Settings) -> int:
    password = _console_password()
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        user = await rt.console.add(
            uow,
            username=args.username,
            name=args.name,
            division=args.division,
            role=args.role,
            password=password,
        )
    print(f"console user {user.username} ({user.role}, {user.division})")
    return 0


async def _cmd_user_enable(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        user = await rt.console.set_enabled(uow, args.username, args.enable)
    print(f"console user {user.username} {'enabled' if user.enabled else 'disabled'}")
    return 0


async def _cmd_user_password(args: argparse.Namespace, settings: Settings) -> int:
    password = _console_password()
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        user = await rt.console.reset_password(uow, args.username, password)
    print(f"console user {user.username}: new password set, sessions ended")
    return 0


async def _cmd_user_list(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, read_only() as uow:
        rows = await rt.console.all(uow)
    # No name: the table is for telling accounts apart, and names are personal data.
    emit(
        [
            {
                "username": row.username,
                "division": row.division,
                "role": row.role,
                "enabled": row.enabled,
                "created_at": row.created_at,
            }
            for row in rows
        ],
        ("username", "division", "role", "enabled", "created_at"),
        as_json=args.as_json,
    )
    return 0


def _register_users(sub: Subparsers) -> None:
    add = sub.add_parser(
        "add-user",
        help="add a console user (password from WALLET_CONSOLE_PASSWORD or a prompt)",
    )
    add.add_argument("--username", required=True, help="3-32 of a-z 0-9 _ . -")
    add.add_argument("--name", required=True)
    add.add_argument("--division", required=True, help="scope: 210000 = province, 210102 = county")
    add.add_argument(
        "--role",
        choices=["reviewer", "supervisor"],
        default="reviewer",
        help="supervisors also see faces unmasked and change licence statuses",
    )
    add.set_defaults(handler=_cmd_user_add)
    for name, enable in (("disable-user", False), ("enable-user", True)):
        command = sub.add_parser(name, help=f"{name.split('-')[0]} a console user")
        command.add_argument("username")
        command.set_defaults(handler=_cmd_user_enable, enable=enable)
    reset = sub.add_parser("reset-password", help="new password for a console user")
    reset.add_argument("username")
    reset.set_defaults(handler=_cmd_user_password)
    listing = sub.add_parser("list-users", help="list console users (never their passwords)")
    add_json_flag(listing)
    listing.set_defaults(handler=_cmd_user_list)


def register(subparsers: Subparsers) -> None:
    """Add ``authority add-client|list-clients|add-user|…`` to the ``wallet`` command tree."""
    authority = subparsers.add_parser("authority", help="authority API clients")
    sub = authority.add_subparsers(dest="authority_command", required=True)
    add_client = sub.add_parser("add-client", help="register a client; prints its secret once")
    add_client.add_argument("--name", required=True)
    add_client.add_argument(
        "--division",
        required=True,
        help="scope: 210000 = province, 210100 = city, 000000 = national",
    )
    add_client.add_argument("--sm2-public-key", help="04… hex, to accept SM2-signed requests")
    add_client.set_defaults(handler=_cmd_authority_add)
    listing = sub.add_parser("list-clients", help="list clients (never their secrets)")
    add_json_flag(listing)
    listing.set_defaults(handler=_cmd_authority_list)
    _register_users(sub)
