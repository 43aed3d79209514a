"""``wallet party``: register, list and disable relying parties."""

from __future__ import annotations

import argparse

from pydantic import ValidationError

from wallet.cli._base import Subparsers
from wallet.cli._output import add_json_flag, emit
from wallet.errors import ValidationFailed
from wallet.runtime import open_runtime
from wallet.settings import Settings
from wallet.sharing.purposes import PURPOSES
from wallet.sharing.schemas import PartyIn
from wallet.uow import read_only, unit_of_work

__all__ = ["register"]

_COLUMNS = ("party_id", "uscc", "status", "purposes", "sm2", "created_at", "name")
_ACTOR = "cli:party"


async def _cmd_party_add(args: argparse.Namespace, settings: Settings) -> int:
    try:
        data = PartyIn(
            name=args.name,
            uscc=args.uscc,
            purposes=args.purpose,
            sm2_public_key=args.sm2_public_key,
        )
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        raise ValidationFailed(f"invalid {fields}") from None
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        created = await rt.parties.add(uow, data, actor=_ACTOR)
    print(f"party_id: {created.party_id}")
    print(f"secret:   {created.secret}")
    print("the secret is shown once: store it in the party's system now")
    return 0


async def _cmd_party_list(args: argparse.Namespace, settings: Settings) -> int:
    rows = []
    async with open_runtime(settings) as rt, read_only() as uow:
        cursor = None
        while True:
            page = await rt.parties.page(uow, cursor, 500, args.status)
            rows += [item.model_dump() for item in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    emit(rows, _COLUMNS, as_json=args.as_json)
    return 0


async def _cmd_party_disable(args: argparse.Namespace, settings: Settings) -> int:
    async with open_runtime(settings) as rt, unit_of_work() as uow:
        party = await rt.parties.disable(uow, args.party_id, actor=_ACTOR)
    print(f"party {party.party_id} ({party.uscc}) {party.status}")
    return 0


def register(subparsers: Subparsers) -> None:
    """Add ``party add|list|disable`` to the ``wallet`` command tree."""
    party = subparsers.add_parser("party", help="relying parties (sharing)")
    sub = party.add_subparsers(dest="party_command", required=True)
    add = sub.add_parser("add", help="register a party; prints its secret once")
    add.add_argument("--name", required=True)
    add.add_argument("--uscc", required=True)
    add.add_argument(
        "--purpose",
        action="append",
        required=True,
        choices=list(PURPOSES),
        help="a purpose it may ask for (repeat for several)",
    )
    add.add_argument("--sm2-public-key", help="04… hex, to accept SM2-signed requests")
    add.set_defaults(handler=_cmd_party_add)
    listing = sub.add_parser("list", help="list parties")
    listing.add_argument("--status", choices=["active", "disabled"])
    add_json_flag(listing)
    listing.set_defaults(handler=_cmd_party_list)
    disable = sub.add_parser("disable", help="refuse a party's requests from now on")
    disable.add_argument("party_id")
    disable.set_defaults(handler=_cmd_party_disable)
