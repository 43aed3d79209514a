"""``wallet authority``: register the authority API's clients and list them."""

from __future__ import annotations

import argparse

from wallet import identifiers
from wallet.authority.signing import create_client, list_clients
from wallet.cli._base import Subparsers
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
    print(f"{'client_id':<20} {'division':<8} {'enabled':<7} {'sm2':<3} name")
    for row in rows:
        print(
            f"{row.client_id:<20} {row.division:<8} {row.enabled!s:<7} "
            f"{'yes' if row.sm2_public_key else 'no':<3} {row.name}"
        )
    return 0


def register(subparsers: Subparsers) -> None:
    """Add ``authority add-client|list-clients`` to the ``wallet`` command tree."""
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
    sub.add_parser("list-clients").set_defaults(handler=_cmd_authority_list)
