"""``wallet keys``: init, rotate, revoke, list and trust-list.

Each command opens the runtime and one unit of work and works through its
:class:`~wallet.keys.service.KeyStore`. No command ever prints private
material.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import orjson

from wallet.cli._base import Subparsers
from wallet.jws import decode
from wallet.keys.trust_list import build_trust_list
from wallet.runtime import open_runtime
from wallet.settings import Settings
from wallet.uow import read_only, unit_of_work

__all__ = ["register"]

_USES = ("seal", "presentation", "root")


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _cmd_init(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        before = {key.kid for key in await rt.keys.list_keys(uow)}
        keys = await rt.keys.init(uow, args.province)
    for key in keys:
        state = "exists " if key.kid in before else "created"
        print(f"{state} {key.kid}  {key.use}  {key.division or '-'}")
    return 0


async def _cmd_rotate(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        key = await rt.keys.rotate(uow, args.use, args.division)
    print(f"active  {key.kid}  {key.use}  {key.division or '-'}")
    return 0


async def _cmd_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        key = await rt.keys.revoke(uow, args.kid, args.reason)
    print(f"revoked {key.kid}  {key.use}  {key.division or '-'}")
    return 0


async def _cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, read_only() as uow:
        keys = await rt.keys.list_keys(uow)
    rows = [("KID", "USE", "DIVISION", "STATUS", "CREATED", "RETIRED", "SIGNED_UNTIL")]
    rows += [
        (
            key.kid,
            key.use,
            key.division or "-",
            key.status,
            _when(key.created_at),
            _when(key.retired_at),
            _when(key.signed_until),
        )
        for key in keys
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


async def _cmd_trust_list(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, read_only() as uow:
        token = await build_trust_list(uow, rt.keys)
    if args.json:
        print(orjson.dumps(decode(token).payload, option=orjson.OPT_INDENT_2).decode())
    else:
        print(token)
    return 0


def register(subparsers: Subparsers) -> None:
    """Add ``keys init|rotate|revoke|list|trust-list`` to the ``wallet`` command tree."""
    keys = subparsers.add_parser("keys", help="SM2 signing keys and the trust list")
    sub = keys.add_subparsers(dest="keys_command", required=True)

    init = sub.add_parser(
        "init", help="ensure a root key, a presentation key and a seal key per province"
    )
    init.add_argument(
        "--province",
        action="append",
        default=[],
        metavar="DIVISION",
        help="province division code (xx0000), repeatable",
    )
    init.set_defaults(handler=_cmd_init)

    rotate = sub.add_parser("rotate", help="make a new active key, retiring the current one")
    rotate.add_argument("--use", required=True, choices=_USES)
    rotate.add_argument("--division", metavar="DIVISION", help="the province, for --use seal")
    rotate.set_defaults(handler=_cmd_rotate)

    revoke = sub.add_parser("revoke", help="revoke a key for good (it is no longer trusted)")
    revoke.add_argument("kid")
    revoke.add_argument("--reason", required=True)
    revoke.set_defaults(handler=_cmd_revoke)

    listing = sub.add_parser("list", help="list every key (public data only)")
    listing.set_defaults(handler=_cmd_list)

    trust = sub.add_parser("trust-list", help="print the signed trust list (a JWS)")
    trust.add_argument("--json", action="store_true", help="print the decoded payload instead")
    trust.set_defaults(handler=_cmd_trust_list)
