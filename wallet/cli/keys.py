"""``wallet keys``: init, rotate, revoke, list and trust-list.

Each command opens the runtime and one unit of work and works through its
:class:`~wallet.keys.service.KeyStore`. No command ever prints private
material.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

import orjson

from wallet.cli._base import Subparsers
from wallet.cli._output import add_json_flag, emit
from wallet.jws import decode
from wallet.keys.models import SigningKey
from wallet.keys.trust_list import build_trust_list, is_listed
from wallet.runtime import open_runtime
from wallet.settings import Settings
from wallet.uow import read_only, unit_of_work

__all__ = ["register"]

_USES = ("seal", "presentation", "copy", "root")
_LIST_COLUMNS = (
    "kid",
    "use",
    "division",
    "status",
    "created_at",
    "retired_at",
    "signed_until",
    "nbf",
    "exp",
    "listed",
    "pub",
)
_LIST_HEADERS = {
    "created_at": "CREATED",
    "retired_at": "RETIRED",
    "signed_until": "SIGNED_UNTIL",
    "pub": "PUBLIC_KEY",
}


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


def _listing(key: SigningKey, now: datetime) -> dict[str, Any]:
    # The trust-list entry's fields (kid, use, division, pub, nbf, exp, status) with
    # their published names, plus the key table's own dates and whether the
    # retention rule lists the key now.
    return {
        "kid": key.kid,
        "use": key.use,
        "division": key.division,
        "status": key.status,
        "created_at": _when(key.created_at),
        "retired_at": _when(key.retired_at),
        "signed_until": _when(key.signed_until),
        "nbf": int(key.not_before.timestamp()),
        "exp": int(key.not_after.timestamp()) if key.not_after is not None else None,
        "listed": is_listed(key, now),
        "pub": key.public_key,
    }


async def _cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, read_only() as uow:
        keys = await rt.keys.list_keys(uow)
        now = rt.keys.clock.now()
    emit(
        [_listing(key, now) for key in keys],
        _LIST_COLUMNS,
        as_json=args.as_json,
        headers=_LIST_HEADERS,
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

    listing = sub.add_parser(
        "list", help="list every key: public key (hex) and trust-list fields, no private data"
    )
    add_json_flag(listing)
    listing.set_defaults(handler=_cmd_list)

    trust = sub.add_parser("trust-list", help="print the signed trust list (a JWS)")
    trust.add_argument("--json", action="store_true", help="print the decoded payload instead")
    trust.set_defaults(handler=_cmd_trust_list)
